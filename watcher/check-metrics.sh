#!/usr/bin/env bash
# Judges svmdr-watcher's /metrics with the Prometheus project's Python
# parsers (prometheus-client from PyPI, pinned): every svmdr_ family with
# its type and label names, counters as *_total, # EOF (check_metrics.py).
#
#   watcher/check-metrics.sh http://127.0.0.1:9090/metrics   # a running watcher
#   watcher/check-metrics.sh metrics.txt [--allow-absent FAMILY ...]
#   watcher/check-metrics.sh                                 # the example's output
#
# Without arguments it checks what `cargo run -p watcher --example
# metrics-sample` prints. The venv lives under ${TMPDIR:-/tmp} and is reused.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
tmp="${TMPDIR:-/tmp}"
venv="$tmp/svmdr-metrics-venv"
# Pinned, so that a parser release cannot turn the check red without a change here.
prometheus_client="prometheus-client==0.26.0"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "$prometheus_client"

if [[ $# -eq 0 ]]; then
    sample="$(mktemp "$tmp/svmdr-metrics-sample.XXXXXX")"
    trap 'rm -f "$sample"' EXIT
    (cd "$root" && cargo run -q -p watcher --example metrics-sample) >"$sample"
    set -- "$sample"
fi
exec "$venv/bin/python" "$here/check_metrics.py" "$@"
