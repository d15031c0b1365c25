//! Does the Velero backup carry volume data? If it does, a restore from it
//! destroys or hides the data SVM-DR replicated.
//!
//! Velero re-provisions a PV, whatever its reclaim policy and before any
//! restore item action runs, when the backup holds a native snapshot, a CSI
//! VolumeSnapshot, a snapshot DataUpload (data mover) or a pod volume
//! (file-system, Kopia/restic) backup of it (Velero: `pkg/restore/restore.go`
//! `restoreItem`, the PersistentVolumes branch). Its CSI PVC action then sets
//! a VolumeSnapshot `dataSource` (Velero: `pkg/restore/actions/csi/pvc_action.go`):
//! the claim gets a new, empty or snapshot-made volume that shadows the
//! replicated one. With a file-system backup Velero then copies the backed-up
//! files *into* the volume (PodVolumeRestore), over newer replicated data.
//! See `docs/velero-restore.md`.
//!
//! What is read (one LIST each, a missing CRD counts as none):
//! - the Backup's `spec.snapshotVolumes` (unset means yes: Velero snapshots
//!   unless it is explicitly `false`, `internal/volumehelper/volume_policy_helper.go`),
//!   `spec.defaultVolumesToFsBackup`, `spec.snapshotMoveData`, and
//!   `status.volumeSnapshotsAttempted`, `status.csiVolumeSnapshotsAttempted`,
//!   `status.backupItemOperationsAttempted` (Velero: `pkg/apis/velero/v1/backup_types.go`);
//! - PodVolumeBackups (`velero.io/v1`), DataUploads (`velero.io/v2alpha1`)
//!   and VolumeSnapshotContents (`snapshot.storage.k8s.io/v1`) labelled
//!   `velero.io/backup-name=<GetValidName(backup)>` (Velero:
//!   `pkg/podvolume/backupper.go` `newPodVolumeBackup`, `pkg/label/label.go`).
//!   A DR cluster usually has none of these (they stay where the backup ran);
//!   the Backup's spec and status are then the evidence.
//!
//! [`analyze`] is pure; [`inspect`] reads the cluster.

use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::names::valid_name;

/// Velero's label naming the backup (`velero.io/backup-name`).
pub const BACKUP_NAME_LABEL: &str = "velero.io/backup-name";
/// Velero's annotation on a PodVolumeBackup naming the PVC (`velero.io/pvc-name`).
pub const PVC_NAME_ANNOTATION: &str = "velero.io/pvc-name";
/// Trident's CSI driver name.
pub const TRIDENT_CSI_DRIVER: &str = "csi.trident.netapp.io";

/// What kind of volume data the backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DataKind {
    /// File-system backup (Kopia/restic): Velero writes the old files into
    /// the restored volume.
    FsBackup,
    /// CSI VolumeSnapshot: Velero re-provisions the PV from the snapshot.
    CsiSnapshot,
    /// Snapshot data mover (DataUpload): Velero re-provisions the PV and
    /// copies the uploaded data into it.
    DataMover,
    /// A native (VolumeSnapshotter plugin) snapshot: Velero re-creates the PV
    /// from it.
    NativeSnapshot,
}

impl DataKind {
    /// What Velero does with it on restore.
    pub fn consequence(self) -> &'static str {
        match self {
            DataKind::FsBackup => {
                "Velero re-provisions the PV and copies the backed-up files into it, over the replicated data"
            }
            DataKind::CsiSnapshot => {
                "Velero re-provisions the PV from the snapshot: the claim binds a new volume that shadows the replicated one"
            }
            DataKind::DataMover => {
                "Velero re-provisions the PV and restores the uploaded data into it: the claim binds a new volume that shadows the replicated one"
            }
            DataKind::NativeSnapshot => {
                "Velero re-creates the PV from the snapshot instead of using the replicated volume"
            }
        }
    }
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The kind of volume data.
    pub kind: DataKind,
    /// Where it was seen, e.g. `status.csiVolumeSnapshotsAttempted = 3` or
    /// `PodVolumeBackup velero/nightly-abc12`.
    pub evidence: String,
    /// The PVC concerned (`namespace/name`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pvc: Option<String>,
    /// The pod concerned (`namespace/name`, volume), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
}

impl Finding {
    /// One line: the evidence, the PVC/pod, and what Velero would do.
    pub fn line(&self) -> String {
        let mut who = Vec::new();
        if let Some(p) = &self.pvc {
            who.push(format!("PVC {p}"));
        }
        if let Some(p) = &self.pod {
            who.push(format!("pod {p}"));
        }
        let who = if who.is_empty() {
            String::new()
        } else {
            format!(" ({})", who.join(", "))
        };
        format!("{}{who}: {}", self.evidence, self.kind.consequence())
    }
}

