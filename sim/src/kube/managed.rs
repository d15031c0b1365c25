//! Field ownership (`metadata.managedFields`) and server-side apply, after
//! `k8s.io/apimachinery` `pkg/util/managedfields` (the structured-merge-diff
//! field manager).
//!
//! Every write names a field manager: the `fieldManager` parameter, else
//! the User-Agent up to its first `/` (`k8s.io/apiserver`
//! `handlers/create.go` `prefixFromUserAgent`). A create or an update makes
//! the writer own (operation `Update`) the fields it set or changed; an
//! apply makes the applier own (operation `Apply`) exactly the fields of its
//! configuration. An apply that would change a field another manager owns
//! fails with 409 and the conflicts, worded as `internal/conflict.go`
//! words them, unless `force=true`, which takes the fields over. Fields the
//! applier owned before and dropped from its configuration are removed,
//! unless another manager owns them too. The object metadata the server
//! owns is never tracked (`internal/stripmeta.go`).
//!
//! Simplification: lists are atomic (one field), as they are for custom
//! resources without `x-kubernetes-list-type`; the built-in types' keyed
//! lists (containers by name, ...) are not split by key.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// A field: its path of map keys.
type Path = Vec<String>;
/// A set of fields.
pub type Fields = BTreeSet<Path>;

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The field manager.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The API version it wrote with.
    pub api_version: String,
    /// `status` for writes to that subresource.
    pub subresource: Option<String>,
    /// When it last wrote (RFC 3339).
    pub time: String,
    /// What it owns.
    pub fields: Fields,
}

/// Metadata the server owns, never tracked.
const STRIPPED: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "creationTimestamp"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "generation"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
    &["metadata", "deletionTimestamp"],
];

fn stripped(path: &[String]) -> bool {
    STRIPPED
        .iter()
        .any(|s| s.len() == path.len() && s.iter().zip(path).all(|(a, b)| a == b))
}

/// The fields an object sets: every non-map value and every empty map.
pub fn fields_of(obj: &Value) -> Fields {
    fn walk(v: &Value, path: &mut Path, out: &mut Fields) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(k.clone());
                    if !stripped(path) {
                        walk(child, path, out);
                    }
                    path.pop();
                }
            }
            _ if !path.is_empty() => {
                out.insert(path.clone());
            }
            _ => {}
        }
    }
    let mut out = Fields::new();
    walk(obj, &mut Vec::new(), &mut out);
    out
}

fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, k| v.get(k))
}

fn remove_at(obj: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for k in parents {
        match cur.get_mut(k) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(last);
    }
}

/// `FieldsV1`: `{"f:spec": {"f:replicas": {}}}`.
fn to_fields_v1(fields: &Fields) -> Value {
    let mut root = Map::new();
    for path in fields {
        let mut cur = &mut root;
        for k in path {
            let next = cur.entry(format!("f:{k}")).or_insert_with(|| json!({}));
            cur = match next.as_object_mut() {
                Some(m) => m,
                None => break,
            };
        }
    }
    Value::Object(root)
}

fn from_fields_v1(v: &Value) -> Fields {
    fn walk(v: &Value, path: &mut Path, out: &mut Fields) {
        let children: Vec<(&String, &Value)> = v
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("f:"))
            .collect();
        if children.is_empty() {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (k, child) in children {
            path.push(k[2..].to_string());
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = Fields::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// The entries stored in an object.
pub fn entries_of(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| Entry {
            manager: e["manager"].as_str().unwrap_or_default().to_string(),
            operation: e["operation"].as_str().unwrap_or("Update").to_string(),
            api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
            subresource: e["subresource"].as_str().map(String::from),
            time: e["time"].as_str().unwrap_or_default().to_string(),
            fields: from_fields_v1(&e["fieldsV1"]),
        })
        .collect()
}

/// Stores `entries` in `obj` (dropping those that own nothing).
pub fn set_entries(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager, "operation": e.operation, "apiVersion": e.api_version,
                "time": e.time, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(&e.fields),
            });
            if let Some(s) = &e.subresource {
                v["subresource"] = json!(s);
            }
            v
        })
        .collect();
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            m.remove("managedFields");
        } else {
            m.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Who writes: manager, API version, subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// The field manager.
    pub manager: String,
    /// `group/version` of the request.
    pub api_version: String,
    /// `status` for the status subresource.
    pub subresource: Option<&'static str>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn same_id(e: &Entry, w: &Writer, operation: &str) -> bool {
    e.manager == w.manager
        && e.operation == operation
        && e.subresource.as_deref() == w.subresource
        // Appliers are one manager whatever version they use.
        && (operation == "Apply" || e.api_version == w.api_version)
}

