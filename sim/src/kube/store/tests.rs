use serde_json::json;

use super::*;
use crate::kube::Registry;

fn store() -> Store {
    let s = Store::new(Registry::standard(), 5);
    let ns = s.resource_by_kind("v1", "Namespace").unwrap();
    s.create(
        &ns,
        "",
        json!({"metadata": {"name": "trident"}}),
        WriteOpts::default(),
    )
    .unwrap();
    s
}

#[test]
fn create_sets_server_fields_and_rejects_duplicates() {
    let s = store();
    let rt = s.resource_by_kind("v1", "Secret").unwrap();
    let o = s
        .create(
            &rt,
            "trident",
            json!({"metadata": {"name": "a"}, "stringData": {"k": "v"}}),
            WriteOpts::default(),
        )
        .unwrap();
    assert_eq!(o["apiVersion"], "v1");
    assert_eq!(o["metadata"]["namespace"], "trident");
    assert_eq!(o["data"]["k"], "dg==");
    assert!(o.get("stringData").is_none());
    assert_eq!(o["type"], "Opaque", "SetDefaults_Secret");
    assert!(!meta_str(&o, "uid").is_empty());
    let err = s
        .create(
            &rt,
            "trident",
            json!({"metadata": {"name": "a"}}),
            WriteOpts::default(),
        )
        .unwrap_err();
    assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
    let err = s
        .create(
            &rt,
            "nope",
            json!({"metadata": {"name": "a"}}),
            WriteOpts::default(),
        )
        .unwrap_err();
    assert_eq!(err.code, 404);
    let g = s
        .create(
            &rt,
            "trident",
            json!({"metadata": {"generateName": "tbe-"}}),
            WriteOpts::default(),
        )
        .unwrap();
    assert!(name_of(&g).starts_with("tbe-") && name_of(&g).len() == 9);
}

#[test]
fn update_checks_resource_version_and_skips_noops() {
    let s = store();
    let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
    let o = s
        .create(
            &rt,
            "trident",
            json!({"metadata": {"name": "c"}, "data": {"a": "1"}}),
            WriteOpts::default(),
        )
        .unwrap();
    let mut changed = o.clone();
    changed["data"]["a"] = json!("2");
    let u = s
        .update(
            &rt,
            "trident",
            "c",
            changed.clone(),
            Target::Main,
            WriteOpts::default(),
        )
        .unwrap();
    assert_ne!(
        meta_str(&u, "resourceVersion"),
        meta_str(&o, "resourceVersion")
    );
    let err = s
        .update(
            &rt,
            "trident",
            "c",
            changed,
            Target::Main,
            WriteOpts::default(),
        )
        .unwrap_err();
    assert_eq!(err.code, 409);
    let same = s
        .update(
            &rt,
            "trident",
            "c",
            u.clone(),
            Target::Main,
            WriteOpts::default(),
        )
        .unwrap();
    assert_eq!(
        meta_str(&same, "resourceVersion"),
        meta_str(&u, "resourceVersion")
    );
}

#[test]
fn status_subresource_splits_writes() {
    let s = store();
    let rt = s
        .resource_by_kind("trident.netapp.io/v1", "TridentBackendConfig")
        .unwrap();
    let o = s
        .create(
            &rt,
            "trident",
            json!({"metadata": {"name": "b"}, "spec": {"x": 1}, "status": {"phase": "Bound"}}),
            WriteOpts::default(),
        )
        .unwrap();
    assert!(o.get("status").is_none(), "create drops status");
    assert_eq!(o["metadata"]["generation"], 1);
    let mut body = o.clone();
    body["status"] = json!({"phase": "Bound"});
    body["metadata"]["resourceVersion"] = json!("");
    let main = s
        .update(
            &rt,
            "trident",
            "b",
            body.clone(),
            Target::Main,
            WriteOpts::default(),
        )
        .unwrap();
    assert!(main.get("status").is_none());
    body["spec"] = json!({"x": 2});
    let st = s
        .update(
            &rt,
            "trident",
            "b",
            body,
            Target::Status,
            WriteOpts::default(),
        )
        .unwrap();
    assert_eq!(st["status"]["phase"], "Bound");
    assert_eq!(st["spec"]["x"], 1);
    assert_eq!(st["metadata"]["generation"], 1);
}

#[test]
fn history_is_bounded_and_resumable() {
    let s = store();
    let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
    let start = s.current_rv();
    s.create(
        &rt,
        "trident",
        json!({"metadata": {"name": "x"}}),
        WriteOpts::default(),
    )
    .unwrap();
    let sub = s.subscribe(&rt.storage_key(), Some(start)).unwrap();
    assert_eq!(sub.backlog.len(), 1);
    for i in 0..10 {
        s.create(
            &rt,
            "trident",
            json!({"metadata": {"name": format!("y{i}")}}),
            WriteOpts::default(),
        )
        .unwrap();
    }
    let err = s.subscribe(&rt.storage_key(), Some(start)).err().unwrap();
    assert_eq!((err.code, err.reason), (410, "Expired"));
}

#[test]
fn finalizers_delay_deletion() {
    let s = store();
    let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
    s.create(
        &rt,
        "trident",
        json!({"metadata": {"name": "f", "finalizers": ["x/y"]}}),
        WriteOpts::default(),
    )
    .unwrap();
    let d = s
        .delete(&rt, "trident", "f", &Value::Null, WriteOpts::default())
        .unwrap();
    assert!(!meta_str(&d, "deletionTimestamp").is_empty());
    let mut body = d.clone();
    body["metadata"]["finalizers"] = json!([]);
    s.update(
        &rt,
        "trident",
        "f",
        body,
        Target::Main,
        WriteOpts::default(),
    )
    .unwrap();
    assert_eq!(s.get(&rt, "trident", "f").unwrap_err().code, 404);
}

#[test]
fn paging_with_continue() {
    let s = store();
    let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
    for i in 0..5 {
        s.create(
            &rt,
            "trident",
            json!({"metadata": {"name": format!("c{i}")}}),
            WriteOpts::default(),
        )
        .unwrap();
    }
    let p1 = s
        .list(&rt, Some("trident"), &|_| true, Some(2), None)
        .unwrap();
    assert_eq!(p1.items.len(), 2);
    assert_eq!(p1.remaining, Some(3));
    let p2 = s
        .list(
            &rt,
            Some("trident"),
            &|_| true,
            Some(10),
            p1.continue_token.as_deref(),
        )
        .unwrap();
    assert_eq!(p2.items.len(), 3);
    assert_eq!(p2.rv, p1.rv);
    assert!(p2.continue_token.is_none());
}
