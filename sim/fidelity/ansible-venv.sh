# Shared by the Ansible scripts (ansible.sh: the fidelity suite, bench.sh:
# the README's bench row). Source it after setting `tmp`: it sets `venv`
# and makes the venv with the pinned `ansible` if it is missing.
# shellcheck shell=bash

venv="${ANSIBLE_VENV:-$tmp/ontap-sim-ansible-venv}"
# Pinned: a new collection release cannot turn the gate red unannounced.
ansible_pkg="${ANSIBLE_PKG:-ansible==12.3.0}"
if [[ ! -x "$venv/bin/ansible-playbook" ]]; then
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$ansible_pkg" requests
fi
