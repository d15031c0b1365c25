//! The simulated world shared by every cluster of a lab: clusters, SVMs,
//! LIFs, volumes, peers, relationships and jobs, plus the clock-driven parts
//! (jobs and transfers), advanced by [`World::tick`].
//!
//! Everything lives behind one mutex (see `mod.rs`), because peering and
//! replication cross clusters. Time-based progress is computed from
//! timestamps on each tick, so reads always see a consistent state.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::Timing;
use super::control::FaultSlot;
use super::error::ApiError;
use super::exports::{ExportPolicy, ExportRule, insert_rule};
use super::luns::Lun;
use super::topology::{RoleSpec, Topology, parse_version};

/// A new random UUID as text.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

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

const BUILTIN_POLICIES: &[(&str, &str)] = &[
    ("Asynchronous", "async"),
    ("MirrorAllSnapshots", "async"),
    ("MirrorAllSnapshotsDiscardNetwork", "async"),
    ("MirrorLatest", "async"),
    ("MirrorAndVault", "async"),
    ("MirrorAndVaultDiscardNetwork", "async"),
    ("DPDefault", "async"),
    ("XDPDefault", "async"),
    ("Unified7year", "async"),
    ("DailyBackup", "async"),
    ("CloudBackupDefault", "async"),
    ("Sync", "sync"),
    ("StrictSync", "sync"),
    ("AutomatedFailOver", "sync"),
    ("AutomatedFailOverDuplex", "sync"),
    ("SnapCenterSync", "sync"),
    ("Continuous", "continuous"),
];

fn serial_of(uuid: &str) -> String {
    let digits: String = uuid.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("4{:0>11}", &digits[digits.len().saturating_sub(11)..])
}

impl World {
    /// Is `name` one of ONTAP's built-in SnapMirror policies?
    pub fn is_builtin_policy(name: &str) -> bool {
        BUILTIN_POLICIES.iter().any(|(n, _)| *n == name)
    }

