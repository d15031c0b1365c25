//! The storage operations a plan needs from one ONTAP cluster, as a trait.
//!
//! Workflows only talk to ONTAP through [`Storage`]: [`super::ontap_storage`]
//! implements it with [`crate::ontap::OntapClient`]; unit tests implement it
//! with an in-memory fake. The views returned here are the small, typed subset
//! of ONTAP's records that deciding a step needs (see
//! `docs/ontap-rest.md` §8, §11, §13 for the fields).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// State of an SVM (`/api/svm/svms` `state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SvmState {
    /// Serving data.
    Running,
    /// Stopped (no LIFs up).
    Stopped,
    /// Start in progress.
    Starting,
    /// Stop in progress.
    Stopping,
    /// Any other ONTAP value (`deleting`, `initializing`, a new one).
    Other(String),
}

impl SvmState {
    /// Parses ONTAP's string.
    pub fn parse(s: &str) -> Self {
        match s {
            "running" => Self::Running,
            "stopped" => Self::Stopped,
            "starting" => Self::Starting,
            "stopping" => Self::Stopping,
            other => Self::Other(other.to_string()),
        }
    }

    /// ONTAP's string for this state.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Starting => "starting",
            Self::Stopping => "stopping",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for SvmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a plan needs to know about an SVM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SvmView {
    /// ONTAP UUID.
    pub uuid: String,
    /// SVM name.
    pub name: String,
    /// `state`.
    pub state: SvmState,
    /// `subtype` (`default`, `dp_destination`, ...).
    pub subtype: String,
}

/// State of a SnapMirror relationship (`state`, async values only: SVM-DR is
/// async).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelState {
    /// Mirroring.
    Snapmirrored,
    /// Quiesced (the CLI's "Quiesced").
    Paused,
    /// Broken: the destination is writable.
    BrokenOff,
    /// Created, never initialized.
    Uninitialized,
    /// Any other value.
    Other(String),
}

impl RelState {
    /// Parses ONTAP's string.
    pub fn parse(s: &str) -> Self {
        match s {
            "snapmirrored" => Self::Snapmirrored,
            "paused" => Self::Paused,
            "broken_off" => Self::BrokenOff,
            "uninitialized" => Self::Uninitialized,
            other => Self::Other(other.to_string()),
        }
    }

    /// ONTAP's string for this state.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Snapmirrored => "snapmirrored",
            Self::Paused => "paused",
            Self::BrokenOff => "broken_off",
            Self::Uninitialized => "uninitialized",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for RelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The current or last transfer of a relationship (`transfer.*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferView {
    /// UUID of the active transfer (ONTAP only sets it while one runs).
    pub uuid: Option<String>,
    /// `transfer.state`: `transferring`, `queued`, `success`, `failed`, `aborted`, ...
    pub state: String,
    /// `transfer.end_time`.
    pub end_time: Option<DateTime<Utc>>,
}

impl TransferView {
    /// Whether a transfer is queued or running now.
    pub fn in_flight(&self) -> bool {
        matches!(self.state.as_str(), "transferring" | "queued")
    }
}

/// One entry of `unhealthy_reason[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// ONTAP code (a string of digits).
    pub code: String,
    /// ONTAP message.
    pub message: String,
}

/// What a plan needs to know about an SVM-DR relationship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelView {
    /// ONTAP UUID (on the destination cluster).
    pub uuid: String,
    /// `source.path`, e.g. `svm1:`.
    pub source_path: String,
    /// `source.cluster.name`, when ONTAP reports it.
    pub source_cluster: Option<String>,
    /// `destination.path`, e.g. `svm1_dr:`.
    pub destination_path: String,
    /// `state`.
    pub state: RelState,
    /// `healthy`.
    pub healthy: Option<bool>,
    /// `unhealthy_reason[]`.
    pub unhealthy_reason: Vec<Reason>,
    /// `transfer`.
    pub transfer: Option<TransferView>,
    /// `lag_time`, parsed.
    pub lag: Option<Duration>,
    /// `policy.name`.
    pub policy: Option<String>,
    /// `identity_preservation` (relationship or policy level).
    pub identity_preservation: Option<String>,
    /// `transfer_schedule.name`, when the relationship has one.
    pub transfer_schedule: Option<String>,
}

impl RelView {
    /// Whether a transfer is queued or running now.
    pub fn transfer_in_flight(&self) -> bool {
        self.transfer.as_ref().is_some_and(TransferView::in_flight)
    }

