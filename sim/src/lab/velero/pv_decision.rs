//! What Velero does with a backed-up PersistentVolume before any action
//! runs (`pkg/restore/restore.go` `restoreItem`, the
//! `groupResource == kuberesource.PersistentVolumes` block, and its helpers
//! `hasSnapshot`, `hasPodVolumeBackup`, `hasCSIVolumeSnapshot`,
//! `hasSnapshotDataUpload`, `hasDeleteReclaimPolicy`).
//!
//! A PV whose data the backup carries (native snapshot, pod-volume
//! backup, CSI snapshot or snapshot data mover) is never restored as-is:
//! the first three re-provision it whatever its reclaim policy. Without
//! data, only the `Delete` reclaim policy re-provisions; any other value,
//! and a missing policy, restores the PV as-is.

use crate::lab::fields::str_at as s;
use serde_json::Value;

/// Velero's decision for one PV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PvDecision {
    /// Not a PV: the generic path.
    NotAPv,
    /// The PV has a native (VolumeSnapshotter) snapshot: Velero restores
    /// the PV from it (`handlePVHasNativeSnapshot`).
    NativeSnapshot,
    /// A pod-volume (file-system) backup of the PV's claim exists: not
    /// restored, its PVC is re-provisioned and a PodVolumeRestore writes
    /// the backed-up files into the new volume.
    PodVolumeBackup,
    /// A CSI VolumeSnapshot or a snapshot DataUpload of the PV's claim
    /// exists: not restored, its PVC is re-provisioned from the snapshot
    /// (or by the data mover).
    CsiSnapshot,
    /// No data in the backup and reclaim policy `Delete`: not restored,
    /// its PVC is re-provisioned.
    DeletePolicy,
    /// No data in the backup and another (or no) reclaim policy: restored
    /// as-is through the actions (`handleSkippedPVHasRetainPolicy`).
    AsIs,
}

impl PvDecision {
    /// Whether Velero adds the PV to `pvsToProvision` (not restored; its
    /// PVC loses `spec.volumeName`).
    pub fn reprovisions(&self) -> bool {
        matches!(
            self,
            Self::PodVolumeBackup | Self::CsiSnapshot | Self::DeletePolicy
        )
    }

    /// Velero's restore-log line for the decision.
    pub fn log_line(&self) -> &'static str {
        match self {
            Self::NotAPv => "",
            Self::NativeSnapshot => "Restoring persistent volume from snapshot.",
            Self::PodVolumeBackup => {
                "Dynamically re-provisioning persistent volume because it has a pod volume backup to be restored."
            }
            Self::CsiSnapshot => {
                "Dynamically re-provisioning persistent volume because it has a CSI VolumeSnapshot or a related snapshot DataUpload."
            }
            Self::DeletePolicy => {
                "Dynamically re-provisioning persistent volume because it doesn't have a snapshot and its reclaim policy is Delete."
            }
            Self::AsIs => {
                "Restoring persistent volume as-is because it doesn't have a snapshot and its reclaim policy is not Delete."
            }
        }
    }
}

/// What the restore knows about the backup's volume data.
#[derive(Debug, Clone, Copy, Default)]
pub struct VolumeEvidence<'a> {
    /// The backup's `BackupVolumeInfo` list (`<backup>-volumeinfo.json`;
    /// empty for backups made before Velero 1.13).
    pub volume_infos: &'a [Value],
    /// Native snapshots (`<backup>-volumesnapshots.json`), each with
    /// `spec.persistentVolumeName`.
    pub native_snapshots: &'a [Value],
    /// PodVolumeBackups of the backup in Velero's namespace.
    pub pod_volume_backups: &'a [Value],
    /// CSI VolumeSnapshots (`<backup>-csi-volumesnapshots.json`).
    pub csi_volume_snapshots: &'a [Value],
    /// DataUpload result ConfigMaps of this restore for the PV's claim.
    pub data_upload_results: &'a [Value],
}

/// `hasDeleteReclaimPolicy`: exactly `Delete`; a missing policy is not.
pub fn has_delete_reclaim_policy(pv: &Value) -> bool {
    s(pv, "/spec/persistentVolumeReclaimPolicy") == "Delete"
}

