//! `/api/cluster/peers` and `/api/svm/peers` records.

use serde::{Deserialize, Serialize};

use super::cluster::Version;
use super::{NamedRef, ontap_enum};
use crate::secret::Secret;

ontap_enum! {
    /// Cluster peer reachability (`status.state`).
    pub enum PeerAvailability {
        /// Every local node reaches every remote node.
        Available => "available",
        /// Some nodes reach each other.
        Partial => "partial",
        /// No connectivity.
        Unavailable => "unavailable",
        /// The other side has not finished peering.
        Pending => "pending",
        /// Unidentified.
        Unidentified => "unidentified",
    }
}

ontap_enum! {
    /// Cluster peer authentication state (`authentication.state`).
    pub enum PeerAuthState {
        /// Authenticated.
        Ok => "ok",
        /// No authentication.
        Absent => "absent",
        /// Waiting for the other side.
        Pending => "pending",
        /// A problem.
        Problem => "problem",
    }
}

ontap_enum! {
    /// Whether the peer's credentials are in use (`authentication.in_use`).
    pub enum PeerAuthInUse {
        /// In use.
        Ok => "ok",
        /// Absent.
        Absent => "absent",
        /// Revoked.
        Revoked => "revoked",
    }
}

ontap_enum! {
    /// Cluster peer encryption.
    pub enum PeerEncryption {
        /// Unencrypted.
        None => "none",
        /// TLS with a pre-shared key (ONTAP's default).
        TlsPsk => "tls_psk",
    }
}

/// A cluster peer relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPeer {
    /// Peer UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Local name for the remote cluster.
    #[serde(default)]
    pub name: Option<String>,
    /// The remote side.
    #[serde(default)]
    pub remote: Option<ClusterPeerRemote>,
    /// Reachability.
    #[serde(default)]
    pub status: Option<ClusterPeerStatus>,
    /// Authentication.
    #[serde(default)]
    pub authentication: Option<ClusterPeerAuthentication>,
    /// Encryption.
    #[serde(default)]
    pub encryption: Option<ClusterPeerEncryption>,
    /// IPspace.
    #[serde(default)]
    pub ipspace: Option<NamedRef>,
    /// The peer's ONTAP release.
    #[serde(default)]
    pub version: Option<Version>,
}

impl ClusterPeer {
    /// Healthy: `status.state=available`, `authentication.state=ok` and
    /// `authentication.in_use=ok`.
    pub fn is_healthy(&self) -> bool {
        let status = self.status.as_ref().and_then(|s| s.state);
        let auth = self.authentication.as_ref();
        status == Some(PeerAvailability::Available)
            && auth.and_then(|a| a.state) == Some(PeerAuthState::Ok)
            && auth.and_then(|a| a.in_use) == Some(PeerAuthInUse::Ok)
    }
}

/// The remote cluster as seen by the local one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPeerRemote {
    /// The peer's intercluster LIF addresses.
    #[serde(default)]
    pub ip_addresses: Option<Vec<String>>,
    /// The remote cluster's own name.
    #[serde(default)]
    pub name: Option<String>,
    /// The remote cluster's serial number.
    #[serde(default)]
    pub serial_number: Option<String>,
}

/// Reachability of the peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPeerStatus {
    /// State.
    #[serde(default)]
    pub state: Option<PeerAvailability>,
    /// When the state was last updated (kept as ONTAP wrote it).
    #[serde(default)]
    pub update_time: Option<String>,
}

/// Authentication of the peer. `passphrase` is only returned by a create
/// that generated it, and never prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPeerAuthentication {
    /// State.
    #[serde(default)]
    pub state: Option<PeerAuthState>,
    /// Whether credentials are in use.
    #[serde(default)]
    pub in_use: Option<PeerAuthInUse>,
    /// Expiry (ISO-8601 duration or date-time, as ONTAP wrote it).
    #[serde(default)]
    pub expiry_time: Option<String>,
    /// The generated passphrase (create response only).
    #[serde(default, skip_serializing, deserialize_with = "opt_secret")]
    pub passphrase: Option<Secret>,
}

fn opt_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

/// Encryption of the peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPeerEncryption {
    /// What was asked for.
    #[serde(default)]
    pub proposed: Option<PeerEncryption>,
    /// What is in effect.
    #[serde(default)]
    pub state: Option<PeerEncryption>,
}

ontap_enum! {
    /// SVM peer state.
    pub enum SvmPeerState {
        /// Peered.
        Peered => "peered",
        /// Rejected.
        Rejected => "rejected",
        /// Suspended.
        Suspended => "suspended",
        /// Initiated here, waiting for the remote.
        Initiated => "initiated",
        /// Waiting for a local accept.
        Pending => "pending",
        /// Being set up.
        Initializing => "initializing",
    }
}

ontap_enum! {
    /// What an SVM peer may be used for.
    pub enum SvmPeerApplication {
        /// SnapMirror (what SVM-DR needs).
        Snapmirror => "snapmirror",
        /// File copy.
        FileCopy => "file_copy",
        /// LUN copy (not intercluster).
        LunCopy => "lun_copy",
        /// FlexCache.
        Flexcache => "flexcache",
    }
}

/// An SVM peer relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SvmPeer {
    /// UUID (the same on both clusters).
    #[serde(default)]
    pub uuid: Option<String>,
    /// The local SVM.
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// The peer SVM and its cluster.
    #[serde(default)]
    pub peer: Option<SvmPeerRemote>,
    /// The local alias of the peer SVM (used in SnapMirror source paths).
    #[serde(default)]
    pub name: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<SvmPeerState>,
    /// Applications.
    #[serde(default)]
    pub applications: Option<Vec<SvmPeerApplication>>,
}

/// The peer side of an SVM peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SvmPeerRemote {
    /// Peer SVM.
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// Peer cluster.
    #[serde(default)]
    pub cluster: Option<NamedRef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_peer_health_and_secret_passphrase() {
        let p: ClusterPeer = serde_json::from_str(
            r#"{"uuid":"u","name":"b","status":{"state":"available","update_time":"2026-01-01T00:00:00Z"},
                "authentication":{"state":"ok","in_use":"ok","passphrase":"topsecretpp"},
                "encryption":{"proposed":"tls_psk","state":"tls_psk"},
                "remote":{"ip_addresses":["10.0.0.2"],"name":"ontap-b","serial_number":"1"}}"#,
        )
        .unwrap();
        assert!(p.is_healthy());
        assert!(!format!("{p:?}").contains("topsecretpp"));
        assert!(!serde_json::to_string(&p).unwrap().contains("topsecretpp"));
        let pp = p.authentication.unwrap().passphrase.unwrap();
        assert_eq!(pp.expose(), "topsecretpp");
        let pending: ClusterPeer = serde_json::from_str(
            r#"{"status":{"state":"pending"},"authentication":{"state":"pending"}}"#,
        )
        .unwrap();
        assert!(!pending.is_healthy());
    }

    #[test]
    fn svm_peer_parses() {
        let p: SvmPeer = serde_json::from_str(
            r#"{"uuid":"u","svm":{"name":"dst"},"peer":{"svm":{"name":"src"},"cluster":{"name":"a"}},
                "name":"src","state":"pending","applications":["snapmirror","something_new"]}"#,
        )
        .unwrap();
        assert_eq!(p.state, Some(SvmPeerState::Pending));
        assert_eq!(
            p.applications,
            Some(vec![
                SvmPeerApplication::Snapmirror,
                SvmPeerApplication::Unknown
            ])
        );
    }
}
