//! NFS export policy of a volume to import, against the restore cluster's
//! Nodes. Trident leaves an imported volume's export policy as SVM-DR
//! replicated it unless the import is managed on a backend with
//! `autoExportPolicy` (`storage_drivers/ontap/ontap_nas.go` Import), so the
//! DR nodes' mounts are refused when the rules admit only the primary's.

use svmdr::readiness::{AccessWanted, SvmFacts, Transport, check_volume_exports};
use svmdr::trident::backend::Backend;
use svmdr::trident::volume::Protocol;

use super::RestoreInfo;
use crate::config::PluginConfig;
use crate::storage::{ClusterError, DrStorage};

/// Why the export policy check failed.
pub enum Denied {
    /// The Nodes could not be read.
    Cluster(ClusterError),
    /// The policy would refuse the DR nodes: policy, rule, nodes and fix.
    Policy(String),
}

/// Checks that the volume's export policy admits every Node of the restore
/// cluster (NFS only; skipped for a managed import with `autoExportPolicy`).
///
/// # Errors
/// [`Denied`].
pub async fn check(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    backend: &Backend,
    facts: &SvmFacts,
    volume: &str,
    protocol: Protocol,
) -> Result<(), Denied> {
    // NFS only: an SMB share's access is its share ACL, not an export policy.
    if protocol != Protocol::File || Transport::for_backend(backend) != Transport::Nfs {
        return Ok(());
    }
    if backend.auto_export_policy && cfg.import_managed {
        tracing::debug!(backend = %backend.name, "autoExportPolicy: Trident sets the export policy of the managed import");
        return Ok(());
    }
    let nodes = storage.nodes(&restore.key).await.map_err(Denied::Cluster)?;
    if nodes.is_empty() {
        tracing::warn!(backend = %backend.name, "the restore cluster lists no Nodes: the export policy of {volume} is not checked");
        return Ok(());
    }
    let report = check_volume_exports(facts, volume, &nodes, &AccessWanted::trident_nfs());
    for w in report.warnings() {
        tracing::warn!(backend = %backend.name, "{w}");
    }
    if !report.denied().is_empty() {
        return Err(Denied::Policy(report.message().unwrap_or_default()));
    }
    if let Some(m) = report.message() {
        // Netgroups or DNS names: ONTAP may admit the nodes; say so, go on.
        tracing::warn!(backend = %backend.name, "{m}");
    }
    Ok(())
}
