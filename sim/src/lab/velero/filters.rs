//! Which backup items a Restore restores: Velero's include/exclude
//! lists (`pkg/util/collections/includes_excludes.go`), the resources it
//! never restores and those it always does (`pkg/controller/restore_controller.go`
//! `nonRestorableResources`, `pkg/restore/restore.go` `resourceMustHave`),
//! and the selection of `getOrderedResourceCollection` /
//! `getSelectedRestoreableItems` (`pkg/restore/restore.go`).

use serde_json::Value;

use super::rules;

/// Resources Velero never restores (`pkg/controller/restore_controller.go`
/// `nonRestorableResources`); `validateAndComplete` adds them to every
/// Restore's excluded resources.
pub const NON_RESTORABLE: &[&str] = &[
    "nodes",
    "events",
    "events.events.k8s.io",
    "backups.velero.io",
    "restores.velero.io",
    "resticrepositories.velero.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
    "backuprepositories.velero.io",
];

/// Resources restored even when the Restore's filters leave them out
/// (`pkg/restore/restore.go` `resourceMustHave`).
pub const RESOURCE_MUST_HAVE: &[&str] = &[
    "datauploads.velero.io",
    "volumesnapshotcontents.snapshot.storage.k8s.io",
];

/// Velero's include/exclude lists (`pkg/util/collections/includes_excludes.go`):
/// an exclude wins; no includes or `*` includes everything. Entries may
/// be globs (`*` only) and, for resources, the short names discovery
/// resolves (`pv`, `pvc`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncludesExcludes {
    /// Included entries.
    pub includes: Vec<String>,
    /// Excluded entries.
    pub excludes: Vec<String>,
}

fn canonical_resource(s: &str) -> String {
    match s {
        "pv" | "persistentvolume" => "persistentvolumes".into(),
        "pvc" | "persistentvolumeclaim" => "persistentvolumeclaims".into(),
        "ns" | "namespace" => "namespaces".into(),
        "po" | "pod" => "pods".into(),
        "sc" | "storageclass" | "storageclasses" => "storageclasses.storage.k8s.io".into(),
        other => other.to_string(),
    }
}

fn glob_match(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((pre, rest)) => {
            s.starts_with(pre) && {
                let tail = &s[pre.len()..];
                (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob_match(rest, &tail[i..]))
            }
        }
    }
}

impl IncludesExcludes {
    /// From a Restore's spec lists (`includedResources`, ...).
    pub fn from_spec(spec: &Value, includes: &str, excludes: &str) -> Self {
        let list = |k: &str| -> Vec<String> {
            spec.get(k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        };
        Self {
            includes: list(includes),
            excludes: list(excludes),
        }
    }

    fn matches(list: &[String], s: &str, resources: bool) -> bool {
        list.iter().any(|e| {
            let e = if resources {
                canonical_resource(e)
            } else {
                e.clone()
            };
            glob_match(&e, s) || (resources && s.split_once('.').is_some_and(|(p, _)| e == p))
        })
    }

    /// `ShouldInclude` for a namespace.
    pub fn should_include(&self, s: &str) -> bool {
        if Self::matches(&self.excludes, s, false) {
            return false;
        }
        self.includes.is_empty()
            || self.includes.iter().any(|i| i == "*")
            || Self::matches(&self.includes, s, false)
    }

    /// `ShouldInclude` for a group-resource (`persistentvolumes`,
    /// `deployments.apps`), resolving short names.
    pub fn should_include_resource(&self, gr: &str) -> bool {
        if Self::matches(&self.excludes, gr, true) {
            return false;
        }
        self.includes.is_empty()
            || self.includes.iter().any(|i| i == "*")
            || Self::matches(&self.includes, gr, true)
    }

    /// `IncludeEverything`: no excludes and no includes (or only `*`).
    pub fn include_everything(&self) -> bool {
        self.excludes.is_empty()
            && (self.includes.is_empty() || (self.includes.len() == 1 && self.includes[0] == "*"))
    }
}

/// A Restore's `spec.includeClusterResources` (`None` when unset).
pub fn include_cluster_resources(restore: &Value) -> Option<bool> {
    restore
        .pointer("/spec/includeClusterResources")
        .and_then(Value::as_bool)
}

/// A Restore's resource filter (its lists plus Velero's non-restorable
/// resources, `validateAndComplete`) and namespace filter.
pub fn filters(restore: &Value) -> (IncludesExcludes, IncludesExcludes) {
    let spec = restore.get("spec").cloned().unwrap_or(Value::Null);
    let mut resources =
        IncludesExcludes::from_spec(&spec, "includedResources", "excludedResources");
    for r in NON_RESTORABLE {
        if !resources.excludes.iter().any(|e| e == r) {
            resources.excludes.push((*r).to_string());
        }
    }
    let namespaces = IncludesExcludes::from_spec(&spec, "includedNamespaces", "excludedNamespaces");
    (resources, namespaces)
}

/// Whether Velero restores `gr` whatever the filters.
pub fn must_have(gr: &str) -> bool {
    RESOURCE_MUST_HAVE.contains(&gr)
}

/// The backup items a Restore selects, in Velero's order
/// (`getOrderedResourceCollection`, `getSelectedRestoreableItems`): the
/// resource and namespace filters (a must-have resource passes both);
/// cluster-scoped items only when `includeClusterResources` is not
/// `false`, and, when it is unset, only if every namespace is included
/// (the PVs of a namespace restore come in later, as the `velero.io/pvc`
/// action's additional items); then the label selector (not applied to
/// must-have resources). A namespace-scoped restore creates the
/// namespaces themselves on the way (`EnsureNamespaceExistsAndIsReady`).
pub fn select_items(items: &[Value], restore: &Value) -> Vec<Value> {
    let (resources, namespaces) = filters(restore);
    let sel = restore
        .pointer("/spec/labelSelector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let icr = include_cluster_resources(restore);
    let picked: Vec<Value> = items
        .iter()
        .filter(|i| {
            let gr = rules::group_resource(i);
            if !resources.should_include_resource(&gr) && !must_have(&gr) {
                return false;
            }
            let ns = rules::namespace(i);
            if ns.is_empty() {
                if icr == Some(false) {
                    return false;
                }
                if icr != Some(true) && !namespaces.include_everything() {
                    return false;
                }
            } else if !namespaces.should_include(ns) && !must_have(&gr) {
                return false;
            }
            must_have(&gr) || rules::labels_match(&sel, i)
        })
        .cloned()
        .collect();
    rules::order(&picked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::fixtures::{trident_csi_pv, trident_pvc};
    use serde_json::json;

    fn items() -> Vec<Value> {
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}),
            trident_csi_pv("pv-a", "u", "v_a", "file", "1Gi", "shop", "a", "Retain"),
            trident_csi_pv("pv-b", "u", "v_b", "file", "1Gi", "other", "b", "Delete"),
            trident_pvc("shop", "a", "pv-a", "ontap-nas", "1Gi"),
            trident_pvc("other", "b", "pv-b", "ontap-nas", "1Gi"),
            json!({"apiVersion": "velero.io/v2alpha1", "kind": "DataUpload",
                   "metadata": {"name": "du", "namespace": "velero"}}),
        ]
    }

