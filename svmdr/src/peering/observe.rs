//! The observed state of both clusters that the peering steps decide on.

use crate::ontap::models::{
    Cluster, ClusterPeer, IpInterface, JobSchedule, Node, PolicyType, Relationship, ScheduleType,
    SnapmirrorPolicy, Svm, SvmPeer,
};
use crate::ontap::{OntapClient, OntapError, SvmPeerQuery};

use super::request::PeerRequest;

/// One cluster as seen by the peering steps.
#[derive(Debug, Clone, Default)]
pub struct ClusterView {
    /// `GET /api/cluster`.
    pub cluster: Cluster,
    /// `GET /api/cluster/nodes`.
    pub nodes: Vec<Node>,
    /// Intercluster LIFs.
    pub intercluster: Vec<IpInterface>,
    /// Cluster peers.
    pub peers: Vec<ClusterPeer>,
    /// The SVM of interest on this cluster (source or destination).
    pub svm: Option<Svm>,
    /// SVM peers of that SVM.
    pub svm_peers: Vec<SvmPeer>,
}

impl ClusterView {
    /// The cluster name, or `"?"`.
    pub fn name(&self) -> &str {
        self.cluster.name.as_deref().unwrap_or("?")
    }

    /// The cluster peer record for the cluster named `remote`.
    pub fn peer_for(&self, remote: &str) -> Option<&ClusterPeer> {
        self.peers.iter().find(|p| {
            p.remote.as_ref().and_then(|r| r.name.as_deref()) == Some(remote)
                || p.name.as_deref() == Some(remote)
        })
    }

    /// Addresses of the intercluster LIFs that are up.
    pub fn intercluster_addresses(&self) -> Vec<String> {
        self.intercluster
            .iter()
            .filter(|l| l.is_serving())
            .filter_map(|l| l.address().map(str::to_string))
            .collect()
    }

    /// Node names without an intercluster LIF homed (or currently) on them.
    pub fn nodes_without_intercluster(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter_map(|n| n.name.clone())
            .filter(|node| {
                !self.intercluster.iter().any(|l| {
                    let loc = l.location.as_ref();
                    loc.and_then(|x| x.home_node.as_ref())
                        .and_then(|h| h.name.as_deref())
                        == Some(node.as_str())
                        || loc
                            .and_then(|x| x.node.as_ref())
                            .and_then(|h| h.name.as_deref())
                            == Some(node.as_str())
                })
            })
            .collect()
    }
}

/// Both clusters plus the DR-only facts.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The source cluster.
    pub primary: ClusterView,
    /// The destination cluster.
    pub dr: ClusterView,
    /// The relationship whose destination is `<dr_svm>:` (DR cluster).
    pub relationship: Option<Relationship>,
    /// The requested SnapMirror policy as it applies on the DR cluster.
    pub policy: Option<SnapmirrorPolicy>,
    /// The existing relationship's policy (for its schedule), when there is
    /// a relationship.
    pub relationship_policy: Option<SnapmirrorPolicy>,
    /// The requested transfer schedule on the DR cluster
    /// (`GET /api/cluster/schedules?name=`), usable by the DR SVM.
    pub schedule: Option<JobSchedule>,
    /// The DR cluster's cron schedule names, read only when the requested
    /// schedule is missing or not cron (for the error message).
    pub schedule_names: Vec<String>,
    /// The DR cluster's async policy names, read only when the requested
    /// policy is missing or not async (for the error message).
    pub policy_names: Vec<String>,
}

async fn view(client: &OntapClient, svm: &str) -> Result<ClusterView, OntapError> {
    let peer_q = SvmPeerQuery {
        svm: Some(svm.to_string()),
        ..SvmPeerQuery::default()
    };
    let (cluster, nodes, intercluster, peers, svm, svm_peers) = tokio::try_join!(
        client.cluster(),
        client.nodes(),
        client.intercluster_interfaces(),
        client.cluster_peers(),
        client.svm_by_name(svm),
        client.svm_peers(&peer_q),
    )?;
    Ok(ClusterView {
        cluster,
        nodes,
        intercluster,
        peers,
        svm,
        svm_peers,
    })
}

/// Reads both clusters concurrently (GETs only). The schedule and policy
/// lists for error messages are read only when a name is wrong.
///
/// # Errors
/// The first failing call.
pub async fn observe(
    primary: &OntapClient,
    dr: &OntapClient,
    req: &PeerRequest,
) -> Result<Observed, OntapError> {
    let dst_path = format!("{}:", req.dr_svm);
    let schedules = async {
        match &req.schedule {
            Some(name) => dr.schedules(Some(name)).await,
            None => Ok(Vec::new()),
        }
    };
    let (p, d, relationship, policy, schedules) = tokio::try_join!(
        view(primary, &req.svm),
        view(dr, &req.dr_svm),
        dr.relationship_by_destination(&dst_path),
        dr.snapmirror_policy_for_svm(&req.policy, Some(&req.dr_svm)),
        schedules,
    )?;
    // A schedule owned by another SVM (9.10+) cannot serve this one.
    let schedule = schedules.into_iter().find(|s| {
        s.name == req.schedule
            && s.svm
                .as_ref()
                .and_then(|x| x.name.as_deref())
                .is_none_or(|owner| owner == req.dr_svm)
    });
    let rel_policy_name = relationship
        .as_ref()
        .and_then(|r| r.policy.as_ref())
        .and_then(|p| p.name.clone());
    let relationship_policy = match rel_policy_name {
        Some(n) if n == req.policy => policy.clone(),
        Some(n) => dr.snapmirror_policy_for_svm(&n, Some(&req.dr_svm)).await?,
        None => None,
    };
    let schedule_bad = req.schedule.is_some()
        && schedule
            .as_ref()
            .is_none_or(|s| s.kind == Some(ScheduleType::Interval));
    let schedule_names = if schedule_bad {
        let mut names: Vec<String> = dr
            .schedules(None)
            .await?
            .into_iter()
            .filter(|s| s.kind != Some(ScheduleType::Interval))
            .filter(|s| {
                s.svm
                    .as_ref()
                    .and_then(|x| x.name.as_deref())
                    .is_none_or(|owner| owner == req.dr_svm)
            })
            .filter_map(|s| s.name)
            .collect();
        names.sort();
        names.dedup();
        names
    } else {
        Vec::new()
    };
    let policy_bad = policy
        .as_ref()
        .is_none_or(|p| p.kind.is_some_and(|k| k != PolicyType::Async));
    let policy_names = if policy_bad {
        let mut names: Vec<String> = dr
            .snapmirror_policies()
            .await?
            .into_iter()
            .filter(|p| p.kind == Some(PolicyType::Async))
            .filter(|p| {
                p.svm
                    .as_ref()
                    .and_then(|x| x.name.as_deref())
                    .is_none_or(|owner| owner == req.dr_svm)
            })
            .filter_map(|p| p.name)
            .collect();
        names.sort();
        names.dedup();
        names
    } else {
        Vec::new()
    };
    Ok(Observed {
        primary: p,
        dr: d,
        relationship,
        policy,
        relationship_policy,
        schedule,
        schedule_names,
        policy_names,
    })
}
