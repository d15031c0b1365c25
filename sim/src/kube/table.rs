//! `meta.k8s.io/v1` Table responses, which `kubectl get` asks for in
//! `Accept`: the columns the API server prints for the built-in types the
//! lab serves, Name and Age (plus a few) for the rest, and per row the
//! metadata or the whole object as `includeObject` asks.

use serde_json::{Value, json};

use super::resources::ResourceType;

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|r| {
        let params: Vec<&str> = r.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io")
    })
}

/// What a column shows.
#[derive(Clone, Copy)]
enum Cell {
    /// `metadata.name`.
    Name,
    /// The age from `metadata.creationTimestamp`.
    Age,
    /// The value at a JSON pointer (empty when absent).
    At(&'static str),
    /// Computed from the whole object.
    With(fn(&Value) -> String),
}

/// One column: header, priority (1 = `-o wide` only), what it shows.
type Column = (&'static str, u8, Cell);

const NAME: Column = ("Name", 0, Cell::Name);
const AGE: Column = ("Age", 0, Cell::Age);

/// The columns per type: for built-in types those of the API server's
/// printers (`kubernetes` `pkg/printers/internalversion/printers.go`
/// `AddHandlers`), for the CRDs the lab serves a few useful ones.
fn columns(rt: &ResourceType) -> Vec<Column> {
    use Cell::{At, With};
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "pods") => vec![
            NAME,
            ("Ready", 0, With(pod_ready)),
            ("Status", 0, With(pod_status)),
            ("Restarts", 0, With(pod_restarts)),
            AGE,
            ("IP", 1, At("/status/podIP")),
            ("Node", 1, At("/spec/nodeName")),
        ],
        ("apps", "deployments") => vec![
            NAME,
            ("Ready", 0, With(deployment_ready)),
            (
                "Up-to-date",
                0,
                With(|o| count(o, "/status/updatedReplicas")),
            ),
            (
                "Available",
                0,
                With(|o| count(o, "/status/availableReplicas")),
            ),
            AGE,
            ("Containers", 1, With(|o| containers(o, "name"))),
            ("Images", 1, With(|o| containers(o, "image"))),
        ],
        ("", "events") => vec![
            ("Last Seen", 0, With(event_last_seen)),
            ("Type", 0, At("/type")),
            ("Reason", 0, At("/reason")),
            ("Object", 0, With(event_object)),
            ("Source", 1, At("/source/component")),
            ("Message", 0, At("/message")),
            ("Count", 1, With(|o| count(o, "/count"))),
            ("Name", 1, Cell::Name),
        ],
        ("", "secrets") => vec![
            NAME,
            ("Type", 0, At("/type")),
            ("Data", 0, With(|o| entries(o, &["data"]))),
            AGE,
        ],
        ("", "configmaps") => vec![
            NAME,
            ("Data", 0, With(|o| entries(o, &["data", "binaryData"]))),
            AGE,
        ],
        ("", "serviceaccounts") => vec![NAME, ("Secrets", 0, With(|o| len_at(o, "/secrets"))), AGE],
        ("", "namespaces") => vec![NAME, ("Status", 0, At("/status/phase")), AGE],
        ("", "nodes") => vec![
            NAME,
            ("Status", 0, With(node_status)),
            ("Roles", 0, With(node_roles)),
            AGE,
            ("Version", 0, At("/status/nodeInfo/kubeletVersion")),
            ("Internal-IP", 1, With(node_internal_ip)),
        ],
        ("", "persistentvolumes") => vec![
            NAME,
            ("Capacity", 0, At("/spec/capacity/storage")),
            (
                "Access Modes",
                0,
                With(|o| access_modes(o, "/spec/accessModes")),
            ),
            (
                "Reclaim Policy",
                0,
                At("/spec/persistentVolumeReclaimPolicy"),
            ),
            ("Status", 0, At("/status/phase")),
            ("Claim", 0, With(pv_claim)),
            ("StorageClass", 0, At("/spec/storageClassName")),
            ("Reason", 0, At("/status/reason")),
            AGE,
            ("VolumeMode", 1, At("/spec/volumeMode")),
        ],
        ("", "persistentvolumeclaims") => vec![
            NAME,
            ("Status", 0, At("/status/phase")),
            ("Volume", 0, At("/spec/volumeName")),
            ("Capacity", 0, At("/status/capacity/storage")),
            (
                "Access Modes",
                0,
                With(|o| access_modes(o, "/status/accessModes")),
            ),
            ("StorageClass", 0, At("/spec/storageClassName")),
            AGE,
            ("VolumeMode", 1, At("/spec/volumeMode")),
        ],
        ("storage.k8s.io", "storageclasses") => vec![
            ("Name", 0, With(storage_class_name)),
            ("Provisioner", 0, At("/provisioner")),
            (
                "ReclaimPolicy",
                0,
                With(|o| or(o, "/reclaimPolicy", "Delete")),
            ),
            (
                "VolumeBindingMode",
                0,
                With(|o| or(o, "/volumeBindingMode", "Immediate")),
            ),
            (
                "AllowVolumeExpansion",
                0,
                With(|o| or(o, "/allowVolumeExpansion", "false")),
            ),
            AGE,
        ],
        ("trident.netapp.io", "tridentbackends") => vec![
            NAME,
            ("Backend", 0, At("/backendName")),
            ("Backend UUID", 0, At("/backendUUID")),
            AGE,
        ],
        ("trident.netapp.io", "tridentbackendconfigs") => vec![
            NAME,
            ("Backend Name", 0, At("/status/backendInfo/backendName")),
            ("Backend UUID", 0, At("/status/backendInfo/backendUUID")),
            ("Phase", 0, At("/status/phase")),
            ("Status", 0, At("/status/lastOperationStatus")),
            AGE,
        ],
        ("velero.io", "backups" | "restores") => {
            vec![NAME, ("Status", 0, At("/status/phase")), AGE]
        }
        _ => vec![NAME, AGE],
    }
}

