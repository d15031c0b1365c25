//! CustomResourceDefinition objects: the one the store writes for a custom
//! type, and the types a created CRD declares.

use super::super::resources::ResourceType;
use serde_json::{Value, json};

/// A CustomResourceDefinition object describing a custom type.
pub fn crd_object(t: &ResourceType) -> Value {
    let mut version = json!({
        "name": t.version,
        "served": true,
        "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
    });
    if t.status_subresource {
        version["subresources"] = json!({"status": {}});
    }
    let names = json!({
        "kind": t.kind,
        "listKind": format!("{}List", t.kind),
        "plural": t.plural,
        "singular": t.singular,
        "shortNames": t.short_names,
        "categories": t.categories,
    });
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{}.{}", t.plural, t.group)},
        "spec": {
            "group": t.group,
            "names": names,
            "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
            "versions": [version],
        },
        "status": {
            "acceptedNames": names,
            "storedVersions": [t.version],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
            ],
        },
    })
}

/// The types a CustomResourceDefinition object declares (one per served version).
pub(super) fn crd_types(crd: &Value) -> Vec<ResourceType> {
    let spec = crd.get("spec").cloned().unwrap_or_default();
    let group = spec.get("group").and_then(Value::as_str).unwrap_or("");
    let names = spec.get("names").cloned().unwrap_or_default();
    let kind = names.get("kind").and_then(Value::as_str).unwrap_or("");
    let plural = names.get("plural").and_then(Value::as_str).unwrap_or("");
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return Vec::new();
    }
    let strs = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    spec.get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .map(|version| {
            let av = format!("{group}/{version}");
            let mut t = if namespaced {
                ResourceType::namespaced(&av, kind, plural)
            } else {
                ResourceType::cluster(&av, kind, plural)
            };
            t.short_names = strs(names.get("shortNames"));
            t.categories = strs(names.get("categories"));
            if let Some(s) = names.get("singular").and_then(Value::as_str) {
                t.singular = s.to_string();
            }
            t.status_subresource = spec
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|x| x.get("name").and_then(Value::as_str) == Some(version))
                .and_then(|x| x.pointer("/subresources/status"))
                .is_some();
            t
        })
        .collect()
}
