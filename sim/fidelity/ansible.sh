#!/usr/bin/env bash
# Fidelity of the ONTAP simulator against NetApp's Ansible collection
# (netapp.ontap, bundled in PyPI's `ansible`, REST modules only): the SVM-DR
# life cycle of sim/fidelity/ansible/svm-dr.yml (rest_info, cluster peer, a
# dp_destination SVM, SVM peer, snapmirror create/initialize/update/break/
# resync/delete, SVM stop and start, restit waiting on a job), each change
# run twice for idempotence. Self-contained: makes a venv under
# ${TMPDIR:-/tmp}, builds target/debug/ontap-sim if needed, serves
# sim/examples/two-sites.yaml, stops it. Exits non-zero on any failed task.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="${TMPDIR:-/tmp}"
work="$(mktemp -d "$tmp/ontap-sim-ansible.XXXXXX")"
# shellcheck source=ontap-sim.sh
. "$here/ontap-sim.sh"

# shellcheck source=ansible-venv.sh
. "$here/ansible-venv.sh"

start_ontap_sim
port() { sed 's|.*:||' <<<"$1"; }

# The collection's na_ontap_vserver_peer accepts on the peer only when the
# two host names differ (is_remote_peer), and both lab clusters listen on
# 127.0.0.1: the DR cluster is reached as `localhost` (its certificate
# names both).
cd "$work"
REQUESTS_CA_BUNDLE="$work/ca.pem" \
    ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False \
    ANSIBLE_NOCOLOR=1 \
    timeout 900 "$venv/bin/ansible-playbook" "$here/ansible/svm-dr.yml" \
    -e primary_host=127.0.0.1 -e "primary_port=$(port "$primary")" \
    -e dr_host=localhost -e "dr_port=$(port "$dr")" | tee "$work/run.log" | grep -E '^(TASK|ok|changed|fatal)' || true
recap="$(grep -A1 'PLAY RECAP' "$work/run.log" | tail -n 1)"
echo "ansible: $recap"
[[ "$recap" =~ failed=0 ]] && [[ "$recap" =~ unreachable=0 ]]
