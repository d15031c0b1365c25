//! How the lab marks what it writes: the label on every object it creates,
//! and the Events its controllers record.

use serde_json::{Value, json};

use crate::kube::KubeHandle;
use crate::lab::fields::str_at as s;

/// Label (and value `"true"`) on every object the lab makes.
pub const SIMULATED_LABEL: &str = "svmdr.netapp.io/simulated";

/// Adds [`SIMULATED_LABEL`] to an object.
pub fn mark(mut obj: Value) -> Value {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        labels[SIMULATED_LABEL] = json!("true");
    }
    obj
}

/// Records an Event about `obj` (named `<obj>.<reason in lower case>`,
/// rewritten only when the message changes; `count` goes up each time).
pub fn record_event(
    kube: &KubeHandle,
    obj: &Value,
    reason: &str,
    message: &str,
    kind: &str,
    component: &str,
) {
    let ns = s(obj, "/metadata/namespace");
    let obj_name = s(obj, "/metadata/name");
    let name = format!("{obj_name}.{}", reason.to_ascii_lowercase());
    let existing = kube.get("v1", "Event", Some(ns), &name);
    if existing.as_ref().is_some_and(|e| e["message"] == message) {
        return;
    }
    let count = existing
        .as_ref()
        .and_then(|e| e["count"].as_u64())
        .unwrap_or(0)
        + 1;
    let _ = kube.apply(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns, "labels": {SIMULATED_LABEL: "true"}},
        "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
            "namespace": ns, "name": obj_name, "uid": s(obj, "/metadata/uid")},
        "reason": reason, "message": message, "type": kind, "count": count,
        "lastTimestamp": chrono::Utc::now().to_rfc3339(),
        "source": {"component": component},
    }));
}