    fn names(v: &[Value]) -> Vec<&str> {
        v.iter().map(rules::name).collect()
    }

    #[test]
    fn selection_follows_velero_filters() {
        let r = |spec: Value| json!({"spec": spec});
        let all = select_items(&items(), &r(json!({})));
        assert_eq!(
            names(&all),
            ["other", "shop", "du", "pv-a", "pv-b", "b", "a"]
        );
        let shop = select_items(&items(), &r(json!({"includedNamespaces": ["shop"]})));
        assert_eq!(
            names(&shop),
            ["du", "a"],
            "namespaces only: no cluster-scoped items (PVs come as additional items); DataUploads are must-have"
        );
        let with_cluster = select_items(
            &items(),
            &r(json!({"includedNamespaces": ["shop"], "includeClusterResources": true})),
        );
        assert_eq!(
            names(&with_cluster),
            ["other", "shop", "du", "pv-a", "pv-b", "a"]
        );
        let no_cluster = select_items(&items(), &r(json!({"includeClusterResources": false})));
        assert_eq!(names(&no_cluster), ["du", "b", "a"]);
        let no_pv = select_items(
            &items(),
            &r(json!({"excludedResources": ["persistentvolumes"]})),
        );
        assert_eq!(names(&no_pv), ["other", "shop", "du", "b", "a"]);
        let none = select_items(
            &items(),
            &r(json!({"labelSelector": {"matchLabels": {"app": "x"}}})),
        );
        assert_eq!(
            names(&none),
            ["du"],
            "the selector does not apply to must-have resources"
        );
    }

    #[test]
    fn includes_excludes_follow_velero() {
        let all = IncludesExcludes::default();
        assert!(all.should_include("shop") && all.include_everything());
        let shop = IncludesExcludes::from_spec(
            &json!({"includedNamespaces": ["shop"]}),
            "includedNamespaces",
            "excludedNamespaces",
        );
        assert!(shop.should_include("shop") && !shop.should_include("other"));
        assert!(!shop.include_everything());
        let glob = IncludesExcludes {
            includes: vec!["sh*".into()],
            excludes: vec!["shh".into()],
        };
        assert!(glob.should_include("shop") && !glob.should_include("shh"));
        let no_pv = IncludesExcludes {
            includes: vec![],
            excludes: vec!["pv".into()],
        };
        assert!(!no_pv.should_include_resource("persistentvolumes"));
        assert!(no_pv.should_include_resource("persistentvolumeclaims"));
        let apps = IncludesExcludes {
            includes: vec!["deployments".into()],
            excludes: vec![],
        };
        assert!(apps.should_include_resource("deployments.apps"));
        assert!(!apps.should_include_resource("pods"));
    }
}
