#!/usr/bin/env bash
# Fidelity check of the ONTAP simulator against NetApp's own Python client
# (netapp-ontap from PyPI). Self-contained: makes a venv under ${TMPDIR:-/tmp},
# builds target/debug/ontap-sim if needed, serves sim/examples/two-sites.yaml,
# runs check_netapp_ontap.py, stops the simulator. Exits non-zero on failure
# and ends with "N passed, M failed".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="${TMPDIR:-/tmp}"
venv="$tmp/ontap-sim-fidelity-venv"
work="$(mktemp -d "$tmp/ontap-sim-fidelity.XXXXXX")"
sim_pid=""

cleanup() {
    if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check netapp-ontap

bin="$root/target/debug/ontap-sim"
(cd "$root" && cargo build --quiet -p sim --bin ontap-sim)

"$bin" --topology "$root/sim/examples/two-sites.yaml" --timing fast --ca-out "$work/ca.pem" >"$work/urls" 2>"$work/sim.log" &
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

"$venv/bin/python" "$here/check_netapp_ontap.py" --primary "$primary" --dr "$dr" --ca "$work/ca.pem"
