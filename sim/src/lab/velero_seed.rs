//! Lab set-up for Velero scenarios: more backups of the sample
//! application, and a `velero.io/change-storage-class` mapping.

use anyhow::{Context, Result};

use super::velero::BackupKind;
use super::velero::builtin_actions::storage_class_mapping_configmap;
use super::{Lab, app, simulated};

impl Lab {
    /// Makes the backup of the sample application taken with `kind`
    /// (named [`app::backup_name`]), stores it in the backup storage
    /// location, and syncs it into both clusters' Velero namespace as
    /// Velero's backup sync controller does (the Backup object and its
    /// PodVolumeBackups). Returns the backup's name.
    ///
    /// # Errors
    /// A cluster rejected an object.
    pub fn seed_backup(&self, kind: BackupKind) -> Result<String> {
        let contents = app::backup_contents(&self.primary_trident, kind);
        let name = contents.name().to_string();
        for kube in [&self.primary_kube, &self.dr_kube] {
            for o in contents.synced_objects() {
                kube.apply(simulated::mark(o))
                    .with_context(|| format!("syncing backup {name} ({})", kind.as_str()))?;
            }
        }
        self.backups.put_contents(contents);
        Ok(name)
    }

    /// Maps storage class `old` to `new` for Velero's
    /// `velero.io/change-storage-class` action on the DR cluster (its
    /// plugin-config ConfigMap in Velero's namespace).
    ///
    /// # Errors
    /// The DR cluster rejected the ConfigMap.
    pub fn map_storage_class(&self, old: &str, new: &str) -> Result<()> {
        self.dr_kube
            .apply(simulated::mark(storage_class_mapping_configmap(
                app::VELERO_NAMESPACE,
                &[(old, new)],
            )))
            .with_context(|| format!("mapping storage class {old} to {new}"))?;
        Ok(())
    }
}
