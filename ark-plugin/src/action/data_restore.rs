//! Velero restoring a PVC's data itself: then importing the replicated
//! volume would be shadowed (a CSI snapshot or data-mover restore
//! provisions a new volume from `dataSource`) or overwritten (a file-system
//! restore writes the backup's old data into the volume). See
//! `docs/velero-restore.md` §11.
//!
//! Upstream: `pkg/restore/actions/csi/pvc_action.go` sets `dataSource` /
//! `dataSourceRef` on the PVC; `pkg/restore/restore.go` (`hasPodVolumeBackup`)
//! matches a PodVolumeBackup to a PVC by `spec.pod.namespace` and the
//! `velero.io/pvc-name` annotation.

use serde_json::Value;

use crate::storage::PodVolumeBackupInfo;

/// Why Velero itself restores this PVC's data, if it does.
pub fn velero_restores_data(
    pvc: &Value,
    namespace: &str,
    name: &str,
    pvbs: &[PodVolumeBackupInfo],
) -> Option<String> {
    for key in ["dataSource", "dataSourceRef"] {
        if let Some(src) = pvc
            .pointer(&format!("/spec/{key}"))
            .filter(|v| !v.is_null())
        {
            let kind = src.get("kind").and_then(Value::as_str).unwrap_or("?");
            let from = src.get("name").and_then(Value::as_str).unwrap_or("?");
            return Some(format!(
                "Velero restores it from {kind} {from} (spec.{key}): the backup carries a CSI snapshot \
                 or a data-mover copy, so the PVC would get a new volume made from that old copy \
                 instead of the replicated one"
            ));
        }
    }
    pvbs.iter()
        .find(|p| p.namespace == namespace && p.pvc == name)
        .map(|p| {
            format!(
                "the backup has a file-system (pod volume) backup of it (PodVolumeBackup {}), and Velero \
                 would write that old data into the imported replicated volume, overwriting newer data",
                p.name
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snapshot_sources_and_pod_volume_backups() {
        let plain = json!({"spec": {}});
        assert!(velero_restores_data(&plain, "shop", "data", &[]).is_none());
        let snap =
            json!({"spec": {"dataSource": {"kind": "VolumeSnapshot", "name": "velero-data-abc"}}});
        let why = velero_restores_data(&snap, "shop", "data", &[]).unwrap();
        assert!(why.contains("velero-data-abc"), "{why}");
        let pvb = PodVolumeBackupInfo {
            name: "nightly-x7".into(),
            namespace: "shop".into(),
            pvc: "data".into(),
        };
        assert!(velero_restores_data(&plain, "shop", "data", std::slice::from_ref(&pvb)).is_some());
        assert!(velero_restores_data(&plain, "shop", "uploads", &[pvb]).is_none());
    }
}
