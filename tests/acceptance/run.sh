#!/usr/bin/env bash
# Acceptance suite: drives the built kubectl-svmdr as a user does, through a
# real kubectl, against `kubectl svmdr lab up` (issue 12, "How it is shown").
#
# It starts `kubectl svmdr lab up --timing fast --dir <tmp>` in the
# background, reads its `export` lines, and runs the cases below in order
# (they share the lab, so each builds on the state the previous ones left).
# Each case names the exit code and the key words it expects and prints
# `ok NAME` or `FAIL NAME: why`; the last line is `N passed, M failed`, and
# the script exits 1 if any case failed. Every command is bounded by
# ACCEPTANCE_TIMEOUT (60 s), the whole suite by ACCEPTANCE_LIMIT (300 s), and
# the lab is always stopped (`lab down --dir`, then a signal if needed).
#
# kubectl: every case that runs kubectl itself runs once with each kubectl of
# KUBECTLS (tests/lib/cases.sh find_kubectls; the PyPI one in the venv
# ACCEPTANCE_VENV).
# The svmdr commands run as `kubectl svmdr ...` through the first kubectl,
# with target/debug (or SVMDR_BIN_DIR) first on PATH: the plugin mechanism
# users rely on.
#
# Cases by item of issue 12:
#   1  peer: default schedule hourly; --schedule 5min --dry-run shows the
#      change and changes nothing, then applies it; a plain re-run keeps it;
#      --rpo 1d picks daily; --schedule bogus and --policy NoSuch exit 2
#      before any change (with --dry-run too)
#   2  status: follows the reverse relationship after failover + primary-up
#      + resync --direction reverse (active dr, flow dr → primary), forward
#      again after failback; the Velero half (a backup older than the RPO is
#      a problem, exit 1)
#   5  history: dry-runs are not recorded; a refusal is recorded `refused`
#   6  -o json on an exit-2 failure writes one `kind: Error` document; an
#      unresolvable primary context is exit 1 with a Status document
#   7  failover --dry-run while the primary is alive prints the plan and
#      the refusal, exit 3 (table and -o json)
#   3  --kubeconfig naming a missing file is exit 2
#   4  one cluster named as both sites: peer refuses before any change
#   9  status --watch --interval below 1s is refused; a global flag the
#      command ignores (version --yes) is refused; -o jsonpath
#   10 a second restore of the same backup is refused without a terminal or
#      --yes; after failback the DR Deployment is scaled to 0 with its
#      replicas in an annotation, and status says the app runs on the primary
#   11 lab fault (primary, primary ONTAP or Kubernetes only, DR LIF,
#      witness; down and up), and the hints of `lab up` name --dir
#   kubectl as a user: PVCs Bound on DR to new pvc-… PVs after failover +
#      restore, TridentVolumes for them, the app's pod Running, the Velero
#      Restore Completed, the DR TridentBackend online (and offline while the
#      DR data LIF is down), the audit Events
#
# The lab's Kubernetes API itself is checked against real clients by
# sim/fidelity/kubectl.sh; this suite and that one share tests/lib/cases.sh.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="${TMPDIR:-/tmp}"
bin_dir="${SVMDR_BIN_DIR:-$root/target/debug}"
venv="${ACCEPTANCE_VENV:-$tmp/svmdr-acceptance-venv}"
T="${ACCEPTANCE_TIMEOUT:-60}"
LIMIT="${ACCEPTANCE_LIMIT:-300}"
work="$(mktemp -d "$tmp/svmdr-acceptance.XXXXXX")"
lab_dir="$work/lab"

# The suite's own HOME: kubectl's cache and no ~/.kube/config of the machine.
export HOME="$work/home"
mkdir -p "$HOME"
export PATH="$bin_dir:$PATH"
unset KUBECONFIG SVMDR_CONFIG

# shellcheck source=../lib/cases.sh
suite=acceptance
. "$root/tests/lib/cases.sh"

find_kubectls
S=("$K" svmdr)

start_lab