    /// Seeds a world from a topology.
    pub fn new(
        topo: &Topology,
        timing: Timing,
        nfs_port: u16,
        iscsi_port: u16,
    ) -> anyhow::Result<World> {
        let mut w = World {
            timing,
            nfs_port,
            iscsi_port,
            clusters: vec![],
            svms: vec![],
            lifs: vec![],
            volumes: vec![],
            cluster_peers: vec![],
            svm_peers: vec![],
            permissions: vec![],
            policies: vec![],
            relationships: vec![],
            jobs: vec![],
            next_write: 1,
            export_policies: vec![],
            // ONTAP's export policy ids are large integers.
            next_policy_id: 8589934592,
            luns: vec![],
        };
        for c in &topo.clusters {
            let uuid = c.uuid.clone().unwrap_or_else(new_uuid);
            let nodes = c
                .nodes
                .iter()
                .map(|n| {
                    let u = new_uuid();
                    Node {
                        name: n.clone(),
                        serial: serial_of(&u),
                        uuid: u,
                    }
                })
                .collect();
            w.clusters.push(Cluster {
                key: c.key.clone(),
                name: c.name.clone(),
                serial: serial_of(&uuid),
                uuid,
                version: parse_version(&c.version)?,
                nodes,
                accounts: c
                    .accounts
                    .iter()
                    .map(|a| Account {
                        username: a.username.clone(),
                        password: a.password.clone(),
                        role: a.role,
                        svm: a.svm.clone(),
                    })
                    .collect(),
                down: false,
                port: 0,
                requests: 0,
                per_path: BTreeMap::new(),
                faults: vec![],
            });
            for lif in &c.intercluster_lifs {
                w.lifs.push(Lif {
                    uuid: new_uuid(),
                    cluster: c.key.clone(),
                    name: lif.name.clone(),
                    svm: None,
                    ip: lif.ip.clone(),
                    netmask: lif.netmask.clone().unwrap_or_else(|| "24".into()),
                    service_policy: "default-intercluster".into(),
                    home_node: lif.node.clone(),
                    home_port: "e0c".into(),
                    enabled: true,
                    sim_down: false,
                    ipspace: "Default".into(),
                });
            }
            for (name, ptype) in BUILTIN_POLICIES {
                w.policies.push(Policy {
                    uuid: new_uuid(),
                    cluster: c.key.clone(),
                    name: (*name).into(),
                    ptype: (*ptype).into(),
                    identity_preservation: (*ptype == "async")
                        .then(|| "exclude_network_and_protocol_config".to_string()),
                    comment: String::new(),
                });
            }
            for s in &c.svms {
                let su = s.uuid.clone().unwrap_or_else(new_uuid);
                w.svms.push(Svm {
                    uuid: su.clone(),
                    cluster: c.key.clone(),
                    name: s.name.clone(),
                    state: s.state.clone(),
                    subtype: s.subtype.clone(),
                    comment: String::new(),
                    ipspace: "Default".into(),
                    nfs: s.nfs,
                    iscsi: s.iscsi,
                    cifs: s.cifs,
                    nvme: s.nvme,
                    fcp: s.fcp,
                    iscsi_target_sn: new_uuid().replace('-', ""),
                });
                for l in &s.lifs {
                    let policy = if l.services.iter().any(|x| x == "data_nfs") {
                        if l.services.iter().any(|x| x == "data_iscsi") {
                            "data-nfs-iscsi"
                        } else {
                            "default-data-files"
                        }
                    } else if l.services.iter().any(|x| x == "data_cifs") {
                        "default-data-files"
                    } else if l.services.iter().any(|x| x == "data_nvme_tcp") {
                        "default-data-nvme-tcp"
                    } else {
                        "default-data-iscsi"
                    };
                    let family_default = if l.ip.contains(':') { "64" } else { "8" };
                    w.lifs.push(Lif {
                        uuid: new_uuid(),
                        cluster: c.key.clone(),
                        name: l.name.clone(),
                        svm: Some(su.clone()),
                        ip: l.ip.clone(),
                        netmask: l.netmask.clone().unwrap_or_else(|| family_default.into()),
                        service_policy: policy.into(),
                        home_node: l.home_node.clone(),
                        home_port: "e0d".into(),
                        enabled: true,
                        sim_down: false,
                        ipspace: "Default".into(),
                    });
                }
                for v in &s.volumes {
                    w.volumes.push(Volume {
                        uuid: new_uuid(),
                        cluster: c.key.clone(),
                        svm: su.clone(),
                        name: v.name.clone(),
                        size: v.size.bytes()?,
                        vtype: v.vtype.clone(),
                        state: v.state.clone(),
                        junction: v.junction_path.clone(),
                        is_svm_root: v.is_svm_root,
                        writes: vec![],
                        export_policy: v.export_policy.clone(),
                    });
                    for l in &v.luns {
                        w.luns.push(Lun::new(
                            &c.key,
                            &su,
                            &v.name,
                            &l.name,
                            l.size
                                .as_ref()
                                .map(|s| s.bytes())
                                .transpose()?
                                .unwrap_or(v.size.bytes()?),
                        ));
                    }
                }
                w.ensure_export_policy(&c.key, &su, "default");
                for p in &s.export_policies {
                    let i = w.ensure_export_policy(&c.key, &su, &p.name);
                    for r in &p.rules {
                        let rule = ExportRule::from_value(r).map_err(|e| {
                            anyhow::anyhow!(
                                "SVM {:?}: export policy {:?}: {}",
                                s.name,
                                p.name,
                                e.message
                            )
                        })?;
                        insert_rule(&mut w.export_policies[i].rules, rule);
                    }
                }
            }
        }
        Ok(w)
    }

    // ---- lookups ------------------------------------------------------

    /// A cluster by key or ONTAP name.
    pub fn cluster_idx(&self, key_or_name: &str) -> Option<usize> {
        self.clusters
            .iter()
            .position(|c| c.key == key_or_name)
            .or_else(|| self.clusters.iter().position(|c| c.name == key_or_name))
    }

