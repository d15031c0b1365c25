//! The lab's backup storage: per backup, what Velero keeps in object
//! storage (the items of the tarball, the Backup object, the volume info
//! list, native and CSI snapshot lists, PodVolumeBackups) and the backup
//! variants the lab can make of the same items:
//! - [`BackupKind::Plain`]: objects only (volume data skipped);
//! - [`BackupKind::FsBackup`]: `defaultVolumesToFsBackup` and one
//!   PodVolumeBackup per PVC-backed pod volume (Kopia);
//! - [`BackupKind::CsiSnapshot`]: one CSI VolumeSnapshot (and content) per
//!   bound PVC, the PVC annotated `velero.io/volume-snapshot-name`;
//! - [`BackupKind::DataMover`]: `snapshotMoveData` and one DataUpload per
//!   bound PVC, the PVC annotated `velero.io/data-upload-name`.
//!
//! Shapes follow Velero's types (`pkg/apis/velero/v1/pod_volume_backup_types.go`,
//! `pkg/apis/velero/v2alpha1/data_upload_types.go`,
//! `internal/volume/volumes_information.go` `BackupVolumeInfo`) and what
//! its backup writes (`pkg/backup/actions/csi/pvc_action.go` annotations).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::action::{ANN_DATA_UPLOAD_NAME, ANN_VOLUME_SNAPSHOT_NAME};
use super::rules::{self, get_valid_name};
use crate::lab::fields::str_at as s;

/// How the backup treated volume data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackupKind {
    /// Objects only; every volume skipped.
    #[default]
    Plain,
    /// File-system backup of every pod volume (PodVolumeBackups).
    FsBackup,
    /// CSI snapshots of every bound PVC.
    CsiSnapshot,
    /// CSI snapshots moved to the backup storage (DataUploads).
    DataMover,
}

impl BackupKind {
    /// Every kind.
    pub const ALL: [BackupKind; 4] = [
        BackupKind::Plain,
        BackupKind::FsBackup,
        BackupKind::CsiSnapshot,
        BackupKind::DataMover,
    ];

    /// Short name (`plain`, `fs-backup`, `csi-snapshot`, `data-mover`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::FsBackup => "fs-backup",
            Self::CsiSnapshot => "csi-snapshot",
            Self::DataMover => "data-mover",
        }
    }
}

impl std::str::FromStr for BackupKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown backup kind {s:?}; use plain, fs-backup, csi-snapshot or data-mover"
                )
            })
    }
}

/// One backup as the backup storage location holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupContents {
    /// The Backup object (`velero-backup.json`); synced to every cluster.
    pub backup: Value,
    /// The tarball's items.
    pub items: Vec<Value>,
    /// `<backup>-volumeinfo.json` (`BackupVolumeInfo` entries).
    pub volume_infos: Vec<Value>,
    /// `<backup>-volumesnapshots.json` (native snapshots).
    pub native_snapshots: Vec<Value>,
    /// `<backup>-csi-volumesnapshots.json`.
    pub csi_volume_snapshots: Vec<Value>,
    /// PodVolumeBackups (the backup sync controller creates them in the
    /// Velero namespace of every cluster that syncs the location).
    pub pod_volume_backups: Vec<Value>,
}

/// A stable 5-character suffix standing in for a generated name's.
fn suffix(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(parts.join("/").as_bytes())
        .iter()
        .take(3)
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..5]
        .to_string()
}

/// The bound PVCs of `items` with their PVs.
fn bound_claims(items: &[Value]) -> Vec<(Value, Option<Value>)> {
    items
        .iter()
        .filter(|i| i["kind"] == "PersistentVolumeClaim" && !s(i, "/spec/volumeName").is_empty())
        .map(|c| {
            let pv = items
                .iter()
                .find(|p| {
                    p["kind"] == "PersistentVolume" && rules::name(p) == s(c, "/spec/volumeName")
                })
                .cloned();
            (c.clone(), pv)
        })
        .collect()
}

