//! What the restore cluster says beyond Trident's backends: its Nodes (whose
//! addresses an NFS export policy must admit, read as
//! [`NodeAddresses::from_node`] reads them), the Trident version, and the
//! PodVolumeBackups of the backup being restored. Each is read once per
//! restore (one LIST), whatever the item count.

use std::sync::Arc;

use svmdr::readiness::NodeAddresses;
use svmdr::trident::version::TridentVersion;

use super::{ClusterError, DrStorage, bounded, name_of, text};

/// One PodVolumeBackup of the backup: the PVC whose data it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodVolumeBackupInfo {
    /// Its name.
    pub name: String,
    /// `spec.pod.namespace`.
    pub namespace: String,
    /// The `velero.io/pvc-name` annotation.
    pub pvc: String,
}

impl DrStorage {
    /// The restore cluster's Nodes.
    ///
    /// # Errors
    /// The Kubernetes API failing.
    pub async fn nodes(&self, restore: &str) -> Result<Arc<Vec<NodeAddresses>>, ClusterError> {
        self.nodes
            .get_or_try_init(&(restore.to_string(), String::new()), || async {
                let api = self.kube().await?;
                let items = bounded("listing Nodes", api.list("/api/v1/nodes", None)).await?;
                Ok(Arc::new(
                    items.iter().map(NodeAddresses::from_node).collect(),
                ))
            })
            .await
    }

    /// The Trident version running in the restore cluster: its
    /// `TridentVersion` object in `ns`, else a `TridentOrchestrator`'s
    /// `status.version`; `None` when neither says.
    ///
    /// # Errors
    /// The Kubernetes API failing on the TridentVersion list.
    pub async fn trident_version(
        &self,
        restore: &str,
        ns: &str,
    ) -> Result<Option<TridentVersion>, ClusterError> {
        self.versions
            .get_or_try_init(&(restore.to_string(), ns.to_string()), || async {
                let api = self.kube().await?;
                let path = format!("/apis/trident.netapp.io/v1/namespaces/{ns}/tridentversions");
                let items = bounded(
                    &format!("listing TridentVersions in {ns}"),
                    api.list(&path, None),
                )
                .await?;
                if let Some(v) = items.iter().find_map(TridentVersion::from_object) {
                    return Ok(Some(v));
                }
                // Operator installs also report it on the cluster-scoped TORC.
                let torcs = bounded(
                    "listing TridentOrchestrators",
                    api.list("/apis/trident.netapp.io/v1/tridentorchestrators", None),
                )
                .await
                .unwrap_or_default();
                Ok(torcs.iter().find_map(TridentVersion::from_object))
            })
            .await
    }

    /// The PodVolumeBackups of `backup` in Velero's namespace (label
    /// `velero.io/backup-name`); none when the CRD is absent.
    ///
    /// # Errors
    /// The Kubernetes API failing.
    pub async fn pod_volume_backups(
        &self,
        restore: &str,
        backup: &str,
    ) -> Result<Arc<Vec<PodVolumeBackupInfo>>, ClusterError> {
        let ns = self.velero_namespace.clone();
        self.pvbs
            .get_or_try_init(&(restore.to_string(), backup.to_string()), || async {
                let api = self.kube().await?;
                let path = format!("/apis/velero.io/v1/namespaces/{ns}/podvolumebackups");
                // Velero labels with the name cut to a valid label value.
                let selector = format!(
                    "velero.io/backup-name={}",
                    svmdr::restore::names::valid_name(backup)
                );
                let items = match bounded(
                    &format!("listing PodVolumeBackups of backup {backup} in {ns}"),
                    api.list(&path, Some(&selector)),
                )
                .await
                {
                    Ok(items) => items,
                    Err(ClusterError::Kube {
                        code: Some(404), ..
                    }) => Vec::new(),
                    Err(e) => return Err(e),
                };
                Ok(Arc::new(
                    items
                        .iter()
                        .map(|p| PodVolumeBackupInfo {
                            name: name_of(p),
                            namespace: text(p, "/spec/pod/namespace"),
                            pvc: text(p, "/metadata/annotations/velero.io~1pvc-name"),
                        })
                        .collect(),
                ))
            })
            .await
    }
}