    pub fn cluster(&self, key: &str) -> Option<&Cluster> {
        self.cluster_idx(key).map(|i| &self.clusters[i])
    }

    pub fn cluster_mut(&mut self, key: &str) -> Option<&mut Cluster> {
        self.cluster_idx(key).map(move |i| &mut self.clusters[i])
    }

    pub fn cluster_name(&self, key: &str) -> String {
        self.cluster(key)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    pub fn cluster_uuid(&self, key: &str) -> String {
        self.cluster(key)
            .map(|c| c.uuid.clone())
            .unwrap_or_default()
    }

    pub fn is_down(&self, key: &str) -> bool {
        self.cluster(key).is_none_or(|c| c.down)
    }

    pub fn svm(&self, uuid: &str) -> Option<&Svm> {
        self.svms.iter().find(|s| s.uuid == uuid)
    }

    pub fn svm_mut(&mut self, uuid: &str) -> Option<&mut Svm> {
        self.svms.iter_mut().find(|s| s.uuid == uuid)
    }

    pub fn svm_by_name(&self, cluster: &str, name: &str) -> Option<&Svm> {
        self.svms
            .iter()
            .find(|s| s.cluster == cluster && s.name == name)
    }

    pub fn svm_name(&self, uuid: &str) -> String {
        self.svm(uuid).map(|s| s.name.clone()).unwrap_or_default()
    }

    /// Is the SVM up and serving (running, on an up cluster)?
    pub fn svm_serving(&self, uuid: &str) -> bool {
        self.svm(uuid)
            .is_some_and(|s| s.state == "running" && !self.is_down(&s.cluster))
    }

    /// Operational state of a LIF.
    pub fn lif_up(&self, lif: &Lif) -> bool {
        if !lif.enabled || lif.sim_down || self.is_down(&lif.cluster) {
            return false;
        }
        match &lif.svm {
            None => true,
            Some(svm) => self
                .svm(svm)
                .is_some_and(|s| s.state == "running" && s.subtype != "dp_destination"),
        }
    }

    /// The (ip, port) pairs data LIFs should be listening on now.
    pub fn data_listeners(&self) -> Vec<(String, u16)> {
        let mut out = Vec::new();
        for l in &self.lifs {
            if l.svm.is_none() || !self.lif_up(l) {
                continue;
            }
            let svcs = policy_services(&l.service_policy);
            for (svc, port) in [("data_nfs", self.nfs_port), ("data_iscsi", self.iscsi_port)] {
                if svcs.contains(&svc) && !out.contains(&(l.ip.clone(), port)) {
                    out.push((l.ip.clone(), port));
                }
            }
        }
        out
    }

    // ---- jobs ------------------------------------------------------------

    /// Creates a job on `cluster`.
    #[allow(clippy::too_many_arguments)] // one call site (Ctx::job); a struct would only rename them
    pub fn new_job(
        &mut self,
        cluster: &str,
        description: String,
        svm: Option<(String, String)>,
        forced_failure: Option<(String, String)>,
        on_running: Option<JobHook>,
        action: JobAction,
        on_fail: Option<JobHook>,
    ) -> String {
        let uuid = new_uuid();
        self.jobs.push(Job {
            uuid: uuid.clone(),
            cluster: cluster.to_string(),
            description,
            created: Instant::now(),
            start_time: Utc::now(),
            end_time: None,
            finished: None,
            state: JobState::Queued,
            message: "Queued".into(),
            code: 0,
            error: None,
            svm,
            on_running,
            action: Some(action),
            on_fail,
            forced_failure,
        });
        uuid
    }

    pub fn job(&self, uuid: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.uuid == uuid)
    }