fn text(o: &Value, pointer: &str) -> String {
    match o.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A count that prints 0 when absent (the printers print Go's zero value).
fn count(o: &Value, pointer: &str) -> String {
    o.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(0)
        .to_string()
}

fn or(o: &Value, pointer: &str, default: &str) -> String {
    match text(o, pointer) {
        s if s.is_empty() => default.into(),
        s => s,
    }
}

fn len_at(o: &Value, pointer: &str) -> String {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
        .to_string()
}

fn entries(o: &Value, keys: &[&str]) -> String {
    keys.iter()
        .filter_map(|k| o.get(*k).and_then(Value::as_object))
        .map(serde_json::Map::len)
        .sum::<usize>()
        .to_string()
}

fn array<'a>(o: &'a Value, pointer: &str) -> &'a [Value] {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `READY`: ready containers over containers.
fn pod_ready(o: &Value) -> String {
    let total = array(o, "/spec/containers").len();
    let ready = array(o, "/status/containerStatuses")
        .iter()
        .filter(|c| c["ready"] == true)
        .count();
    format!("{ready}/{total}")
}

/// `STATUS`: `Terminating` while deleting, else a waiting or terminated
/// container's reason, else `status.reason`, else the phase.
fn pod_status(o: &Value) -> String {
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        return "Terminating".into();
    }
    let from_containers = array(o, "/status/containerStatuses").iter().find_map(|c| {
        ["/state/waiting/reason", "/state/terminated/reason"]
            .iter()
            .find_map(|p| c.pointer(p).and_then(Value::as_str))
            .filter(|r| !r.is_empty())
    });
    match from_containers {
        Some(r) => r.into(),
        None => or(o, "/status/reason", &text(o, "/status/phase")),
    }
}

fn pod_restarts(o: &Value) -> String {
    array(o, "/status/containerStatuses")
        .iter()
        .filter_map(|c| c["restartCount"].as_i64())
        .sum::<i64>()
        .to_string()
}

/// `READY`: ready replicas over desired (`spec.replicas`, default 1).
fn deployment_ready(o: &Value) -> String {
    let desired = o
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    format!("{}/{desired}", count(o, "/status/readyReplicas"))
}

fn containers(o: &Value, field: &str) -> String {
    array(o, "/spec/template/spec/containers")
        .iter()
        .map(|c| text(c, &format!("/{field}")))
        .collect::<Vec<_>>()
        .join(",")
}

fn event_last_seen(o: &Value) -> String {
    let t = [
        "/lastTimestamp",
        "/eventTime",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .map(|p| text(o, p))
    .find(|t| !t.is_empty())
    .unwrap_or_default();
    human_age(&t)
}

/// `OBJECT`: `kind/name`, the kind in lower case.
fn event_object(o: &Value) -> String {
    format!(
        "{}/{}",
        text(o, "/involvedObject/kind").to_ascii_lowercase(),
        text(o, "/involvedObject/name")
    )
}

fn storage_class_name(o: &Value) -> String {
    let name = text(o, "/metadata/name");
    let default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|a| {
        o.pointer("/metadata/annotations").and_then(|m| m.get(*a)) == Some(&Value::from("true"))
    });
    if default {
        format!("{name} (default)")
    } else {
        name
    }
}