fn volume_info(claim: &Value, pv: Option<&Value>, method: &str) -> Value {
    let mut info = json!({
        "pvcName": rules::name(claim), "pvcNamespace": rules::namespace(claim),
        "pvName": s(claim, "/spec/volumeName"),
        "snapshotDataMoved": false, "preserveLocalSnapshot": false,
        "skipped": method.is_empty(),
    });
    if method.is_empty() {
        info["skippedReason"] =
            json!("no applicable volume policy, snapshots or file-system backup");
    } else {
        info["backupMethod"] = json!(method);
        info["result"] = json!("succeeded");
    }
    if let Some(pv) = pv {
        info["pvInfo"] = json!({
            "reclaimPolicy": s(pv, "/spec/persistentVolumeReclaimPolicy"),
            "labels": pv.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
        });
    }
    info
}

fn annotate(items: &mut [Value], ns: &str, name: &str, key: &str, value: &str) {
    if let Some(c) = items.iter_mut().find(|i| {
        i["kind"] == "PersistentVolumeClaim" && rules::namespace(i) == ns && rules::name(i) == name
    }) && let Some(meta) = c.get_mut("metadata").and_then(Value::as_object_mut)
    {
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        ann[key] = json!(value);
    }
}

impl BackupContents {
    /// A backup of `items` whose volumes were all skipped.
    pub fn plain(backup: Value, items: Vec<Value>) -> Self {
        let volume_infos = bound_claims(&items)
            .iter()
            .map(|(c, pv)| volume_info(c, pv.as_ref(), ""))
            .collect();
        Self {
            backup,
            items,
            volume_infos,
            ..Default::default()
        }
    }

    /// The backup of `items` made with `kind`; `velero_ns` is Velero's
    /// namespace (PodVolumeBackups and DataUploads live there).
    pub fn of_kind(kind: BackupKind, backup: Value, items: Vec<Value>, velero_ns: &str) -> Self {
        match kind {
            BackupKind::Plain => Self::plain(backup, items),
            BackupKind::FsBackup => Self::fs_backup(backup, items, velero_ns),
            BackupKind::CsiSnapshot => Self::csi_snapshot(backup, items),
            BackupKind::DataMover => Self::data_mover(backup, items, velero_ns),
        }
    }

    /// The backup's name.
    pub fn name(&self) -> &str {
        rules::name(&self.backup)
    }

    /// A file-system backup: `spec.defaultVolumesToFsBackup: true` and a
    /// Completed PodVolumeBackup (Kopia) for each pod volume backed by a
    /// PVC, annotated `velero.io/pvc-name` and labelled
    /// `velero.io/backup-name`.
    pub fn fs_backup(mut backup: Value, items: Vec<Value>, velero_ns: &str) -> Self {
        let bname = rules::name(&backup).to_string();
        backup["spec"]["defaultVolumesToFsBackup"] = json!(true);
        let claims = bound_claims(&items);
        let mut pvbs = Vec::new();
        let mut infos = Vec::new();
        for pod in items.iter().filter(|i| i["kind"] == "Pod") {
            let (pns, pname) = (rules::namespace(pod), rules::name(pod));
            for vol in pod
                .pointer("/spec/volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let claim = s(vol, "/persistentVolumeClaim/claimName");
                let vname = s(vol, "/name");
                let Some((c, pv)) = claims
                    .iter()
                    .find(|(c, _)| rules::namespace(c) == pns && rules::name(c) == claim)
                else {
                    continue;
                };
                let snapshot = format!("kopia-{}", suffix(&[&bname, pns, pname, vname, "snap"]));
                pvbs.push(json!({
                    "apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
                    "metadata": {
                        "name": format!("{bname}-{}", suffix(&[&bname, pns, pname, vname])),
                        "namespace": velero_ns,
                        "labels": {"velero.io/backup-name": get_valid_name(&bname),
                                   "velero.io/pvc-uid": s(c, "/metadata/uid")},
                        "annotations": {"velero.io/pvc-name": claim},
                    },
                    "spec": {
                        "node": "primary-node-1",
                        "pod": {"kind": "Pod", "namespace": pns, "name": pname},
                        "volume": vname,
                        "backupStorageLocation": s(&backup, "/spec/storageLocation"),
                        "repoIdentifier": format!("kopia/{pns}"),
                        "uploaderType": "kopia",
                        "tags": {"backup": bname, "ns": pns, "pod": pname, "volume": vname},
                    },
                    "status": {"phase": "Completed", "snapshotID": snapshot,
                               "path": format!("/host_pods/{pname}/volumes/{vname}"),
                               "progress": {"totalBytes": 4096, "bytesDone": 4096}},
                }));
                let mut info = volume_info(c, pv.as_ref(), "PodVolumeBackup");
                info["pvbInfo"] = json!({"snapshotHandle": snapshot, "uploaderType": "kopia",
                    "volumeName": vname, "podName": pname, "podNamespace": pns});
                infos.push(info);
            }
        }
        for (c, pv) in &claims {
            if !infos
                .iter()
                .any(|i| i["pvcName"] == rules::name(c) && i["pvcNamespace"] == rules::namespace(c))
            {
                infos.push(volume_info(c, pv.as_ref(), ""));
            }
        }
        Self {
            backup,
            items,
            volume_infos: infos,
            pod_volume_backups: pvbs,
            ..Default::default()
        }
    }

