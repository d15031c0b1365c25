#!/usr/bin/env bash
# Benchmarks velero-plugin-svmdr (release build) side by side with the Go
# baseline plugin that velero-host builds (hashicorp/go-plugin's own server),
# in one run, against the simulated restore site (svmdr-lab example):
#   - process start -> handshake line (velero-host's timing, median of runs);
#   - Execute latency p50/p99 over -n 1000 calls on a Trident PV (SVM facts
#     cached after the first call);
#   - peak RSS of the restore process, from -wrap "/usr/bin/time -v -o ...";
#   - whether a 6.5 MiB item is accepted;
#   - 1,000 distinct Trident PVs and their PVCs across 5 SVMs through one
#     plugin process (each PV skipped, each PVC imported after the checks,
#     the export-policy check against the cluster's Nodes included).
# Prints a table and the targets; exits 1 if a target is missed.
# Env: RUNS (handshake runs per plugin, default 15), N (Execute calls, 1000),
# SVMDR_PLUGIN_BIN (a plugin binary to measure instead of building one),
# VELERO_HOST_DIR (the velero-host tool, default ../shared/tools/velero-host).
set -euo pipefail

ROOT="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
SHARED="${VELERO_HOST_DIR:-$ROOT/../shared/tools/velero-host}"
OUT="${VELERO_HOST_OUT:-${TMPDIR:-/tmp}/velero-host}"
RUNS="${RUNS:-15}"
N="${N:-1000}"

VELERO_HOST_OUT="$OUT" "$SHARED/build.sh" >/dev/null
H="$OUT/bin/velero-host"
GO="$OUT/bin/go-baseline-plugin"
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }

cd "$ROOT"
# The release profile of the workspace, for this one crate only (or, to
# compare builds, the binary named by SVMDR_PLUGIN_BIN).
[ -n "${SVMDR_PLUGIN_BIN:-}" ] || cargo build -q --release -p ark-plugin --bin velero-plugin-svmdr
cargo build -q -p ark-plugin --example svmdr-lab
RUST="${SVMDR_PLUGIN_BIN:-$ROOT/target/release/velero-plugin-svmdr}"
LAB="$ROOT/target/debug/examples/svmdr-lab"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/svmdr-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
FX="$WORK/fixtures"

# A 6.5 MiB PV (not Trident's, so no storage call): the baseline's gRPC server
# refuses anything over 4 MiB.
python3 - "$WORK/big-pv.json" <<'PY'
import json, sys
blob = "x" * (6 * 1024 * 1024 + 512 * 1024)
pv = {"apiVersion": "v1", "kind": "PersistentVolume",
      "metadata": {"name": "pv-big", "annotations": {"example.io/blob": blob}},
      "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
               "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-big"}}}
json.dump(pv, open(sys.argv[1], "w"))
PY

# One lab for the whole run; inside it, every measurement of both plugins.
cat >"$WORK/inside.sh" <<'INSIDE'
#!/usr/bin/env bash
set -uo pipefail
H="$1"; RUST="$2"; GO="$3"; WORK="$4"; RUNS="$5"; N="$6"; FX="$SVMDR_LAB_FIXTURES"
ITEM=(-item "$FX/pv.json" -item-from-backup "$FX/pv-from-backup.json" -restore "$FX/restore.json")
for name in rust go; do
  p="$RUST"; [ "$name" = go ] && p="$GO"
  "$H" -log-level off "${ITEM[@]}" -n "$N" -o "$WORK/$name-exec.json" \
    -wrap "/usr/bin/time -v -o $WORK/$name-time.txt" "$p" >"$WORK/$name-exec.out" 2>&1 || echo "bench: $name Execute run failed" >&2
  "$H" -log-level off -item "$WORK/big-pv.json" -restore "$FX/restore.json" -o "$WORK/$name-big.json" "$p" >"$WORK/$name-big.out" 2>&1
  echo $? >"$WORK/$name-big.rc"
done
# Alternate the plugins so both see the same machine state.
for i in $(seq 1 "$RUNS"); do
  for name in rust go; do
    p="$RUST"; [ "$name" = go ] && p="$GO"
    "$H" -log-level off -o "$WORK/$name-start-$i.json" "$p" >/dev/null 2>&1 || echo "bench: $name start run $i failed" >&2
  done