# item 11: the lab's hints and faults
tc "lab up: prints the exports and hints naming --dir" 0 \
    "export KUBECONFIG=$lab_dir/kubeconfig" "export SVMDR_CONFIG=$lab_dir/config.yaml" \
    "lab fault primary-down|primary-up|primary-ontap-down|primary-ontap-up|primary-kube-down|primary-kube-up|dr-lif-down|dr-lif-up|witness-down|witness-up --dir $lab_dir" \
    "lab down --dir $lab_dir" -- cat "$work/lab-up.out"
tc "lab up: a second lab in the same dir is refused, hint names --dir" 2 \
    "already running" "lab down --dir $lab_dir" -- "${S[@]}" lab up --timing fast --dir "$lab_dir"
tc "lab fault dr-lif-down before peer: exit 2, says to peer first" 2 \
    "no NFS data LIF yet" "kubectl svmdr peer" -- "${S[@]}" lab fault dr-lif-down --dir "$lab_dir"
tc "lab fault with a dir where no lab runs: exit 2, hint names --dir" 2 \
    "no simulated lab runs with state dir $work/nolab" "lab up --dir $work/nolab" \
    -- "${S[@]}" lab fault primary-down --dir "$work/nolab"

for k in "${kubectls[@]}"; do
    tc "${klabel[$k]}: finds the plugin (kubectl svmdr version)" 0 "kubectl-svmdr" -- "$k" svmdr version
    tc "${klabel[$k]}: primary PVCs Bound (get pvc -n shop)" 0 "data" "uploads" "Bound" "pvc-" \
        -- "$k" --context lab-primary get pvc -n shop
    tc "${klabel[$k]}: DR Trident backend offline before any failover" 0 "ontap-nas-dr=offline" \
        -- "$k" --context lab-dr get tbe -n trident -o 'jsonpath={range .items[*]}{.backendName}={.state}{"\n"}{end}'
done
primary_pvs="$(timeout "$T" "$K" --context lab-primary get pvc -n shop -o 'jsonpath={.items[*].spec.volumeName}')"

# ---- item 1: peer protects by default and converges -------------------------
pair=(--svm svm1 --dr-svm svm1_dr)

# items 3, 4, 9 first, while nothing is peered: each refusal changes nothing
# (the "status after the refused peers" case below checks that).
tc "--kubeconfig naming a missing file: exit 2, names the flag and the file" 2 \
    "--kubeconfig names a file that cannot be used" "nonexistent" \
    -- "${S[@]}" status --kubeconfig "$work/nonexistent"
tc "one cluster named as both sites: peer refuses before any change, exit 2" 2 \
    "same Kubernetes cluster" "same ONTAP cluster" "nothing was changed" \
    -- "${S[@]}" peer "${pair[@]}" --yes --dr-context lab-primary --primary-context lab-primary
tc "status --watch --interval 0s: refused, names the 1s floor, exit 2" 2 "at least 1s" \
    -- "${S[@]}" status --watch --interval 0s
tc "version --yes: a global flag the command ignores is refused, exit 2" 2 "--yes has no effect" \
    -- "${S[@]}" version --yes
tc "peer --schedule bogus --dry-run: exit 2, names the DR cluster's schedules" 2 \
    "nothing was changed" "schedule bogus does not exist on the DR cluster ontap-b" "hourly" \
    -- "${S[@]}" peer "${pair[@]}" --schedule bogus --dry-run
tc "peer --schedule bogus: exit 2 before any change" 2 \
    "nothing was changed" "schedule bogus does not exist" "!done " \
    -- "${S[@]}" peer "${pair[@]}" --schedule bogus --yes
tc "peer --schedule bogus -o json: one kind: Error document, exitCode 2" 2 \
    "json:d['kind'] == 'Error' and d['exitCode'] == 2 and any('bogus' in p for p in d['problems'])" \
    -- "${S[@]}" peer "${pair[@]}" --schedule bogus --yes -o json