    /// A CSI snapshot backup: one ready VolumeSnapshot (class
    /// `csi-snapclass`) and VolumeSnapshotContent (driver
    /// `csi.trident.netapp.io`) per bound PVC, in the items and the CSI
    /// snapshot list; the PVC annotated `velero.io/volume-snapshot-name`;
    /// `status.csiVolumeSnapshotsAttempted/Completed`.
    pub fn csi_snapshot(mut backup: Value, mut items: Vec<Value>) -> Self {
        let bname = rules::name(&backup).to_string();
        backup["spec"]["snapshotVolumes"] = json!(true);
        let claims = bound_claims(&items);
        let mut snaps = Vec::new();
        let mut contents = Vec::new();
        let mut infos = Vec::new();
        for (c, pv) in &claims {
            let (ns, name) = (rules::namespace(c), rules::name(c));
            let vs_name = format!("velero-{name}-{}", suffix(&[&bname, ns, name]));
            let vsc_name = format!("snapcontent-{}", suffix(&[&bname, ns, name, "vsc"]));
            let handle = format!(
                "{}/snapshot-{}",
                s(c, "/spec/volumeName"),
                suffix(&[&bname, name])
            );
            snaps.push(json!({
                "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                "metadata": {"name": vs_name, "namespace": ns,
                             "labels": {"velero.io/backup-name": get_valid_name(&bname)}},
                "spec": {"source": {"persistentVolumeClaimName": name},
                         "volumeSnapshotClassName": "csi-snapclass"},
                "status": {"readyToUse": true, "boundVolumeSnapshotContentName": vsc_name},
            }));
            contents.push(json!({
                "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
                "metadata": {"name": vsc_name,
                             "labels": {"velero.io/backup-name": get_valid_name(&bname)}},
                "spec": {"deletionPolicy": "Retain", "driver": "csi.trident.netapp.io",
                         "source": {"volumeHandle": s(c, "/spec/volumeName")},
                         "volumeSnapshotRef": {"kind": "VolumeSnapshot", "name": vs_name, "namespace": ns}},
                "status": {"readyToUse": true, "snapshotHandle": handle},
            }));
            let mut info = volume_info(c, pv.as_ref(), "CSISnapshot");
            info["csiSnapshotInfo"] = json!({"snapshotHandle": handle, "driver": "csi.trident.netapp.io",
                "vscName": vsc_name, "volumeSnapshotName": vs_name});
            infos.push(info);
            annotate(&mut items, ns, name, ANN_VOLUME_SNAPSHOT_NAME, &vs_name);
        }
        backup["status"]["csiVolumeSnapshotsAttempted"] = json!(snaps.len());
        backup["status"]["csiVolumeSnapshotsCompleted"] = json!(snaps.len());
        items.extend(snaps.iter().cloned());
        items.extend(contents);
        Self {
            backup,
            items,
            volume_infos: infos,
            csi_volume_snapshots: snaps,
            ..Default::default()
        }
    }

    /// A snapshot data mover backup: `spec.snapshotMoveData: true`, one
    /// Completed DataUpload (data mover `velero`) per bound PVC among the
    /// items (Velero's namespace), the PVC annotated
    /// `velero.io/data-upload-name`;
    /// `status.backupItemOperationsAttempted/Completed`.
    pub fn data_mover(mut backup: Value, mut items: Vec<Value>, velero_ns: &str) -> Self {
        let bname = rules::name(&backup).to_string();
        backup["spec"]["snapshotMoveData"] = json!(true);
        backup["spec"]["snapshotVolumes"] = json!(true);
        let claims = bound_claims(&items);
        let mut uploads = Vec::new();
        let mut infos = Vec::new();
        for (c, pv) in &claims {
            let (ns, name) = (rules::namespace(c), rules::name(c));
            let du = format!("{bname}-{}", suffix(&[&bname, ns, name, "du"]));
            let snapshot_id = suffix(&[&bname, ns, name, "id"]);
            uploads.push(json!({
                "apiVersion": "velero.io/v2alpha1", "kind": "DataUpload",
                "metadata": {"name": du, "namespace": velero_ns,
                             "labels": {"velero.io/backup-name": get_valid_name(&bname),
                                        "velero.io/pvc-uid": s(c, "/metadata/uid")}},
                "spec": {"snapshotType": "CSI",
                         "csiSnapshot": {"volumeSnapshot": format!("velero-{name}"),
                                         "storageClass": s(c, "/spec/storageClassName"),
                                         "snapshotClass": "csi-snapclass",
                                         "driver": "csi.trident.netapp.io"},
                         "sourcePVC": name, "datamover": "velero",
                         "backupStorageLocation": s(&backup, "/spec/storageLocation"),
                         "sourceNamespace": ns, "operationTimeout": "10m0s"},
                "status": {"phase": "Completed", "snapshotID": snapshot_id,
                           "path": format!("/{ns}/{name}"),
                           "progress": {"totalBytes": 4096, "bytesDone": 4096}},
            }));
            let mut info = volume_info(c, pv.as_ref(), "CSISnapshot");
            info["snapshotDataMoved"] = json!(true);
            info["snapshotDataMovementInfo"] = json!({"dataMover": "velero", "uploaderType": "kopia",
                "snapshotHandle": snapshot_id, "operationID": format!("du-{du}")});
            infos.push(info);
            annotate(&mut items, ns, name, ANN_DATA_UPLOAD_NAME, &du);
        }
        backup["status"]["backupItemOperationsAttempted"] = json!(uploads.len());
        backup["status"]["backupItemOperationsCompleted"] = json!(uploads.len());
        items.extend(uploads);
        Self {
            backup,
            items,
            volume_infos: infos,
            ..Default::default()
        }
    }

    /// What the backup sync controller creates in a cluster's Velero
    /// namespace for this backup: the Backup and its PodVolumeBackups.
    pub fn synced_objects(&self) -> Vec<Value> {
        let mut out = vec![self.backup.clone()];
        out.extend(self.pod_volume_backups.iter().cloned());
        out
    }
}