/// What the inspection of one backup found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupData {
    /// The backup.
    pub backup: String,
    /// Evidence that the backup carries volume data (empty: it carries none).
    pub findings: Vec<Finding>,
    /// Settings worth knowing that are not evidence by themselves (e.g.
    /// `snapshotVolumes` unset with no snapshot attempted).
    pub notes: Vec<String>,
}

/// How to make backups an SVM-DR restore can use.
pub const FIX: &str = "make the backups for SVM-DR without volume data for Trident volumes: set `snapshotVolumes: false` (velero backup create --snapshot-volumes=false), `defaultVolumesToFsBackup: false` (--default-volumes-to-fs-backup=false) and `snapshotMoveData: false`, or keep them for other volumes and skip the Trident ones with a volume policy (`action: skip` for the Trident StorageClasses) or the pod annotation `backup.velero.io/backup-volumes-excludes`; then take a new backup, or restore from one made that way (see docs/velero-restore.md)";

impl BackupData {
    /// Whether restoring from it would re-provision, overwrite or shadow
    /// Trident volumes.
    pub fn carries_volume_data(&self) -> bool {
        !self.findings.is_empty()
    }

    /// The refusal: what was found, why it destroys the replicated data,
    /// how to fix the backup.
    pub fn explanation(&self) -> String {
        let mut s = format!(
            "Velero backup {} carries volume data; restoring it would re-provision, overwrite or shadow the Trident volumes SVM-DR replicated:",
            self.backup
        );
        for f in &self.findings {
            s.push_str("\n  - ");
            s.push_str(&f.line());
        }
        s.push_str(
            "\nVelero does this before any plugin runs, whatever the PV's reclaim policy, so the svmdr plugin cannot import the replicated volume instead.",
        );
        s.push_str("\nFix: ");
        s.push_str(FIX);
        s
    }
}

fn str_at<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

fn name_of(v: &Value) -> String {
    let ns = str_at(v, "/metadata/namespace");
    let n = str_at(v, "/metadata/name").unwrap_or("?");
    match ns {
        Some(ns) => format!("{ns}/{n}"),
        None => n.to_string(),
    }
}

