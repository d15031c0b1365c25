# Shared by the ONTAP fidelity suites (run.sh: netapp-ontap, ansible.sh:
# the Ansible collection). Source it after setting `root` and `work`;
# `start_ontap_sim` builds target/debug/ontap-sim if needed, serves
# sim/examples/two-sites.yaml with fast timing (its CA in $work/ca.pem),
# stops it on exit, and sets `primary` and `dr` to the clusters' URLs.
# shellcheck shell=bash

sim_pid=""

cleanup() {
    if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

start_ontap_sim() {
    (cd "$root" && cargo build --quiet -p sim --bin ontap-sim)
    "$root/target/debug/ontap-sim" --topology "$root/sim/examples/two-sites.yaml" --timing fast \
        --ca-out "$work/ca.pem" >"$work/urls" 2>"$work/sim.log" &
    sim_pid=$!
    for _ in $(seq 1 100); do
        if grep -q '^ca ' "$work/urls" 2>/dev/null; then break; fi
        if ! kill -0 "$sim_pid" 2>/dev/null; then
            echo "ontap-sim exited early:" >&2
            cat "$work/sim.log" >&2
            echo "0 passed, 1 failed"
            exit 1
        fi
        sleep 0.1
    done
    primary="$(awk '$1 == "primary" {print $2}' "$work/urls")"
    dr="$(awk '$1 == "dr" {print $2}' "$work/urls")"
    if [[ -z "$primary" || -z "$dr" ]]; then
        echo "ontap-sim did not report its URLs" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
}