/// The PV's `spec.claimRef` (namespace, name), if it has one.
fn claim_ref(pv: &Value) -> Option<(&str, &str)> {
    let c = pv.pointer("/spec/claimRef")?;
    c.is_object().then(|| (s(c, "/namespace"), s(c, "/name")))
}

/// `hasPodVolumeBackup`: a PVB of a pod in the claim's namespace whose
/// `velero.io/pvc-name` annotation names the claim.
pub fn has_pod_volume_backup(pv: &Value, pvbs: &[Value]) -> bool {
    let Some((ns, name)) = claim_ref(pv) else {
        return false;
    };
    pvbs.iter().any(|b| {
        s(b, "/spec/pod/namespace") == ns
            && b.pointer("/metadata/annotations/velero.io~1pvc-name")
                .and_then(Value::as_str)
                == Some(name)
    })
}

/// `hasCSIVolumeSnapshot`: a VolumeSnapshot in the claim's namespace whose
/// `spec.source.persistentVolumeClaimName` is the claim.
pub fn has_csi_volume_snapshot(pv: &Value, snapshots: &[Value]) -> bool {
    let Some((ns, name)) = claim_ref(pv) else {
        return false;
    };
    snapshots.iter().any(|vs| {
        vs.pointer("/spec/source/persistentVolumeClaimName")
            .and_then(Value::as_str)
            == Some(name)
            && s(vs, "/metadata/namespace") == ns
    })
}

/// `hasSnapshotDataUpload`: exactly one DataUpload result ConfigMap of
/// this restore for the claim (the caller lists them by label).
pub fn has_snapshot_data_upload(pv: &Value, results: &[Value]) -> bool {
    claim_ref(pv).is_some() && results.len() == 1
}