/// Analyses a Backup object and the objects labelled with it (pure).
///
/// `pvbs` are PodVolumeBackups, `data_uploads` DataUploads, `vscs`
/// VolumeSnapshotContents. A VolumeSnapshotContent of another CSI driver is
/// not a Trident volume and only noted.
pub fn analyze(
    backup: &Value,
    pvbs: &[Value],
    data_uploads: &[Value],
    vscs: &[Value],
) -> BackupData {
    let name = str_at(backup, "/metadata/name").unwrap_or("?").to_string();
    let mut out = BackupData {
        backup: name,
        ..BackupData::default()
    };
    let spec_bool = |k: &str| {
        backup
            .pointer(&format!("/spec/{k}"))
            .and_then(Value::as_bool)
    };
    let count = |k: &str| {
        backup
            .pointer(&format!("/status/{k}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let mut push = |kind, evidence: String| {
        out.findings.push(Finding {
            kind,
            evidence,
            pvc: None,
            pod: None,
        });
    };
    // Counts first: they are in every Backup, wherever it was made.
    let native = count("volumeSnapshotsAttempted");
    if native > 0 {
        push(
            DataKind::NativeSnapshot,
            format!("status.volumeSnapshotsAttempted = {native}"),
        );
    }
    let csi = count("csiVolumeSnapshotsAttempted");
    let move_data = spec_bool("snapshotMoveData") == Some(true);
    if csi > 0 {
        push(
            if move_data {
                DataKind::DataMover
            } else {
                DataKind::CsiSnapshot
            },
            format!(
                "status.csiVolumeSnapshotsAttempted = {csi}{}",
                if move_data {
                    " with spec.snapshotMoveData = true"
                } else {
                    ""
                }
            ),
        );
    }
    let ops = count("backupItemOperationsAttempted");
    if ops > 0 && csi == 0 {
        // Asynchronous item operations are how the CSI plugin and the data
        // mover snapshot volumes; counted once with the snapshots above.
        push(
            if move_data {
                DataKind::DataMover
            } else {
                DataKind::CsiSnapshot
            },
            format!(
                "status.backupItemOperationsAttempted = {ops} (asynchronous snapshot or data-mover operations)"
            ),
        );
    }
    if spec_bool("defaultVolumesToFsBackup") == Some(true) {
        push(
            DataKind::FsBackup,
            "spec.defaultVolumesToFsBackup = true (every pod volume not opted out is backed up file by file)".into(),
        );
    }
    for p in pvbs {
        let pod = str_at(p, "/spec/pod/name").map(|n| {
            let ns = str_at(p, "/spec/pod/namespace").unwrap_or("?");
            let vol = str_at(p, "/spec/volume").unwrap_or("?");
            format!("{ns}/{n}, volume {vol}")
        });
        let pvc = p
            .pointer(&format!(
                "/metadata/annotations/{}",
                PVC_NAME_ANNOTATION.replace('/', "~1")
            ))
            .and_then(Value::as_str)
            .map(|c| {
                let ns = str_at(p, "/spec/pod/namespace").unwrap_or("?");
                format!("{ns}/{c}")
            });
        out.findings.push(Finding {
            kind: DataKind::FsBackup,
            evidence: format!("PodVolumeBackup {}", name_of(p)),
            pvc,
            pod,
        });
    }
    for d in data_uploads {
        let pvc = str_at(d, "/spec/sourcePVC").map(|c| {
            let ns = str_at(d, "/spec/sourceNamespace").unwrap_or("?");
            format!("{ns}/{c}")
        });
        out.findings.push(Finding {
            kind: DataKind::DataMover,
            evidence: format!("DataUpload {}", name_of(d)),
            pvc,
            pod: None,
        });
    }
    for c in vscs {
        let driver = str_at(c, "/spec/driver").unwrap_or("");
        if driver != TRIDENT_CSI_DRIVER {
            out.notes.push(format!(
                "VolumeSnapshotContent {} is of CSI driver {driver:?}, not Trident: not a replicated volume",
                name_of(c)
            ));
            continue;
        }
        let snapshot = str_at(c, "/spec/volumeSnapshotRef/name")
            .map(|vs| {
                let ns = str_at(c, "/spec/volumeSnapshotRef/namespace").unwrap_or("?");
                format!(" of VolumeSnapshot {ns}/{vs}")
            })
            .unwrap_or_default();
        out.findings.push(Finding {
            kind: DataKind::CsiSnapshot,
            evidence: format!("VolumeSnapshotContent {}{snapshot}", name_of(c)),
            pvc: None,
            pod: None,
        });
    }
    if spec_bool("snapshotVolumes").is_none() && native == 0 && csi == 0 {
        out.notes.push(
            "spec.snapshotVolumes is unset, which Velero treats as true; this backup attempted no snapshot, but the next one will if a VolumeSnapshotClass or VolumeSnapshotLocation applies: set it to false".into(),
        );
    }
    if move_data && csi == 0 && ops == 0 {
        out.notes.push(
            "spec.snapshotMoveData is true but no snapshot was attempted: no volume data was moved"
                .into(),
        );
    }
    out
}

/// A `velero.io/v2alpha1` DataUpload, `snapshot.storage.k8s.io/v1`
/// VolumeSnapshotContent or `velero.io/v1` PodVolumeBackup resource.
/// A Kubernetes read that failed, and what it was for.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct ReadError {
    /// What was being read.
    pub what: String,
    /// The error.
    #[source]
    pub source: kube::Error,
}

fn resource(group: &str, version: &str, kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind))
}

/// Lists objects labelled with the backup; a missing CRD (404) is none.
/// Without permission (403) the list is `Err(note)`: the Backup's spec and
/// status still decide.
async fn labelled(
    api: Api<DynamicObject>,
    selector: &str,
    what: &str,
) -> Result<Result<Vec<Value>, String>, ReadError> {
    match api.list(&ListParams::default().labels(selector)).await {
        Ok(l) => Ok(Ok(l
            .items
            .iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .collect())),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(Ok(Vec::new())),
        Err(kube::Error::Api(e)) if e.code == 403 => Ok(Err(format!(
            "not allowed to list {what} ({}): only the Backup's spec and status were checked; grant `list` on them to check the objects too",
            e.message
        ))),
        Err(source) => Err(ReadError {
            what: format!("listing {what} labelled {selector}"),
            source,
        }),
    }
}

