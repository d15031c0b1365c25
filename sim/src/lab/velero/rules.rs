//! Velero's restore rules over single items, as pure functions over
//! `serde_json::Value` (Velero HEAD d30d389b):
//! - the restore order (`pkg/cmd/server/config/config.go`
//!   `defaultRestorePriorities`, then the rest alphabetically:
//!   `pkg/restore/restore.go` `getOrderedResources`);
//! - the metadata and status reset, the volume-binding reset, and the
//!   PVC fix-up after the actions (`restore.go` `resetMetadata`,
//!   `resetVolumeBindingInfo`, `restoreItem`);
//! - the restore labels through `label.GetValidName` (`pkg/label/label.go`);
//! - which items an action's `ResourceSelector` covers.
//!
//! Which items a Restore selects is in [`super::filters`], the
//! PersistentVolume decision in [`super::pv_decision`], the built-in
//! actions in [`super::builtin_actions`].
use std::collections::{BTreeMap, BTreeSet};

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

/// Velero's DNS-1035 label length limit (`validation.DNS1035LabelMaxLength`).
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;

/// `label.GetValidName` (`pkg/label/label.go`): a value longer than 63
/// characters is cut to 57 and given the first 6 hex digits of the
/// SHA-256 of the whole value.
pub fn get_valid_name(label: &str) -> String {
    use sha2::{Digest, Sha256};
    if label.len() <= DNS1035_LABEL_MAX_LENGTH {
        return label.to_string();
    }
    let sha = Sha256::digest(label.as_bytes());
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    // Go slices bytes; a multi-byte character at the cut is cut too (Velero
    // names are ASCII). Rust must not split a char, so cut at a boundary.
    let mut cut = DNS1035_LABEL_MAX_LENGTH - 6;
    while !label.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{}", &label[..cut], &hex[..6])
}

/// Label Velero puts on restored items: the backup's name.
pub const BACKUP_NAME_LABEL: &str = "velero.io/backup-name";
/// Label Velero puts on restored items: the restore's name.
pub const RESTORE_NAME_LABEL: &str = "velero.io/restore-name";

/// `addRestoreLabels` (`pkg/restore/restore.go`): the backup and restore
/// names, each through [`get_valid_name`].
pub fn add_restore_labels(item: &mut Value, restore: &str, backup: &str) {
    let Some(meta) = item.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let labels = meta
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !labels.is_object() {
        *labels = Value::Object(Map::new());
    }
    if let Some(l) = labels.as_object_mut() {
        l.insert(
            BACKUP_NAME_LABEL.into(),
            Value::from(get_valid_name(backup)),
        );
        l.insert(
            RESTORE_NAME_LABEL.into(),
            Value::from(get_valid_name(restore)),
        );
    }
}

