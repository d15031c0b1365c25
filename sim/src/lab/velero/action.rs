//! What a RestoreItemAction is given and answers (Velero's
//! `RestoreItemActionExecuteInput`/`Output`, plus what the lab's runner
//! gathers for the built-in actions), and the annotations the actions share.

use serde_json::Value;

/// `velero.io/volume-snapshot-name` (PVC annotation set at backup).
pub const ANN_VOLUME_SNAPSHOT_NAME: &str = "velero.io/volume-snapshot-name";
/// `velero.io/data-upload-name` (PVC annotation set at backup).
pub const ANN_DATA_UPLOAD_NAME: &str = "velero.io/data-upload-name";
/// `velero.io/dynamic-pv-restore` (selector label of a data-mover PVC).
pub const DYNAMIC_PV_RESTORE_LABEL: &str = "velero.io/dynamic-pv-restore";

/// What the built-ins read from the cluster, gathered by the runner.
#[derive(Debug, Clone, Default)]
pub struct ActionEnv {
    /// The Restore (its `metadata.uid` and `spec`).
    pub restore: Value,
    /// The Backup object in Velero's namespace (`None` if missing).
    pub backup: Option<Value>,
    /// ConfigMaps in Velero's namespace (plugin configs, DataUpload results).
    pub configmaps: Vec<Value>,
    /// StorageClass names in the cluster.
    pub storage_classes: Vec<String>,
    /// PodVolumeBackups of the backup in Velero's namespace.
    pub pod_volume_backups: Vec<Value>,
    /// Whether the item (a PVC) already exists in its target namespace.
    pub pvc_exists: bool,
    /// A random suffix (Velero's `utilrand.String(5)` / generateName).
    pub random: String,
}

/// An item another item needs (Velero's `AdditionalItems`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    /// Group-resource (`persistentvolumes`).
    pub group_resource: String,
    /// Namespace (empty for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// `RestoreItemActionExecuteOutput`, plus the objects the action created
/// in the cluster itself (the runner creates them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionOutput {
    /// `UpdatedItem`.
    pub item: Value,
    /// `SkipRestore`.
    pub skip_restore: bool,
    /// `OperationID` of an async operation.
    pub operation_id: Option<String>,
    /// `AdditionalItems`.
    pub additional_items: Vec<ItemRef>,
    /// Objects the action creates (ConfigMaps, DataDownloads).
    pub creates: Vec<Value>,
    /// Log lines.
    pub log: Vec<String>,
}

/// An action's answer.
pub type ActionResult = Result<ActionOutput, String>;

pub(crate) fn out(item: Value) -> ActionOutput {
    ActionOutput {
        item,
        ..Default::default()
    }
}