/// Reads the Backup `name` in `namespace` and the PodVolumeBackups,
/// DataUploads and VolumeSnapshotContents labelled with it, and analyses
/// them (one GET and three LISTs).
///
/// # Errors
///
/// [`ReadError`] (a missing CRD is not an error).
pub async fn inspect(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<BackupData, ReadError> {
    let backups: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &super::velero_resource("Backup"));
    let backup = backups.get(name).await.map_err(|source| ReadError {
        what: format!("reading Velero backup {namespace}/{name}"),
        source,
    })?;
    let backup = serde_json::to_value(&backup).unwrap_or(Value::Null);
    let selector = format!("{BACKUP_NAME_LABEL}={}", valid_name(name));
    let pvb = resource("velero.io", "v1", "PodVolumeBackup");
    let du = resource("velero.io", "v2alpha1", "DataUpload");
    let vsc = resource("snapshot.storage.k8s.io", "v1", "VolumeSnapshotContent");
    let (pvbs, dus, vscs) = tokio::try_join!(
        labelled(
            Api::namespaced_with(client.clone(), namespace, &pvb),
            &selector,
            "PodVolumeBackups"
        ),
        labelled(
            Api::namespaced_with(client.clone(), namespace, &du),
            &selector,
            "DataUploads"
        ),
        labelled(
            Api::all_with(client.clone(), &vsc),
            &selector,
            "VolumeSnapshotContents"
        ),
    )?;
    let mut notes = Vec::new();
    let mut take = |r: Result<Vec<Value>, String>| {
        r.unwrap_or_else(|n| {
            notes.push(n);
            Vec::new()
        })
    };
    let (pvbs, dus, vscs) = (take(pvbs), take(dus), take(vscs));
    let mut out = analyze(&backup, &pvbs, &dus, &vscs);
    out.notes.extend(notes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn backup(spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": "nightly", "namespace": "velero"}, "spec": spec, "status": status})
    }

    #[test]
    fn a_backup_without_volume_data_is_clean() {
        let b = backup(
            json!({"snapshotVolumes": false, "defaultVolumesToFsBackup": false}),
            json!({"phase": "Completed"}),
        );
        let r = analyze(&b, &[], &[], &[]);
        assert!(!r.carries_volume_data(), "{r:?}");
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn unset_snapshot_volumes_is_a_note_not_a_finding() {
        let r = analyze(&backup(json!({}), json!({})), &[], &[], &[]);
        assert!(!r.carries_volume_data());
        assert!(r.notes[0].contains("treats as true"), "{:?}", r.notes);
    }

    #[test]
    fn fs_backup_names_pod_pvc_and_the_fix() {
        let b = backup(json!({"defaultVolumesToFsBackup": true}), json!({}));
        let pvb = json!({
            "metadata": {"name": "nightly-x7k2p", "namespace": "velero",
                "annotations": {"velero.io/pvc-name": "data-db-0"},
                "labels": {"velero.io/backup-name": "nightly"}},
            "spec": {"pod": {"namespace": "shop", "name": "db-0"}, "volume": "data"}
        });
        let r = analyze(&b, &[pvb], &[], &[]);
        assert!(r.carries_volume_data());
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.findings[1].kind, DataKind::FsBackup);
        assert_eq!(r.findings[1].pvc.as_deref(), Some("shop/data-db-0"));
        assert_eq!(r.findings[1].pod.as_deref(), Some("shop/db-0, volume data"));
        let text = r.explanation();
        assert!(
            text.contains("spec.defaultVolumesToFsBackup = true"),
            "{text}"
        );
        assert!(text.contains("PodVolumeBackup velero/nightly-x7k2p (PVC shop/data-db-0, pod shop/db-0, volume data)"), "{text}");
        assert!(text.contains("over the replicated data"), "{text}");
        assert!(
            text.contains("--default-volumes-to-fs-backup=false"),
            "{text}"
        );
    }

    #[test]
    fn snapshot_counts_are_evidence() {
        let r = analyze(
            &backup(
                json!({"snapshotMoveData": true}),
                json!({"csiVolumeSnapshotsAttempted": 2, "backupItemOperationsAttempted": 2, "volumeSnapshotsAttempted": 1}),
            ),
            &[],
            &[],
            &[],
        );
        let kinds: Vec<DataKind> = r.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [DataKind::NativeSnapshot, DataKind::DataMover]);
        assert!(
            r.findings[1]
                .evidence
                .contains("= 2 with spec.snapshotMoveData")
        );
        let r = analyze(
            &backup(json!({}), json!({"backupItemOperationsAttempted": 3})),
            &[],
            &[],
            &[],
        );
        assert_eq!(r.findings[0].kind, DataKind::CsiSnapshot);
    }

    #[test]
    fn data_uploads_and_trident_snapshot_contents_are_findings() {
        let du = json!({"metadata": {"name": "nightly-du1", "namespace": "velero"},
            "spec": {"sourcePVC": "web-data", "sourceNamespace": "shop"}});
        let trident = json!({"metadata": {"name": "snapcontent-1"},
            "spec": {"driver": "csi.trident.netapp.io",
                "volumeSnapshotRef": {"namespace": "shop", "name": "velero-web-data-abc"}}});
        let other =
            json!({"metadata": {"name": "snapcontent-2"}, "spec": {"driver": "ebs.csi.aws.com"}});
        let r = analyze(
            &backup(json!({"snapshotVolumes": false}), json!({})),
            &[],
            &[du],
            &[trident, other],
        );
        assert_eq!(r.findings.len(), 2, "{r:?}");
        assert_eq!(r.findings[0].pvc.as_deref(), Some("shop/web-data"));
        assert_eq!(r.findings[1].kind, DataKind::CsiSnapshot);
        assert!(r.notes[0].contains("ebs.csi.aws.com"), "{:?}", r.notes);
    }
}
