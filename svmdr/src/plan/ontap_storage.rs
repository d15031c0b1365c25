//! Implements [`Storage`] on [`OntapClient`]: one instance per cluster.
//!
//! ONTAP calls per observation of one site: `GET /api/svm/svms?name=`,
//! `GET /api/snapmirror/relationships?destination.path=` (concurrently), plus
//! `GET /api/storage/volumes` and `GET /api/network/ip/interfaces` for
//! verification steps.

use chrono::Utc;

use super::storage::{
    LifView, NewRelationship, PeerState, PeerView, Reason, RelState, RelTarget, RelView, Storage,
    StorageError, StorageErrorKind, StorageResult, SvmState, SvmView, TransferView, VolumeView,
};
use crate::ontap::models::{self, IdentityPreservation, RelationshipState};
use crate::ontap::{CreateRelationship, DeleteOptions, PatchOptions};
use crate::ontap::{ErrorKind, OntapClient, OntapError};

/// A [`Storage`] backed by the ONTAP REST client.
#[derive(Clone, Debug)]
pub struct OntapStorage {
    client: OntapClient,
}

impl OntapStorage {
    /// Wraps a client (its name is the label in messages).
    pub fn new(client: OntapClient) -> Self {
        Self { client }
    }

    /// The client.
    pub fn client(&self) -> &OntapClient {
        &self.client
    }
}

/// Converts a client error, keeping ONTAP's code and message.
pub fn storage_error(e: OntapError) -> StorageError {
    let (kind, message) = match &e.kind {
        ErrorKind::Unauthorized { .. } => (StorageErrorKind::Unauthorized, e.detail()),
        ErrorKind::PermissionDenied(_) => (StorageErrorKind::NotPermitted, e.detail()),
        ErrorKind::Tls { detail } if detail.to_ascii_lowercase().contains("certificate") => {
            (StorageErrorKind::Tls, e.detail())
        }
        ErrorKind::NotFound(f)
        | ErrorKind::Duplicate(f)
        | ErrorKind::InvalidField(f)
        | ErrorKind::WrongState(f)
        | ErrorKind::Api(f) => (
            StorageErrorKind::Api,
            format!("{} (HTTP {})", f.message, f.http_status),
        ),
        ErrorKind::JobFailed { message, job, .. } => (
            StorageErrorKind::JobFailed,
            format!("{message} (job {job})"),
        ),
        // A TLS failure also means "cannot talk to it": a cluster going down
        // mid-connection surfaces as a TLS EOF. The message keeps the detail.
        ErrorKind::Connect { .. } | ErrorKind::Transport { .. } | ErrorKind::Tls { .. } => {
            (StorageErrorKind::Unreachable, e.kind.to_string())
        }
        ErrorKind::Timeout { .. } | ErrorKind::JobTimeout { .. } => {
            (StorageErrorKind::Timeout, e.kind.to_string())
        }
        _ => (StorageErrorKind::Other, e.kind.to_string()),
    };
    StorageError {
        cluster: e.cluster.clone(),
        code: e.code().map(String::from),
        call: e.call.clone(),
        message,
        kind,
    }
}