    /// Advances jobs and transfers to `Instant::now()`.
    pub fn tick(&mut self) {
        let now = Instant::now();
        let Timing {
            job_queued,
            job_running,
            job_expiry,
            ..
        } = self.timing;
        for i in 0..self.jobs.len() {
            if self.jobs[i].state == JobState::Queued && now >= self.jobs[i].created + job_queued {
                self.jobs[i].state = JobState::Running;
                self.jobs[i].message = "Running".into();
                if let Some(hook) = self.jobs[i].on_running.take() {
                    hook(self);
                }
            }
            if self.jobs[i].state == JobState::Running
                && now >= self.jobs[i].created + job_queued + job_running
            {
                let result = match self.jobs[i].forced_failure.take() {
                    Some((code, message)) => Err(ApiError::bad(code, message)),
                    None => match self.jobs[i].action.take() {
                        Some(action) => action(self),
                        None => Ok(()),
                    },
                };
                let job = &mut self.jobs[i];
                job.end_time = Some(Utc::now());
                job.finished = Some(now);
                match result {
                    Ok(()) => {
                        job.state = JobState::Success;
                        job.message = "success".into();
                        job.on_fail = None;
                    }
                    Err(e) => {
                        job.state = JobState::Failure;
                        job.message = e.message.clone();
                        job.code = e.code.parse().unwrap_or(0);
                        job.error = Some((e.code.clone(), e.message.clone()));
                        if let Some(hook) = job.on_fail.take() {
                            hook(self);
                        }
                    }
                }
            }
        }
        self.jobs
            .retain(|j| j.finished.is_none_or(|f| now < f + job_expiry));
        for i in 0..self.relationships.len() {
            let due = self.relationships[i]
                .transfer
                .as_ref()
                .is_some_and(|t| t.active() && now >= t.ends);
            if due {
                self.complete_transfer(i);
            }
            if let Some(t) = self.relationships[i].transfer.as_mut()
                && t.state == "queued"
                && now >= t.started
            {
                t.state = "transferring".into();
            }
        }
    }

    // ---- replication -------------------------------------------------------

    /// The source SVM's volume contents, or `None` when unreachable.
    fn capture(&self, svm_uuid: &str) -> Option<BTreeMap<String, Vec<WriteRec>>> {
        let svm = self.svm(svm_uuid)?;
        if self.is_down(&svm.cluster) {
            return None;
        }
        Some(
            self.volumes
                .iter()
                .filter(|v| v.svm == svm_uuid && !v.is_svm_root)
                .map(|v| (v.name.clone(), v.writes.clone()))
                .collect(),
        )
    }

    /// Starts a transfer on relationship `i`; on success it enters `target_state`.
    pub fn start_transfer(&mut self, i: usize, ttype: &str, target_state: &str) -> String {
        let now = Instant::now();
        let rel = &self.relationships[i];
        let data = if self.is_down(&rel.dst_cluster) {
            None
        } else {
            self.capture(&rel.src_svm)
        };
        let uuid = new_uuid();
        let snapshot_time = Utc::now();
        let t = Transfer {
            uuid: uuid.clone(),
            state: "transferring".into(),
            ttype: ttype.into(),
            bytes: 0,
            started: now,
            ends: now + self.timing.transfer,
            start_time: snapshot_time,
            end_time: None,
            data,
            snapshot_time,
            snapshot_name: format!(
                "vserverdr.2.{}.{}",
                self.relationships[i].uuid,
                snapshot_time.format("%Y-%m-%d_%H%M%S")
            ),
            target_state: target_state.into(),
        };
        self.relationships[i].transfer = Some(t);
        uuid
    }

