//! The status report: a stable, documented schema (see the module docs of
//! [`crate::status`]). Types only; [`super::evaluate`] builds it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ontap::Failure;
use crate::ontap::models::{Cluster, ClusterPeer, Relationship, SnapmirrorPolicy, Svm, SvmPeer};
use crate::site::SiteRole;

mod backends;
mod velero;
mod watcher;
mod workloads;

pub use backends::TridentBackendStatus;
pub use velero::{LocationStatus, ScheduleStatus, VeleroStatus};
pub use watcher::WatcherView;
pub use workloads::{DrNamespace, DrWorkloads};

pub use crate::API_VERSION;
/// `kind` of the report.
pub const KIND: &str = "Status";

/// What one site's ONTAP cluster told us (collected in one round of calls).
#[derive(Debug, Clone, Default)]
pub struct SiteFacts {
    /// `GET /api/cluster`.
    pub cluster: Cluster,
    /// `GET /api/svm/svms`.
    pub svms: Vec<Svm>,
    /// `GET /api/cluster/peers`.
    pub cluster_peers: Vec<ClusterPeer>,
    /// `GET /api/svm/peers`.
    pub svm_peers: Vec<SvmPeer>,
    /// `GET /api/snapmirror/relationships`: those this cluster is the
    /// destination of.
    pub relationships: Vec<Relationship>,
    /// `GET /api/snapmirror/policies`.
    pub policies: Vec<SnapmirrorPolicy>,
}

/// Who a site is, independent of whether it answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteInfo {
    /// Kube context.
    pub context: Option<String>,
    /// Trident backend name.
    pub backend: Option<String>,
    /// ONTAP address.
    pub endpoint: Option<String>,
    /// Where the ONTAP credentials came from.
    pub credentials: Option<String>,
}

/// One site's input to [`evaluate`]: who it is, and its facts or why they
/// could not be collected.
#[derive(Debug, Clone)]
pub struct SiteInput {
    /// Who.
    pub info: SiteInfo,
    /// Facts, or the error that prevented collecting them.
    pub facts: Result<SiteFacts, SiteFailure>,
}

/// Why a site's facts could not be collected: what kind of failure (a
/// refused login is not "unreachable") and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFailure {
    /// The kind.
    pub failure: Failure,
    /// The whole message (cluster, call, cause, what to do).
    pub message: String,
}

impl SiteFailure {
    /// A failure of kind `failure`.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
        }
    }

    /// The problem sentence for the site `who` (`primary site`, `DR site`).
    pub fn problem(&self, who: &str) -> String {
        match self.failure {
            Failure::Unreachable => format!("{who} unreachable: {}", self.message),
            Failure::AuthenticationFailed => {
                format!("{who}: authentication failed: {}", self.message)
            }
            Failure::NotPermitted => format!("{who}: not permitted: {}", self.message),
            Failure::Tls => format!("{who}: TLS failed: {}", self.message),
            Failure::Other => format!("{who}: {}", self.message),
        }
    }
}

impl From<&crate::ontap::OntapError> for SiteFailure {
    fn from(e: &crate::ontap::OntapError) -> Self {
        Self::new(e.failure(), e.to_string())
    }
}

impl From<&crate::site::SiteError> for SiteFailure {
    fn from(e: &crate::site::SiteError) -> Self {
        Self::new(e.failure(), e.to_string())
    }
}

/// The whole report (`kind: Status`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// Always `svmdr.netapp.io/v1`.
    pub api_version: &'static str,
    /// Always `Status`.
    pub kind: &'static str,
    /// When the facts were collected (RFC 3339, UTC).
    pub generated_at: DateTime<Utc>,
    /// `true` when nothing below is unhealthy.
    pub healthy: bool,
    /// Every problem found, one sentence each (empty when healthy).
    pub problems: Vec<String>,
    /// What could not be checked, without being a problem (e.g. the primary
    /// site is not configured).
    pub notes: Vec<String>,
    /// The two sites.
    pub sites: Sites,
    /// Cluster peer records on both sides that concern this pair.
    pub cluster_peers: Vec<ClusterPeerStatus>,
    /// SVM-DR relationships: forward ones on the DR cluster, reverse ones
    /// on the primary cluster.
    pub relationships: Vec<RelationshipStatus>,
    /// Where the applications' SVMs serve: `primary`, `dr`, `both`,
    /// `mixed` (SVM pairs disagree) or `unknown`.
    pub active_site: String,
    /// Which way data flows: `primary → dr`, `dr → primary`, `none` or
    /// `mixed`.
    pub flow: String,
    /// Trident backends on both sites' Kubernetes clusters.
    pub trident_backends: Vec<TridentBackendStatus>,
    /// The newest Velero backup on the DR cluster, when checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub velero: Option<VeleroStatus>,
    /// Namespaces whose PVs are Trident volumes on a protected primary SVM
    /// (read from the primary's Kubernetes; absent when not checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected_namespaces: Option<Vec<String>>,
    /// Where the application runs: `primary`, `dr`, `both` (a problem),
    /// `none` (DR serves, nothing restored runs) or `unknown`
    /// ([`super::workloads`]).
    pub app_runs_on: String,
    /// The workloads Velero restored on DR, per namespace (when checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dr_workloads: Option<DrWorkloads>,
    /// What the in-cluster watcher last saw and decided (when deployed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watcher: Option<WatcherView>,
}