fn own(entries: &mut Vec<Entry>, w: &Writer, operation: &str, fields: Fields, add: bool) {
    match entries.iter_mut().find(|e| same_id(e, w, operation)) {
        Some(e) => {
            if add {
                e.fields.extend(fields);
            } else {
                e.fields = fields;
            }
            e.time = now();
            e.api_version = w.api_version.clone();
        }
        None => entries.push(Entry {
            manager: w.manager.clone(),
            operation: operation.to_string(),
            api_version: w.api_version.clone(),
            subresource: w.subresource.map(String::from),
            time: now(),
            fields,
        }),
    }
}

/// The entries after a create or update from `old` (`Null` for a create)
/// to `new` by `w`: `w` owns what it set or changed; fields gone from the
/// object are owned by no one.
pub fn after_update(old: &Value, new: &Value, w: &Writer) -> Vec<Entry> {
    let mut entries = entries_of(old);
    let now_fields = fields_of(new);
    let changed: Fields = now_fields
        .iter()
        .filter(|p| value_at(old, p) != value_at(new, p))
        .cloned()
        .collect();
    for e in &mut entries {
        e.fields
            .retain(|p| now_fields.contains(p) && !changed.contains(p));
    }
    own(&mut entries, w, "Update", changed, true);
    entries
}

/// One field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager, as `printManager` prints it.
    pub manager: String,
    /// The field, as `.spec.replicas`.
    pub field: String,
}

fn print_manager(e: &Entry) -> String {
    let mut s = format!("{:?}", e.manager);
    if let Some(sub) = &e.subresource {
        s.push_str(&format!(" with subresource {sub:?}"));
    }
    if e.operation == "Update" {
        s.push_str(&format!(" using {}", e.api_version));
    }
    s
}

