#!/usr/bin/env bash
# svmdr-watcher as a user runs it, on `kubectl svmdr lab up`: the policy
# ConfigMap made with kubectl, the primary's heartbeat and one watcher
# replica started by hand, /healthz and /readyz, /metrics judged by the
# Prometheus project's parser (check-metrics.sh), then `kubectl svmdr
# watcher status`, `watcher disarm`/`arm`, `kubectl svmdr status` (its
# WATCHER line) and `kubectl describe` of the status ConfigMap (its Events).
# Needs target/debug/{kubectl-svmdr,svmdr-watcher,velero-plugin-svmdr}
# (cargo build --bins) and kubectl on PATH. Prints ok/FAIL per check and
# exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="$root/target/debug"
work="$(mktemp -d "${TMPDIR:-/tmp}/svmdr-watcher-check.XXXXXX")"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fails=0
check() { # name, then the command
    local name="$1"; shift
    if "$@" >"$work/out" 2>&1; then echo "ok    $name"; else
        echo "FAIL  $name"; sed 's/^/      /' "$work/out" | tail -n 20; fails=$((fails + 1)); fi
}

"$bin/kubectl-svmdr" lab up --timing fast --dir "$work/lab" >"$work/lab.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q 'lab is up' "$work/lab.log" 2>/dev/null && break; sleep 0.1; done
export KUBECONFIG="$work/lab/kubeconfig" SVMDR_CONFIG="$work/lab/config.yaml"
"$bin/kubectl-svmdr" peer --svm svm1 --dr-svm svm1_dr --yes >"$work/peer.log" 2>&1

kubectl --context lab-dr create namespace svmdr >/dev/null
kubectl --context lab-dr -n svmdr create configmap svmdr-watcher-policy \
    --from-literal=mode=observe --from-literal=interval=1s \
    --from-literal=gracePeriod=4s --from-literal=witnessMaxAge=3s >/dev/null

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
witness=(--witness-kubeconfig "$KUBECONFIG" --witness-context lab-witness --witness-namespace svmdr-witness)
"$bin/svmdr-watcher" heartbeat "${witness[@]}" --identity heartbeat-0 --every 500ms 2>"$work/heartbeat.log" &
pids+=($!)
"$bin/svmdr-watcher" run --config "$SVMDR_CONFIG" --namespace svmdr "${witness[@]}" \
    --listen "127.0.0.1:$port" --identity watcher-0 --request-timeout 2s 2>"$work/watcher.log" &
pids+=($!)
url="http://127.0.0.1:$port"
ready() { python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/readyz"; }
for _ in $(seq 1 100); do ready 2>/dev/null && break; sleep 0.2; done

check "/healthz answers 200" python3 -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/healthz"
check "/readyz answers 200 after the first observation" ready
# The leader publishes after its first Lease round; a few intervals.
for _ in $(seq 1 50); do
    kubectl --context lab-dr -n svmdr get configmap svmdr-watcher-status -o jsonpath='{.data.verdict}' 2>/dev/null | grep -q healthy && break
    sleep 0.2
done
check "/metrics parsed by prometheus-client" "$here/check-metrics.sh" "$url/metrics"
check "watcher status: healthy, exit 0" bash -c '"$0" watcher status | grep -E "verdict +healthy"' "$bin/kubectl-svmdr"
check "watcher status -o json" bash -c '"$0" watcher status -o json | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"kind\"]==\"WatcherStatus\" and d[\"data\"][\"mode\"]==\"observe\", d"' "$bin/kubectl-svmdr"
check "watcher disarm, then status says so" bash -c '"$0" watcher disarm --reason maintenance >/dev/null && "$0" watcher status | grep -E "armed +no \(maintenance\)"' "$bin/kubectl-svmdr"
check "watcher arm needs --yes without a terminal (exit 3)" bash -c '"$0" watcher arm </dev/null; test $? -eq 3' "$bin/kubectl-svmdr"
check "watcher arm --yes" bash -c '"$0" watcher arm --yes --reason drill | grep -E "armed +yes"' "$bin/kubectl-svmdr"
check "status shows the WATCHER line" bash -c '"$0" status 2>/dev/null | grep -E "^WATCHER +healthy \(mode observe, armed, leader watcher-0"' "$bin/kubectl-svmdr"
check "kubectl describe shows the watcher's Events" bash -c 'kubectl --context lab-dr -n svmdr describe configmap svmdr-watcher-status | grep -E "WatcherDisarmed|WatcherArmed"'
"$bin/kubectl-svmdr" lab fault primary-down --dir "$work/lab" >/dev/null
for _ in $(seq 1 100); do
    kubectl --context lab-dr -n svmdr get configmap svmdr-watcher-status -o jsonpath='{.data.verdict}' | grep -q partition && break
    sleep 0.2
done
check "primary down, heartbeat alive: partition, status exits 1" bash -c '"$0" status >/dev/null 2>&1; rc=$?; "$0" watcher status | grep -E "verdict +partition" && test $rc -eq 1' "$bin/kubectl-svmdr"
check "svmdr_partition_suspected 1" bash -c 'python3 -c "import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())" "$0/metrics" | grep -E "^svmdr_partition_suspected 1$"' "$url"
echo "watcher lab check: $fails failed"
test "$fails" -eq 0