/// Both sites.
#[derive(Debug, Clone, Serialize)]
pub struct Sites {
    /// The source site.
    pub primary: SiteStatus,
    /// The destination site.
    pub dr: SiteStatus,
}

/// One site in the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteStatus {
    /// `primary` or `dr`.
    pub role: SiteRole,
    /// Whether the site is known (config file or flags).
    pub configured: bool,
    /// Whether its ONTAP cluster answered.
    pub reachable: bool,
    /// Why it did not, when it did not.
    pub error: Option<String>,
    /// What kind of failure `error` is: `unreachable`,
    /// `authenticationFailed`, `notPermitted`, `tls` or `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Kube context, backend, endpoint, credential source.
    #[serde(flatten)]
    pub info: SiteInfo,
    /// ONTAP cluster name.
    pub cluster: Option<String>,
    /// ONTAP release, e.g. `9.14.1`.
    pub version: Option<String>,
}

/// A cluster peer record.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPeerStatus {
    /// The side that holds the record.
    pub side: SiteRole,
    /// The local name of the remote cluster.
    pub peer: String,
    /// `status.state`: available, partial, unavailable, pending, unidentified.
    pub availability: String,
    /// `authentication.state`: ok, absent, pending, problem.
    pub authentication: String,
    /// `authentication.in_use`: ok, absent, revoked.
    pub auth_in_use: String,
    /// `encryption.state`: none, tls_psk.
    pub encryption: String,
    /// available + authentication ok + in use ok.
    pub healthy: bool,
}

/// An SVM endpoint of a relationship.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// ONTAP cluster name.
    pub cluster: Option<String>,
    /// SVM name (the real name, resolved through the SVM peer alias).
    pub svm: String,
    /// SnapMirror path as ONTAP shows it (`svm:`).
    pub path: String,
    /// SVM `state` (running, stopped, ...), when that site answered.
    pub svm_state: Option<String>,
    /// SVM `subtype` (default, dp_destination, ...), when known.
    pub svm_subtype: Option<String>,
}

/// The last (or current) transfer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferStatus {
    /// initialize, update, resync, restore.
    pub r#type: Option<String>,
    /// queued, transferring, success, failed, aborted, hard_aborted.
    pub state: Option<String>,
    /// When it ended.
    pub end_time: Option<String>,
    /// Bytes it moved.
    pub bytes: Option<u64>,
}

/// One SVM-DR relationship.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipStatus {
    /// Relationship UUID (on the DR cluster).
    pub uuid: Option<String>,
    /// Source SVM.
    pub source: Endpoint,
    /// Destination SVM.
    pub destination: Endpoint,
    /// snapmirrored, uninitialized, paused, broken_off, ...
    pub state: String,
    /// Our verdict: no problem found for this relationship.
    pub healthy: bool,
    /// ONTAP's own `healthy` flag.
    pub ontap_healthy: Option<bool>,
    /// ONTAP's `unhealthy_reason[]` messages (with codes).
    pub unhealthy_reasons: Vec<String>,
    /// Lag in seconds (absent before the first transfer).
    pub lag_seconds: Option<u64>,
    /// Lag, human (`1h 2m`).
    pub lag: Option<String>,
    /// Transfer schedule (relationship's, else the policy's).
    pub schedule: Option<String>,
    /// RPO in seconds from the schedule, when known.
    pub rpo_seconds: Option<u64>,
    /// RPO, human, or `none (no schedule)` / `unknown (schedule X)`.
    pub rpo: String,
    /// Whether the lag exceeds the RPO (`null` when unknown).
    pub rpo_exceeded: Option<bool>,
    /// The last transfer.
    pub last_transfer: Option<TransferStatus>,
    /// Whether a transfer is running now.
    pub transferring: bool,
    /// SnapMirror policy.
    pub policy: Option<String>,
    /// full, exclude_network_config, exclude_network_and_protocol_config.
    pub identity_preservation: Option<String>,
    /// State of the SVM peer (on the DR side).
    pub svm_peer_state: Option<String>,
    /// What is wrong with this relationship (empty when healthy).
    pub problems: Vec<String>,
    /// `forward` (primary → DR, held on the DR cluster) or `reverse`
    /// (DR → primary after `resync --direction reverse`, held on the
    /// primary cluster).
    pub direction: String,
    /// The site whose ONTAP cluster holds it (its destination).
    pub held_on: SiteRole,
    /// This is the relationship that replicates its SVM pair now (see
    /// [`super::direction`]); `false` for a broken-off one.
    pub live: bool,
    /// Live, snapmirrored and with a transfer schedule.
    pub protected: bool,
    /// Where the pair's SVM serves: `primary`, `dr`, `both` (split brain)
    /// or `unknown`.
    pub active_site: String,
    /// Which way data flows for the pair: `primary → dr`, `dr → primary` or
    /// `none`.
    pub flow: String,
}

impl RelationshipStatus {
    /// The end of the relationship on `site`: for the forward relationship
    /// the source is on the primary, for the reverse one on DR.
    pub fn end_on(&self, site: SiteRole) -> &Endpoint {
        if self.held_on == site {
            &self.destination
        } else {
            &self.source
        }
    }
}