done
INSIDE
chmod +x "$WORK/inside.sh"
"$LAB" --fixtures "$FX" -- "$WORK/inside.sh" "$H" "$RUST" "$GO" "$WORK" "$RUNS" "$N" 2>"$WORK/lab.err" || { cat "$WORK/lab.err" >&2; exit 2; }

# 1,000 distinct Trident PVs and their PVCs over 5 SVMs, through one plugin process.
"$LAB" --svms 5 --bench-pvs 1000 --plugin "$RUST" >"$WORK/many.json" 2>>"$WORK/lab.err" || { cat "$WORK/lab.err" >&2; exit 2; }

python3 - "$WORK" "$RUNS" "$N" <<'PY'
import json, re, statistics, sys, os
work, runs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(p):
    with open(os.path.join(work, p)) as f:
        return json.load(f)
def rss_time(name):
    t = open(os.path.join(work, f"{name}-time.txt")).read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
    return int(m.group(1)) if m else None
res = {}
for name in ("rust", "go"):
    starts = []
    for i in range(1, runs + 1):
        try:
            d = load(f"{name}-start-{i}.json")
            starts += [ph["startToHandshakeMs"] for ph in d["phases"]]
        except Exception:
            pass
    ex = load(f"{name}-exec.json")
    lat = ex["execute"][0]["latency"] if ex.get("execute") else {}
    big_rc = int(open(os.path.join(work, f"{name}-big.rc")).read().strip())
    res[name] = {
        "handshake_ms": statistics.median(starts) if starts else float("nan"),
        "handshake_min_ms": min(starts) if starts else float("nan"),
        "p50_ms": lat.get("p50Ms"), "p99_ms": lat.get("p99Ms"),
        "rss_kib": rss_time(name),
        "big_ok": big_rc == 0,
    }
many = load("many.json")
r, g = res["rust"], res["go"]
rows = [
    ("start -> handshake, median (ms)", f'{r["handshake_ms"]:.2f}', f'{g["handshake_ms"]:.2f}', "<= 50% of Go", r["handshake_ms"] <= 0.5 * g["handshake_ms"]),
    ("start -> handshake, min (ms)", f'{r["handshake_min_ms"]:.2f}', f'{g["handshake_min_ms"]:.2f}', "", None),
    (f"Execute p50 over {n} (ms)", f'{r["p50_ms"]}', f'{g["p50_ms"]}', "", None),
    (f"Execute p99 over {n} (ms)", f'{r["p99_ms"]}', f'{g["p99_ms"]}', "<= Go", r["p99_ms"] is not None and g["p99_ms"] is not None and r["p99_ms"] <= g["p99_ms"]),
    ("peak RSS, restore process (KiB)", f'{r["rss_kib"]}', f'{g["rss_kib"]}', "<= 60% of Go", r["rss_kib"] is not None and g["rss_kib"] is not None and r["rss_kib"] <= 0.6 * g["rss_kib"]),
    ("6.5 MiB item", "accepted" if r["big_ok"] else "REJECTED", "accepted" if g["big_ok"] else "rejected", "accepted", r["big_ok"]),
    ("1,000 PVs + PVCs on 5 SVMs, total (ms)", f'{many["totalMs"]:.0f}', "-", "< 2000", many["totalMs"] < 2000),
    ("  PVs skipped / PVCs imported", f'{many["pvsSkipped"]}/{many["pvcsImported"]}', "-", "all", many["pvsSkipped"] == many["pvs"] and many["pvcsImported"] == many["pvs"]),
    ("  ONTAP requests for them", f'{many["ontapRequests"]}', "-", "one facts round (5 GETs) per SVM", many["ontapRequests"] <= 5 * many["svms"]),
]
print(f'{"measure":36} {"velero-plugin-svmdr":>20} {"go-baseline-plugin":>19}  target')
missed = 0
for name, a, b, target, ok in rows:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    if ok is False:
        missed += 1
    print(f"{name:36} {a:>20} {b:>19}  {target}{mark}")
print(f"(handshake: {runs} runs x 2 processes each; Execute on a Trident PV, facts cached; RSS from /usr/bin/time -v)")
print(json.dumps({"rust": r, "go": g, "many": many}))
sys.exit(1 if missed else 0)
PY
