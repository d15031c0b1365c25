//! One look at the pair: each independent view of the primary, the
//! replication's lag, the newest backup's age. Plain data, built by
//! [`super::observe`] and judged by [`super::decide`].

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Whether an API answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "error")]
pub enum Reach {
    /// It answered (a refused login counts: something is alive there).
    Up,
    /// No answer: the error.
    Down(String),
    /// Not looked at (not configured).
    Unknown,
}

impl Reach {
    /// Answered.
    pub fn is_up(&self) -> bool {
        matches!(self, Self::Up)
    }

    /// Did not answer.
    pub fn is_down(&self) -> bool {
        matches!(self, Self::Down(_))
    }
}

/// The DR ONTAP cluster's own cluster-peer record of the primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PeerView {
    /// `available` or `partial`: the primary answers over the intercluster
    /// network.
    Available,
    /// `unavailable`: ONTAP cannot reach the primary either.
    Unavailable(String),
    /// The DR cluster did not answer, has no peer record, or the record says
    /// neither (`pending`, `unidentified`): no evidence either way.
    Unknown(String),
}

/// What the witness says about the primary's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WitnessReading {
    /// Who renewed it (`holderIdentity`).
    pub holder: Option<String>,
    /// The renewal as the witness stores it (`renewTime`, the primary's
    /// clock): compared only for change, never against ours.
    pub renew_marker: String,
}

/// The witness's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum WitnessView {
    /// It answered.
    Read(WitnessReading),
    /// The Lease does not exist (the heartbeat never ran): the witness
    /// answered, but says nothing about the primary.
    Missing,
    /// No answer.
    Unreachable {
        /// Why.
        error: String,
    },
}

/// The replication seen from DR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replication {
    /// `svm1 → svm1_dr`.
    pub pair: String,
    /// Labels for metrics: source and destination SVM and cluster.
    pub source_svm: String,
    /// DR SVM.
    pub destination_svm: String,
    /// Source cluster.
    pub source_cluster: String,
    /// Destination cluster.
    pub destination_cluster: String,
    /// `snapmirrored`, `broken_off`, ...
    pub state: String,
    /// No problem found (status's judgement).
    pub healthy: bool,
    /// ONTAP's lag time: the data a failover now would lose.
    pub lag_seconds: Option<u64>,
    /// The RPO from the schedule.
    pub rpo_seconds: Option<u64>,
    /// Lag over the RPO.
    pub rpo_exceeded: Option<bool>,
    /// Replicates primary → DR now (DR is the destination, not broken).
    pub forward_live: bool,
    /// The DR SVM serves (a failover happened).
    pub dr_active: bool,
}

/// One observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// When (the watcher's clock).
    pub at: DateTime<Utc>,
    /// (a) The primary's ONTAP cluster from the watcher.
    pub primary_ontap: Reach,
    /// (a) The primary's Kubernetes API from the watcher.
    pub primary_kube: Reach,
    /// The DR ONTAP cluster.
    pub dr_ontap: Reach,
    /// (b) DR ONTAP's peer view of the primary cluster.
    pub peer_view: PeerView,
    /// (c) The witness.
    pub witness: WitnessView,
    /// Each SVM-DR relationship on DR.
    pub replication: Vec<Replication>,
    /// Age of the newest completed Velero backup.
    pub backup_age_seconds: Option<u64>,
    /// That backup is older than allowed.
    pub backup_stale: Option<bool>,
    /// Problems `status` found (one line each).
    pub problems: Vec<String>,
}

impl Observation {
    /// View (a): the watcher cannot reach the primary's ONTAP or its
    /// Kubernetes API.
    pub fn primary_unreachable(&self) -> bool {
        self.primary_ontap.is_down() || self.primary_kube.is_down()
    }

    /// View (b): DR ONTAP cannot reach the primary cluster either.
    pub fn peer_lost(&self) -> bool {
        matches!(self.peer_view, PeerView::Unavailable(_))
    }
}
