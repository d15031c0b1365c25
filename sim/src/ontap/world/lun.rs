//! The LUN model (the `/api/storage/luns` handlers are in `ontap::luns`).

use super::ids::new_uuid;

/// A LUN.
#[derive(Debug, Clone)]
pub struct Lun {
    /// LUN uuid.
    pub uuid: String,
    /// Cluster key.
    pub cluster: String,
    /// Owning SVM uuid.
    pub svm: String,
    /// The containing volume's name.
    pub volume: String,
    /// The LUN's name inside the volume (`lun0`).
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// `online` or `offline` (administrative).
    pub state: String,
    /// 12-character serial number.
    pub serial: String,
}

impl Lun {
    /// A new LUN.
    pub fn new(cluster: &str, svm: &str, volume: &str, name: &str, size: u64) -> Lun {
        let uuid = new_uuid();
        let serial: String = uuid.replace('-', "").chars().take(12).collect();
        Lun {
            uuid,
            cluster: cluster.into(),
            svm: svm.into(),
            volume: volume.into(),
            name: name.into(),
            size,
            state: "online".into(),
            serial,
        }
    }

    /// `/vol/<volume>/<lun>`.
    pub fn path(&self) -> String {
        format!("/vol/{}/{}", self.volume, self.name)
    }
}
