//! The SVM peer: the DR cluster requests peering of the DR SVM with the
//! source SVM, and the primary cluster accepts the request once it has
//! arrived there as `pending`.

use std::time::Duration;

use serde_json::json;

use super::spec::{
    Action, Apply, PeerCheck, PeeringStep, blocked, call, dr_name_for_primary, ontap_error,
    svm_peer_toward,
};
use crate::ontap::SvmPeerQuery;
use crate::ontap::models::{SvmPeerApplication, SvmPeerState};
use crate::peering::observe::Observed;
use crate::peering::request::{PeerRequest, PlannedCall};
use crate::poll::{Pace, Poller};

/// Pause between reads of the primary's SVM peers while waiting for the
/// request to arrive.
const REQUEST_POLL: Duration = Duration::from_millis(200);

/// The SVM peer request from the DR SVM to the source SVM.
pub struct SvmPeerRequest;

impl PeeringStep for SvmPeerRequest {
    fn title(&self) -> &'static str {
        "SVM peer"
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        match svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm) {
            Some(p)
                if matches!(
                    p.state,
                    Some(SvmPeerState::Rejected | SvmPeerState::Suspended)
                ) =>
            {
                PeerCheck::Blocked(format!(
                    "the SVM peer {} <-> {} is {}: resume or delete it on {}, then re-run",
                    req.dr_svm,
                    req.svm,
                    p.state.map_or("?", |s| s.as_str()),
                    obs.dr.name()
                ))
            }
            Some(p) => PeerCheck::Done(format!(
                "{} <-> {} ({})",
                req.dr_svm,
                req.svm,
                p.state.map_or("?", |s| s.as_str())
            )),
            None => PeerCheck::Todo(format!(
                "request SVM peering {}:{} -> {}:{} (application snapmirror)",
                obs.dr.name(),
                req.dr_svm,
                obs.primary.name(),
                req.svm
            )),
        }
    }

    fn calls(&self, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        vec![call(
            obs.dr.name(),
            "POST",
            "/api/svm/peers?return_records=true",
            Some(json!({
                "svm": {"name": req.dr_svm},
                "peer": {"cluster": {"name": dr_name_for_primary(obs)}, "svm": {"name": req.svm}},
                "applications": ["snapmirror"],
            })),
        )]
    }

    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            cx.clients
                .dr
                .create_svm_peer(
                    &cx.req.dr_svm,
                    &dr_name_for_primary(cx.obs),
                    &cx.req.svm,
                    &[SvmPeerApplication::Snapmirror],
                )
                .await
                .map_err(ontap_error(self))?;
            Ok(())
        })
    }
}

/// The acceptance of the SVM peer request on the primary cluster.
pub struct SvmPeerAccept;

impl PeeringStep for SvmPeerAccept {
    fn title(&self) -> &'static str {
        "SVM peer acceptance"
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        let dr_side = svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm);
        if dr_side.and_then(|p| p.state) == Some(SvmPeerState::Peered) {
            return PeerCheck::Done(format!("{} <-> {} peered", req.dr_svm, req.svm));
        }
        match svm_peer_toward(&obs.primary, &req.svm, &req.dr_svm) {
            Some(p) if p.state == Some(SvmPeerState::Peered) => {
                PeerCheck::Done(format!("{} <-> {} peered", req.dr_svm, req.svm))
            }
            Some(p) => PeerCheck::Todo(format!(
                "accept the SVM peer on {} (now {})",
                obs.primary.name(),
                p.state.map_or("?", |s| s.as_str())
            )),
            None => PeerCheck::Todo(format!(
                "accept the SVM peer on {} once the request arrives",
                obs.primary.name()
            )),
        }
    }

    fn calls(&self, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        let uuid = svm_peer_toward(&obs.primary, &req.svm, &req.dr_svm)
            .and_then(|x| x.uuid.clone())
            .unwrap_or_else(|| "<uuid of the pending SVM peer>".into());
        vec![call(
            obs.primary.name(),
            "PATCH",
            &format!("/api/svm/peers/{uuid}"),
            Some(json!({"state": "peered"})),
        )]
    }

    /// Waits for the request to arrive on the primary as `pending`, then
    /// accepts it (nothing to do when it is already `peered`).
    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            let Apply {
                req, obs, clients, ..
            } = cx;
            let ontap = ontap_error(self);
            let query = SvmPeerQuery {
                svm: Some(req.svm.clone()),
                peer_svm: Some(req.dr_svm.clone()),
                ..Default::default()
            };
            let mut poller = Poller::start(Pace::every(REQUEST_POLL, req.wait_timeout));
            let arrived = loop {
                poller.tick();
                let peers = clients.primary.svm_peers(&query).await.map_err(ontap)?;
                match peers.first() {
                    Some(p) if p.state == Some(SvmPeerState::Peered) => break None,
                    Some(p) if p.state == Some(SvmPeerState::Pending) => {
                        break Some(p.uuid.clone().unwrap_or_default());
                    }
                    _ => {}
                }
                if let Err(e) = poller.pending(()).await {
                    return Err(e.or_timeout(|_, ()| {
                        blocked(
                            self,
                            format!(
                                "the SVM peer request from {} did not reach {} as pending \
                                 within {:?}; check the cluster peer health and re-run",
                                obs.dr.name(),
                                obs.primary.name(),
                                req.wait_timeout
                            ),
                        )
                    }));
                }
            };
            if let Some(uuid) = arrived {
                clients
                    .primary
                    .accept_svm_peer(&uuid)
                    .await
                    .map_err(ontap)?;
            }
            Ok(())
        })
    }
}
