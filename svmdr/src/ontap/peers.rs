//! Cluster peers (`/api/cluster/peers`, synchronous) and SVM peers
//! (`/api/svm/peers`, async jobs; `/api/svm/peer-permissions`).

use http::Method;
use serde_json::{Value, json};

use super::error::{ErrorKind, OntapError};
use super::models::{ClusterPeer, PeerEncryption, SvmPeer, SvmPeerApplication};
use super::query::Query;
use super::transport::{CallMode, Mutation, OntapClient};
use crate::secret::Secret;

/// Fields read for cluster peers.
const CLUSTER_PEER_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "remote",
    "status",
    "authentication.state",
    "authentication.in_use",
    "authentication.expiry_time",
    "encryption",
    "ipspace",
    "version",
];
/// Fields read for SVM peers.
const SVM_PEER_FIELDS: &[&str] = &["uuid", "svm", "peer", "name", "state", "applications"];

/// What to send when creating a cluster peer.
#[derive(Debug, Clone, Default)]
pub struct CreateClusterPeer {
    /// The peer's intercluster LIF addresses (required with a passphrase).
    pub remote_ips: Vec<String>,
    /// `None` asks ONTAP to generate one (returned once, in the response).
    pub passphrase: Option<Secret>,
    /// Passphrase expiry: ISO-8601 duration (`PT1H`) or date-time; ONTAP
    /// defaults to 1 h and allows at most 7 days.
    pub expiry: Option<String>,
    /// `None` keeps ONTAP's default (`tls_psk`).
    pub encryption: Option<PeerEncryption>,
    /// Local SVMs pre-authorized to peer with the remote cluster.
    pub initial_allowed_svms: Vec<String>,
    /// Local name for the peer (default: the remote cluster's name).
    pub name: Option<String>,
    /// IPspace of the intercluster LIFs (default `Default`).
    pub ipspace: Option<String>,
}

/// A created cluster peer.
#[derive(Debug, Clone)]
pub struct CreatedClusterPeer {
    /// Peer UUID.
    pub uuid: String,
    /// Local name of the peer, when ONTAP returned it.
    pub name: Option<String>,
    /// The passphrase ONTAP generated (only when none was given). Give it to
    /// the other cluster before it expires.
    pub passphrase: Option<Secret>,
}

/// What to change on an existing cluster peer (`PATCH /api/cluster/peers/{uuid}`).
/// `None` leaves a field as it is.
///
/// There is deliberately no `generate_passphrase` here: ONTAP documents the
/// generated passphrase in the create (POST 201) response only, so a PATCH
/// that generated one could leave it unknown. To renew an offer, send an
/// explicit passphrase (see [`crate::peering`]).
#[derive(Debug, Clone, Default)]
pub struct PatchClusterPeer {
    /// New addresses of the peer's intercluster LIFs.
    pub remote_ips: Option<Vec<String>>,
    /// New passphrase (the other side must use it before it expires).
    pub passphrase: Option<Secret>,
    /// New passphrase expiry: ISO-8601 duration (`PT1H`) or date-time, at
    /// most 7 days ahead.
    pub expiry: Option<String>,
    /// New proposed encryption.
    pub encryption: Option<PeerEncryption>,
    /// New local name for the peer.
    pub name: Option<String>,
}

impl PatchClusterPeer {
    /// The JSON body to send.
    pub(crate) fn body(&self) -> Value {
        self.build(|p| json!(p.expose()))
    }

    /// The body with the passphrase replaced by `<redacted>` (for
    /// `--dry-run` and logs).
    pub fn redacted_body(&self) -> Value {
        self.build(|_| json!("<redacted>"))
    }

    /// Whether the PATCH would change nothing.
    pub fn is_empty(&self) -> bool {
        self.remote_ips.is_none()
            && self.passphrase.is_none()
            && self.expiry.is_none()
            && self.encryption.is_none()
            && self.name.is_none()
    }

    fn build(&self, passphrase: impl Fn(&Secret) -> Value) -> Value {
        let mut body = json!({});
        if let Some(ips) = &self.remote_ips {
            body["remote"] = json!({ "ip_addresses": ips });
        }
        let mut auth = serde_json::Map::new();
        if let Some(p) = &self.passphrase {
            auth.insert("passphrase".into(), passphrase(p));
        }
        if let Some(expiry) = &self.expiry {
            auth.insert("expiry_time".into(), json!(expiry));
        }
        if !auth.is_empty() {
            body["authentication"] = Value::Object(auth);
        }
        if let Some(enc) = self.encryption {
            body["encryption"] = json!({ "proposed": enc.as_str() });
        }
        if let Some(name) = &self.name {
            body["name"] = json!(name);
        }
        body
    }
}

