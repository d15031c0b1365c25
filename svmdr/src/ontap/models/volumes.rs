//! `/api/storage/volumes` records.

use serde::{Deserialize, Serialize};

use super::{NamedRef, ontap_enum};

ontap_enum! {
    /// Volume state.
    pub enum VolumeState {
        /// Online.
        Online => "online",
        /// Offline.
        Offline => "offline",
        /// Restricted.
        Restricted => "restricted",
        /// Error.
        Error => "error",
        /// Mixed (FlexGroup only).
        Mixed => "mixed",
    }
}

ontap_enum! {
    /// Volume type.
    pub enum VolumeType {
        /// Read-write.
        Rw => "rw",
        /// Data protection (SnapMirror destination, read-only).
        Dp => "dp",
        /// Load-sharing.
        Ls => "ls",
    }
}

/// One volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Volume UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Volume name.
    #[serde(default)]
    pub name: Option<String>,
    /// Owning SVM.
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// State.
    #[serde(default)]
    pub state: Option<VolumeState>,
    /// Type.
    #[serde(rename = "type", default)]
    pub kind: Option<VolumeType>,
    /// `flexvol`, `flexgroup`, ... (kept as text).
    #[serde(default)]
    pub style: Option<String>,
    /// NAS settings (`path` only when mounted).
    #[serde(default)]
    pub nas: Option<VolumeNas>,
    /// The SVM root volume.
    #[serde(default)]
    pub is_svm_root: Option<bool>,
    /// Space.
    #[serde(default)]
    pub space: Option<VolumeSpace>,
    /// Protection.
    #[serde(default)]
    pub snapmirror: Option<VolumeSnapmirror>,
    /// Error flags.
    #[serde(default)]
    pub error_state: Option<VolumeErrorState>,
}

impl Volume {
    /// The junction path, when mounted.
    pub fn junction_path(&self) -> Option<&str> {
        self.nas.as_ref().and_then(|n| n.path.as_deref())
    }
}

/// NAS settings of a volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeNas {
    /// Junction path.
    #[serde(default)]
    pub path: Option<String>,
}

/// Space of a volume, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpace {
    /// Provisioned size.
    #[serde(default)]
    pub size: Option<u64>,
    /// Available.
    #[serde(default)]
    pub available: Option<u64>,
    /// Used.
    #[serde(default)]
    pub used: Option<u64>,
}

/// Protection of a volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSnapmirror {
    /// Whether a SnapMirror relationship protects it.
    #[serde(default)]
    pub is_protected: Option<bool>,
}

/// Error flags of a volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeErrorState {
    /// Bad blocks.
    #[serde(default)]
    pub has_bad_blocks: Option<bool>,
    /// Inconsistent.
    #[serde(default)]
    pub is_inconsistent: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_volume() {
        let v: Volume = serde_json::from_str(
            r#"{"uuid":"u","name":"trident_pvc_1","svm":{"name":"svm1"},"state":"online","type":"dp",
                "style":"flexvol","nas":{"path":"/trident_pvc_1"},"is_svm_root":false,
                "space":{"size":1073741824,"available":1000,"used":10},
                "snapmirror":{"is_protected":true},"error_state":{"has_bad_blocks":false,"is_inconsistent":false}}"#,
        )
        .unwrap();
        assert_eq!(v.kind, Some(VolumeType::Dp));
        assert_eq!(v.junction_path(), Some("/trident_pvc_1"));
        assert_eq!(v.space.unwrap().size, Some(1_073_741_824));
    }
}