/// Velero's PV decision. With a `BackupVolumeInfo` for the PV, its
/// `backupMethod` decides (an empty method is a volume whose data was
/// skipped: the reclaim policy decides); without one, the pre-1.13 checks
/// in Velero's order: native snapshot, pod-volume backup, CSI snapshot or
/// DataUpload, Delete policy.
pub fn pv_decision(item: &Value, ev: &VolumeEvidence) -> PvDecision {
    if item.get("kind").and_then(Value::as_str) != Some("PersistentVolume") {
        return PvDecision::NotAPv;
    }
    let name = s(item, "/metadata/name");
    let policy = || {
        if has_delete_reclaim_policy(item) {
            PvDecision::DeletePolicy
        } else {
            PvDecision::AsIs
        }
    };
    if let Some(info) = ev.volume_infos.iter().find(|i| s(i, "/pvName") == name) {
        return match s(info, "/backupMethod") {
            "NativeSnapshot" => PvDecision::NativeSnapshot,
            "PodVolumeBackup" => PvDecision::PodVolumeBackup,
            "CSISnapshot" => PvDecision::CsiSnapshot,
            _ => policy(),
        };
    }
    if ev
        .native_snapshots
        .iter()
        .any(|sn| s(sn, "/spec/persistentVolumeName") == name)
    {
        PvDecision::NativeSnapshot
    } else if has_pod_volume_backup(item, ev.pod_volume_backups) {
        PvDecision::PodVolumeBackup
    } else if has_csi_volume_snapshot(item, ev.csi_volume_snapshots)
        || has_snapshot_data_upload(item, ev.data_upload_results)
    {
        PvDecision::CsiSnapshot
    } else {
        policy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::fixtures::{trident_csi_pv, trident_pvc};
    use serde_json::json;

    fn pv(policy: &str) -> Value {
        trident_csi_pv(
            "pvc-1",
            "u",
            "trident_pvc_1",
            "file",
            "1Gi",
            "shop",
            "data",
            policy,
        )
    }

    fn info(method: &str) -> Value {
        json!({"pvName": "pvc-1", "pvcName": "data", "pvcNamespace": "shop", "backupMethod": method})
    }

    #[test]
    fn without_data_delete_reprovisions_and_anything_else_is_restored_as_is() {
        let ev = VolumeEvidence::default();
        assert_eq!(pv_decision(&pv("Delete"), &ev), PvDecision::DeletePolicy);
        assert_eq!(pv_decision(&pv("Retain"), &ev), PvDecision::AsIs);
        assert_eq!(pv_decision(&pv("Recycle"), &ev), PvDecision::AsIs);
        let mut none = pv("Delete");
        if let Some(spec) = none["spec"].as_object_mut() {
            spec.remove("persistentVolumeReclaimPolicy");
        }
        assert_eq!(
            pv_decision(&none, &ev),
            PvDecision::AsIs,
            "a missing policy is not Delete"
        );
        let pvc = trident_pvc("shop", "data", "pvc-1", "ontap-nas", "1Gi");
        assert_eq!(pv_decision(&pvc, &ev), PvDecision::NotAPv);
    }

    #[test]
    fn volume_info_methods_reprovision_whatever_the_policy() {
        for (method, want) in [
            ("PodVolumeBackup", PvDecision::PodVolumeBackup),
            ("CSISnapshot", PvDecision::CsiSnapshot),
            ("NativeSnapshot", PvDecision::NativeSnapshot),
        ] {
            let infos = [info(method)];
            let ev = VolumeEvidence {
                volume_infos: &infos,
                ..Default::default()
            };
            assert_eq!(pv_decision(&pv("Retain"), &ev), want, "{method}");
        }
        let skipped = [info("")];
        let ev = VolumeEvidence {
            volume_infos: &skipped,
            ..Default::default()
        };
        assert_eq!(pv_decision(&pv("Retain"), &ev), PvDecision::AsIs);
        assert_eq!(pv_decision(&pv("Delete"), &ev), PvDecision::DeletePolicy);
        assert!(PvDecision::PodVolumeBackup.reprovisions());
        assert!(PvDecision::CsiSnapshot.reprovisions());
        assert!(!PvDecision::AsIs.reprovisions());
        assert!(!PvDecision::NativeSnapshot.reprovisions());
    }

    #[test]
    fn legacy_backups_are_matched_through_the_claim() {
        let pvb = json!({"metadata": {"annotations": {"velero.io/pvc-name": "data"}},
                         "spec": {"pod": {"namespace": "shop", "name": "web-0"}}});
        let other_ns = json!({"metadata": {"annotations": {"velero.io/pvc-name": "data"}},
                         "spec": {"pod": {"namespace": "other", "name": "web-0"}}});
        let pvbs = [pvb];
        let ev = VolumeEvidence {
            pod_volume_backups: &pvbs,
            ..Default::default()
        };
        assert_eq!(pv_decision(&pv("Retain"), &ev), PvDecision::PodVolumeBackup);
        let wrong = [other_ns];
        let ev = VolumeEvidence {
            pod_volume_backups: &wrong,
            ..Default::default()
        };
        assert_eq!(pv_decision(&pv("Retain"), &ev), PvDecision::AsIs);
        let vs = [json!({"metadata": {"namespace": "shop", "name": "snap"},
                         "spec": {"source": {"persistentVolumeClaimName": "data"}}})];
        let ev = VolumeEvidence {
            csi_volume_snapshots: &vs,
            ..Default::default()
        };
        assert_eq!(pv_decision(&pv("Retain"), &ev), PvDecision::CsiSnapshot);
        let dur = [json!({"kind": "ConfigMap"})];
        let ev = VolumeEvidence {
            data_upload_results: &dur,
            ..Default::default()
        };
        assert_eq!(pv_decision(&pv("Retain"), &ev), PvDecision::CsiSnapshot);
        let native = [json!({"spec": {"persistentVolumeName": "pvc-1"}})];
        let ev = VolumeEvidence {
            native_snapshots: &native,
            ..Default::default()
        };
        assert_eq!(pv_decision(&pv("Delete"), &ev), PvDecision::NativeSnapshot);
        let mut static_pv = pv("Retain");
        if let Some(spec) = static_pv["spec"].as_object_mut() {
            spec.remove("claimRef");
        }
        let ev = VolumeEvidence {
            csi_volume_snapshots: &vs,
            ..Default::default()
        };
        assert_eq!(
            pv_decision(&static_pv, &ev),
            PvDecision::AsIs,
            "no claimRef: no snapshot match"
        );
    }
}
