#!/usr/bin/env bash
# Runs the real hashicorp/go-plugin host (velero-host, built from Debian's
# go-plugin 1.0.1; see ../shared/tools/velero-host/README.md) against
# target/debug/velero-plugin-svmdr: discovery, AppliesTo, health, and
# Execute on Trident PV/PVC fixtures (velero-host's testdata and ours),
# against the simulated restore site (svmdr-lab example: ONTAP simulator +
# simulated Kubernetes with Trident), including -expect-error cases where the
# storage is not ready, and a forced panic (an Aborted item, graceful exit).
# Ends with "N passed, M failed"; exit 1 on any failure.
set -uo pipefail

ROOT="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
SHARED="${VELERO_HOST_DIR:-$ROOT/../shared/tools/velero-host}"
OUT="${VELERO_HOST_OUT:-${TMPDIR:-/tmp}/velero-host}"

if [ ! -x "$SHARED/build.sh" ]; then
  echo "velero-host-check: $SHARED/build.sh not found (the shared tools folder sits next to the repo)" >&2
  exit 2
fi
VELERO_HOST_OUT="$OUT" "$SHARED/build.sh" >/dev/null || { echo "velero-host-check: building velero-host failed" >&2; exit 2; }
H="$OUT/bin/velero-host"
TD="$SHARED/testdata"

cd "$ROOT"
cargo build -q -p ark-plugin --bin velero-plugin-svmdr --example svmdr-lab || { echo "velero-host-check: cargo build failed" >&2; exit 2; }
P="$ROOT/target/debug/velero-plugin-svmdr"
LAB="$ROOT/target/debug/examples/svmdr-lab"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/velero-host-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/check.log"
pass=0
fail=0

# check NAME EXPECT(OK|FAIL) PATTERN SCENARIO -- velero-host args (fixtures: $FX)
check() {
  local name="$1" expect="$2" pattern="$3" scenario="$4"
  shift 5
  local fx="$WORK/$name"
  local args=("${@//\$FX/$fx}")
  local out rc last ok=1
  if [ "$scenario" = none ]; then
    out="$(env -u KUBECONFIG timeout 120 "$H" -log-level off "${args[@]}" "$P" 2>&1)"
  else
    out="$(timeout 120 "$LAB" --scenario "$scenario" --fixtures "$fx" -- "$H" -log-level off "${args[@]}" "$P" 2>&1)"
  fi
  rc=$?
  last="$(printf '%s\n' "$out" | tail -n 1)"
  printf '=== %s (scenario %s, rc=%s)\n%s\n' "$name" "$scenario" "$rc" "$out" >>"$LOG"
  case "$expect" in
    OK) [ "$rc" = 0 ] && [ "$last" = "velero-host: OK" ] || ok=0 ;;
    FAIL) [ "$rc" != 0 ] && [[ "$last" == "velero-host: FAIL "* ]] || ok=0 ;;
  esac
  if [ -n "$pattern" ] && ! printf '%s\n' "$out" | grep -qE -- "$pattern"; then ok=0; fi
  if [ "$ok" = 1 ]; then
    pass=$((pass + 1)); printf 'ok    %-26s %s\n' "$name" "$last"
  else
    fail=$((fail + 1)); printf 'FAIL  %-26s expected %s /%s/, got rc=%s: %s\n' "$name" "$expect" "$pattern" "$rc" "$last"
  fi
}

E=(-expect-error)
OWN_PV=(-item '$FX/pv.json' -item-from-backup '$FX/pv-from-backup.json' -restore '$FX/restore.json')
OWN_PVC=(-item '$FX/pvc.json' -item-from-backup '$FX/pvc-from-backup.json' -restore '$FX/restore.json')

check discovery              OK  'SERVING'                          none  -- -ping -probe-unknown-name -strict
cat >"$WORK/pv-ebs.json" <<'JSON'
{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-ebs"},"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"csi":{"driver":"ebs.csi.aws.com","volumeHandle":"vol-0abc"}}}
JSON
check no-kube-other-pv       OK  '"itemChanged": false'             none  -- -item "$WORK/pv-ebs.json" -restore "$TD/restore.json" -n 5
check no-kube-trident-pv     OK  'cannot reach the Kubernetes API'  none  -- -item "$TD/pv.json" -item-from-backup "$TD/pv-from-backup.json" -restore "$TD/restore.json" -expect-error
check testdata-pv            OK  '"skipRestore": true'              ready -- -item "$TD/pv.json" -item-from-backup "$TD/pv-from-backup.json" -restore "$TD/restore.json" -n 20
check testdata-no-typemeta   OK  '"skipRestore": true'              ready -- -item "$TD/pv.json" -restore "$TD/restore-no-typemeta.json"
check own-pv-strict          OK  '"skipRestore": true'              ready -- "${OWN_PV[@]}" -strict -n 5
check pvc-import             OK  'importOriginalName'               ready -- "${OWN_PVC[@]}" -strict
check legacy-nfs-pv          OK  '"itemChanged": false'             ready -- -item '$FX/pv-legacy.json' -restore '$FX/restore.json' -strict
check other-csi-pv           OK  '"itemChanged": false'             ready -- -item '$FX/pv-ebs.json' -restore '$FX/restore.json' -strict
check volume-dp              OK  'SVM-DR not broken'                volume-dp      -- "${OWN_PV[@]}" "${E[@]}"
check pvc-volume-dp          OK  'SVM-DR not broken'                volume-dp      -- "${OWN_PVC[@]}" "${E[@]}"
check svm-stopped            OK  'SVM svm1 .* is stopped'           svm-stopped    -- "${OWN_PV[@]}" "${E[@]}"
check volume-offline         OK  'is offline, not online'           volume-offline -- "${OWN_PV[@]}" "${E[@]}"
check volume-missing         OK  'not found'                        volume-missing -- "${OWN_PV[@]}" "${E[@]}"
check lif-down               OK  'svm1_nfs_lif1 \(127.0.1.1, down'  lif-down       -- "${OWN_PV[@]}" "${E[@]}"
check port-closed            OK  'not reachable'                    port-closed    -- "${OWN_PV[@]}" "${E[@]}"
check ontap-down             OK  'unreachable'                      ontap-down     -- "${OWN_PV[@]}" "${E[@]}"
check wrong-password         OK  'refused the login'                wrong-password -- "${OWN_PV[@]}" "${E[@]}"
check not-ready-is-a-failure FAIL 'code = Unknown desc = PersistentVolume' volume-dp -- "${OWN_PV[@]}"
# A panic in Execute (forced by the drill variable) is an Aborted item, and
# the plugin still shuts down gracefully: the binary's unwinder works.
SVMDR_PLUGIN_PANIC_DRILL=1 \
check panic-is-aborted       OK  'code = Aborted desc = .*panic'    none  -- -item "$WORK/pv-ebs.json" -restore "$TD/restore.json" -expect-error

cp "$LOG" "${TMPDIR:-/tmp}/velero-host-check.log" 2>/dev/null && echo "full output: ${TMPDIR:-/tmp}/velero-host-check.log"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
