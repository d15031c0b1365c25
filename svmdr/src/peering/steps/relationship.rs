//! The SVM-DR relationship on the DR cluster (created, or converged to
//! the settings the request names explicitly), and its baseline transfer,
//! waited for until `snapmirrored`.

use std::time::Duration;

use serde_json::json;

use super::spec::{
    Action, Apply, PeerCheck, PeeringStep, blocked, call, dr_name_for_primary, ontap_error,
    source_path,
};
use crate::ontap::models::{PolicyType, RelationshipState, TransferState};
use crate::ontap::{CreateRelationship, PatchOptions};
use crate::peering::observe::Observed;
use crate::peering::request::{PeerRequest, PlannedCall};
use crate::peering::settings;

/// Pause between reads of the relationship during the baseline transfer.
const TRANSFER_POLL: Duration = Duration::from_millis(250);

/// The SVM-DR relationship on the DR cluster.
pub struct Relationship;

impl PeeringStep for Relationship {
    fn title(&self) -> &'static str {
        "SVM-DR relationship"
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        let wanted_src = source_path(obs, req);
        if let Some(r) = &obs.relationship {
            if r.source_path() != wanted_src {
                return PeerCheck::Blocked(format!(
                    "{}: is already the destination of {} on {}; pick another --dr-svm",
                    req.dr_svm,
                    r.source_path(),
                    obs.dr.name()
                ));
            }
            return match settings::relationship_change(req, obs, r) {
                Err(refusal) => PeerCheck::Blocked(refusal),
                Ok((change, _)) if change.is_empty() => PeerCheck::Done(format!(
                    "{} -> {}: ({}), {}",
                    r.source_path(),
                    req.dr_svm,
                    r.state.map_or("?", |s| s.as_str()),
                    settings::describe(r, obs)
                )),
                Ok((_, deltas)) => PeerCheck::Todo(format!(
                    "change {} -> {}: {}",
                    r.source_path(),
                    req.dr_svm,
                    deltas
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
        }
        match &obs.policy {
            None => PeerCheck::Blocked(format!(
                "SnapMirror policy {} does not exist on {}: pass an existing async policy \
                     with --policy (e.g. MirrorAllSnapshots)",
                req.policy,
                obs.dr.name()
            )),
            Some(p) if p.kind.is_some_and(|k| k != PolicyType::Async) => {
                PeerCheck::Blocked(format!(
                    "SnapMirror policy {} is type {}; SVM-DR needs an async policy such as \
                     MirrorAllSnapshots",
                    req.policy,
                    p.kind.map_or("?", |k| k.as_str())
                ))
            }
            Some(_) => PeerCheck::Todo(format!(
                "create {wanted_src} -> {}: (policy {}, identity preservation {}, schedule {}{})",
                req.dr_svm,
                req.policy,
                req.identity_preservation,
                req.schedule.as_deref().unwrap_or("the policy's"),
                req.throttle
                    .map(|t| format!(", throttle {t} KB/s"))
                    .unwrap_or_default()
            )),
        }
    }

    fn calls(&self, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        let d = obs.dr.name();
        if let Some(r) = &obs.relationship {
            let Ok((change, _)) = settings::relationship_change(req, obs, r) else {
                return Vec::new();
            };
            if change.is_empty() {
                return Vec::new();
            }
            let uuid = r
                .uuid
                .clone()
                .unwrap_or_else(|| "<uuid of the relationship>".into());
            return vec![call(
                d,
                "PATCH",
                &format!("/api/snapmirror/relationships/{uuid}"),
                Some(change.body()),
            )];
        }
        let mut body = json!({
            "source": {"path": source_path(obs, req), "cluster": {"name": dr_name_for_primary(obs)}},
            "destination": {"path": format!("{}:", req.dr_svm)},
            "policy": {"name": req.policy},
            "identity_preservation": req.identity_preservation.as_str(),
        });
        if let Some(s) = &req.schedule {
            body["transfer_schedule"] = json!({"name": s});
        }
        if let Some(t) = req.throttle {
            body["throttle"] = json!(t);
        }
        vec![call(d, "POST", "/api/snapmirror/relationships", Some(body))]
    }

    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            let Apply {
                req,
                obs,
                clients,
                reporter,
            } = cx;
            let ontap = ontap_error(self);
            if let Some(r) = &obs.relationship {
                let (change, deltas) = settings::relationship_change(req, obs, r)
                    .map_err(|detail| blocked(self, detail))?;
                // Without a UUID the PATCH would go to the collection path.
                let uuid = r.uuid.clone().ok_or_else(|| {
                    blocked(
                        self,
                        "ONTAP reported the relationship without a uuid; cannot change it",
                    )
                })?;
                clients
                    .dr
                    .patch_relationship(&uuid, &change)
                    .await
                    .map_err(ontap)?;
                let text: Vec<String> = deltas.iter().map(ToString::to_string).collect();
                reporter.note(&format!(
                    "changed the relationship {} -> {}: on {}: {}",
                    r.source_path(),
                    req.dr_svm,
                    obs.dr.name(),
                    text.join(", ")
                ));
                return Ok(());
            }
            let identity = match &obs.policy {
                // Before 9.11.1 identity preservation lives on the policy only.
                Some(p)
                    if !obs
                        .dr
                        .cluster
                        .version
                        .as_ref()
                        .is_some_and(|v| v.at_least(9, 11, 1))
                        && obs.dr.cluster.version.is_some() =>
                {
                    if p.identity_preservation != Some(req.identity_preservation) {
                        reporter.note(&format!(
                            "{} is older than 9.11.1: identity preservation comes from policy {} ({})",
                            obs.dr.name(),
                            req.policy,
                            p.identity_preservation.map_or("unset", |i| i.as_str())
                        ));
                    }
                    None
                }
                _ => Some(req.identity_preservation),
            };
            clients
                .dr
                .create_relationship_throttled(
                    &CreateRelationship {
                        source_path: source_path(obs, req),
                        source_cluster: Some(dr_name_for_primary(obs)),
                        destination_path: format!("{}:", req.dr_svm),
                        policy: Some(req.policy.clone()),
                        identity_preservation: identity,
                        transfer_schedule: req.schedule.clone(),
                    },
                    req.throttle,
                )
                .await
                .map_err(ontap)?;
            Ok(())
        })
    }
}

