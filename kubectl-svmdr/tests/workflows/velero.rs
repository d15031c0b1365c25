//! A stand-in for Velero in tests: a controller that reacts to each
//! `velero.io/v1` Restore created on a simulated cluster, moves it
//! New → InProgress → Completed (or PartiallyFailed), and creates the
//! restored objects of its backup (namespace, PV, PVC, Deployment, Pod).
//! A later lab runner that drives the real plugin replaces it.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use sim::kube::KubeSim;
use sim::kube::fixtures::{trident_csi_pv, trident_pvc, velero_backup};

/// What the simulated backup holds.
#[derive(Debug, Clone)]
pub struct BackupContent {
    /// Application namespace.
    pub namespace: String,
    /// Deployment name.
    pub deployment: String,
    /// PVC name and its PV name.
    pub pvc: (String, String),
    /// Backend UUID and ONTAP volume behind the PV.
    pub volume: (String, String),
    /// End the restore `PartiallyFailed` with one error.
    pub partially_fail: bool,
}

/// Velero backup `nightly` of namespace `shop` (Deployment `web`, PVC
/// `data` on `volume`), `PartiallyFailed` when asked: the workflow tests'
/// backup.
pub fn install_nightly(kube: &KubeSim, volume: &str, partially_fail: bool) {
    install(
        kube,
        "nightly",
        BackupContent {
            namespace: "shop".into(),
            deployment: "web".into(),
            pvc: ("data".into(), "pvc-1b2c".into()),
            volume: ("backend-uuid".into(), volume.into()),
            partially_fail,
        },
    );
}

/// Turns the lab's `nightly` backup into a file-system backup: the Backup
/// says `defaultVolumesToFsBackup: true` and a PodVolumeBackup labelled with
/// it names pod `shop/web-0` and PVC `shop/data` (Velero:
/// `pkg/podvolume/backupper.go`).
pub fn make_fs_backup(kube: &KubeSim) {
    let mut b: Value = kube
        .get("velero.io/v1", "Backup", Some("velero"), "nightly")
        .expect("backup nightly");
    b["spec"]["defaultVolumesToFsBackup"] = json!(true);
    kube.apply(b).expect("backup");
    kube.apply(json!({
        "apiVersion": "velero.io/v1",
        "kind": "PodVolumeBackup",
        "metadata": {
            "name": "nightly-7xk2p",
            "namespace": "velero",
            "labels": {"velero.io/backup-name": "nightly"},
            "annotations": {"velero.io/pvc-name": "data"},
        },
        "spec": {"pod": {"kind": "Pod", "namespace": "shop", "name": "web-0"}, "volume": "data",
                 "backupStorageLocation": "default", "uploaderType": "kopia"},
        "status": {"phase": "Completed"},
    }))
    .expect("pod volume backup");
}

/// Seeds a Completed backup `name` in `velero` and installs the controller.
pub fn install(kube: &KubeSim, name: &str, content: BackupContent) {
    kube.apply(velero_backup(
        name,
        "velero",
        "Completed",
        Some("2026-11-28T03:00:00Z"),
        &[content.namespace.as_str()],
    ))
    .expect("seed backup");
    let handle = kube.handle();
    kube.on_create(
        "velero.io/v1",
        "Restore",
        Box::new(move |restore: &Value| {
            let handle = handle.clone();
            let content = content.clone();
            let restore = restore.clone();
            tokio::spawn(async move {
                let set = |status: Value| {
                    let mut r = restore.clone();
                    r["status"] = status;
                    let _ = handle.apply(r);
                };
                tokio::time::sleep(Duration::from_millis(50)).await;
                set(json!({"phase": "InProgress", "progress": {"totalItems": 5, "itemsRestored": 0}}));
                let ns = &content.namespace;
                let objs = [
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                    trident_csi_pv(&content.pvc.1, &content.volume.0, &content.volume.1, "file", "10Gi", ns, &content.pvc.0, "Retain"),
                    trident_pvc(ns, &content.pvc.0, &content.pvc.1, "ontap-nas", "10Gi"),
                    json!({"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": content.deployment, "namespace": ns},
                           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": content.deployment}},
                                    "template": {"metadata": {"labels": {"app": content.deployment}},
                                                 "spec": {"containers": [{"name": "app", "image": "nginx"}]}}},
                           "status": {"replicas": 1, "readyReplicas": 1}}),
                    json!({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": format!("{}-0", content.deployment), "namespace": ns,
                                        "labels": {"app": content.deployment}},
                           "spec": {"containers": [{"name": "app", "image": "nginx"}]},
                           "status": {"phase": "Running"}}),
                ];
                let restore_name = restore["metadata"]["name"].clone();
                let backup_name = restore["spec"]["backupName"].clone();
                for (i, mut o) in objs.into_iter().enumerate() {
                    // Velero labels what it restores (pkg/restore/restore.go addRestoreLabels).
                    o["metadata"]["labels"]["velero.io/restore-name"] = restore_name.clone();
                    o["metadata"]["labels"]["velero.io/backup-name"] = backup_name.clone();
                    let _ = handle.apply(o);
                    set(json!({"phase": "InProgress", "progress": {"totalItems": 5, "itemsRestored": i + 1}}));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                let (phase, errors) = if content.partially_fail {
                    ("PartiallyFailed", 1)
                } else {
                    ("Completed", 0)
                };
                set(json!({"phase": phase, "warnings": 1, "errors": errors,
                           "progress": {"totalItems": 5, "itemsRestored": 5},
                           "completionTimestamp": "2026-11-28T05:00:00Z"}));
            });
        }),
    );
}
