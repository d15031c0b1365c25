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
//! Lists: in the built-in types, a list with a merge key is owned element
//! by element (`k:{"name":"web"}`) and a set such as `metadata.finalizers`
//! value by value (`v:"x"`), from the same table the strategic merge patch
//! uses; every other list, and every list of a custom resource, is one
//! field (atomic), as for CRDs without `x-kubernetes-list-type`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::strategic::patch_extensions;

/// A field: its path, in `FieldsV1` elements (`f:spec`, `k:{"name":"web"}`,
/// `v:"x"`, and `.` for a list element itself).
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

fn stripped(names: &[&str]) -> bool {
    STRIPPED.contains(&names)
}

/// How the lists of an object are owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    /// By element where the built-in types merge by key (and as sets).
    Keyed,
    /// Every list is one field (custom resources).
    Atomic,
}

/// How list field `names.last()` is owned: `Some(Some(key))` by element,
/// `Some(None)` as a set of values, `None` as one field.
fn list_kind(lists: Lists, names: &[&str]) -> Option<Option<&'static str>> {
    let (field, parents) = names.split_last()?;
    match lists {
        Lists::Atomic => None,
        Lists::Keyed => patch_extensions(parents, field).map(|(_, key)| key),
    }
}

/// The `k:` element of `item` in a list merged by `key`.
fn key_element(key: &str, item: &Value) -> Option<String> {
    item.get(key).map(|v| format!("k:{}", json!({key: v})))
}

/// The fields an object sets: every scalar, every empty map, every atomic
/// list, and the elements (with their fields) of keyed lists and sets.
pub fn fields_of(obj: &Value, lists: Lists) -> Fields {
    fn walk<'a>(
        v: &'a Value,
        path: &mut Path,
        names: &mut Vec<&'a str>,
        lists: Lists,
        out: &mut Fields,
    ) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, child) in m {
                    names.push(k);
                    if !stripped(names) {
                        path.push(format!("f:{k}"));
                        walk(child, path, names, lists, out);
                        path.pop();
                    }
                    names.pop();
                }
            }
            Value::Array(items) => match list_kind(lists, names) {
                Some(Some(key)) => {
                    for item in items {
                        let Some(el) = key_element(key, item) else {
                            continue;
                        };
                        path.push(el);
                        path.push(".".into());
                        out.insert(path.clone());
                        path.pop();
                        walk(item, path, names, lists, out);
                        path.pop();
                    }
                }
                Some(None) => {
                    for item in items {
                        path.push(format!("v:{item}"));
                        out.insert(path.clone());
                        path.pop();
                    }
                }
                None if !path.is_empty() => {
                    out.insert(path.clone());
                }
                None => {}
            },
            _ if !path.is_empty() => {
                out.insert(path.clone());
            }
            _ => {}
        }
    }
    let mut out = Fields::new();
    walk(obj, &mut Vec::new(), &mut Vec::new(), lists, &mut out);
    out
}

/// The index of the list element a `k:` or `v:` path element names.
fn index_of(items: &[Value], el: &str) -> Option<usize> {
    if let Some(k) = el.strip_prefix("k:") {
        let want: Map<String, Value> = serde_json::from_str(k).ok()?;
        return items
            .iter()
            .position(|i| want.iter().all(|(wk, wv)| i.get(wk) == Some(wv)));
    }
    let want: Value = serde_json::from_str(el.strip_prefix("v:")?).ok()?;
    items.iter().position(|i| *i == want)
}

/// The value of one path element under `v`.
fn step<'a>(v: &'a Value, el: &str) -> Option<&'a Value> {
    match el {
        "." => Some(v),
        _ => match el.strip_prefix("f:") {
            Some(f) => v.get(f),
            None => {
                let items = v.as_array()?;
                items.get(index_of(items, el)?)
            }
        },
    }
}

fn step_mut<'a>(v: &'a mut Value, el: &str) -> Option<&'a mut Value> {
    match el.strip_prefix("f:") {
        Some(f) => v.get_mut(f),
        None => {
            let i = index_of(v.as_array()?, el)?;
            v.get_mut(i)
        }
    }
}

fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, el| step(v, el))
}

