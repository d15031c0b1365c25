//! The objects of the simulated world and the [`World`] that holds them.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::ontap::Timing;
use crate::ontap::error::ApiError;
use crate::ontap::faults::FaultSlot;
use crate::ontap::topology::RoleSpec;

use super::export_policy::ExportPolicy;
use super::lun::Lun;

/// ONTAP's timestamp format.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A login account (password never rendered).
#[derive(Clone)]
pub struct Account {
    pub username: String,
    pub password: Option<String>,
    pub role: RoleSpec,
    pub svm: Option<String>,
}

/// A cluster node.
#[derive(Clone)]
pub struct Node {
    pub name: String,
    pub uuid: String,
    pub serial: String,
}

/// One cluster.
pub struct Cluster {
    pub key: String,
    pub name: String,
    pub uuid: String,
    pub version: (u32, u32, u32),
    pub nodes: Vec<Node>,
    pub accounts: Vec<Account>,
    pub down: bool,
    pub port: u16,
    pub requests: u64,
    pub per_path: BTreeMap<String, u64>,
    pub faults: Vec<FaultSlot>,
    pub serial: String,
}

impl Cluster {
    pub fn version_full(&self) -> String {
        let (g, ma, mi) = self.version;
        format!("NetApp Release {g}.{ma}.{mi}: Mon Jan 08 12:00:00 UTC 2024")
    }
    pub fn version_json(&self) -> Value {
        let (g, ma, mi) = self.version;
        json!({"full": self.version_full(), "generation": g, "major": ma, "minor": mi})
    }
}

/// An SVM.
#[derive(Clone)]
pub struct Svm {
    pub uuid: String,
    pub cluster: String,
    pub name: String,
    pub state: String,
    pub subtype: String,
    pub comment: String,
    pub ipspace: String,
    pub nfs: bool,
    pub iscsi: bool,
    /// SMB service (`cifs.enabled`).
    pub cifs: bool,
    /// NVMe service (`nvme.enabled`).
    pub nvme: bool,
    /// FC service (`fcp.enabled`).
    pub fcp: bool,
    pub iscsi_target_sn: String,
}

/// A network interface (intercluster or data).
#[derive(Clone)]
pub struct Lif {
    pub uuid: String,
    pub cluster: String,
    pub name: String,
    /// Owning SVM uuid; `None` for cluster-scoped (intercluster) LIFs.
    pub svm: Option<String>,
    pub ip: String,
    pub netmask: String,
    pub service_policy: String,
    pub home_node: String,
    pub home_port: String,
    pub enabled: bool,
    /// Set by the lab control: the LIF is operationally down.
    pub sim_down: bool,
    pub ipspace: String,
}

/// Services implied by a service policy.
pub fn policy_services(policy: &str) -> Vec<&'static str> {
    match policy {
        "default-intercluster" => vec!["intercluster_core"],
        "default-data-files" => vec!["data_core", "data_nfs", "data_cifs", "data_flexcache"],
        "default-data-blocks" => vec!["data_core", "data_iscsi"],
        "default-data-iscsi" => vec!["data_core", "data_iscsi"],
        "default-data-nfs" => vec!["data_core", "data_nfs"],
        "default-data-nvme-tcp" => vec!["data_core", "data_nvme_tcp"],
        // A custom policy the topology uses for a LIF carrying both protocols.
        "data-nfs-iscsi" => vec!["data_core", "data_nfs", "data_iscsi"],
        "default-management" => vec!["management_https", "management_ssh"],
        _ => vec![],
    }
}

/// One write recorded on a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WriteRec {
    /// Lab-wide write id.
    pub id: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A FlexVol volume.
#[derive(Clone)]
pub struct Volume {
    pub uuid: String,
    pub cluster: String,
    pub svm: String,
    pub name: String,
    pub size: u64,
    pub vtype: String,
    pub state: String,
    pub junction: Option<String>,
    pub is_svm_root: bool,
    pub writes: Vec<WriteRec>,
    /// NFS export policy name (`nas.export_policy.name`; ONTAP's default is `default`).
    pub export_policy: String,
    /// When the volume was created (`create_time`).
    pub created: DateTime<Utc>,
}

impl Volume {
    pub fn used(&self) -> u64 {
        let base = 1 << 20;
        (base + self.writes.iter().map(|w| w.bytes).sum::<u64>()).min(self.size)
    }
}

/// One side of a cluster peering.
#[derive(Clone)]
pub struct ClusterPeer {
    pub uuid: String,
    pub cluster: String,
    pub remote: String,
    pub name: String,
    pub remote_ips: Vec<String>,
    pub passphrase: Option<String>,
    pub expiry: DateTime<Utc>,
    pub encryption: String,
    /// `pending` until the other side posted, then `ok` (or `problem`).
    pub auth: String,
    pub ipspace: String,
    pub initial_allowed_svms: Vec<String>,
    pub applications: Vec<String>,
}

