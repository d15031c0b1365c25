//! `meta.k8s.io/v1` Table responses, which `kubectl get` asks for in
//! `Accept`: Name and Age columns for every type plus a few type-specific
//! columns (the ones kubectl users look for first).

use serde_json::{Value, json};

use super::resources::ResourceType;

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|r| {
        let params: Vec<&str> = r.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// Extra columns per type: (header, JSON pointer).
fn extra_columns(rt: &ResourceType) -> &'static [(&'static str, &'static str)] {
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "secrets") => &[("Type", "/type")],
        ("", "namespaces") => &[("Status", "/status/phase")],
        ("", "persistentvolumes") => &[
            ("Capacity", "/spec/capacity/storage"),
            ("Reclaim Policy", "/spec/persistentVolumeReclaimPolicy"),
            ("Status", "/status/phase"),
            ("StorageClass", "/spec/storageClassName"),
        ],
        ("", "persistentvolumeclaims") => &[
            ("Status", "/status/phase"),
            ("Volume", "/spec/volumeName"),
            ("StorageClass", "/spec/storageClassName"),
        ],
        ("storage.k8s.io", "storageclasses") => &[("Provisioner", "/provisioner")],
        ("trident.netapp.io", "tridentbackends") => &[
            ("Backend", "/backendName"),
            ("Backend UUID", "/backendUUID"),
        ],
        ("trident.netapp.io", "tridentbackendconfigs") => &[
            ("Backend Name", "/status/backendInfo/backendName"),
            ("Backend UUID", "/status/backendInfo/backendUUID"),
            ("Phase", "/status/phase"),
            ("Status", "/status/lastOperationStatus"),
        ],
        ("velero.io", "backups" | "restores") => &[("Status", "/status/phase")],
        _ => &[],
    }
}

/// A kubectl-style age (`42s`, `5m3s`, `3h`, `2d`).
pub fn human_age(created: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(created) else {
        return "<unknown>".into();
    };
    let secs = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
        .num_seconds()
        .max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    match secs {
        s if s < 120 => format!("{s}s"),
        _ if m < 10 => format!("{m}m{}s", secs % 60),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if d < 8 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

fn cell(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Null) | None => Value::String(String::new()),
        Some(other) => Value::String(other.to_string()),
    }
}

/// A Table of `items`; `list` carries the list's resourceVersion and
/// continue token.
pub fn table(rt: &ResourceType, items: &[Value], list: Option<(u64, Option<String>)>) -> Value {
    let extras = extra_columns(rt);
    let mut columns = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    for (h, _) in extras {
        columns.push(
            json!({"name": h, "type": "string", "format": "", "description": "", "priority": 0}),
        );
    }
    columns.push(json!({"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp of the object.", "priority": 0}));
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut cells = vec![cell(o.pointer("/metadata/name"))];
            for (_, p) in extras {
                cells.push(cell(o.pointer(p)));
            }
            cells.push(Value::String(human_age(
                o.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            )));
            json!({
                "cells": cells,
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
                },
            })
        })
        .collect();
    let mut meta = json!({});
    if let Some((rv, cont)) = list {
        meta["resourceVersion"] = json!(rv.to_string());
        if let Some(c) = cont {
            meta["continue"] = json!(c);
        }
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_for_secrets() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        let rt = ResourceType::namespaced("v1", "Secret", "secrets");
        let t = table(
            &rt,
            &[
                json!({"metadata": {"name": "s", "creationTimestamp": "2000-01-01T00:00:00Z"}, "type": "Opaque"}),
            ],
            Some((7, None)),
        );
        assert_eq!(t["rows"][0]["cells"][0], "s");
        assert_eq!(t["rows"][0]["cells"][1], "Opaque");
        assert!(t["rows"][0]["cells"][2].as_str().unwrap().ends_with('d'));
        assert_eq!(t["metadata"]["resourceVersion"], "7");
    }
}
