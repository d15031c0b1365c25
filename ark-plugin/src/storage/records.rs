//! What this restore learnt from each Trident CSI PV, kept for its PVC: the
//! PV itself is skipped, and its PVC imports the volume the PV described.

use svmdr::trident::backend::Backend;
use svmdr::trident::volume::Protocol;

use super::DrStorage;

/// A Trident CSI PV of the backup, checked against the restore cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvRecord {
    /// PV name.
    pub pv_name: String,
    /// `volumeAttributes.internalName`: the ONTAP volume (SVM-DR keeps names).
    pub internal_name: String,
    /// `volumeAttributes.backendUUID` on the backup's cluster.
    pub source_backend_uuid: String,
    /// The restore cluster's backend that holds the volume.
    pub backend: Backend,
    /// `volumeAttributes.protocol`.
    pub protocol: Protocol,
    /// `spec.capacity.storage`, in bytes.
    pub capacity_bytes: Option<u64>,
}

impl DrStorage {
    /// Keeps what PV `record.pv_name` said, for its PVC.
    pub fn record_pv(&self, restore: &str, record: PvRecord) {
        self.pv_records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((restore.to_string(), record.pv_name.clone()), record);
    }

    /// What this restore's PV action recorded for PV `name`.
    pub fn pv_record(&self, restore: &str, name: &str) -> Option<PvRecord> {
        self.pv_records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(restore.to_string(), name.to_string()))
            .cloned()
    }
}