/// `Apply failed with ...`, as `internal/conflict.go` words it.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager, c.field
        );
    }
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.sort_unstable();
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {m}:"));
        for c in conflicts.iter().filter(|c| c.manager == m) {
            lines.push(format!("- {}", c.field));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Server-side apply of `config` by `w` onto `live` (`Null` when the
/// object does not exist yet): the object after the apply and its entries.
///
/// # Errors
/// The conflicts, when the apply would change fields other managers own
/// and `force` is false.
pub fn apply(
    live: &Value,
    config: &Value,
    w: &Writer,
    force: bool,
) -> Result<(Value, Vec<Entry>), Vec<Conflict>> {
    let mut entries = entries_of(live);
    let wanted = fields_of(config);
    let mut conflicts = Vec::new();
    for p in &wanted {
        let differs = value_at(live, p).is_some_and(|v| Some(v) != value_at(config, p));
        if !differs {
            continue;
        }
        for e in entries.iter().filter(|e| !same_id(e, w, "Apply")) {
            if e.fields.contains(p) {
                conflicts.push(Conflict {
                    manager: print_manager(e),
                    field: format!(".{}", p.join(".")),
                });
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    if force {
        for e in entries.iter_mut().filter(|e| !same_id(e, w, "Apply")) {
            e.fields
                .retain(|p| !(wanted.contains(p) && value_at(live, p) != value_at(config, p)));
        }
    }
    let before: Fields = entries
        .iter()
        .find(|e| same_id(e, w, "Apply"))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut out = if live.is_object() {
        live.clone()
    } else {
        json!({})
    };
    for dropped in before.difference(&wanted) {
        let shared = entries
            .iter()
            .any(|e| !same_id(e, w, "Apply") && e.fields.contains(dropped));
        if !shared {
            remove_at(&mut out, dropped);
        }
    }
    json_patch::merge(&mut out, config);
    own(&mut entries, w, "Apply", wanted, false);
    Ok((out, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(manager: &str) -> Writer {
        Writer {
            manager: manager.into(),
            api_version: "v1".into(),
            subresource: None,
        }
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "d", "uid": "u"}, "data": data})
    }

    #[test]
    fn fields_skip_server_metadata_and_round_trip() {
        let f = fields_of(&cm(json!({"a": "1", "b": {}})));
        let want: Fields = [
            vec!["data".to_string(), "a".into()],
            vec!["data".into(), "b".into()],
        ]
        .into();
        assert_eq!(f, want);
        assert_eq!(to_fields_v1(&f), json!({"f:data": {"f:a": {}, "f:b": {}}}));
        assert_eq!(from_fields_v1(&to_fields_v1(&f)), f);
    }

    #[test]
    fn updates_own_what_they_change() {
        let created = cm(json!({"a": "1"}));
        let mut live = created.clone();
        let entries = after_update(&Value::Null, &created, &w("kubectl-create"));
        set_entries(&mut live, &entries);
        let mut new = live.clone();
        new["data"]["b"] = json!("2");
        let e = after_update(&live, &new, &w("kubectl-edit"));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].manager, "kubectl-create");
        assert!(e[1].fields.contains(&vec!["data".to_string(), "b".into()]));
        assert!(!e[1].fields.contains(&vec!["data".to_string(), "a".into()]));
    }

    #[test]
    fn apply_conflicts_forces_and_prunes() {
        let mut live = cm(json!({"a": "1"}));
        let entries = after_update(&Value::Null, &live, &w("kubectl-create"));
        set_entries(&mut live, &entries);

        // Same value: no conflict, shared ownership.
        let (out, e) = apply(&live, &cm(json!({"a": "1", "x": "y"})), &w("ops"), false).unwrap();
        assert_eq!(out["data"], json!({"a": "1", "x": "y"}));
        let mut live = out;
        set_entries(&mut live, &e);

        // A different value: conflict with the creator.
        let err = apply(&live, &cm(json!({"a": "2", "x": "y"})), &w("ops"), false).unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"kubectl-create\" using v1: .data.a"
        );
        // Forced: the applier takes it over.
        let (out, e) = apply(&live, &cm(json!({"a": "2", "x": "y"})), &w("ops"), true).unwrap();
        assert_eq!(out["data"]["a"], "2");
        assert!(
            e.iter()
                .find(|x| x.manager == "kubectl-create")
                .is_none_or(|x| x.fields.is_empty())
        );
        let mut live = out;
        set_entries(&mut live, &e);

        // Dropping a field the applier alone owned removes it.
        let (out, _) = apply(&live, &cm(json!({"a": "2"})), &w("ops"), false).unwrap();
        assert_eq!(out["data"], json!({"a": "2"}));
    }

    #[test]
    fn several_conflicts_are_listed_by_manager() {
        let msg = conflict_message(&[
            Conflict {
                manager: "\"b\" using v1".into(),
                field: ".data.y".into(),
            },
            Conflict {
                manager: "\"a\" using v1".into(),
                field: ".data.x".into(),
            },
        ]);
        assert_eq!(
            msg,
            "Apply failed with 2 conflicts: conflicts with \"a\" using v1:\n- .data.x\nconflicts with \"b\" using v1:\n- .data.y"
        );
    }
}