    fn complete_transfer(&mut self, i: usize) {
        let Some(mut t) = self.relationships[i].transfer.take() else {
            return;
        };
        let (src_cluster, dst_cluster, src_svm, dst_svm) = {
            let r = &self.relationships[i];
            (
                r.src_cluster.clone(),
                r.dst_cluster.clone(),
                r.src_svm.clone(),
                r.dst_svm.clone(),
            )
        };
        t.end_time = Some(Utc::now());
        let reachable = !self.is_down(&src_cluster) && !self.is_down(&dst_cluster);
        let Some(data) = t.data.clone().filter(|_| reachable) else {
            t.state = "failed".into();
            let src_name = self.cluster_name(&src_cluster);
            let r = &mut self.relationships[i];
            r.healthy = false;
            r.unhealthy = vec![
                json!({"code": "6621444", "message": "Failed to complete update operation on one or more item relationships.", "arguments": []}),
                json!({"code": "13303812", "message": format!("Transfer failed: cannot connect to source cluster \"{src_name}\" (intercluster network unreachable)."), "arguments": [src_name]}),
            ];
            r.last_transfer_type = Some(t.ttype.clone());
            r.transfer = Some(t);
            return;
        };
        // Copy every source volume to the destination SVM.
        let dst_dp = self
            .svm(&dst_svm)
            .is_some_and(|s| s.subtype == "dp_destination")
            || t.target_state == "snapmirrored";
        let mut bytes = 0;
        for (name, writes) in &data {
            let existing = self
                .volumes
                .iter()
                .position(|v| v.svm == dst_svm && &v.name == name);
            let idx = match existing {
                Some(idx) => idx,
                None => {
                    let template = self
                        .volumes
                        .iter()
                        .find(|v| v.svm == src_svm && &v.name == name)
                        .cloned();
                    let (size, junction) = template
                        .map(|v| (v.size, v.junction))
                        .unwrap_or((1 << 30, None));
                    self.volumes.push(Volume {
                        uuid: new_uuid(),
                        cluster: dst_cluster.clone(),
                        svm: dst_svm.clone(),
                        name: name.clone(),
                        size,
                        vtype: "dp".into(),
                        state: "online".into(),
                        junction,
                        is_svm_root: false,
                        writes: vec![],
                        export_policy: "default".into(),
                    });
                    self.volumes.len() - 1
                }
            };
            let v = &mut self.volumes[idx];
            bytes += writes
                .iter()
                .filter(|w| !v.writes.contains(w))
                .map(|w| w.bytes)
                .sum::<u64>();
            v.writes = writes.clone();
            if dst_dp {
                v.vtype = "dp".into();
            }
        }
        // LUNs are volume data: they follow whatever the identity setting.
        self.replicate_luns(&src_svm, &dst_svm, &dst_cluster);
        // Identity preservation: protocols (and with `full`, LIFs) follow.
        let identity = self.relationships[i].identity.clone();
        let src = self.svm(&src_svm).cloned();
        if let Some(src) = src {
            if identity != "exclude_network_and_protocol_config" {
                if let Some(d) = self.svm_mut(&dst_svm) {
                    d.nfs = src.nfs;
                    d.iscsi = src.iscsi;
                    d.cifs = src.cifs;
                    d.nvme = src.nvme;
                    d.fcp = src.fcp;
                }
                // Export policies travel with the protocol configuration
                // (`World::replicate_exports` cites the ONTAP doc).
                self.replicate_exports(&src_svm, &dst_svm, &dst_cluster);
            }
            if identity == "full" {
                let dst_nodes: Vec<String> = self
                    .cluster(&dst_cluster)
                    .map(|c| c.nodes.iter().map(|n| n.name.clone()).collect())
                    .unwrap_or_default();
                let src_nodes: Vec<String> = self
                    .cluster(&src_cluster)
                    .map(|c| c.nodes.iter().map(|n| n.name.clone()).collect())
                    .unwrap_or_default();
                let src_lifs: Vec<Lif> = self
                    .lifs
                    .iter()
                    .filter(|l| l.svm.as_deref() == Some(src_svm.as_str()))
                    .cloned()
                    .collect();
                for l in src_lifs {
                    if self
                        .lifs
                        .iter()
                        .any(|x| x.svm.as_deref() == Some(dst_svm.as_str()) && x.name == l.name)
                    {
                        continue;
                    }
                    let pos = src_nodes
                        .iter()
                        .position(|n| *n == l.home_node)
                        .unwrap_or(0);
                    let home = dst_nodes
                        .get(pos)
                        .or(dst_nodes.first())
                        .cloned()
                        .unwrap_or_default();
                    self.lifs.push(Lif {
                        uuid: new_uuid(),
                        cluster: dst_cluster.clone(),
                        svm: Some(dst_svm.clone()),
                        home_node: home,
                        sim_down: false,
                        ..l
                    });
                }
            }
        }
        t.state = "success".into();
        t.bytes = bytes;
        let r = &mut self.relationships[i];
        r.total_bytes += bytes;
        r.healthy = true;
        r.unhealthy.clear();
        r.snapshot_time = Some(t.snapshot_time);
        r.snapshot_name = Some(t.snapshot_name.clone());
        r.common = Some(data);
        r.last_transfer_type = Some(t.ttype.clone());
        if r.state != "paused" || t.target_state != "snapmirrored" {
            r.state = t.target_state.clone();
        }
        r.transfer = Some(t);
    }