/// Filters for [`OntapClient::svm_peers`]; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct SvmPeerQuery {
    /// Local SVM name.
    pub svm: Option<String>,
    /// Peer SVM (real) name.
    pub peer_svm: Option<String>,
    /// Peer cluster name.
    pub peer_cluster: Option<String>,
    /// Local alias of the peer SVM.
    pub name: Option<String>,
    /// UUID.
    pub uuid: Option<String>,
}

impl OntapClient {
    /// Every cluster peer, with health fields.
    ///
    /// # Errors
    /// Transport, TLS, authentication or ONTAP errors.
    pub async fn cluster_peers(&self) -> Result<Vec<ClusterPeer>, OntapError> {
        self.get_collection(
            "/api/cluster/peers",
            &Query::new().fields(CLUSTER_PEER_FIELDS),
        )
        .await
    }

    /// One cluster peer by UUID.
    ///
    /// # Errors
    /// `NotFound` when there is no such peer; otherwise as for any call.
    pub async fn cluster_peer(&self, uuid: &str) -> Result<ClusterPeer, OntapError> {
        let path = format!("/api/cluster/peers/{}", super::path_segment(uuid));
        self.get(&path, &Query::new().fields(CLUSTER_PEER_FIELDS))
            .await
    }

    /// Creates a cluster peer (synchronous, 201). With no passphrase ONTAP
    /// generates one and returns it once.
    ///
    /// # Errors
    /// ONTAP's own checks, e.g. 4656069 (passphrase without remote IPs),
    /// 4655058 (expiry over 7 days), 4653419 (encryption required).
    pub async fn create_cluster_peer(
        &self,
        req: &CreateClusterPeer,
    ) -> Result<CreatedClusterPeer, OntapError> {
        let mut body = json!({});
        if !req.remote_ips.is_empty() {
            body["remote"] = json!({ "ip_addresses": req.remote_ips });
        }
        let mut auth = match &req.passphrase {
            Some(p) => json!({ "passphrase": p.expose() }),
            None => json!({ "generate_passphrase": true }),
        };
        if let Some(expiry) = &req.expiry {
            auth["expiry_time"] = json!(expiry);
        }
        body["authentication"] = auth;
        if let Some(enc) = req.encryption {
            body["encryption"] = json!({ "proposed": enc.as_str() });
        }
        if !req.initial_allowed_svms.is_empty() {
            body["initial_allowed_svms"] = Value::Array(
                req.initial_allowed_svms
                    .iter()
                    .map(|n| json!({ "name": n }))
                    .collect(),
            );
        }
        if let Some(name) = &req.name {
            body["name"] = json!(name);
        }
        if let Some(ipspace) = &req.ipspace {
            body["ipspace"] = json!({ "name": ipspace });
        }
        let path = "/api/cluster/peers";
        let m = self
            .mutate(
                Method::POST,
                path,
                Query::new().param("return_records", "true"),
                Some(&body),
                CallMode::Immediate,
            )
            .await?;
        let record = m.record();
        let uuid = record
            .and_then(|r| r.get("uuid"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| m.location_uuid())
            .ok_or_else(|| self.missing_uuid(&format!("POST {path}")))?;
        let name = record
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let passphrase = record
            .and_then(|r| r.pointer("/authentication/passphrase"))
            .and_then(Value::as_str)
            .map(Secret::new);
        if req.passphrase.is_none() && passphrase.is_none() {
            return Err(self.error(
                &format!("POST {path}"),
                ErrorKind::Malformed {
                    detail: format!(
                        "ONTAP created peer {uuid} but returned no generated passphrase; \
                         delete it and retry, or supply a passphrase"
                    ),
                    excerpt: String::new(),
                },
            ));
        }
        Ok(CreatedClusterPeer {
            uuid,
            name,
            passphrase,
        })
    }

    /// Changes an existing cluster peer (synchronous, 200). Sent once, never
    /// retried: a lost answer may still have changed the passphrase, so the
    /// caller re-reads the peer instead.
    ///
    /// # Errors
    /// `NotFound` when there is no such peer; ONTAP's own checks, e.g.
    /// 4653236 (passphrase too short), 4655058 (expiry over 7 days),
    /// 4653368 (bad peer address); otherwise as for any call.
    pub async fn patch_cluster_peer(
        &self,
        uuid: &str,
        patch: &PatchClusterPeer,
    ) -> Result<(), OntapError> {
        let path = format!("/api/cluster/peers/{}", super::path_segment(uuid));
        if patch.is_empty() {
            return Err(self.error(
                &format!("PATCH {path}"),
                ErrorKind::Config {
                    detail: "nothing to change on the cluster peer".into(),
                },
            ));
        }
        self.mutate(
            Method::PATCH,
            &path,
            Query::new(),
            Some(&patch.body()),
            CallMode::Immediate,
        )
        .await?;
        Ok(())
    }

    /// SVM peers matching `query`.
    ///
    /// # Errors
    /// As for any call.
    pub async fn svm_peers(&self, query: &SvmPeerQuery) -> Result<Vec<SvmPeer>, OntapError> {
        let q = Query::new()
            .fields(SVM_PEER_FIELDS)
            .opt("svm.name", query.svm.clone())
            .opt("peer.svm.name", query.peer_svm.clone())
            .opt("peer.cluster.name", query.peer_cluster.clone())
            .opt("name", query.name.clone())
            .opt("uuid", query.uuid.clone());
        self.get_collection("/api/svm/peers", &q).await
    }

    /// Asks to peer `local_svm` with `peer_svm` on `peer_cluster` (an async
    /// job). The initiator then sees `initiated`, the remote `pending` until
    /// it accepts (unless pre-authorized).
    ///
    /// # Errors
    /// `JobFailed` with ONTAP's code (e.g. 9896086 when the name clashes),
    /// or any call error.
    pub async fn create_svm_peer(
        &self,
        local_svm: &str,
        peer_cluster: &str,
        peer_svm: &str,
        applications: &[SvmPeerApplication],
    ) -> Result<SvmPeer, OntapError> {
        let apps: Vec<&str> = applications.iter().map(|a| a.as_str()).collect();
        let body = json!({
            "svm": { "name": local_svm },
            "peer": { "cluster": { "name": peer_cluster }, "svm": { "name": peer_svm } },
            "applications": apps,
        });
        let path = "/api/svm/peers";
        let m = self
            .mutate(
                Method::POST,
                path,
                Query::new().param("return_records", "true"),
                Some(&body),
                CallMode::Job,
            )
            .await?;
        let uuid = record_uuid(&m);
        let query = SvmPeerQuery {
            svm: Some(local_svm.to_string()),
            peer_svm: Some(peer_svm.to_string()),
            peer_cluster: Some(peer_cluster.to_string()),
            uuid: uuid.clone(),
            ..Default::default()
        };
        let found = self.svm_peers(&query).await?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| self.missing_uuid(&format!("POST {path}")))
    }

