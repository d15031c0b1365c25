#!/usr/bin/env bash
# The README's bench row: the set-up and the failover of one SVM pair
# (svm1 on ontap-a → svm1_dr on ontap-b, fast timing) through NetApp's
# Ansible collection against ontap-sim, and through `kubectl svmdr` against
# `lab up`, in one run. Prints one line per tool and phase, in seconds.
# Needs the Ansible venv of sim/fidelity/ansible.sh (made if missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="${TMPDIR:-/tmp}"
work="$(mktemp -d "$tmp/svmdr-bench.XXXXXX")"
lab_pid=""
# shellcheck source=ontap-sim.sh
. "$here/ontap-sim.sh"
stop_lab() {
    if [[ -n "$lab_pid" ]]; then kill "$lab_pid" 2>/dev/null || true; wait "$lab_pid" 2>/dev/null || true; fi
    cleanup
}
trap stop_lab EXIT

# shellcheck source=ansible-venv.sh
. "$here/ansible-venv.sh"
(cd "$root" && cargo build --quiet -p kubectl-svmdr -p ark-plugin --bins)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Ansible against ontap-sim.
start_ontap_sim
port() { sed 's|.*:||' <<<"$1"; }
play() {
    REQUESTS_CA_BUNDLE="$work/ca.pem" ANSIBLE_LOCALHOST_WARNING=False \
        ANSIBLE_INVENTORY_UNPARSED_WARNING=False ANSIBLE_NOCOLOR=1 \
        timeout 600 "$venv/bin/ansible-playbook" "$here/ansible/bench.yml" --tags "$1" \
        -e primary_host=127.0.0.1 -e "primary_port=$(port "$primary")" \
        -e dr_host=localhost -e "dr_port=$(port "$dr")" >"$work/ansible-$1.log" 2>&1 \
        || { cat "$work/ansible-$1.log" >&2; exit 1; }
    grep -q 'failed=0' "$work/ansible-$1.log"
}
t0=$(now); play setup; t1=$(now); play failover; t2=$(now)
a_setup=$(secs "$t0" "$t1"); a_failover=$(secs "$t1" "$t2")

# kubectl svmdr against lab up (ONTAP and Kubernetes with Trident).
"$root/target/debug/kubectl-svmdr" lab up --timing fast --dir "$work/lab" >"$work/lab.log" 2>&1 &
lab_pid=$!
for _ in $(seq 1 200); do [[ -f "$work/lab/config.yaml" ]] && grep -q 'lab is up' "$work/lab.log" && break; sleep 0.1; done
export KUBECONFIG="$work/lab/kubeconfig" SVMDR_CONFIG="$work/lab/config.yaml"
k() { "$root/target/debug/kubectl-svmdr" "$@" >>"$work/svmdr.log" 2>&1 || { cat "$work/svmdr.log" >&2; exit 1; }; }
t0=$(now); k peer --svm svm1 --dr-svm svm1_dr --yes; t1=$(now)
k failover --force --yes; t2=$(now)
s_setup=$(secs "$t0" "$t1"); s_failover=$(secs "$t1" "$t2")

printf '%-16s %8s %8s %8s\n' tool setup failover total
printf '%-16s %8s %8s %8s\n' ansible "$a_setup" "$a_failover" "$(secs 0 "$(awk -v a="$a_setup" -v b="$a_failover" 'BEGIN{print a+b}')")"
printf '%-16s %8s %8s %8s\n' "kubectl svmdr" "$s_setup" "$s_failover" "$(secs 0 "$(awk -v a="$s_setup" -v b="$s_failover" 'BEGIN{print a+b}')")"
