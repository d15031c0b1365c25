//! The observed state of both clusters that the peering steps decide on.

use crate::ontap::models::{
    Cluster, ClusterPeer, IpInterface, Node, Relationship, SnapmirrorPolicy, Svm, SvmPeer,
};
use crate::ontap::{OntapClient, OntapError, SvmPeerQuery};

use super::PeerRequest;

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

/// Reads both clusters concurrently (GETs only).
///
/// # Errors
/// The first failing call.
pub async fn observe(
    primary: &OntapClient,
    dr: &OntapClient,
    req: &PeerRequest,
) -> Result<Observed, OntapError> {
    let dst_path = format!("{}:", req.dr_svm);
    let (p, d, relationship, policy) = tokio::try_join!(
        view(primary, &req.svm),
        view(dr, &req.dr_svm),
        dr.relationship_by_destination(&dst_path),
        dr.snapmirror_policy_for_svm(&req.policy, Some(&req.dr_svm)),
    )?;
    Ok(Observed {
        primary: p,
        dr: d,
        relationship,
        policy,
    })
}