/// Removes the field (or list element) at `path`.
fn remove_at(obj: &mut Value, path: &[String]) {
    let path = match path.split_last() {
        Some((last, rest)) if last == "." => rest,
        _ => path,
    };
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for el in parents {
        match step_mut(cur, el) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(items) = cur.as_array_mut()
        && let Some(i) = index_of(items, last)
    {
        items.remove(i);
    }
}

/// `FieldsV1`: `{"f:spec": {"f:replicas": {}}}`.
fn to_fields_v1(fields: &Fields) -> Value {
    let mut root = Map::new();
    for path in fields {
        let mut cur = &mut root;
        for el in path {
            let next = cur.entry(el.clone()).or_insert_with(|| json!({}));
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
        let children: Vec<(&String, &Value)> = v.as_object().into_iter().flatten().collect();
        if children.is_empty() {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (k, child) in children {
            path.push(k.clone());
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = Fields::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// A path as the API server prints it: `.spec.containers[name="web"].image`.
fn print_path(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            let m: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let keys: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&format!("[{}]", keys.join(",")));
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        }
    }
    s
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
    if list.is_empty() {
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
    } else if let Some(o) = obj.as_object_mut() {
        // An applied configuration may carry no metadata at all.
        let m = o.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = m.as_object_mut() {
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
    /// How the kind's lists are owned.
    pub lists: Lists,
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
    let now_fields = fields_of(new, w.lists);
    // A list element's own `.` moves only when the element is new.
    let changed: Fields = now_fields
        .iter()
        .filter(|p| match p.last().map(String::as_str) {
            Some(".") => value_at(old, p).is_none(),
            _ => value_at(old, p) != value_at(new, p),
        })
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
    let wanted = fields_of(config, w.lists);
    let mut conflicts = Vec::new();
    for p in wanted.iter().filter(|p| p.last().is_none_or(|l| l != ".")) {
        let differs = value_at(live, p).is_some_and(|v| Some(v) != value_at(config, p));
        if !differs {
            continue;
        }
        for e in entries.iter().filter(|e| !same_id(e, w, "Apply")) {
            if e.fields.contains(p) {
                conflicts.push(Conflict {
                    manager: print_manager(e),
                    field: print_path(p),
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
        // A dropped element stays while another manager owns any of it.
        let anchor = match dropped.split_last() {
            Some((last, rest)) if last == "." => rest,
            _ => dropped.as_slice(),
        };
        let shared = entries
            .iter()
            .filter(|e| !same_id(e, w, "Apply"))
            .any(|e| e.fields.iter().any(|p| p.starts_with(anchor)));
        if !shared {
            remove_at(&mut out, dropped);
        }
    }
    match w.lists {
        Lists::Keyed => {
            out = super::strategic::apply(&out, config).unwrap_or_else(|_| {
                let mut m = out.clone();
                json_patch::merge(&mut m, config);
                m
            });
        }
        Lists::Atomic => json_patch::merge(&mut out, config),
    }
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
            lists: Lists::Keyed,
        }
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "d", "uid": "u"}, "data": data})
    }

    fn path(els: &[&str]) -> Path {
        els.iter().map(|e| e.to_string()).collect()
    }

    fn stored(obj: &Value, entries: &[Entry]) -> Value {
        let mut o = obj.clone();
        set_entries(&mut o, entries);
        o
    }

    #[test]
    fn an_apply_without_metadata_still_records_its_owner() {
        let (out, entries) = apply(&Value::Null, &json!({"spec": {"a": 1}}), &w("x"), false)
            .expect("nothing to conflict with");
        let o = stored(&out, &entries);
        assert_eq!(entries_of(&o), entries);
        assert_eq!(o["metadata"]["managedFields"][0]["manager"], "x");
    }

    #[test]
    fn fields_skip_server_metadata_and_round_trip() {
        let f = fields_of(&cm(json!({"a": "1", "b": {}})), Lists::Keyed);
        let want: Fields = [path(&["f:data", "f:a"]), path(&["f:data", "f:b"])].into();
        assert_eq!(f, want);
        assert_eq!(to_fields_v1(&f), json!({"f:data": {"f:a": {}, "f:b": {}}}));
        assert_eq!(from_fields_v1(&to_fields_v1(&f)), f);
    }

    #[test]
    fn keyed_lists_are_owned_per_element() {
        let d = json!({"metadata": {"finalizers": ["x"]}, "spec": {"template": {"spec": {
            "containers": [{"name": "web", "image": "a"}], "tolerations": [{"key": "t"}]}}}});
        let f = fields_of(&d, Lists::Keyed);
        let web = r#"k:{"name":"web"}"#;
        assert!(f.contains(&path(&[
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            web,
            "."
        ])));
        assert!(f.contains(&path(&[
            "f:spec",
            "f:template",
            "f:spec",
            "f:containers",
            web,
            "f:image"
        ])));
        assert!(f.contains(&path(&["f:spec", "f:template", "f:spec", "f:tolerations"])));
        assert!(f.contains(&path(&["f:metadata", "f:finalizers", r#"v:"x""#])));
        let atomic = fields_of(&d, Lists::Atomic);
        assert!(atomic.contains(&path(&["f:spec", "f:template", "f:spec", "f:containers"])));
        assert_eq!(
            print_path(&path(&["f:spec", "f:containers", web, "f:image"])),
            r#".spec.containers[name="web"].image"#
        );
    }

    #[test]
    fn updates_own_what_they_change() {
        let created = cm(json!({"a": "1"}));
        let live = stored(
            &created,
            &after_update(&Value::Null, &created, &w("kubectl-create")),
        );
        let mut new = live.clone();
        new["data"]["b"] = json!("2");
        let e = after_update(&live, &new, &w("kubectl-edit"));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].manager, "kubectl-create");
        assert!(e[1].fields.contains(&path(&["f:data", "f:b"])));
        assert!(!e[1].fields.contains(&path(&["f:data", "f:a"])));
    }

    #[test]
    fn apply_conflicts_forces_and_prunes() {
        let created = cm(json!({"a": "1"}));
        let live = stored(
            &created,
            &after_update(&Value::Null, &created, &w("kubectl-create")),
        );

        // Same value: no conflict, shared ownership.
        let (out, e) = apply(&live, &cm(json!({"a": "1", "x": "y"})), &w("ops"), false).unwrap();
        assert_eq!(out["data"], json!({"a": "1", "x": "y"}));
        let live = stored(&out, &e);

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
        let live = stored(&out, &e);

        // Dropping a field the applier alone owned removes it.
        let (out, _) = apply(&live, &cm(json!({"a": "2"})), &w("ops"), false).unwrap();
        assert_eq!(out["data"], json!({"a": "2"}));
    }

    #[test]
    fn containers_are_applied_and_pruned_by_name() {
        let dep = |containers: Value| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": containers}}}})
        };
        let (out, e) = apply(
            &Value::Null,
            &dep(json!([{"name": "web", "image": "a"}, {"name": "side", "image": "s"}])),
            &w("ops"),
            false,
        )
        .unwrap();
        let live = stored(&out, &e);
        // Another manager changes the sidecar's image: it owns that field.
        let mut edited = live.clone();
        edited["spec"]["template"]["spec"]["containers"][1]["image"] = json!("s2");
        let live = stored(&edited, &after_update(&live, &edited, &w("kubectl-set")));
        // The applier changes only web: no conflict (per-element ownership).
        let (out, e) = apply(
            &live,
            &dep(json!([{"name": "web", "image": "b"}, {"name": "side", "image": "s2"}])),
            &w("ops"),
            false,
        )
        .unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["image"],
            "b"
        );
        let live = stored(&out, &e);
        // Changing the sidecar's image conflicts on that field only.
        let err = apply(
            &live,
            &dep(json!([{"name": "web", "image": "b"}, {"name": "side", "image": "s3"}])),
            &w("ops"),
            false,
        )
        .unwrap_err();
        assert_eq!(
            err[0].field,
            r#".spec.template.spec.containers[name="side"].image"#
        );
        // Dropping web, which only the applier owns, removes it; the sidecar,
        // whose image another manager owns, stays.
        let (out, _) = apply(
            &live,
            &dep(json!([{"name": "side", "image": "s2"}])),
            &w("ops"),
            false,
        )
        .unwrap();
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["side"]);
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
