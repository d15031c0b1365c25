//! Velero's restore rules for the items the lab restores, as pure
//! functions (from `pkg/restore/restore.go` and the facts sheet §3):
//! the restore order, the PersistentVolume decision taken before any
//! plugin runs, the metadata/status reset, the PV binding reset, the PVC
//! fix-up for re-provisioned volumes, and which items an action's
//! `ResourceSelector` covers.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Velero's default high-priority resources, in restore order (the rest
/// follow alphabetically).
pub const PRIORITIES: &[&str] = &[
    "customresourcedefinitions",
    "namespaces",
    "storageclasses",
    "volumesnapshotclass.snapshot.storage.k8s.io",
    "volumesnapshotcontents.snapshot.storage.k8s.io",
    "volumesnapshots.snapshot.storage.k8s.io",
    "datauploads.velero.io",
    "persistentvolumes",
    "persistentvolumeclaims",
    "clusterroles",
    "roles",
    "serviceaccounts",
    "clusterrolebindings",
    "rolebindings",
    "secrets",
    "configmaps",
    "limitranges",
    "priorityclasses",
    "pods",
    "replicasets.apps",
    "clusterclasses.cluster.x-k8s.io",
    "endpoints",
    "services",
];

/// The group-resource string Velero uses for an item (`pods`,
/// `deployments.apps`, `persistentvolumes`).
pub fn group_resource(item: &Value) -> String {
    let api_version = item.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
    let group = api_version
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or_default();
    let lower = kind.to_ascii_lowercase();
    let plural = if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    };
    if group.is_empty() {
        plural
    } else {
        format!("{plural}.{group}")
    }
}

/// Items in Velero's restore order: the priority list first, the rest
/// alphabetically by resource; within a resource, by namespace then name.
pub fn order(items: &[Value]) -> Vec<Value> {
    let mut by_resource: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for i in items {
        by_resource
            .entry(group_resource(i))
            .or_default()
            .push(i.clone());
    }
    let mut out = Vec::with_capacity(items.len());
    let take = |r: &str, by: &mut BTreeMap<String, Vec<Value>>, out: &mut Vec<Value>| {
        if let Some(mut v) = by.remove(r) {
            v.sort_by_key(|i| (namespace(i).to_string(), name(i).to_string()));
            out.extend(v);
        }
    };
    for r in PRIORITIES {
        take(r, &mut by_resource, &mut out);
    }
    let rest: Vec<String> = by_resource.keys().cloned().collect();
    for r in rest {
        take(&r, &mut by_resource, &mut out);
    }
    out
}