/// The baseline transfer, until `snapmirrored`.
pub struct Initialize;

impl PeeringStep for Initialize {
    fn title(&self) -> &'static str {
        "initialize"
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        if !req.initialize {
            return PeerCheck::Skipped("--no-initialize".into());
        }
        match obs
            .relationship
            .as_ref()
            .map(|r| (r.state, r.transfer_state()))
        {
            None | Some((Some(RelationshipState::Uninitialized), _)) => {
                PeerCheck::Todo("baseline transfer until snapmirrored".into())
            }
            Some((
                Some(RelationshipState::Snapmirrored),
                Some(TransferState::Transferring | TransferState::Queued),
            )) => PeerCheck::Todo("wait for the running transfer".into()),
            Some((Some(RelationshipState::Snapmirrored | RelationshipState::Paused), _)) => {
                PeerCheck::Done("snapmirrored".into())
            }
            Some((Some(RelationshipState::BrokenOff), _)) => PeerCheck::Unsafe(format!(
                "the relationship to {}: is broken off (the DR SVM was activated and may hold \
                     new data); peer will not overwrite it: use `kubectl svmdr resync` or \
                     `kubectl svmdr failback`",
                req.dr_svm
            )),
            Some((state, _)) => PeerCheck::Blocked(format!(
                "the relationship is {}; peer can initialize only an uninitialized one",
                state.map_or("unknown", |s| s.as_str())
            )),
        }
    }

    fn calls(&self, _: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        let d = obs.dr.name();
        let uuid = obs
            .relationship
            .as_ref()
            .and_then(|r| r.uuid.clone())
            .unwrap_or_else(|| "<uuid of the new relationship>".into());
        vec![call(
            d,
            "PATCH",
            &format!("/api/snapmirror/relationships/{uuid}"),
            Some(json!({"state": "snapmirrored"})),
        )]
    }

    /// Starts the transfer (unless one runs) and waits for the relationship
    /// to be `snapmirrored`, or the transfer to fail, within
    /// [`PeerRequest::init_timeout`].
    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            let Apply {
                req,
                obs,
                clients,
                reporter,
            } = cx;
            let ontap = ontap_error(self);
            let rel = obs
                .relationship
                .as_ref()
                .ok_or_else(|| blocked(self, "the relationship is missing"))?;
            let uuid = rel.uuid.clone().unwrap_or_default();
            if rel.state == Some(RelationshipState::Uninitialized) && !rel.is_transferring() {
                clients
                    .dr
                    .patch_relationship_state(
                        &uuid,
                        RelationshipState::Snapmirrored,
                        PatchOptions::default(),
                    )
                    .await
                    .map_err(ontap)?;
            }
            let task = format!("initialize {}:", req.dr_svm);
            let done = clients
                .dr
                .wait_relationship(
                    &uuid,
                    |r| {
                        r.state == Some(RelationshipState::Snapmirrored) && !r.is_transferring()
                            || matches!(
                                r.transfer_state(),
                                Some(
                                    TransferState::Failed
                                        | TransferState::Aborted
                                        | TransferState::HardAborted
                                )
                            )
                    },
                    req.init_timeout,
                    TRANSFER_POLL,
                    |r| {
                        let bytes = r
                            .transfer
                            .as_ref()
                            .and_then(|t| t.bytes_transferred)
                            .unwrap_or(0);
                        reporter.progress(&task, bytes, None, r.state.map_or("", |s| s.as_str()));
                    },
                )
                .await;
            reporter.progress_finished(&task);
            let done = done.map_err(ontap)?;
            if done.state != Some(RelationshipState::Snapmirrored) {
                return Err(blocked(
                    self,
                    format!(
                        "the baseline transfer ended {}: {}; fix the cause and re-run",
                        done.transfer_state().map_or("?", |s| s.as_str()),
                        done.summary()
                    ),
                ));
            }
            Ok(())
        })
    }
}
