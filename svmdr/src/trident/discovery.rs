//! Which backends a cluster's Trident serves, from its TridentBackend and
//! TridentBackendConfig objects (pure: the callers list them).
//!
//! The CLI (through [`super::cluster::list_backend_entries`]) and the Velero
//! plugin (through its own LIST calls) both hand the objects, as JSON, to
//! [`join_backends`], so both see the same backends:
//! - a TridentBackend being deleted (`metadata.deletionTimestamp` set while
//!   Trident's finalizer is still on it) is skipped: Trident serves nothing
//!   from it;
//! - each other one is parsed ([`parse_backend`]): ONTAP backends as `Ok`,
//!   others as their [`TridentError::NotOntap`] or `Malformed` error;
//! - each is joined to the name of its TridentBackendConfig: the TBC whose
//!   UID is the backend's `configRef`, else the TBC whose
//!   `status.backendInfo.backendUUID` is the backend's UUID;
//! - the result is sorted by backend name.
//!
//! See `docs/trident.md`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::backend::{Backend, TridentError, parse_backend};

/// Whether a Kubernetes object (JSON) is being deleted: it has a
/// `metadata.deletionTimestamp` (its finalizers still hold it).
pub fn is_being_deleted(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// The TridentBackends (`tbes`) joined to the names of their
/// TridentBackendConfigs (`tbcs`), skipping the ones being deleted, sorted
/// by backend name. An empty `tbcs` only loses the TBC names.
pub fn join_backends(tbes: &[Value], tbcs: &[Value]) -> Vec<Result<Backend, TridentError>> {
    // UID -> name, and backendUUID -> name (a TBC names its backend in status).
    let mut tbc_by_uid = BTreeMap::new();
    let mut tbc_by_backend = BTreeMap::new();
    for tbc in tbcs {
        let Some(name) = str_at(tbc, "/metadata/name") else {
            continue;
        };
        if let Some(uid) = str_at(tbc, "/metadata/uid") {
            tbc_by_uid.entry(uid).or_insert(name);
        }
        if let Some(uuid) = str_at(tbc, "/status/backendInfo/backendUUID") {
            tbc_by_backend.entry(uuid).or_insert(name);
        }
    }
    let mut out: Vec<Result<Backend, TridentError>> = tbes
        .iter()
        .filter(|tbe| {
            let deleting = is_being_deleted(tbe);
            if deleting {
                tracing::debug!(
                    name = str_at(tbe, "/metadata/name").unwrap_or_default(),
                    "skipping TridentBackend being deleted"
                );
            }
            !deleting
        })
        .map(|tbe| {
            parse_backend(tbe).map(|mut b| {
                b.tbc_name = b
                    .config_ref
                    .as_deref()
                    .and_then(|uid| tbc_by_uid.get(uid))
                    .or_else(|| tbc_by_backend.get(b.uuid.as_str()))
                    .map(|name| (*name).to_string());
                b
            })
        })
        .collect();
    out.sort_by(|a, b| entry_name(a).cmp(entry_name(b)));
    out
}

/// The ONTAP backends among `entries`; the others are logged (debug) and
/// dropped.
pub fn ontap_backends(entries: Vec<Result<Backend, TridentError>>) -> Vec<Backend> {
    entries
        .into_iter()
        .filter_map(|e| match e {
            Ok(b) => Some(b),
            Err(err) => {
                tracing::debug!(error = %err, "skipping Trident backend");
                None
            }
        })
        .collect()
}

/// The backend name an entry sorts by.
pub fn entry_name(e: &Result<Backend, TridentError>) -> &str {
    match e {
        Ok(b) => &b.name,
        Err(TridentError::NotOntap { name, .. } | TridentError::Malformed { name, .. }) => name,
        Err(_) => "",
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tbe(name: &str, uuid: &str, config_ref: Option<&str>) -> Value {
        let mut v = json!({
            "metadata": {"name": format!("tbe-{name}"), "namespace": "trident"},
            "backendName": name,
            "backendUUID": uuid,
            "online": true,
            "state": "online",
            "config": {"ontap_config": {
                "storageDriverName": "ontap-nas",
                "managementLIF": "10.0.0.5",
                "svm": "svm1"
            }}
        });
        if let Some(r) = config_ref {
            v["configRef"] = json!(r);
        }
        v
    }

    fn tbc(name: &str, uid: &str, backend_uuid: Option<&str>) -> Value {
        let mut v = json!({"metadata": {"name": name, "uid": uid}});
        if let Some(u) = backend_uuid {
            v["status"] = json!({"backendInfo": {"backendUUID": u}});
        }
        v
    }

    fn names(entries: &[Result<Backend, TridentError>]) -> Vec<(String, Option<String>)> {
        entries
            .iter()
            .map(|e| match e {
                Ok(b) => (b.name.clone(), b.tbc_name.clone()),
                Err(e) => (format!("error: {e}"), None),
            })
            .collect()
    }

    #[test]
    fn joins_by_config_ref_then_by_backend_uuid_and_sorts() {
        let tbes = [
            tbe("nas-b", "uuid-b", None),
            tbe("nas-a", "uuid-a", Some("uid-1")),
            tbe("nas-c", "uuid-c", Some("uid-gone")),
        ];
        let tbcs = [
            tbc("tbc-a", "uid-1", Some("uuid-other")),
            tbc("tbc-b", "uid-2", Some("uuid-b")),
        ];
        assert_eq!(
            names(&join_backends(&tbes, &tbcs)),
            [
                ("nas-a".to_string(), Some("tbc-a".to_string())),
                ("nas-b".to_string(), Some("tbc-b".to_string())),
                ("nas-c".to_string(), None),
            ]
        );
        // Without the TBC list only the names are lost.
        assert!(
            join_backends(&tbes, &[])
                .iter()
                .all(|e| e.as_ref().is_ok_and(|b| b.tbc_name.is_none()))
        );
    }

    #[test]
    fn the_config_ref_wins_over_a_status_that_names_the_backend() {
        let tbes = [tbe("nas-a", "uuid-a", Some("uid-1"))];
        let tbcs = [
            tbc("by-status", "uid-9", Some("uuid-a")),
            tbc("by-uid", "uid-1", None),
        ];
        assert_eq!(
            names(&join_backends(&tbes, &tbcs))[0].1.as_deref(),
            Some("by-uid")
        );
    }

    #[test]
    fn skips_backends_being_deleted() {
        let mut deleting = tbe("nas-old", "uuid-old", None);
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        let mut null_stamp = tbe("nas-new", "uuid-new", None);
        null_stamp["metadata"]["deletionTimestamp"] = Value::Null;
        assert!(is_being_deleted(&deleting) && !is_being_deleted(&null_stamp));
        let entries = join_backends(&[deleting, null_stamp], &[]);
        assert_eq!(names(&entries), [("nas-new".to_string(), None)]);
    }

    #[test]
    fn other_drivers_are_entries_not_backends() {
        let mut san = tbe("sf", "uuid-sf", None);
        san["config"] = json!({"solidfire_config": {"storageDriverName": "solidfire-san"}});
        let entries = join_backends(&[san, tbe("nas", "uuid-n", None)], &[]);
        assert_eq!(entries.len(), 2);
        assert!(matches!(entries[1], Err(TridentError::NotOntap { .. })));
        let ontap = ontap_backends(entries);
        assert_eq!(ontap.len(), 1);
        assert_eq!(ontap[0].name, "nas");
    }
}