/// `GetAccessModesAsString`: the modes abbreviated, comma-separated.
fn access_modes(o: &Value, pointer: &str) -> String {
    let modes = array(o, pointer);
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| modes.iter().any(|x| x == m))
    .map(|(_, a)| *a)
    .collect::<Vec<_>>()
    .join(",")
}

fn pv_claim(o: &Value) -> String {
    match text(o, "/spec/claimRef/name") {
        n if n.is_empty() => String::new(),
        n => format!("{}/{n}", text(o, "/spec/claimRef/namespace")),
    }
}

/// `STATUS`: the Ready condition (`Ready`, `NotReady`, `Unknown`), and
/// `SchedulingDisabled` for a cordoned node.
fn node_status(o: &Value) -> String {
    let ready = array(o, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "Ready")
        .map(|c| match c["status"].as_str() {
            Some("True") => "Ready",
            Some("False") => "NotReady",
            _ => "Unknown",
        })
        .unwrap_or("Unknown");
    if o.pointer("/spec/unschedulable") == Some(&Value::Bool(true)) {
        format!("{ready},SchedulingDisabled")
    } else {
        ready.into()
    }
}

/// `ROLES`: from `node-role.kubernetes.io/<role>` labels, `<none>` without.
fn node_roles(o: &Value) -> String {
    let mut roles: Vec<String> = o
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(r) if !r.is_empty() => Some(r.to_string()),
            _ if k == "kubernetes.io/role" => v.as_str().map(String::from),
            _ => None,
        })
        .collect();
    roles.sort();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

fn node_internal_ip(o: &Value) -> String {
    array(o, "/status/addresses")
        .iter()
        .find(|a| a["type"] == "InternalIP")
        .map(|a| text(a, "/address"))
        .unwrap_or_else(|| "<none>".into())
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

/// What each row carries besides its cells (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    /// Nothing.
    None,
    /// The object's metadata (the default).
    Metadata,
    /// The whole object (`kubectl get --sort-by` asks for it).
    Object,
}

impl Include {
    /// The `includeObject` parameter (`None`, `Metadata`, `Object`).
    ///
    /// # Errors
    /// Any other value, worded as the API server words it.
    pub fn parse(v: Option<&str>) -> Result<Self, String> {
        match v {
            None | Some("" | "Metadata") => Ok(Self::Metadata),
            Some("None") => Ok(Self::None),
            Some("Object") => Ok(Self::Object),
            Some(other) => Err(format!(
                "includeObject: Unsupported value: \"{other}\": supported values: \"Metadata\", \"None\", \"Object\""
            )),
        }
    }
}