    /// End time of the last finished transfer, if ONTAP reports it.
    pub fn last_transfer_end(&self) -> Option<DateTime<Utc>> {
        self.transfer.as_ref().and_then(|t| t.end_time)
    }

    /// Whether identity (LIFs, protocol config) is preserved: `full`, or
    /// unknown (ONTAP's default for SVM-DR set up by `kubectl svmdr peer`).
    pub fn preserves_network(&self) -> bool {
        matches!(self.identity_preservation.as_deref(), None | Some("full"))
    }
}

/// A volume of an SVM (`/api/storage/volumes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeView {
    /// Name.
    pub name: String,
    /// `state`: `online`, `offline`, ...
    pub state: String,
    /// `type`: `rw`, `dp`, `ls`.
    pub kind: String,
    /// `is_svm_root`.
    pub is_svm_root: bool,
}

/// A data LIF of an SVM (`/api/network/ip/interfaces`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifView {
    /// Name.
    pub name: String,
    /// `ip.address`.
    pub address: Option<String>,
    /// `state`: `up` or `down`.
    pub state: String,
    /// `enabled`.
    pub enabled: bool,
}

/// Reachability of a cluster peer as the local cluster reports it
/// (`/api/cluster/peers` `status.state`, `docs/ontap-rest.md` §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerState {
    /// Every local node reaches every remote node.
    Available,
    /// Some local nodes reach remote nodes.
    Partial,
    /// No connectivity.
    Unavailable,
    /// The other side has not finished peering.
    Pending,
    /// Any other value (`unidentified`, a new one, or none reported).
    Other(String),
}

impl PeerState {
    /// Parses ONTAP's string.
    pub fn parse(s: &str) -> Self {
        match s {
            "available" => Self::Available,
            "partial" => Self::Partial,
            "unavailable" => Self::Unavailable,
            "pending" => Self::Pending,
            other => Self::Other(other.to_string()),
        }
    }

    /// ONTAP's string for this state.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Available => "available",
            Self::Partial => "partial",
            Self::Unavailable => "unavailable",
            Self::Pending => "pending",
            Self::Other(s) => s,
        }
    }

    /// Whether the remote cluster answers over the intercluster network
    /// (`available`, or `partial`: some of its nodes do).
    pub fn remote_answers(&self) -> bool {
        matches!(self, Self::Available | Self::Partial)
    }
}

impl fmt::Display for PeerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cluster peer as the local cluster reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerView {
    /// Local name of the peer (`name`).
    pub name: String,
    /// The remote cluster's own name (`remote.name`).
    pub remote_name: Option<String>,
    /// `status.state`.
    pub state: PeerState,
}

impl PeerView {
    /// The remote cluster's name for messages.
    pub fn cluster(&self) -> &str {
        self.remote_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.name)
    }
}

/// Target of a relationship state change (PATCH `state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelTarget {
    /// Quiesce: `{"state":"paused"}`.
    Paused,
    /// Break: `{"state":"broken_off"}`.
    BrokenOff,
    /// Resync (from broken_off) or resume (from paused): `{"state":"snapmirrored"}`.
    Snapmirrored,
}

impl RelTarget {
    /// ONTAP's string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paused => "paused",
            Self::BrokenOff => "broken_off",
            Self::Snapmirrored => "snapmirrored",
        }
    }
}

/// A new SVM-DR relationship, created on its destination cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRelationship {
    /// `source.path` (`<local alias of the source SVM>:`).
    pub source_path: String,
    /// `source.cluster.name` (mandatory for SVM-DR).
    pub source_cluster: String,
    /// `destination.path` (`<local SVM>:`).
    pub destination_path: String,
    /// `policy.name`.
    pub policy: Option<String>,
    /// `identity_preservation` (ONTAP 9.11.1+ at relationship level).
    pub identity_preservation: Option<String>,
    /// `transfer_schedule.name`: the relationship that takes over protection
    /// keeps the schedule of the one it replaces, or nothing would copy the
    /// data back until someone runs a transfer.
    pub transfer_schedule: Option<String>,
}