/// One side of an SVM peering (both sides share the uuid).
#[derive(Clone)]
pub struct SvmPeer {
    pub uuid: String,
    pub cluster: String,
    pub svm: String,
    pub peer_cluster: String,
    pub peer_svm: String,
    pub name: String,
    pub state: String,
    pub applications: Vec<String>,
}

/// An SVM peer permission.
#[derive(Clone)]
pub struct PeerPermission {
    pub cluster: String,
    /// The remote cluster key the permission is for.
    pub peer_cluster: String,
    /// Local SVM name, or `*`.
    pub svm: String,
    pub applications: Vec<String>,
}

/// A SnapMirror policy.
#[derive(Clone)]
pub struct Policy {
    pub uuid: String,
    pub cluster: String,
    pub name: String,
    pub ptype: String,
    pub identity_preservation: Option<String>,
    pub comment: String,
}

/// A transfer, running or finished.
#[derive(Clone)]
pub struct Transfer {
    pub uuid: String,
    pub state: String,
    pub ttype: String,
    pub bytes: u64,
    pub started: Instant,
    pub ends: Instant,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    /// Source contents captured at the snapshot (volume name -> writes);
    /// `None` when the source could not be reached.
    pub data: Option<BTreeMap<String, Vec<WriteRec>>>,
    pub snapshot_time: DateTime<Utc>,
    pub snapshot_name: String,
    /// State to enter when the transfer succeeds.
    pub target_state: String,
}

impl Transfer {
    pub fn active(&self) -> bool {
        matches!(self.state.as_str(), "queued" | "transferring")
    }
}

/// An SVM-DR relationship (one object, seen from both clusters).
#[derive(Clone)]
pub struct Relationship {
    pub uuid: String,
    pub src_cluster: String,
    pub src_svm: String,
    /// The source SVM name as written in `source.path` (local alias).
    pub src_alias: String,
    pub dst_cluster: String,
    pub dst_svm: String,
    pub policy: String,
    pub policy_type: String,
    pub identity: String,
    /// Whether `identity_preservation` was set on the relationship itself.
    pub identity_explicit: bool,
    pub state: String,
    pub healthy: bool,
    pub unhealthy: Vec<Value>,
    pub transfer: Option<Transfer>,
    pub last_transfer_type: Option<String>,
    pub snapshot_time: Option<DateTime<Utc>>,
    pub snapshot_name: Option<String>,
    /// The newest common snapshot's contents.
    pub common: Option<BTreeMap<String, Vec<WriteRec>>>,
    pub schedule: Option<String>,
    pub throttle: u64,
    pub total_bytes: u64,
    pub dst_present: bool,
    pub src_present: bool,
}

/// Job states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Success,
    Failure,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Success => "success",
            JobState::Failure => "failure",
        }
    }
    pub fn terminal(self) -> bool {
        matches!(self, JobState::Success | JobState::Failure)
    }
}

/// A change applied when a job succeeds; an error fails the job.
pub type JobAction = Box<dyn FnOnce(&mut World) -> Result<(), ApiError> + Send>;
/// A side effect when a job starts running or fails.
pub type JobHook = Box<dyn FnOnce(&mut World) + Send>;

/// An asynchronous ONTAP job.
pub struct Job {
    pub uuid: String,
    pub cluster: String,
    pub description: String,
    pub created: Instant,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub finished: Option<Instant>,
    pub state: JobState,
    pub message: String,
    pub code: i64,
    pub error: Option<(String, String)>,
    pub svm: Option<(String, String)>,
    pub on_running: Option<JobHook>,
    pub action: Option<JobAction>,
    pub on_fail: Option<JobHook>,
    pub forced_failure: Option<(String, String)>,
}

/// The whole lab.
pub struct World {
    pub timing: Timing,
    pub nfs_port: u16,
    pub iscsi_port: u16,
    pub clusters: Vec<Cluster>,
    pub svms: Vec<Svm>,
    pub lifs: Vec<Lif>,
    pub volumes: Vec<Volume>,
    pub cluster_peers: Vec<ClusterPeer>,
    pub svm_peers: Vec<SvmPeer>,
    pub permissions: Vec<PeerPermission>,
    pub policies: Vec<Policy>,
    pub relationships: Vec<Relationship>,
    pub jobs: Vec<Job>,
    pub next_write: u64,
    pub export_policies: Vec<ExportPolicy>,
    pub next_policy_id: u64,
    pub luns: Vec<Lun>,
}
