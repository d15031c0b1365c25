//! `/api/svm/svms` records.

use serde::{Deserialize, Serialize};

use super::{NamedRef, ontap_enum};

ontap_enum! {
    /// SVM state.
    pub enum SvmState {
        /// Starting.
        Starting => "starting",
        /// Running.
        Running => "running",
        /// Stopping.
        Stopping => "stopping",
        /// Stopped.
        Stopped => "stopped",
        /// Being deleted.
        Deleting => "deleting",
        /// Being created.
        Initializing => "initializing",
    }
}

ontap_enum! {
    /// SVM subtype.
    pub enum SvmSubtype {
        /// A normal SVM (also a DR SVM after break).
        Default => "default",
        /// An SVM-DR destination.
        DpDestination => "dp_destination",
        /// MetroCluster source.
        SyncSource => "sync_source",
        /// MetroCluster destination.
        SyncDestination => "sync_destination",
        /// Data engine.
        DataEngine => "data_engine",
    }
}

ontap_enum! {
    /// How an SVM is protected.
    pub enum ProtectionType {
        /// Volume-level.
        Default => "default",
        /// SVM-DR.
        Svmdr => "svmdr",
        /// SnapMirror active sync for NAS.
        SmasNas => "smas_nas",
    }
}

/// One SVM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Svm {
    /// SVM UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// SVM name.
    #[serde(default)]
    pub name: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<SvmState>,
    /// Subtype.
    #[serde(default)]
    pub subtype: Option<SvmSubtype>,
    /// IPspace.
    #[serde(default)]
    pub ipspace: Option<NamedRef>,
    /// NFS allowed/enabled (absent while the SVM is stopped).
    #[serde(default)]
    pub nfs: Option<SvmProtocol>,
    /// iSCSI allowed/enabled (absent while the SVM is stopped).
    #[serde(default)]
    pub iscsi: Option<SvmProtocol>,
    /// Protection.
    #[serde(default)]
    pub snapmirror: Option<SvmSnapmirror>,
}

/// A protocol's switches on an SVM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SvmProtocol {
    /// Enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Allowed.
    #[serde(default)]
    pub allowed: Option<bool>,
}

/// The SVM's protection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SvmSnapmirror {
    /// Whether it is protected.
    #[serde(default)]
    pub is_protected: Option<bool>,
    /// How.
    #[serde(default)]
    pub protection_type: Option<ProtectionType>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_dr_svm() {
        let s: Svm = serde_json::from_str(
            r#"{"uuid":"u","name":"svm1_dr","state":"stopped","subtype":"dp_destination",
                "ipspace":{"name":"Default"},"snapmirror":{"is_protected":false}}"#,
        )
        .unwrap();
        assert_eq!(s.state, Some(SvmState::Stopped));
        assert_eq!(s.subtype, Some(SvmSubtype::DpDestination));
        assert_eq!(serde_json::to_value(SvmState::Running).unwrap(), "running");
    }
}
