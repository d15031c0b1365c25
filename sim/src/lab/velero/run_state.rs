//! What a restore run is given ([`RunnerConfig`]) and what it leaves: its
//! [`RestoreResult`] and the Restore's `status`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::backup::BackupStore;
use crate::kube::KubeHandle;
use crate::lab::controllers::ClusterControllers;

/// Called with the Restore's name when the runner picks it up (faults).
pub type StartHook = Arc<dyn Fn(&str) + Send + Sync>;

/// How the runner works.
#[derive(Clone)]
pub struct RunnerConfig {
    /// The `velero-plugin-svmdr` binary (`None`: Velero's built-in
    /// actions only).
    pub plugin: Option<PathBuf>,
    /// Environment for the plugin (`KUBECONFIG` of the DR cluster,
    /// `VELERO_NAMESPACE`).
    pub plugin_env: Vec<(String, String)>,
    /// Velero's namespace.
    pub velero_namespace: String,
    /// Backup contents.
    pub backups: BackupStore,
    /// The DR cluster's simulated controllers (binding, Trident import)
    /// and its ONTAP simulator.
    pub controllers: ClusterControllers,
    /// The DR site's ONTAP cluster key in the simulator (`dr`), where
    /// pod volume restores write.
    pub ontap_cluster: String,
    /// Velero server `--features` (`EnableCSI` runs the CSI actions).
    pub features: Vec<String>,
    /// Velero server `--resource-timeout` (the finalizer's wait for a
    /// re-provisioned PVC to bind; Velero's default is 10 minutes).
    pub resource_timeout: Duration,
    /// Velero server `--fs-backup-timeout` (the wait for PodVolumeRestores;
    /// Velero's default is 4 hours).
    pub fs_backup_timeout: Duration,
    /// Not a Velero setting: Velero puts no deadline on a restore or on a
    /// plugin's Execute. This bound only exists so that a test cannot hang
    /// forever; keep it well above the plugin's own waits.
    pub safety_bound: Duration,
    /// Run when a restore starts (fault injection).
    pub on_start: Option<StartHook>,
}

impl std::fmt::Debug for RunnerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunnerConfig")
            .field("plugin", &self.plugin)
            .field("velero_namespace", &self.velero_namespace)
            .field("features", &self.features)
            .finish_non_exhaustive()
    }
}

/// What one restore did (also written to the results ConfigMap).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreResult {
    /// Restore name.
    pub name: String,
    /// Final phase.
    pub phase: String,
    /// Velero's errors (each makes the restore PartiallyFailed).
    pub errors: Vec<String>,
    /// Velero's warnings.
    pub warnings: Vec<String>,
    /// The restore log (info lines).
    pub log: Vec<String>,
    /// `Execute` calls made to the plugin (`resource id` each).
    pub executed: Vec<String>,
    /// Items restored.
    pub items_restored: usize,
    /// Items selected.
    pub total_items: usize,
    /// Backed-up data a PodVolumeRestore wrote into a DR volume
    /// (`ns/pod volume=<v> pvc=<ns/claim> ontap=<svm>/<volume> write=<id> bytes=<n>`).
    pub pod_volume_writes: Vec<String>,
    /// PVCs whose Trident import annotations had no effect (`ns/name: why`).
    pub ignored_imports: Vec<String>,
    /// Async operations started / completed / failed.
    pub operations: (usize, usize, usize),
    /// Every phase the Restore went through after `New`, in order.
    pub phases: Vec<String>,
}

/// Merges `patch` into the Restore's `status` (Velero patches the object).
pub fn set_status(kube: &KubeHandle, ns: &str, name: &str, patch: Value) {
    if let Some(mut r) = kube.get("velero.io/v1", "Restore", Some(ns), name) {
        let status = r
            .as_object_mut()
            .map(|o| o.entry("status").or_insert_with(|| json!({})));
        if let (Some(st), Some(p)) = (status.and_then(Value::as_object_mut), patch.as_object()) {
            for (k, v) in p {
                st.insert(k.clone(), v.clone());
            }
        }
        if let Err(e) = kube.apply(r) {
            tracing::warn!(%e, "lab restore runner: cannot update Restore {ns}/{name}");
        }
    }
}