fn svm_view(s: models::Svm) -> SvmView {
    SvmView {
        uuid: s.uuid.unwrap_or_default(),
        name: s.name.unwrap_or_default(),
        state: s
            .state
            .map(|x| SvmState::parse(x.as_str()))
            .unwrap_or_else(|| SvmState::Other("unknown".into())),
        subtype: s
            .subtype
            .map(|x| x.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// Maps a relationship record.
pub fn rel_view(r: models::Relationship) -> RelView {
    RelView {
        uuid: r.uuid.clone().unwrap_or_default(),
        source_path: r.source_path().to_string(),
        source_cluster: r
            .source
            .as_ref()
            .and_then(|s| s.cluster.as_ref())
            .and_then(|c| c.name.clone()),
        destination_path: r.destination_path().to_string(),
        state: r
            .state
            .map(|s| RelState::parse(s.as_str()))
            .unwrap_or_else(|| RelState::Other("unknown".into())),
        healthy: r.healthy,
        unhealthy_reason: r
            .unhealthy_reason
            .unwrap_or_default()
            .into_iter()
            .map(|u| Reason {
                code: u.code.unwrap_or_default(),
                message: u.message.unwrap_or_default(),
            })
            .collect(),
        transfer: r.transfer.map(|t| TransferView {
            uuid: t.uuid,
            state: t.state.map(|s| s.as_str().to_string()).unwrap_or_default(),
            end_time: t.end_time.map(|e| e.with_timezone(&Utc)),
        }),
        lag: r.lag_time,
        policy: r.policy.and_then(|p| p.name),
        identity_preservation: r.identity_preservation.map(|i| i.as_str().to_string()),
        transfer_schedule: r.transfer_schedule.and_then(|s| s.name),
    }
}

/// The peer whose local or remote name is `remote_cluster`; with no name,
/// the only peer.
fn pick_peer(
    mut peers: Vec<models::ClusterPeer>,
    remote_cluster: Option<&str>,
) -> Option<models::ClusterPeer> {
    match remote_cluster {
        Some(want) => peers.into_iter().find(|p| {
            p.name.as_deref() == Some(want)
                || p.remote.as_ref().and_then(|r| r.name.as_deref()) == Some(want)
        }),
        None if peers.len() == 1 => peers.pop(),
        None => None,
    }
}

fn peer_view(p: models::ClusterPeer) -> PeerView {
    PeerView {
        name: p.name.unwrap_or_default(),
        remote_name: p.remote.and_then(|r| r.name),
        state: p
            .status
            .and_then(|s| s.state)
            .map(|s| PeerState::parse(s.as_str()))
            .unwrap_or_else(|| PeerState::Other("unknown".into())),
    }
}

fn identity(s: &str) -> Option<IdentityPreservation> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .ok()
        .filter(|i| *i != IdentityPreservation::Unknown)
}

impl Storage for OntapStorage {
    fn label(&self) -> String {
        self.client.name().to_string()
    }

    async fn cluster_name(&self) -> StorageResult<String> {
        let c = self.client.cluster().await.map_err(storage_error)?;
        Ok(c.name.unwrap_or_default())
    }

    async fn svm(&self, name: &str) -> StorageResult<Option<SvmView>> {
        Ok(self
            .client
            .svm_by_name(name)
            .await
            .map_err(storage_error)?
            .map(svm_view))
    }

    async fn relationship(&self, destination_path: &str) -> StorageResult<Option<RelView>> {
        Ok(self
            .client
            .relationship_by_destination(destination_path)
            .await
            .map_err(storage_error)?
            .map(rel_view))
    }

    async fn peer_alias(&self, local_svm: &str, peer_svm: &str) -> StorageResult<Option<String>> {
        let peers = self
            .client
            .svm_peers(&crate::ontap::SvmPeerQuery {
                svm: Some(local_svm.to_string()),
                peer_svm: Some(peer_svm.to_string()),
                ..Default::default()
            })
            .await
            .map_err(storage_error)?;
        Ok(peers.into_iter().find_map(|p| p.name))
    }

    async fn cluster_peer(&self, remote_cluster: Option<&str>) -> StorageResult<Option<PeerView>> {
        let peers = self.client.cluster_peers().await.map_err(storage_error)?;
        Ok(pick_peer(peers, remote_cluster).map(peer_view))
    }

    async fn volumes(&self, svm: &str) -> StorageResult<Vec<VolumeView>> {
        let vols = self
            .client
            .volumes(&crate::ontap::VolumeQuery {
                svm: Some(svm.to_string()),
                ..Default::default()
            })
            .await
            .map_err(storage_error)?;
        Ok(vols
            .into_iter()
            .map(|v| VolumeView {
                name: v.name.unwrap_or_default(),
                state: v.state.map(|s| s.as_str().to_string()).unwrap_or_default(),
                kind: v.kind.map(|s| s.as_str().to_string()).unwrap_or_default(),
                is_svm_root: v.is_svm_root.unwrap_or(false),
            })
            .collect())
    }

    async fn data_lifs(&self, svm: &str) -> StorageResult<Vec<LifView>> {
        let lifs = self
            .client
            .ip_interfaces(&crate::ontap::InterfaceQuery {
                svm: Some(svm.to_string()),
                ..Default::default()
            })
            .await
            .map_err(storage_error)?;
        Ok(lifs
            .into_iter()
            .filter(|l| l.has_service("data_nfs") || l.has_service("data_iscsi"))
            .map(|l| LifView {
                address: l.address().map(String::from),
                name: l.name.unwrap_or_default(),
                state: l.state.map(|s| s.as_str().to_string()).unwrap_or_default(),
                enabled: l.enabled.unwrap_or(false),
            })
            .collect())
    }

    async fn set_svm_state(&self, uuid: &str, running: bool) -> StorageResult<()> {
        let state = if running {
            models::SvmState::Running
        } else {
            models::SvmState::Stopped
        };
        self.client
            .set_svm_state(uuid, state)
            .await
            .map_err(storage_error)
    }

    async fn start_transfer(&self, rel_uuid: &str) -> StorageResult<String> {
        self.client
            .start_transfer(rel_uuid)
            .await
            .map_err(storage_error)
    }

    async fn abort_transfer(&self, rel_uuid: &str, transfer_uuid: &str) -> StorageResult<()> {
        self.client
            .abort_transfer(rel_uuid, transfer_uuid)
            .await
            .map(|_| ())
            .map_err(storage_error)
    }

    async fn set_relationship_state(
        &self,
        rel_uuid: &str,
        target: RelTarget,
        quick_resync: bool,
    ) -> StorageResult<()> {
        let state = match target {
            RelTarget::Paused => RelationshipState::Paused,
            RelTarget::BrokenOff => RelationshipState::BrokenOff,
            RelTarget::Snapmirrored => RelationshipState::Snapmirrored,
        };
        self.client
            .patch_relationship_state(
                rel_uuid,
                state,
                PatchOptions {
                    quick_resync,
                    ..Default::default()
                },
            )
            .await
            .map_err(storage_error)
    }

    async fn create_relationship(&self, rel: &NewRelationship) -> StorageResult<String> {
        let created = self
            .client
            .create_relationship(&CreateRelationship {
                source_path: rel.source_path.clone(),
                source_cluster: Some(rel.source_cluster.clone()),
                destination_path: rel.destination_path.clone(),
                policy: rel.policy.clone(),
                identity_preservation: rel.identity_preservation.as_deref().and_then(identity),
                transfer_schedule: rel.transfer_schedule.clone(),
            })
            .await
            .map_err(storage_error)?;
        Ok(created.uuid.unwrap_or_default())
    }

    async fn delete_relationship(&self, rel_uuid: &str) -> StorageResult<()> {
        self.client
            .delete_relationship(rel_uuid, DeleteOptions::default())
            .await
            .map_err(storage_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontap::ApiFault;

    #[test]
    fn errors_keep_ontap_code_and_message() {
        let e = OntapError::new(
            "dr (ontap-b)",
            "PATCH /api/snapmirror/relationships/{uuid}",
            ErrorKind::WrongState(ApiFault {
                http_status: 409,
                code: Some("13303808".into()),
                message: "Another transfer is in progress.".into(),
                target: None,
            }),
        );
        let s = storage_error(e);
        assert_eq!(s.code.as_deref(), Some("13303808"));
        assert_eq!(s.kind, StorageErrorKind::Api);
        assert_eq!(s.cluster, "dr (ontap-b)");
        assert!(s.message.contains("Another transfer"), "{}", s.message);
    }

    #[test]
    fn connect_failures_are_unreachable() {
        let e = OntapError::new(
            "primary",
            "GET /api/svm/svms",
            ErrorKind::Connect {
                detail: "connection refused".into(),
            },
        );
        assert!(storage_error(e).is_unreachable());
    }

    fn peer(name: &str, remote: &str, state: &str) -> models::ClusterPeer {
        serde_json::from_value(serde_json::json!({
            "uuid": format!("u-{name}"),
            "name": name,
            "remote": {"name": remote},
            "status": {"state": state},
        }))
        .expect("peer")
    }

    #[test]
    fn peers_match_on_local_or_remote_name() {
        let peers = vec![
            peer("alias-a", "cluster-a", "available"),
            peer("cluster-c", "cluster-c", "unavailable"),
        ];
        let a = pick_peer(peers.clone(), Some("cluster-a")).map(peer_view);
        assert_eq!(
            a.as_ref().map(|p| p.state.clone()),
            Some(PeerState::Available)
        );
        assert_eq!(a.as_ref().map(PeerView::cluster), Some("cluster-a"));
        let c = pick_peer(peers.clone(), Some("cluster-c")).map(peer_view);
        assert_eq!(c.map(|p| p.state), Some(PeerState::Unavailable));
        assert!(pick_peer(peers.clone(), Some("cluster-x")).is_none());
        assert!(
            pick_peer(peers, None).is_none(),
            "two peers, no name: no guess"
        );
        let only = pick_peer(vec![peer("b", "b", "partial")], None).map(peer_view);
        assert_eq!(only.map(|p| p.state), Some(PeerState::Partial));
    }

    #[test]
    fn identity_values_parse() {
        assert_eq!(identity("full"), Some(IdentityPreservation::Full));
        assert_eq!(identity("bogus"), None);
    }
}