tc "status after the refused peers: no relationship, no cluster peer was made" 1 \
    "json:d['relationships'] == [] and d['clusterPeers'] == []" \
    -- "${S[@]}" status -o json
tc "peer without --schedule: relationship created with schedule hourly" 0 \
    "schedule hourly" "initialize" "snapmirrored" -- "${S[@]}" peer "${pair[@]}" --yes
tc "status: protected, schedule hourly, RPO 1h, exit 0" 0 \
    "json:[(r['schedule'], r['rpo'], r['protected']) for r in d['relationships']] == [('hourly', '1h', True)] and d['healthy']" \
    -- "${S[@]}" status -o json
tc "peer --schedule 5min --dry-run: shows the change and its PATCH" 0 \
    "Dry run: nothing was changed" "would do" "transfer_schedule hourly → 5min" \
    "PATCH /api/snapmirror/relationships/" -- "${S[@]}" peer "${pair[@]}" --schedule 5min --dry-run
tc "peer --rpo 1d --dry-run: picks the daily schedule, shows the change" 0 \
    "would do" "transfer_schedule hourly → daily" -- "${S[@]}" peer "${pair[@]}" --rpo 1d --dry-run
tc "peer --policy NoSuch: exit 2 before any change, names the DR cluster's policies" 2 \
    "nothing was changed" "SnapMirror policy NoSuch does not exist on the DR cluster ontap-b" "MirrorAllSnapshots" \
    -- "${S[@]}" peer "${pair[@]}" --policy NoSuch --yes
tc "status after the dry-runs and the refusal: still hourly, policy MirrorAllSnapshots" 0 \
    "json:[(r['schedule'], r['policy']) for r in d['relationships']] == [('hourly', 'MirrorAllSnapshots')]" \
    -- "${S[@]}" status -o json
tc "peer --schedule 5min: changes the existing relationship" 0 \
    "transfer_schedule hourly → 5min" "schedule 5min" -- "${S[@]}" peer "${pair[@]}" --schedule 5min --yes
tc "peer re-run without --schedule: already done, keeps 5min" 0 \
    "already done" "schedule 5min" "!→" -- "${S[@]}" peer "${pair[@]}" --yes
tc "status --backup-max-age 1h: schedule 5min, RPO 5m, healthy" 0 \
    "json:[(r['schedule'], r['rpo'], r['protected']) for r in d['relationships']] == [('5min', '5m', True)]" \
    -- "${S[@]}" status --backup-max-age 1h -o json
# item 2, Velero half: the lab's backup is 30 minutes old, the RPO now 5m.
tc "status: a Velero backup older than the RPO is a problem (exit 1) with a hint" 1 \
    "STALE" "older than 5m" "--backup-max-age" "ACTIVE   primary  FLOW primary → dr" -- "${S[@]}" status

# ---- items 5, 6, 7: dry-run plan, audit, error documents --------------------
tc "failover --dry-run, primary alive: the refusal and the plan, exit 3" 3 \
    "Dry run: nothing was changed" "REFUSED (exit 3)" "split-brain guard" \
    "Plan for failover (svm1 → svm1_dr)" "stop-primary" "break" "backends-online" \
    -- "${S[@]}" failover --dry-run
tc "failover --dry-run -o json: kind WorkflowPlan with refused, exit 3" 3 \
    "json:d['kind'] == 'WorkflowPlan' and d['workflow'] == 'failover' and 'split-brain' in d['refused']['reason']" \
    -- "${S[@]}" failover --dry-run -o json
tc "failover --yes, primary alive: refused by the split-brain guard, exit 3" 3 \
    "split-brain guard" "switchover" -- "${S[@]}" failover --yes
tc "history: the refusal recorded as refused, no dry-run recorded" 0 \
    "json:[(i['workflow'], i['outcome']) for i in d['items']] == [('failover', 'refused')]" \
    -- "${S[@]}" history -o json
tc "status -o json, unknown DR context: one kind: Error document, exit 2" 2 \
    "json:d['kind'] == 'Error' and d['exitCode'] == 2 and any('\"nope\"' in p for p in d['problems'])" \
    -- "${S[@]}" status -o json --dr-context nope
