//! The SVM steps: the source SVM must exist, the `dp_destination` SVM is
//! created on the DR cluster, and it is stopped before the baseline.

use serde_json::json;

use super::spec::{Action, Apply, PeerCheck, PeeringStep, call, ontap_error, svm_peer_toward};
use crate::ontap::models::{RelationshipState, SvmState, SvmSubtype};
use crate::peering::observe::Observed;
use crate::peering::request::{PeerRequest, PlannedCall};

/// The source SVM exists on the primary cluster (nothing to create).
pub struct SourceSvm;

impl PeeringStep for SourceSvm {
    fn title(&self) -> &'static str {
        "source SVM"
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        if req.svm == req.dr_svm
            && obs.relationship.is_none()
            && svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm).is_none()
        {
            return PeerCheck::Blocked(format!(
                "the DR SVM would have the source's name ({0}); ONTAP then requires a local \
                 alias for the peer SVM on each cluster (error 9896086), which kubectl svmdr \
                 does not set: pass --dr-svm with another name, e.g. --dr-svm {0}_dr",
                req.svm
            ));
        }
        match &obs.primary.svm {
            None => PeerCheck::Blocked(format!(
                "SVM {} does not exist on the primary cluster {}: check --svm (Trident's backend \
                 uses {})",
                req.svm,
                obs.primary.name(),
                req.backend_svm_hint
                    .as_deref()
                    .unwrap_or("an SVM-scoped LIF")
            )),
            Some(s) if s.subtype.is_some_and(|t| t != SvmSubtype::Default) => {
                PeerCheck::Blocked(format!(
                    "SVM {} on {} has subtype {}; an SVM-DR source must be a default SVM",
                    req.svm,
                    obs.primary.name(),
                    s.subtype.map_or("?", |t| t.as_str())
                ))
            }
            Some(s) => PeerCheck::Done(format!(
                "SVM {} on {} ({})",
                req.svm,
                obs.primary.name(),
                s.state.map_or("unknown", |x| x.as_str())
            )),
        }
    }

    fn calls(&self, _: &PeerRequest, _: &Observed) -> Vec<PlannedCall> {
        Vec::new()
    }

    fn apply<'a>(&'a self, _: Apply<'a>) -> Action<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// The `dp_destination` SVM on the DR cluster.
pub struct DestinationSvm;

impl PeeringStep for DestinationSvm {
    fn title(&self) -> &'static str {
        "dp_destination SVM"
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        match &obs.dr.svm {
            None => PeerCheck::Todo(format!(
                "create SVM {} (subtype dp_destination) on {}",
                req.dr_svm,
                obs.dr.name()
            )),
            Some(s) if s.subtype == Some(SvmSubtype::DpDestination) => PeerCheck::Done(format!(
                "SVM {} on {} is a dp_destination",
                req.dr_svm,
                obs.dr.name()
            )),
            Some(s) if obs.relationship.is_some() => PeerCheck::Done(format!(
                "SVM {} on {} (subtype {}, in an SVM-DR relationship)",
                req.dr_svm,
                obs.dr.name(),
                s.subtype.map_or("?", |t| t.as_str())
            )),
            Some(s) => PeerCheck::Blocked(format!(
                "SVM {} already exists on {} with subtype {}; an SVM-DR destination must be \
                 created as dp_destination: pick another --dr-svm or remove that SVM",
                req.dr_svm,
                obs.dr.name(),
                s.subtype.map_or("?", |t| t.as_str())
            )),
        }
    }

    fn calls(&self, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        vec![call(
            obs.dr.name(),
            "POST",
            "/api/svm/svms",
            Some(json!({"name": req.dr_svm, "subtype": "dp_destination"})),
        )]
    }

    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            cx.clients
                .dr
                .create_dp_destination_svm(&cx.req.dr_svm)
                .await
                .map_err(ontap_error(self))?;
            Ok(())
        })
    }
}

/// The DR SVM stopped before the baseline transfer.
pub struct StopDestinationSvm;

impl PeeringStep for StopDestinationSvm {
    fn title(&self) -> &'static str {
        "DR SVM stopped for the baseline"
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        if !req.initialize {
            return PeerCheck::Skipped("--no-initialize".into());
        }
        let uninitialized = obs
            .relationship
            .as_ref()
            .is_none_or(|r| r.state == Some(RelationshipState::Uninitialized));
        match &obs.dr.svm {
            None => PeerCheck::Todo(format!(
                "make sure SVM {} on {} is stopped before the baseline transfer",
                req.dr_svm,
                obs.dr.name()
            )),
            Some(s) if uninitialized && s.state == Some(SvmState::Running) => {
                PeerCheck::Todo(format!("stop SVM {} on {}", req.dr_svm, obs.dr.name()))
            }
            _ => PeerCheck::Done(format!("SVM {} is not running", req.dr_svm)),
        }
    }

    fn calls(&self, _: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        let uuid = obs
            .dr
            .svm
            .as_ref()
            .and_then(|s| s.uuid.clone())
            .unwrap_or_else(|| "<uuid of the DR SVM>".into());
        vec![call(
            obs.dr.name(),
            "PATCH",
            &format!("/api/svm/svms/{uuid}"),
            Some(json!({"state": "stopped"})),
        )]
    }

    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            let uuid = cx
                .obs
                .dr
                .svm
                .as_ref()
                .and_then(|s| s.uuid.clone())
                .unwrap_or_default();
            cx.clients
                .dr
                .set_svm_state(&uuid, SvmState::Stopped)
                .await
                .map_err(ontap_error(self))?;
            Ok(())
        })
    }
}