/// `resetMetadataAndStatus` (`pkg/restore/restore.go` `resetMetadata`,
/// `resetStatus`): drops `generateName`, `selfLink`, `uid`,
/// `resourceVersion`, `generation`, `creationTimestamp`,
/// `deletionTimestamp`, `deletionGracePeriodSeconds` and
/// `ownerReferences`, and `status`. Everything else stays, including
/// `labels`, `annotations`, `finalizers` and `managedFields`.
///
/// # Errors
/// No `metadata`, or `metadata` is not an object (Velero's messages).
pub fn reset_metadata_and_status(item: &Value) -> Result<Value, String> {
    let mut out = item.clone();
    let Some(obj) = out.as_object_mut() else {
        return Err("metadata not found".into());
    };
    match obj.get_mut("metadata") {
        None => return Err("metadata not found".into()),
        Some(Value::Object(meta)) => {
            for k in [
                "generateName",
                "selfLink",
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "ownerReferences",
            ] {
                meta.remove(k);
            }
        }
        Some(other) => {
            return Err(format!(
                "metadata was of type {}, expected map[string]any",
                json_type(other)
            ));
        }
    }
    obj.remove("status");
    Ok(out)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `pv.kubernetes.io/bind-completed`.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// `pv.kubernetes.io/bound-by-controller`.
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";

/// `resetVolumeBindingInfo` (`pkg/restore/restore.go`): removes
/// `spec.claimRef.uid` and `.resourceVersion` and the two binding
/// annotations, so the PV controller binds the objects again. Velero runs
/// it on a PV restored as-is (`handleSkippedPVHasRetainPolicy`) or from a
/// native snapshot, and on every PVC that has a `spec.volumeName` after
/// the actions ran.
pub fn reset_volume_binding_info(item: &mut Value) {
    if let Some(c) = item
        .pointer_mut("/spec/claimRef")
        .and_then(Value::as_object_mut)
    {
        c.remove("uid");
        c.remove("resourceVersion");
    }
    remove_annotations(item, &[ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER]);
}

/// The PVC block of `restoreItem` that runs after every action
/// (`pkg/restore/restore.go`, "This comes after running item actions"):
/// a PVC that still has a `spec.volumeName` gets
/// [`reset_volume_binding_info`]; its `volumeName` goes only when that PV
/// was marked for dynamic re-provisioning in this restore; a PV renamed
/// in this restore is followed. A PVC whose PV was not restored at all
/// (PVs excluded, cluster resources excluded, the PV skipped by a plugin)
/// keeps its `volumeName`. Returns the log lines.
pub fn pvc_after_actions(
    item: &mut Value,
    pvs_to_provision: &BTreeSet<String>,
    renamed_pvs: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut log = Vec::new();
    if item.get("kind").and_then(Value::as_str) != Some("PersistentVolumeClaim") {
        return log;
    }
    let vol = item
        .pointer("/spec/volumeName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !vol.is_empty() {
        reset_volume_binding_info(item);
        if pvs_to_provision.contains(&vol) {
            log.push("Resetting PersistentVolumeClaim for dynamic provisioning".into());
            if let Some(spec) = item.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("volumeName");
            }
        }
    }
    if let Some(new) = renamed_pvs.get(&vol) {
        log.push(format!(
            "Updating persistent volume claim {} to reference renamed persistent volume ({vol} -> {new})",
            resource_id(item)
        ));
        item["spec"]["volumeName"] = Value::from(new.clone());
    }
    log
}

/// Removes annotations `keys` from an item.
pub fn remove_annotations(item: &mut Value, keys: &[&str]) {
    if let Some(a) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for k in keys {
            a.remove(*k);
        }
    }
}