tc "status -o json, unknown primary context: Status with the problem, exit 1" 1 \
    "json:d['kind'] == 'Status' and any('\"nope\"' in p for p in d['problems'])" \
    -- "${S[@]}" status -o json --primary-context nope

# ---- item 11 faults, failover, restore, and the DR cluster through kubectl --
tc "lab fault primary-down" 0 "primary ONTAP cluster and Kubernetes API down" \
    -- "${S[@]}" lab fault primary-down --dir "$lab_dir"
for k in "${kubectls[@]}"; do
    tc "${klabel[$k]}: primary Kubernetes API down (connection refused)" 1 "refused" \
        -- "$k" --context lab-primary get ns
done
tc "failover with the primary down: exit 0, storage RTO" 0 \
    "primary cluster primary is unreachable" "backends-online" "total (storage RTO)" \
    -- "${S[@]}" failover --yes
for k in "${kubectls[@]}"; do
    tc "${klabel[$k]}: DR Trident backend online (get tbe -o jsonpath)" 0 "ontap-nas-dr=online" \
        -- "$k" --context lab-dr get tbe -n trident -o 'jsonpath={range .items[*]}{.backendName}={.state}{"\n"}{end}'
done
tc "restore: Velero restore Completed, app running, PVCs bound" 0 \
    "Completed" "1/1 running" "2/2 bound" -- "${S[@]}" restore --yes
# item 10: a second restore of the same backup asks first; with no terminal
# and no --yes/--force it is refused and creates nothing.
tc "restore again without --yes, no terminal: refused, exit 3" 3 \
    "already restored" "--yes or --force" -- "${S[@]}" restore
