//! `/api/protocols/nfs/services` and `/api/protocols/san/iscsi/services`.

use serde::{Deserialize, Serialize};

use super::{NamedRef, ontap_enum};

ontap_enum! {
    /// NFS service operational state.
    pub enum NfsState {
        /// Online.
        Online => "online",
        /// Offline.
        Offline => "offline",
    }
}

/// The NFS service of one SVM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfsService {
    /// The SVM.
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// Administratively enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Operational state.
    #[serde(default)]
    pub state: Option<NfsState>,
    /// Protocol versions.
    #[serde(default)]
    pub protocol: Option<NfsProtocol>,
}

/// NFS versions enabled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NfsProtocol {
    /// NFSv3.
    #[serde(default)]
    pub v3_enabled: Option<bool>,
    /// NFSv4.0.
    #[serde(default)]
    pub v40_enabled: Option<bool>,
    /// NFSv4.1.
    #[serde(default)]
    pub v41_enabled: Option<bool>,
}

/// The iSCSI service of one SVM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IscsiService {
    /// The SVM.
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// Enabled (false blocks all iSCSI).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The target.
    #[serde(default)]
    pub target: Option<IscsiTarget>,
}

/// An iSCSI target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IscsiTarget {
    /// IQN.
    #[serde(default)]
    pub name: Option<String>,
    /// Alias.
    #[serde(default)]
    pub alias: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_services() {
        let n: NfsService = serde_json::from_str(
            r#"{"svm":{"name":"s"},"enabled":true,"state":"online","protocol":{"v3_enabled":true,"v40_enabled":false,"v41_enabled":true}}"#,
        )
        .unwrap();
        assert_eq!(n.state, Some(NfsState::Online));
        let i: IscsiService = serde_json::from_str(
            r#"{"svm":{"name":"s"},"enabled":true,"target":{"name":"iqn.1992-08.com.netapp:sn.1","alias":"s"}}"#,
        )
        .unwrap();
        assert_eq!(i.target.unwrap().alias.as_deref(), Some("s"));
    }
}