/// An annotation's value (empty when absent).
pub fn annotation<'a>(item: &'a Value, key: &str) -> &'a str {
    item.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
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
    fn get_valid_name_keeps_short_names_and_hashes_long_ones_like_velero() {
        assert_eq!(get_valid_name("svmdr-restore-1"), "svmdr-restore-1");
        let exactly = "a".repeat(63);
        assert_eq!(get_valid_name(&exactly), exactly);
        let long = "a".repeat(64);
        let got = get_valid_name(&long);
        assert_eq!(got.len(), 63);
        assert_eq!(&got[..57], &long[..57]);
        // sha256("a" x 64) starts with ffe054 (printf 'a%.0s' {1..64} | sha256sum).
        assert_eq!(&got[57..], "ffe054");
    }

    #[test]
    fn restore_labels_use_valid_names() {
        let mut p = pv("Retain");
        let long = format!("svmdr-{}", "x".repeat(70));
        add_restore_labels(&mut p, &long, "nightly");
        assert_eq!(p["metadata"]["labels"][BACKUP_NAME_LABEL], "nightly");
        let r = p["metadata"]["labels"][RESTORE_NAME_LABEL]
            .as_str()
            .unwrap_or("");
        assert_eq!(r.len(), 63);
        assert_eq!(r, get_valid_name(&long));
    }

    #[test]
    fn reset_metadata_keeps_finalizers_managed_fields_labels_and_annotations() {
        let mut p = trident_pvc("shop", "data", "pvc-1", "ontap-nas", "1Gi");
        p["metadata"]["uid"] = json!("abc");
        p["metadata"]["resourceVersion"] = json!("7");
        p["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
        p["metadata"]["ownerReferences"] = json!([{"kind": "X", "name": "y"}]);
        p["metadata"]["managedFields"] = json!([{"manager": "kubectl"}]);
        p["metadata"]["labels"] = json!({"app": "web"});
        let out = reset_metadata_and_status(&p).unwrap_or_default();
        assert!(out.get("status").is_none());
        for gone in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "ownerReferences",
        ] {
            assert!(out["metadata"].get(gone).is_none(), "{gone}");
        }
        assert_eq!(
            out["metadata"]["finalizers"],
            json!(["kubernetes.io/pvc-protection"])
        );
        assert_eq!(
            out["metadata"]["managedFields"],
            json!([{"manager": "kubectl"}])
        );
        assert_eq!(out["metadata"]["labels"]["app"], "web");
        assert_eq!(
            out["metadata"]["annotations"][ANN_BIND_COMPLETED], "yes",
            "binding annotations are not touched by the metadata reset"
        );
        assert_eq!(out["spec"]["volumeName"], "pvc-1");
        assert!(reset_metadata_and_status(&json!({"kind": "X"})).is_err());
        assert!(reset_metadata_and_status(&json!({"metadata": "x"})).is_err());
    }

    #[test]
    fn volume_binding_reset_clears_claim_ref_uid_and_binding_annotations() {
        let mut p = pv("Retain");
        p["metadata"]["annotations"] = json!({ANN_BOUND_BY_CONTROLLER: "yes", "keep": "1"});
        p["spec"]["claimRef"]["uid"] = json!("old");
        p["spec"]["claimRef"]["resourceVersion"] = json!("3");
        reset_volume_binding_info(&mut p);
        assert!(p.pointer("/spec/claimRef/uid").is_none());
        assert!(p.pointer("/spec/claimRef/resourceVersion").is_none());
        assert_eq!(p.pointer("/spec/claimRef/name"), Some(&json!("data")));
        assert!(
            p["metadata"]["annotations"]
                .get(ANN_BOUND_BY_CONTROLLER)
                .is_none()
        );
        assert_eq!(p["metadata"]["annotations"]["keep"], "1");
    }

    #[test]
    fn every_pvc_with_a_volume_name_loses_binding_annotations_but_keeps_the_name_unless_reprovisioned()
     {
        let prep = |n: &str, pv: &str| {
            reset_metadata_and_status(&trident_pvc("shop", n, pv, "ontap-nas", "1Gi"))
                .unwrap_or_default()
        };
        let mut a = prep("a", "pvc-a");
        let mut b = prep("b", "pvc-b");
        let re: BTreeSet<String> = ["pvc-a".to_string()].into();
        let renamed = BTreeMap::new();
        let log = pvc_after_actions(&mut a, &re, &renamed);
        assert_eq!(
            log,
            ["Resetting PersistentVolumeClaim for dynamic provisioning"]
        );
        pvc_after_actions(&mut b, &re, &renamed);
        assert!(a.pointer("/spec/volumeName").is_none());
        assert_eq!(
            b["spec"]["volumeName"], "pvc-b",
            "PV not re-provisioned: kept"
        );
        for x in [&a, &b] {
            assert!(
                x["metadata"]["annotations"]
                    .get(ANN_BIND_COMPLETED)
                    .is_none()
            );
            assert!(
                x["metadata"]["annotations"]
                    .get(ANN_BOUND_BY_CONTROLLER)
                    .is_none()
            );
        }
        let mut c = prep("c", "pvc-c");
        let renamed: BTreeMap<String, String> =
            [("pvc-c".to_string(), "velero-clone-1".to_string())].into();
        pvc_after_actions(&mut c, &BTreeSet::new(), &renamed);
        assert_eq!(c["spec"]["volumeName"], "velero-clone-1");
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