dr_pvs="$(timeout "$T" "$K" --context lab-dr get pvc -n shop -o 'jsonpath={.items[*].spec.volumeName}')"
read -r -a dr_pv <<<"$dr_pvs"
read -r -a primary_pv <<<"$primary_pvs"
new_pv_checks=()
# the primary's PV names must be known, or "not those names" would prove nothing
[[ ${#primary_pv[@]} == 2 ]] || new_pv_checks+=("<the primary's two PV names, unread>")
for pv in ${primary_pv[@]+"${primary_pv[@]}"}; do new_pv_checks+=("!$pv"); done
for k in "${kubectls[@]}"; do
    tc "${klabel[$k]}: DR PVCs data and uploads Bound to new pvc-… PVs" 0 \
        "data" "uploads" "Bound" "pvc-" "!Pending" "!Lost" ${new_pv_checks[@]+"${new_pv_checks[@]}"} \
        -- "$k" --context lab-dr get pvc -n shop
    tc "${klabel[$k]}: TridentVolumes for both PVs (get tridentvolumes -n trident)" 0 \
        "${dr_pv[0]:-<no PV>}" "${dr_pv[1]:-<no second PV>}" -- "$k" --context lab-dr get tridentvolumes -n trident
    tc "${klabel[$k]}: the app's pod Running on DR" 0 "Running" "!Pending" \
        -- "$k" --context lab-dr get pods -n shop -o 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}'
    tc "${klabel[$k]}: the Velero Restore Completed (get restores -n velero)" 0 "shop-nightly-svmdr-" "Completed" \
        -- "$k" --context lab-dr get restores -n velero
    tc "${klabel[$k]}: audit Events in the Trident namespace" 0 "SvmdrFailover" "SvmdrRestore" \
        -- "$k" --context lab-dr get events -n trident -o 'jsonpath={range .items[*]}{.reason}{"\n"}{end}'
done
tc "lab fault dr-lif-down" 0 "DR data LIF" "down" -- "${S[@]}" lab fault dr-lif-down --dir "$lab_dir"
tbe_state=(-o 'jsonpath={range .items[*]}{.backendName}={.state}{"\n"}{end}')
for k in "${kubectls[@]}"; do
    poll "${klabel[$k]}: DR Trident backend goes offline with its data LIF down" 20 "ontap-nas-dr=offline" \
        -- "$k" --context lab-dr get tbe -n trident "${tbe_state[@]}"
done
tc "lab fault dr-lif-up" 0 "DR data LIF" "up" -- "${S[@]}" lab fault dr-lif-up --dir "$lab_dir"
for k in "${kubectls[@]}"; do
    poll "${klabel[$k]}: DR Trident backend online again with its data LIF up" 20 "ontap-nas-dr=online" \
        -- "$k" --context lab-dr get tbe -n trident "${tbe_state[@]}"
done
tc "lab fault primary-up" 0 "primary ONTAP cluster and Kubernetes API up again" \
    -- "${S[@]}" lab fault primary-up --dir "$lab_dir"
for k in "${kubectls[@]}"; do
    tc "${klabel[$k]}: primary Kubernetes API answers again" 0 "shop" -- "$k" --context lab-primary get ns
done

# ---- item 2: status follows the direction -----------------------------------
tc "resync --direction reverse" 0 "create-reverse" "resync-reverse" -- "${S[@]}" resync --direction reverse --yes
tc "status after the reverse resync: active dr, flow dr → primary, exit 0" 0 \
    "ACTIVE   dr  FLOW dr → primary" "not in use" "!broken off: the DR SVM is writable" \
    -- "${S[@]}" status --backup-max-age 1h
tc "status -o json after the reverse resync: the reverse relationship protects" 0 \
    "json:d['activeSite'] == 'dr' and d['flow'] == 'dr → primary' and [(r['direction'], r['live'], r['protected']) for r in d['relationships'] if r['live']] == [('reverse', True, True)]" \
    -- "${S[@]}" status --backup-max-age 1h -o json
tc "failback" 0 "resync-forward" "delete-reverse" -- "${S[@]}" failback --yes
# item 10: after failback exactly one site runs the app.
for k in "${kubectls[@]}"; do
    tc "${klabel[$k]}: the DR copy of the app scaled to 0, its replicas kept in an annotation" 0 "0/1" \
        -- "$k" --context lab-dr get deploy web -n shop \
        -o 'jsonpath={.spec.replicas}/{.metadata.annotations.svmdr\.netapp\.io/replicas-before-failback}'
done
tc "status -o jsonpath: the app runs on the primary only" 0 "primary" "!both" \
    -- "${S[@]}" status --backup-max-age 1h -o 'jsonpath={.appRunsOn}'
tc "status after failback: active primary, flow primary → dr, exit 0" 0 \
    "json:d['activeSite'] == 'primary' and d['flow'] == 'primary → dr' and [(r['direction'], r['live'], r['protected'], r['schedule']) for r in d['relationships']] == [('forward', True, True, '5min')]" \
    -- "${S[@]}" status --backup-max-age 1h -o json
tc "history: what ran, newest first, no dry-run" 0 \
    "json:[(i['workflow'], i['outcome']) for i in d['items']] == [('failback', 'succeeded'), ('resync --direction reverse', 'succeeded'), ('restore', 'refused'), ('restore', 'succeeded'), ('failover', 'succeeded'), ('failover', 'refused')]" \
    -- "${S[@]}" history -o json

# ---- lab down ----------------------------------------------------------------
tc "lab down --dir: stops the lab" 0 "stopped" -- "${S[@]}" lab down --dir "$lab_dir"
tc "lab down again: exit 1, no lab running" 1 "no simulated lab is running" -- "${S[@]}" lab down --dir "$lab_dir"
tc "lab fault after lab down: exit 2" 2 "no simulated lab runs" -- "${S[@]}" lab fault primary-up --dir "$lab_dir"
for _ in $(seq 1 150); do
    kill -0 "$lab_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$lab_pid" 2>/dev/null || { wait "$lab_pid" 2>/dev/null; lab_pid=""; }

echo "acceptance: $passed passed, $failed failed"
[[ $failed == 0 ]]
