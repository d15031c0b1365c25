//! One observation of the pair, with the same collection as `status`
//! (both ONTAP clusters in one concurrent round, the Velero half on DR),
//! plus the two views `status` does not take: the primary's Kubernetes
//! API answering at all, and the witness. Every call is bounded.
//!
//! Requests per observation are fixed by the number of sites, never by
//! the number of relationships or volumes: those of `status` (see
//! [`crate::status`]), one `GET /version` on the primary's Kubernetes API,
//! and one `GET` of the witness Lease.

use std::time::Duration;

use chrono::Utc;

use super::view::{Observation, PeerView, Reach, Replication};
use super::witness::Witness;
use crate::plan::storage::PeerState;
use crate::site::{Site, SiteRole};
use crate::status::{self, SiteFailure, SiteInfo, StatusReport};

/// The primary as the watcher holds it: resolved (its ONTAP endpoint and
/// credentials found through its Trident backend), or why not.
pub type PrimaryRef<'a> = Option<Result<&'a Site, &'a (SiteInfo, SiteFailure)>>;

/// Observes both sites and the witness once, each call within `timeout`.
pub async fn observe(
    dr: &Site,
    primary: PrimaryRef<'_>,
    witness: &dyn Witness,
    velero_namespace: &str,
    timeout: Duration,
) -> (Observation, StatusReport) {
    let kube_probe = async {
        match &primary {
            None => Reach::Unknown,
            Some(Err((_, failure))) => Reach::Down(failure.message.clone()),
            Some(Ok(site)) => {
                match tokio::time::timeout(timeout, site.kube.apiserver_version()).await {
                    Ok(Ok(_)) => Reach::Up,
                    Ok(Err(e)) => Reach::Down(crate::error_chain::render(&e)),
                    Err(_) => Reach::Down(format!(
                        "no answer within {}",
                        humantime::format_duration(timeout)
                    )),
                }
            }
        }
    };
    let collect = async {
        let (mut report, velero) = tokio::join!(
            status::collect(dr, primary, None),
            status::velero::collect(&dr.kube, velero_namespace, None)
        );
        status::velero::apply(&mut report, velero);
        report
    };
    let bounded = async { tokio::time::timeout(timeout * 2, collect).await.ok() };
    let (report, primary_kube, witness) = tokio::join!(bounded, kube_probe, witness.read(timeout));
    let report = report.unwrap_or_else(|| timed_out_report(timeout));
    let observation = from_report(&report, primary_kube, witness);
    (observation, report)
}

/// A report for a collection that did not finish in time: both sites
/// unknown, so nothing in it can count as evidence of a loss.
fn timed_out_report(timeout: Duration) -> StatusReport {
    status::evaluate(
        &status::SiteInput {
            info: SiteInfo::default(),
            facts: Err(SiteFailure {
                failure: crate::ontap::Failure::Unreachable,
                message: format!(
                    "the status collection took longer than {}",
                    humantime::format_duration(timeout * 2)
                ),
            }),
        },
        None,
        None,
        Utc::now(),
    )
}

/// The observation a status report (and the two extra views) make.
pub fn from_report(
    report: &StatusReport,
    primary_kube: Reach,
    witness: super::view::WitnessView,
) -> Observation {
    let site_reach = |s: &status::SiteStatus| {
        if !s.configured {
            Reach::Unknown
        } else if s.reachable {
            Reach::Up
        } else {
            Reach::Down(s.error.clone().unwrap_or_else(|| "no answer".into()))
        }
    };
    let primary_ontap = site_reach(&report.sites.primary);
    let dr_ontap = site_reach(&report.sites.dr);
    let peer_view = if !dr_ontap.is_up() {
        PeerView::Unknown("the DR ONTAP cluster did not answer".into())
    } else {
        let primary_name = report.sites.primary.cluster.as_deref();
        let peers: Vec<&status::ClusterPeerStatus> = report
            .cluster_peers
            .iter()
            .filter(|p| p.side == SiteRole::Dr)
            .filter(|p| primary_name.is_none_or(|n| n == p.peer))
            .collect();
        // The failover's split-brain guard reads the same record with the
        // same rule (`PeerState`): `partial` means the primary still answers;
        // only `unavailable` is evidence that it does not.
        match peers.as_slice() {
            [] => PeerView::Unknown("the DR cluster has no peer record of the primary".into()),
            [p, ..] => match PeerState::parse(&p.availability) {
                s if s.remote_answers() => PeerView::Available,
                PeerState::Unavailable => {
                    PeerView::Unavailable(format!("{} is unavailable", p.peer))
                }
                s => PeerView::Unknown(format!("{} is {s}", p.peer)),
            },
        }
    };
    let replication = report
        .relationships
        .iter()
        .filter(|r| r.held_on == SiteRole::Dr || r.direction == "forward")
        .map(|r| Replication {
            pair: format!("{} → {}", r.source.svm, r.destination.svm),
            source_svm: r.source.svm.clone(),
            destination_svm: r.destination.svm.clone(),
            source_cluster: r.source.cluster.clone().unwrap_or_default(),
            destination_cluster: r.destination.cluster.clone().unwrap_or_default(),
            state: r.state.clone(),
            healthy: r.healthy,
            lag_seconds: r.lag_seconds,
            rpo_seconds: r.rpo_seconds,
            rpo_exceeded: r.rpo_exceeded,
            forward_live: r.direction == "forward" && r.state == "snapmirrored",
            dr_active: r.active_site == "dr",
        })
        .collect();
    let velero = report.velero.as_ref();
    Observation {
        at: report.generated_at,
        primary_ontap,
        primary_kube,
        dr_ontap,
        peer_view,
        witness,
        replication,
        backup_age_seconds: velero.and_then(|v| v.latest_backup_age_seconds),
        backup_stale: velero.and_then(|v| v.stale),
        problems: report.problems.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{ClusterPeerStatus, SiteInput};
    use crate::watch::view::WitnessView;

    fn report_with_peer(availability: &str) -> StatusReport {
        let mut r = status::evaluate(
            &SiteInput {
                info: SiteInfo::default(),
                facts: Ok(status::SiteFacts::default()),
            },
            None,
            None,
            Utc::now(),
        );
        r.cluster_peers = vec![ClusterPeerStatus {
            side: SiteRole::Dr,
            peer: "ontap-a".into(),
            availability: availability.into(),
            authentication: "ok".into(),
            auth_in_use: "ok".into(),
            encryption: "tls_psk".into(),
            healthy: availability == "available",
        }];
        r
    }

    #[test]
    fn only_unavailable_is_evidence_of_a_lost_peer() {
        let view =
            |a: &str| from_report(&report_with_peer(a), Reach::Up, WitnessView::Missing).peer_view;
        assert_eq!(view("available"), PeerView::Available);
        // Some primary nodes still answer: alive, as the failover guard says.
        assert_eq!(view("partial"), PeerView::Available);
        assert!(matches!(view("unavailable"), PeerView::Unavailable(_)));
        assert!(matches!(view("pending"), PeerView::Unknown(_)));
        assert!(matches!(view("unidentified"), PeerView::Unknown(_)));
    }
}