/// `metadata.name`.
pub fn name(item: &Value) -> &str {
    item.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.namespace` (empty for cluster-scoped items).
pub fn namespace(item: &Value) -> &str {
    item.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Velero's `resourceID` in messages: `ns/name` or `name`.
pub fn resource_id(item: &Value) -> String {
    match namespace(item) {
        "" => name(item).to_string(),
        ns => format!("{ns}/{}", name(item)),
    }
}

/// What Velero does with a PersistentVolume before any plugin runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PvDecision {
    /// Not a PV: the generic path.
    NotAPv,
    /// No snapshot, reclaim policy `Delete`: not restored; its PVC is
    /// re-provisioned ("Dynamically re-provisioning persistent volume").
    Reprovision,
    /// No snapshot, other policy (`Retain`): "Restoring persistent volume
    /// as-is", through the RestoreItemActions.
    AsIs,
}

/// Velero's PV decision (step 1 of `restoreItem`) for a backup without
/// volume snapshots or pod-volume backups, as the lab's backups are.
pub fn pv_decision(item: &Value) -> PvDecision {
    if item.get("kind").and_then(Value::as_str) != Some("PersistentVolume") {
        return PvDecision::NotAPv;
    }
    let policy = item
        .pointer("/spec/persistentVolumeReclaimPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Delete");
    if policy == "Delete" {
        PvDecision::Reprovision
    } else {
        PvDecision::AsIs
    }
}

const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";

/// `resetMetadataAndStatus`: keeps only name, namespace, labels and
/// annotations of the metadata, drops `status`; for PVs also
/// `resetVolumeBindingInfo` (claimRef uid/resourceVersion and the binding
/// annotations go, so the PV controller binds again).
pub fn prepare(item: &Value) -> Value {
    let mut out = item.clone();
    let Some(obj) = out.as_object_mut() else {
        return out;
    };
    obj.remove("status");
    if let Some(meta) = obj.get("metadata").and_then(Value::as_object) {
        let mut kept = Map::new();
        for k in ["name", "namespace", "labels", "annotations"] {
            if let Some(v) = meta.get(k) {
                kept.insert(k.to_string(), v.clone());
            }
        }
        obj.insert("metadata".into(), Value::Object(kept));
    }
    if out.get("kind").and_then(Value::as_str) == Some("PersistentVolume") {
        if let Some(c) = out
            .pointer_mut("/spec/claimRef")
            .and_then(Value::as_object_mut)
        {
            c.remove("uid");
            c.remove("resourceVersion");
        }
        remove_annotations(&mut out, &[ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER]);
    }
    out
}

/// The PVC fix-up after the actions: when its PV is re-provisioned,
/// `spec.volumeName` and the binding annotations go, so the provisioner
/// (here Trident, importing when annotated) makes a new PV.
pub fn fix_pvc(item: &mut Value, reprovisioned: &[String]) {
    if item.get("kind").and_then(Value::as_str) != Some("PersistentVolumeClaim") {
        return;
    }
    let vol = item
        .pointer("/spec/volumeName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if vol.is_empty() || !reprovisioned.contains(&vol) {
        return;
    }
    if let Some(spec) = item.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("volumeName");
    }
    remove_annotations(item, &[ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER]);
}

fn remove_annotations(item: &mut Value, keys: &[&str]) {
    if let Some(a) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for k in keys {
            a.remove(*k);
        }
    }
}

/// An action's `ResourceSelector`, as Velero matches it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// Included resources (empty or `*` = all).
    pub included_resources: Vec<String>,
    /// Excluded resources.
    pub excluded_resources: Vec<String>,
    /// Included namespaces (empty or `*` = all).
    pub included_namespaces: Vec<String>,
    /// Excluded namespaces.
    pub excluded_namespaces: Vec<String>,
    /// Label selector (`k=v,...`; empty = all).
    pub selector: String,
}

fn matches_list(list: &[String], value: &str) -> bool {
    list.iter().any(|e| {
        e == value || e == "*" || value.split_once('.').is_some_and(|(plural, _)| e == plural)
    })
}

impl Selector {
    /// Whether Velero runs the action on `item`.
    pub fn applies(&self, item: &Value) -> bool {
        let gr = group_resource(item);
        let ns = namespace(item);
        if !(self.included_resources.is_empty() || matches_list(&self.included_resources, &gr)) {
            return false;
        }
        if self
            .excluded_resources
            .iter()
            .any(|e| e != "*" && matches_list(std::slice::from_ref(e), &gr))
        {
            return false;
        }
        let ns_filtered =
            !self.included_namespaces.is_empty() || !self.excluded_namespaces.is_empty();
        if ns_filtered {
            if ns.is_empty() {
                return false;
            }
            if !(self.included_namespaces.is_empty()
                || self.included_namespaces.iter().any(|n| n == ns || n == "*"))
            {
                return false;
            }
            if self.excluded_namespaces.iter().any(|n| n == ns) {
                return false;
            }
        }
        labels_match(&self.selector, item)
    }
}

/// An equality-based label selector (`a=b,c!=d,e`) against the item's labels.
pub fn labels_match(selector: &str, item: &Value) -> bool {
    let labels = item.pointer("/metadata/labels").and_then(Value::as_object);
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    selector
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                get(k.trim()) != Some(v.trim())
            } else if let Some((k, v)) = term.split_once('=') {
                get(k.trim().trim_end_matches('=')) == Some(v.trim())
            } else {
                get(term).is_some()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::fixtures::{trident_csi_pv, trident_pvc};
    use serde_json::json;

    fn pv(policy: &str) -> Value {
        trident_csi_pv(
            "pvc-1",
            "u",
            "trident_pvc_1",
            "file",
            "1Gi",
            "shop",
            "data",
            policy,
        )
    }

    #[test]
    fn delete_policy_pvs_are_reprovisioned_and_retain_ones_restored_as_is() {
        assert_eq!(pv_decision(&pv("Delete")), PvDecision::Reprovision);
        assert_eq!(pv_decision(&pv("Retain")), PvDecision::AsIs);
        assert_eq!(pv_decision(&pv("Recycle")), PvDecision::AsIs);
        let pvc = trident_pvc("shop", "data", "pvc-1", "ontap-nas", "1Gi");
        assert_eq!(pv_decision(&pvc), PvDecision::NotAPv);
    }

    #[test]
    fn restore_order_puts_namespaces_then_pvs_then_pvcs_before_pods_and_deployments() {
        let items = vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop"}}),
            trident_pvc("shop", "data", "pvc-1", "ontap-nas", "1Gi"),
            pv("Retain"),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}}),
        ];
        let kinds: Vec<String> = order(&items)
            .iter()
            .map(|i| i["kind"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "PersistentVolume",
                "PersistentVolumeClaim",
                "Pod",
                "Service",
                "Deployment"
            ]
        );
    }

    #[test]
    fn group_resources_follow_velero_spelling() {
        assert_eq!(group_resource(&pv("Retain")), "persistentvolumes");
        assert_eq!(
            group_resource(&json!({"apiVersion": "apps/v1", "kind": "Deployment"})),
            "deployments.apps"
        );
        assert_eq!(
            group_resource(&json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass"})),
            "storageclasses.storage.k8s.io"
        );
        assert_eq!(
            group_resource(&json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"})),
            "networkpolicies.networking.k8s.io"
        );
    }

    #[test]
    fn prepare_resets_metadata_status_and_pv_binding() {
        let mut p = pv("Retain");
        p["metadata"]["uid"] = json!("abc");
        p["metadata"]["resourceVersion"] = json!("7");
        p["metadata"]["annotations"][ANN_BOUND_BY_CONTROLLER] = json!("yes");
        p["spec"]["claimRef"]["uid"] = json!("old");
        let out = prepare(&p);
        assert!(out.get("status").is_none());
        assert!(out.pointer("/metadata/uid").is_none());
        assert!(out.pointer("/metadata/finalizers").is_none());
        assert!(out.pointer("/spec/claimRef/uid").is_none());
        assert_eq!(out.pointer("/spec/claimRef/name"), Some(&json!("data")));
        assert!(
            out.pointer("/metadata/annotations")
                .and_then(|a| a.get(ANN_BOUND_BY_CONTROLLER))
                .is_none()
        );
        assert_eq!(
            out["spec"]["csi"], p["spec"]["csi"],
            "the volume source is kept"
        );
    }

    #[test]
    fn pvcs_of_reprovisioned_pvs_lose_their_volume_name_only() {
        let mut a = prepare(&trident_pvc("shop", "a", "pvc-a", "ontap-nas", "1Gi"));
        let mut b = prepare(&trident_pvc("shop", "b", "pvc-b", "ontap-nas", "1Gi"));
        let re = vec!["pvc-a".to_string()];
        fix_pvc(&mut a, &re);
        fix_pvc(&mut b, &re);
        assert!(a.pointer("/spec/volumeName").is_none());
        assert!(
            a["metadata"]["annotations"]
                .get(ANN_BIND_COMPLETED)
                .is_none()
        );
        assert_eq!(b["spec"]["volumeName"], "pvc-b");
    }

    #[test]
    fn selectors_match_resources_namespaces_and_labels_like_velero() {
        let s = Selector {
            included_resources: vec!["persistentvolumes".into(), "persistentvolumeclaims".into()],
            ..Default::default()
        };
        let pvc = trident_pvc("shop", "data", "pvc-1", "ontap-nas", "1Gi");
        assert!(s.applies(&pv("Retain")));
        assert!(s.applies(&pvc));
        assert!(!s.applies(&json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}})));
        let ns_only = Selector {
            included_namespaces: vec!["shop".into()],
            ..s.clone()
        };
        assert!(
            !ns_only.applies(&pv("Retain")),
            "cluster-scoped items skipped"
        );
        assert!(ns_only.applies(&pvc));
        let labelled = Selector {
            selector: "app=web".into(),
            ..s
        };
        assert!(!labelled.applies(&pvc));
        let mut with = pvc.clone();
        with["metadata"]["labels"] = json!({"app": "web"});
        assert!(labelled.applies(&with));
        assert!(labels_match("app=web,tier!=db", &with));
        assert!(!labels_match("app", &pvc));
    }
}