/// Why a storage call failed, with what ONTAP said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageError {
    /// The cluster label, e.g. `dr (ontap-b)`.
    pub cluster: String,
    /// The call, e.g. `PATCH /api/snapmirror/relationships/{uuid}`.
    pub call: String,
    /// ONTAP's error code, when ONTAP answered with one.
    pub code: Option<String>,
    /// ONTAP's message, or the transport error.
    pub message: String,
    /// What kind of failure it was.
    pub kind: StorageErrorKind,
}

/// Kinds of [`StorageError`] the engine treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageErrorKind {
    /// The cluster could not be reached (refused, reset, DNS, TLS handshake).
    Unreachable,
    /// No answer within the timeout.
    Timeout,
    /// ONTAP refused the call (4xx/5xx with an ONTAP error body).
    Api,
    /// The asynchronous job ended in failure.
    JobFailed,
    /// HTTP 401: the cluster refused the credentials.
    Unauthorized,
    /// HTTP 403 / ONTAP code 6: the account may not do this.
    NotPermitted,
    /// The cluster's TLS certificate is not trusted.
    Tls,
    /// Anything else (malformed answer, ...).
    Other,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: ", self.cluster, self.call)?;
        match &self.code {
            Some(code) => write!(f, "ONTAP error {code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for StorageError {}

impl StorageError {
    /// Whether the cluster could not be reached at all (down, or hung).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self.kind,
            StorageErrorKind::Unreachable | StorageErrorKind::Timeout
        )
    }
}

/// Result of a storage call.
pub type StorageResult<T> = Result<T, StorageError>;

/// The operations of one ONTAP cluster that DR workflows use.
///
/// Every method must be bounded in time (the implementation's client timeouts)
/// and must not retry non-idempotent calls: the engine re-observes and decides
/// again instead.
pub trait Storage: Send + Sync {
    /// A label for messages, e.g. `dr (ontap-b)`.
    fn label(&self) -> String;

    /// The ONTAP cluster name (`GET /api/cluster`), used as `source.cluster.name`.
    fn cluster_name(&self) -> impl Future<Output = StorageResult<String>> + Send;

    /// The SVM called `name`, if it exists.
    fn svm(&self, name: &str) -> impl Future<Output = StorageResult<Option<SvmView>>> + Send;

    /// The SVM-DR relationship whose destination is `destination_path` (on this,
    /// the destination, cluster).
    fn relationship(
        &self,
        destination_path: &str,
    ) -> impl Future<Output = StorageResult<Option<RelView>>> + Send;

    /// The local alias of a peer SVM (`/api/svm/peers` `name`), or `None` when
    /// no peering is found.
    fn peer_alias(
        &self,
        local_svm: &str,
        peer_svm: &str,
    ) -> impl Future<Output = StorageResult<Option<String>>> + Send;

    /// The cluster peer whose remote is `remote_cluster` (matched on the
    /// peer's local `name` or `remote.name`); with no name, the only cluster
    /// peer there is. `None` when no peer matches.
    fn cluster_peer(
        &self,
        remote_cluster: Option<&str>,
    ) -> impl Future<Output = StorageResult<Option<PeerView>>> + Send;

    /// The volumes of an SVM.
    fn volumes(&self, svm: &str) -> impl Future<Output = StorageResult<Vec<VolumeView>>> + Send;

    /// The data LIFs (NFS or iSCSI) of an SVM.
    fn data_lifs(&self, svm: &str) -> impl Future<Output = StorageResult<Vec<LifView>>> + Send;

    /// Starts or stops an SVM and waits for its job.
    fn set_svm_state(
        &self,
        uuid: &str,
        running: bool,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// Starts a transfer (update) now; returns the transfer UUID.
    fn start_transfer(&self, rel_uuid: &str) -> impl Future<Output = StorageResult<String>> + Send;

    /// Aborts a running transfer (a transfer already gone is success).
    fn abort_transfer(
        &self,
        rel_uuid: &str,
        transfer_uuid: &str,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// Changes a relationship's state and waits for the job (not for the
    /// transfer: the engine watches the relationship for that).
    fn set_relationship_state(
        &self,
        rel_uuid: &str,
        target: RelTarget,
        quick_resync: bool,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// Creates a relationship (uninitialized); returns its UUID.
    fn create_relationship(
        &self,
        rel: &NewRelationship,
    ) -> impl Future<Output = StorageResult<String>> + Send;

    /// Deletes a relationship from its destination cluster (which also
    /// releases the source).
    fn delete_relationship(&self, rel_uuid: &str)
    -> impl Future<Output = StorageResult<()>> + Send;
}
