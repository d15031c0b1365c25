#!/usr/bin/env bash
# Fidelity check of the ONTAP simulator against NetApp's own Python client
# (netapp-ontap from PyPI). Self-contained: makes a venv under ${TMPDIR:-/tmp},
# checks the simulator's fields= catalogue against the library's schemas
# (ontap-fields.py), builds target/debug/ontap-sim if needed, serves
# sim/examples/two-sites.yaml, runs check_netapp_ontap.py, stops the
# simulator. Exits non-zero on failure and ends with "N passed, M failed".
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
# Pinned: sim/src/ontap/fields/ is generated from this release; raise both
# together (sim/fidelity/ontap-fields.py).
"$venv/bin/pip" install --quiet --disable-pip-version-check "netapp-ontap==9.19.1.0"

# The simulator's fields= catalogue (sim/src/ontap/fields/) must be what
# ontap-fields.py makes of the installed netapp-ontap: drift fails the gate.
mkdir "$work/fields"
"$venv/bin/python" "$here/ontap-fields.py" "$work/fields"
if ! diff -ru "$root/sim/src/ontap/fields" "$work/fields"; then
    echo "sim/src/ontap/fields differs from netapp-ontap's schemas:" \
        "rerun sim/fidelity/ontap-fields.py sim/src/ontap/fields" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

start_ontap_sim
"$venv/bin/python" "$here/check_netapp_ontap.py" --primary "$primary" --dr "$dr" --ca "$work/ca.pem"