/// A Table of `items`; `list` carries the list's resourceVersion and
/// continue token.
pub fn table(
    rt: &ResourceType,
    items: &[Value],
    list: Option<(u64, Option<String>)>,
    include: Include,
) -> Value {
    let cols = columns(rt);
    let defs: Vec<Value> = cols
        .iter()
        .map(|(h, priority, c)| {
            let (format, description) = match c {
                Cell::Name => ("name", "Name must be unique within a namespace."),
                Cell::Age => ("", "CreationTimestamp of the object."),
                _ => ("", ""),
            };
            json!({"name": h, "type": "string", "format": format, "description": description, "priority": priority})
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols
                .iter()
                .map(|(_, _, c)| {
                    Value::String(match c {
                        Cell::Name => text(o, "/metadata/name"),
                        Cell::Age => human_age(&text(o, "/metadata/creationTimestamp")),
                        Cell::At(p) => text(o, p),
                        Cell::With(f) => f(o),
                    })
                })
                .collect();
            let mut row = json!({"cells": cells});
            match include {
                Include::None => {}
                Include::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
                    });
                }
                Include::Object => row["object"] = o.clone(),
            }
            row
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
        "columnDefinitions": defs,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(t: &Value) -> Vec<String> {
        t["rows"][0]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    }

    fn headers(t: &Value) -> Vec<String> {
        t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["priority"] == 0)
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn secrets_show_type_and_data_count() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        let rt = ResourceType::namespaced("v1", "Secret", "secrets");
        let t = table(
            &rt,
            &[
                json!({"metadata": {"name": "s", "creationTimestamp": "2000-01-01T00:00:00Z"},
                     "type": "Opaque", "data": {"a": "", "b": ""}}),
            ],
            Some((7, None)),
            Include::Metadata,
        );
        assert_eq!(headers(&t), ["Name", "Type", "Data", "Age"]);
        let c = cells(&t);
        assert_eq!(c[..3], ["s", "Opaque", "2"]);
        assert!(c[3].ends_with('d'));
        assert_eq!(t["metadata"]["resourceVersion"], "7");
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    }

    #[test]
    fn pods_deployments_and_events_print_as_the_api_server_prints_them() {
        let pod = json!({"metadata": {"name": "web-1"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 1, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 2,
                 "state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        let t = table(
            &ResourceType::namespaced("v1", "Pod", "pods"),
            &[pod],
            None,
            Include::Metadata,
        );
        assert_eq!(headers(&t), ["Name", "Ready", "Status", "Restarts", "Age"]);
        assert_eq!(cells(&t)[..4], ["web-1", "1/2", "ContainerCreating", "3"]);

        let d = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2},
            "status": {"readyReplicas": 1, "updatedReplicas": 2}});
        let t = table(
            &ResourceType::namespaced("apps/v1", "Deployment", "deployments"),
            &[d],
            None,
            Include::None,
        );
        assert_eq!(
            headers(&t),
            ["Name", "Ready", "Up-to-date", "Available", "Age"]
        );
        assert_eq!(cells(&t)[..4], ["web", "1/2", "2", "0"]);
        assert!(t["rows"][0].get("object").is_none());

        let e = json!({"metadata": {"name": "web-1.x"}, "type": "Warning", "reason": "FailedMount",
            "involvedObject": {"kind": "Pod", "name": "web-1"}, "message": "m",
            "lastTimestamp": "2000-01-01T00:00:00Z"});
        let t = table(
            &ResourceType::namespaced("v1", "Event", "events"),
            &[e],
            None,
            Include::Metadata,
        );
        assert_eq!(
            headers(&t),
            ["Last Seen", "Type", "Reason", "Object", "Message"]
        );
        // Cells hold every column; `Source` (wide only) sits before `Message`.
        let c = cells(&t);
        assert_eq!(
            [&c[1], &c[2], &c[3], &c[5]],
            ["Warning", "FailedMount", "pod/web-1", "m"]
        );
    }

    #[test]
    fn storage_nodes_and_whole_objects() {
        let sc = json!({"metadata": {"name": "gold", "annotations":
            {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "csi.trident.netapp.io"});
        let t = table(
            &ResourceType::cluster("storage.k8s.io/v1", "StorageClass", "storageclasses"),
            std::slice::from_ref(&sc),
            None,
            Include::Object,
        );
        assert_eq!(
            cells(&t)[..5],
            [
                "gold (default)",
                "csi.trident.netapp.io",
                "Delete",
                "Immediate",
                "false"
            ]
        );
        assert_eq!(
            t["rows"][0]["object"], sc,
            "includeObject=Object returns the object"
        );

        let pv = json!({"metadata": {"name": "pv1"}, "spec": {"capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "shop", "name": "data"}, "storageClassName": "gold"},
            "status": {"phase": "Bound"}});
        let t = table(
            &ResourceType::cluster("v1", "PersistentVolume", "persistentvolumes"),
            &[pv],
            None,
            Include::Metadata,
        );
        assert_eq!(
            cells(&t)[..7],
            [
                "pv1",
                "1Gi",
                "RWO,RWX",
                "Retain",
                "Bound",
                "shop/data",
                "gold"
            ]
        );

        let node = json!({"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/worker": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"kubeletVersion": "v1.33.0"}}});
        let t = table(
            &ResourceType::cluster("v1", "Node", "nodes"),
            &[node],
            None,
            Include::Metadata,
        );
        assert_eq!(headers(&t), ["Name", "Status", "Roles", "Age", "Version"]);
        let c = cells(&t);
        assert_eq!(
            (c[1].as_str(), c[2].as_str(), c[4].as_str()),
            ("Ready", "worker", "v1.33.0")
        );

        assert!(Include::parse(Some("Everything")).is_err());
        assert_eq!(Include::parse(None), Ok(Include::Metadata));
    }
}
