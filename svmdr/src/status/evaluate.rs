//! The pure evaluation that builds the status report from the facts of both
//! sites.

use chrono::{DateTime, Utc};

use super::report::*;
use crate::ontap::Failure;
use crate::ontap::models::ClusterPeer;
use crate::site::SiteRole;

fn peer_matches(p: &ClusterPeer, cluster: &str) -> bool {
    p.name.as_deref() == Some(cluster)
        || p.remote.as_ref().and_then(|r| r.name.as_deref()) == Some(cluster)
}

fn peer_status(side: SiteRole, p: &ClusterPeer) -> ClusterPeerStatus {
    let auth = p.authentication.as_ref();
    ClusterPeerStatus {
        side,
        peer: p
            .name
            .clone()
            .or_else(|| p.remote.as_ref().and_then(|r| r.name.clone()))
            .unwrap_or_default(),
        availability: p
            .status
            .as_ref()
            .and_then(|s| s.state)
            .map_or("unknown".into(), |s| s.to_string()),
        authentication: auth
            .and_then(|a| a.state)
            .map_or("unknown".into(), |s| s.to_string()),
        auth_in_use: auth
            .and_then(|a| a.in_use)
            .map_or("unknown".into(), |s| s.to_string()),
        encryption: p
            .encryption
            .as_ref()
            .and_then(|e| e.state)
            .map_or("unknown".into(), |s| s.to_string()),
        healthy: p.is_healthy(),
    }
}

fn site_status(role: SiteRole, input: Option<&SiteInput>) -> SiteStatus {
    match input {
        None => SiteStatus {
            role,
            configured: false,
            reachable: false,
            error: None,
            failure: None,
            info: SiteInfo::default(),
            cluster: None,
            version: None,
        },
        Some(i) => SiteStatus {
            role,
            configured: true,
            // A refused login or call is an answer: the cluster is reachable.
            reachable: match &i.facts {
                Ok(_) => true,
                Err(f) => matches!(
                    f.failure,
                    Failure::AuthenticationFailed | Failure::NotPermitted
                ),
            },
            error: i.facts.as_ref().err().map(|f| f.message.clone()),
            failure: i.facts.as_ref().err().map(|f| f.failure),
            info: i.info.clone(),
            cluster: i.facts.as_ref().ok().and_then(|f| f.cluster.name.clone()),
            version: i
                .facts
                .as_ref()
                .ok()
                .and_then(|f| f.cluster.version.as_ref())
                .map(ToString::to_string),
        },
    }
}

/// Builds the report from both sites' facts. Pure: no I/O, `now` is given.
///
/// `svm` keeps only relationships whose source or destination SVM has that
/// name.
pub fn evaluate(
    dr: &SiteInput,
    primary: Option<&SiteInput>,
    svm: Option<&str>,
    now: DateTime<Utc>,
) -> StatusReport {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let sites = Sites {
        primary: site_status(SiteRole::Primary, primary),
        dr: site_status(SiteRole::Dr, Some(dr)),
    };
    let primary_facts = primary.and_then(|p| p.facts.as_ref().ok());
    match primary {
        None => notes.push(
            "the primary site is not configured, so its SVM state and cluster peer record are \
             not checked (pass --primary-context or add `primary:` to the config file)"
                .to_string(),
        ),
        Some(SiteInput { facts: Err(e), .. }) => {
            problems.push(e.problem("primary site"));
        }
        Some(_) => {}
    }
    let dr_facts = match &dr.facts {
        Ok(f) => f,
        Err(e) => {
            problems.push(e.problem("DR site"));
            return StatusReport {
                api_version: API_VERSION,
                kind: KIND,
                generated_at: now,
                healthy: false,
                problems,
                notes,
                sites,
                cluster_peers: Vec::new(),
                relationships: Vec::new(),
                active_site: "unknown".into(),
                flow: "none".into(),
                trident_backends: Vec::new(),
                velero: None,
                protected_namespaces: None,
                app_runs_on: "unknown".into(),
                dr_workloads: None,
                watcher: None,
            };
        }
    };
    let dr_cluster = dr_facts.cluster.name.clone();
    let primary_cluster = primary_facts.and_then(|f| f.cluster.name.clone());

    let (relationships, active_site, flow) =
        super::direction::relationships(dr_facts, primary_facts, svm, &mut notes);

    // Cluster peers that matter: those naming the other site's cluster (or
    // the relationships' source clusters when the primary did not answer).
    let mut wanted_remote: Vec<String> = relationships
        .iter()
        .filter(|r| r.held_on == SiteRole::Dr)
        .filter_map(|r| r.source.cluster.clone())
        .collect();
    wanted_remote.extend(primary_cluster.clone());
    wanted_remote.sort();
    wanted_remote.dedup();
    let mut cluster_peers = Vec::new();
    for name in &wanted_remote {
        match dr_facts
            .cluster_peers
            .iter()
            .find(|p| peer_matches(p, name))
        {
            Some(p) => cluster_peers.push(peer_status(SiteRole::Dr, p)),
            None => problems.push(format!(
                "the DR cluster has no cluster peer for {name}: run `kubectl svmdr peer`"
            )),
        }
    }
    if let (Some(pf), Some(dr_name)) = (primary_facts, &dr_cluster) {
        match pf.cluster_peers.iter().find(|p| peer_matches(p, dr_name)) {
            Some(p) => cluster_peers.push(peer_status(SiteRole::Primary, p)),
            None => problems.push(format!(
                "the primary cluster has no cluster peer for {dr_name}: run `kubectl svmdr peer`"
            )),
        }
    }
    for p in &cluster_peers {
        if !p.healthy {
            problems.push(format!(
                "cluster peer {} on the {} side is unhealthy (availability {}, authentication {}, \
                 in use {}): check the intercluster LIFs and network between the sites",
                p.peer, p.side, p.availability, p.authentication, p.auth_in_use
            ));
        }
    }

    if relationships.is_empty() {
        problems.push(match svm {
            Some(s) => format!(
                "no SVM-DR relationship for SVM {s} on the DR cluster: run `kubectl svmdr peer --svm {s}`"
            ),
            None => "no SVM-DR relationship on the DR cluster: run `kubectl svmdr peer`".into(),
        });
    }
    for r in &relationships {
        for p in &r.problems {
            problems.push(format!(
                "relationship {} → {}: {p}",
                r.source.svm, r.destination.svm
            ));
        }
    }
    StatusReport {
        api_version: API_VERSION,
        kind: KIND,
        generated_at: now,
        healthy: problems.is_empty(),
        problems,
        notes,
        sites,
        cluster_peers,
        relationships,
        active_site,
        flow,
        trident_backends: Vec::new(),
        velero: None,
        protected_namespaces: None,
        app_runs_on: "unknown".into(),
        dr_workloads: None,
        watcher: None,
    }
}
