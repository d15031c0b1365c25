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
# shellcheck source=ontap-sim.sh
. "$here/ontap-sim.sh"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check netapp-ontap

start_ontap_sim
"$venv/bin/python" "$here/check_netapp_ontap.py" --primary "$primary" --dr "$dr" --ca "$work/ca.pem"