    // ---- state dump ---------------------------------------------------------

    /// A JSON dump of the whole lab (no passwords).
    pub fn dump(&self) -> Value {
        let clusters: Vec<Value> = self
            .clusters
            .iter()
            .map(|c| {
                json!({
                    "key": c.key, "name": c.name, "uuid": c.uuid, "down": c.down,
                    "port": c.port, "requests": c.requests,
                    "accounts": c.accounts.iter().map(|a| json!({"username": a.username, "role": format!("{:?}", a.role).to_lowercase(), "svm": a.svm})).collect::<Vec<_>>(),
                    "faults": c.faults.len(),
                })
            })
            .collect();
        let svms: Vec<Value> = self
            .svms
            .iter()
            .map(|s| json!({"cluster": s.cluster, "name": s.name, "uuid": s.uuid, "state": s.state, "subtype": s.subtype, "nfs": s.nfs, "iscsi": s.iscsi}))
            .collect();
        let lifs: Vec<Value> = self
            .lifs
            .iter()
            .map(|l| json!({"cluster": l.cluster, "name": l.name, "svm": l.svm.as_ref().map(|s| self.svm_name(s)), "ip": l.ip, "service_policy": l.service_policy, "up": self.lif_up(l), "sim_down": l.sim_down}))
            .collect();
        let volumes: Vec<Value> = self
            .volumes
            .iter()
            .map(|v| json!({"cluster": v.cluster, "svm": self.svm_name(&v.svm), "name": v.name, "type": v.vtype, "state": v.state, "writes": v.writes, "export_policy": v.export_policy, "size": v.size}))
            .collect();
        let peers: Vec<Value> = self
            .cluster_peers
            .iter()
            .map(|p| json!({"cluster": p.cluster, "remote": p.remote, "uuid": p.uuid, "auth": p.auth}))
            .collect();
        let svm_peers: Vec<Value> = self
            .svm_peers
            .iter()
            .map(|p| json!({"cluster": p.cluster, "uuid": p.uuid, "svm": self.svm_name(&p.svm), "peer_svm": self.svm_name(&p.peer_svm), "name": p.name, "state": p.state}))
            .collect();
        let rels: Vec<Value> = self
            .relationships
            .iter()
            .map(|r| json!({
                "uuid": r.uuid, "source": format!("{}:{}:", r.src_cluster, self.svm_name(&r.src_svm)),
                "destination": format!("{}:{}:", r.dst_cluster, self.svm_name(&r.dst_svm)),
                "state": r.state, "healthy": r.healthy, "identity_preservation": r.identity,
                "transfer_state": r.transfer.as_ref().map(|t| t.state.clone()),
                "dst_present": r.dst_present, "src_present": r.src_present,
            }))
            .collect();
        let jobs: Vec<Value> = self
            .jobs
            .iter()
            .map(|j| json!({"cluster": j.cluster, "uuid": j.uuid, "state": j.state.as_str(), "description": j.description}))
            .collect();
        json!({
            "clusters": clusters, "svms": svms, "lifs": lifs, "volumes": volumes,
            "cluster_peers": peers, "svm_peers": svm_peers, "relationships": rels, "jobs": jobs,
            "probe_ports": {"nfs": self.nfs_port, "iscsi": self.iscsi_port},
            "export_policies": self.dump_export_policies(), "luns": self.dump_luns(),
        })
    }
}