    /// Accepts a pending SVM peer on this (the remote) cluster:
    /// `PATCH state=peered` (an async job).
    ///
    /// # Errors
    /// `NotFound`, `JobFailed` (e.g. 26345576 invalid state) or any call
    /// error.
    pub async fn accept_svm_peer(&self, uuid: &str) -> Result<(), OntapError> {
        let path = format!("/api/svm/peers/{}", super::path_segment(uuid));
        self.mutate(
            Method::PATCH,
            &path,
            Query::new(),
            Some(&json!({ "state": "peered" })),
            CallMode::Job,
        )
        .await?;
        Ok(())
    }

    /// Pre-authorizes SVM peer requests from `cluster_peer` for local `svm`
    /// (`*` for every SVM), so they are accepted without a manual step.
    ///
    /// # Errors
    /// `Duplicate` when the permission exists; otherwise any call error.
    pub async fn create_svm_peer_permission(
        &self,
        cluster_peer: &str,
        svm: &str,
        applications: &[SvmPeerApplication],
    ) -> Result<(), OntapError> {
        let apps: Vec<&str> = applications.iter().map(|a| a.as_str()).collect();
        let body = json!({
            "cluster_peer": { "name": cluster_peer },
            "svm": { "name": svm },
            "applications": apps,
        });
        self.mutate(
            Method::POST,
            "/api/svm/peer-permissions",
            Query::new(),
            Some(&body),
            CallMode::Immediate,
        )
        .await?;
        Ok(())
    }

    pub(crate) fn missing_uuid(&self, call: &str) -> OntapError {
        self.error(
            call,
            ErrorKind::Malformed {
                detail: "ONTAP accepted the create but the new object could not be found; \
                         re-read the collection before retrying"
                    .into(),
                excerpt: String::new(),
            },
        )
    }
}

/// `uuid` of the created record, from the body or the `Location` header.
pub(crate) fn record_uuid(m: &Mutation) -> Option<String> {
    m.record()
        .and_then(|r| r.get("uuid"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| m.location_uuid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_body_is_typed_and_redactable() {
        let patch = PatchClusterPeer {
            remote_ips: Some(vec!["10.0.0.1".into()]),
            passphrase: Some(Secret::new("s3cret-passphrase-xyz")),
            expiry: Some("PT1H".into()),
            ..PatchClusterPeer::default()
        };
        assert_eq!(
            patch.body(),
            json!({"remote": {"ip_addresses": ["10.0.0.1"]},
                   "authentication": {"passphrase": "s3cret-passphrase-xyz", "expiry_time": "PT1H"}})
        );
        let shown = patch.redacted_body().to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(!format!("{patch:?}").contains("s3cret"));
        assert!(PatchClusterPeer::default().is_empty());
        assert_eq!(
            PatchClusterPeer {
                encryption: Some(PeerEncryption::TlsPsk),
                ..PatchClusterPeer::default()
            }
            .body(),
            json!({"encryption": {"proposed": "tls_psk"}})
        );
    }
}