/// The lab's backup storage location, by backup name.
#[derive(Clone, Debug, Default)]
pub struct BackupStore(Arc<Mutex<BTreeMap<String, BackupContents>>>);

impl BackupStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, BackupContents>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a plain backup `name` of `items` (a minimal Backup object).
    pub fn put(&self, name: &str, items: Vec<Value>) {
        let backup = json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name}, "spec": {}, "status": {"phase": "Completed"}});
        self.lock()
            .insert(name.into(), BackupContents::plain(backup, items));
    }

    /// Stores a backup under its Backup object's name.
    pub fn put_contents(&self, contents: BackupContents) {
        self.lock().insert(contents.name().to_string(), contents);
    }

    /// The items of backup `name`.
    pub fn get(&self, name: &str) -> Option<Vec<Value>> {
        self.lock().get(name).map(|c| c.items.clone())
    }

    /// Everything stored for backup `name`.
    pub fn contents(&self, name: &str) -> Option<BackupContents> {
        self.lock().get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::fixtures::{trident_csi_pv, trident_pvc};

    fn items() -> Vec<Value> {
        let mut pvc = trident_pvc("shop", "data", "pv-a", "ontap-nas", "1Gi");
        pvc["metadata"]["uid"] = json!("u-data");
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            trident_csi_pv("pv-a", "u", "v_a", "file", "1Gi", "shop", "data", "Retain"),
            pvc,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop"},
                   "spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
                                        {"name": "tmp", "emptyDir": {}}]}}),
        ]
    }

    fn backup() -> Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
               "metadata": {"name": "nightly", "namespace": "velero"},
               "spec": {"storageLocation": "default"}, "status": {"phase": "Completed"}})
    }

    #[test]
    fn store_round_trips_items_and_contents() {
        let s = BackupStore::default();
        assert!(s.get("b").is_none());
        s.put("b", items());
        assert_eq!(s.get("b").map(|v| v.len()), Some(4));
        s.put_contents(BackupContents::of_kind(
            BackupKind::FsBackup,
            backup(),
            items(),
            "velero",
        ));
        assert_eq!(
            s.contents("nightly").map(|c| c.pod_volume_backups.len()),
            Some(1)
        );
        assert_eq!(
            "data-mover".parse::<BackupKind>(),
            Ok(BackupKind::DataMover)
        );
        assert!("x".parse::<BackupKind>().is_err());
    }

    #[test]
    fn plain_backups_record_skipped_volumes() {
        let c = BackupContents::plain(backup(), items());
        assert_eq!(c.volume_infos.len(), 1);
        assert_eq!(c.volume_infos[0]["skipped"], true);
        assert!(c.volume_infos[0].get("backupMethod").is_none());
        assert_eq!(c.volume_infos[0]["pvInfo"]["reclaimPolicy"], "Retain");
    }

    #[test]
    fn fs_backups_have_labelled_pod_volume_backups_for_pvc_volumes_only() {
        let c = BackupContents::fs_backup(backup(), items(), "velero");
        assert_eq!(c.backup["spec"]["defaultVolumesToFsBackup"], true);
        assert_eq!(c.pod_volume_backups.len(), 1);
        let b = &c.pod_volume_backups[0];
        assert_eq!(b["metadata"]["namespace"], "velero");
        assert_eq!(b["metadata"]["labels"]["velero.io/backup-name"], "nightly");
        assert_eq!(b["metadata"]["annotations"]["velero.io/pvc-name"], "data");
        assert_eq!(b["spec"]["volume"], "d");
        assert_eq!(c.volume_infos[0]["backupMethod"], "PodVolumeBackup");
        assert_eq!(c.synced_objects().len(), 2);
    }

    #[test]
    fn csi_and_data_mover_backups_annotate_the_pvcs_and_count_their_work() {
        let c = BackupContents::csi_snapshot(backup(), items());
        assert_eq!(c.backup["status"]["csiVolumeSnapshotsAttempted"], 1);
        assert_eq!(c.csi_volume_snapshots.len(), 1);
        let vs = rules::name(&c.csi_volume_snapshots[0]).to_string();
        let pvc = c
            .items
            .iter()
            .find(|i| i["kind"] == "PersistentVolumeClaim")
            .cloned()
            .unwrap_or_default();
        assert_eq!(rules::annotation(&pvc, ANN_VOLUME_SNAPSHOT_NAME), vs);
        assert!(c.items.iter().any(|i| i["kind"] == "VolumeSnapshotContent"));
        assert_eq!(c.volume_infos[0]["backupMethod"], "CSISnapshot");

        let d = BackupContents::data_mover(backup(), items(), "velero");
        assert_eq!(d.backup["spec"]["snapshotMoveData"], true);
        assert_eq!(d.backup["status"]["backupItemOperationsAttempted"], 1);
        let du = d
            .items
            .iter()
            .find(|i| i["kind"] == "DataUpload")
            .cloned()
            .unwrap_or_default();
        assert_eq!(du["spec"]["sourcePVC"], "data");
        let pvc = d
            .items
            .iter()
            .find(|i| i["kind"] == "PersistentVolumeClaim")
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            rules::annotation(&pvc, ANN_DATA_UPLOAD_NAME),
            rules::name(&du)
        );
        assert_eq!(d.volume_infos[0]["snapshotDataMoved"], true);
    }
}
