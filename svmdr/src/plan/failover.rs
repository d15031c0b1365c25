//! Unplanned failover to the DR site (`kubectl svmdr failover`).
//!
//! Runs against the DR cluster and works when the primary site (its
//! Kubernetes and its ONTAP) is gone. Sequence (`docs/ontap-rest.md` §12.2):
//!
//! 1. `abort-transfer`: stop a transfer in flight on the forward relationship
//!    (PATCH `/transfers/{uuid}` `state=aborted`).
//! 2. `quiesce`: PATCH `state=paused`, so no scheduled transfer starts.
//! 3. `stop-primary` (only with `--force` while the primary SVM runs): with
//!    `full` identity preservation both SVMs carry the same LIF addresses,
//!    and ONTAP refuses the break while the source runs (§12.2, NetAppDocs/ontap#1922).
//! 4. `break`: PATCH `state=broken_off`; DR volumes become `rw`, the DR SVM's
//!    subtype becomes `default`.
//! 5. `start-dr`: PATCH the DR SVM `state=running` unless ONTAP already
//!    started it after the break.
//! 6. `verify-dr`: volumes `rw` and `online`, data LIFs `up`.
//! 7. `backends-online`: every Trident backend of the DR SVM on the DR
//!    cluster reports `state: online` (Trident keeps it offline while the
//!    SVM is a stopped `dp_destination`); one still offline after
//!    [`FailoverOptions::backend_grace`] is prompted to re-evaluate (see
//!    [`super::trident`]); suspended backends are reported, not waited on.
//!    Skipped with a note when the DR Kubernetes API is not configured.
//!
//! The split-brain guard refuses (exit 3) when the primary SVM is reachable
//! and running: that is a planned switchover's job, or needs `--force`. When
//! the primary cannot be asked (its Kubernetes API or ONTAP management
//! address is unreachable, or it is not configured), the guard asks the DR
//! cluster instead: a cluster peer record of the primary cluster that is
//! `available` (or `partial`) means the primary ONTAP still answers over the
//! intercluster network and its SVM may still serve, so it refuses too
//! (`--force` proceeds with a warning). `unavailable`, or no peer, proceeds.
//!
//! Uses `PATCH state=broken_off` rather than `?failover=true`, because the
//! latter only exists on newer releases (§14) and must not be combined with a
//! state (13304156); `broken_off` works on every ONTAP with REST (9.6+).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::engine::{Plan, Workflow};
use super::error::PlanError;
use super::observe::{DrPair, Observed, PeerReport, Reach};
use super::preflight::require_forward;
use super::step::{Cond, Step, StepKind};
use super::storage::{PeerState, RelState};
use crate::site::SiteRole;

/// Options of an unplanned failover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverOptions {
    /// Proceed although the primary SVM is reachable and running (it is
    /// stopped first).
    pub force: bool,
    /// How long to wait for an offline DR Trident backend before prompting
    /// Trident to re-evaluate it.
    pub backend_grace: Duration,
    /// Longest wait for the DR Trident backends to come online.
    pub backend_wait: Duration,
}

/// Default [`FailoverOptions::backend_grace`].
pub const BACKEND_GRACE: Duration = Duration::from_secs(30);
/// Default [`FailoverOptions::backend_wait`].
pub const BACKEND_WAIT: Duration = Duration::from_secs(300);

impl Default for FailoverOptions {
    fn default() -> Self {
        Self {
            force: false,
            backend_grace: BACKEND_GRACE,
            backend_wait: BACKEND_WAIT,
        }
    }
}

/// What the preflight found; shown before the confirmation prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverPreflight {
    /// Forward relationship state.
    pub relationship_state: Option<RelState>,
    /// `healthy`.
    pub healthy: Option<bool>,
    /// `unhealthy_reason` messages.
    pub unhealthy: Vec<String>,
    /// End of the last transfer: writes after it exist only on the primary.
    pub last_transfer_end: Option<DateTime<Utc>>,
    /// Age of the last transfer (the data-loss window), from `lag_time`.
    pub data_loss_window: Option<Duration>,
    /// Whether the primary cluster answered.
    pub primary_reachable: bool,
    /// Whether the primary SVM runs.
    pub primary_svm_running: bool,
    /// Whether identity (LIFs) is preserved (`full`).
    pub identity_preserved: bool,
    /// Whether the failover is already complete (a re-run has nothing to do).
    pub already_failed_over: bool,
    /// The primary cluster's peer state as the DR cluster reports it, when
    /// it was asked (the primary did not answer).
    pub primary_peer_state: Option<PeerState>,
}

/// Reads the preflight facts from `obs`.
pub fn preflight(obs: &Observed) -> FailoverPreflight {
    let fwd = obs.forward();
    FailoverPreflight {
        relationship_state: fwd.map(|r| r.state.clone()),
        healthy: fwd.and_then(|r| r.healthy),
        unhealthy: fwd
            .map(|r| {
                r.unhealthy_reason
                    .iter()
                    .map(|u| format!("{} ({})", u.message, u.code))
                    .collect()
            })
            .unwrap_or_default(),
        last_transfer_end: fwd.and_then(|r| r.last_transfer_end()),
        data_loss_window: fwd.and_then(|r| r.lag),
        primary_reachable: obs.primary.reachable(),
        primary_svm_running: obs.primary.svm_running(),
        identity_preserved: fwd.is_none_or(|r| r.preserves_network()),
        already_failed_over: fwd.is_some_and(|r| r.state == RelState::BrokenOff)
            && obs.dr.svm_running(),
        primary_peer_state: match &obs.dr.peer {
            PeerReport::Found(p) => Some(p.state.clone()),
            _ => None,
        },
    }
}

/// The failover plan for `obs`.
///
/// # Errors
///
/// - [`PlanError::Preflight`]: the DR cluster is unreachable, there is no
///   forward relationship, or it was never initialized.
/// - [`PlanError::Refused`]: the primary SVM is reachable and running, or
///   the primary cannot be asked but the DR cluster reports its cluster peer
///   available (split-brain guard), and `force` is off.
pub fn plan(obs: &Observed, pair: &DrPair, opts: FailoverOptions) -> Result<Plan, PlanError> {
    if let Reach::Unreachable(e) = &obs.dr.reach {
        return Err(PlanError::Preflight {
            reason: format!("the DR cluster {} is unreachable: {e}", obs.dr.cluster),
            hint:
                "failover runs against the DR cluster: check --dr-context and the DR ONTAP address"
                    .into(),
        });
    }
    let fwd = require_forward(obs, pair)?;
    let primary_running = obs.primary.reachable() && obs.primary.svm_running();
    if primary_running && !opts.force {
        return Err(PlanError::Refused {
            reason: format!(
                "split-brain guard: the primary SVM {} on {} is reachable and running",
                pair.primary_svm, obs.primary.cluster
            ),
            hint: "for a planned move without data loss use `kubectl svmdr switchover`; to fail over anyway (the primary SVM is stopped first) add --force".into(),
        });
    }
    // The primary could not be asked: does its ONTAP still answer the DR
    // cluster over the intercluster network?
    let primary_ontap_up =
        (!obs.primary.reachable())
            .then_some(&obs.dr.peer)
            .and_then(|p| match p {
                PeerReport::Found(v) if v.state.remote_answers() => Some(v),
                _ => None,
            });
    if let Some(peer) = primary_ontap_up
        && !opts.force
    {
        return Err(PlanError::Refused {
            reason: format!(
                "split-brain guard: the primary ONTAP cluster {} is up (cluster peer {} from DR{}) although its Kubernetes API / management address is not reachable from here{}: its SVM {} may still serve",
                peer.cluster(),
                peer.state,
                forward_health(fwd),
                match &obs.primary.reach {
                    Reach::Unreachable(e) => format!(" ({e})"),
                    _ => String::new(),
                },
                pair.primary_svm
            ),
            hint: format!(
                "stop the primary SVM on {} (`vserver stop -vserver {}`), or restore access to the primary and use `kubectl svmdr switchover`; --force fails over anyway",
                peer.cluster(),
                pair.primary_svm
            ),
        });
    }
    let mut steps = vec![
        Step::new(
            "abort-transfer",
            StepKind::AbortTransfer { dest: SiteRole::Dr },
        ),
        Step::new("quiesce", StepKind::Quiesce { dest: SiteRole::Dr }),
    ];
    if primary_running {
        // If the primary goes down meanwhile, there is nothing left to stop.
        steps.push(
            Step::new(
                "stop-primary",
                StepKind::StopSvm {
                    site: SiteRole::Primary,
                },
            )
            .skip_if(Cond::Unreachable {
                site: SiteRole::Primary,
            }),
        );
    }
    steps.extend([
        Step::new("break", StepKind::Break { dest: SiteRole::Dr }),
        Step::new("start-dr", StepKind::StartSvm { site: SiteRole::Dr }),
        Step::new("verify-dr", StepKind::Verify { site: SiteRole::Dr }),
        Step::new(
            "backends-online",
            StepKind::BackendsOnline {
                site: SiteRole::Dr,
                grace: opts.backend_grace,
                limit: opts.backend_wait.max(opts.backend_grace),
            },
        ),
    ]);
    let pf = preflight(obs);
    let mut notes = Vec::new();
    match (pf.last_transfer_end, pf.data_loss_window) {
        (Some(end), Some(lag)) => notes.push(format!(
            "data-loss window: writes on the primary after {} ({} ago) are not on the DR site",
            end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            humantime::format_duration(Duration::from_secs(lag.as_secs()))
        )),
        (Some(end), None) => notes.push(format!(
            "data-loss window: writes on the primary after {} are not on the DR site",
            end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        (None, Some(lag)) => notes.push(format!(
            "data-loss window: {} (lag_time)",
            humantime::format_duration(Duration::from_secs(lag.as_secs()))
        )),
        (None, None) => {
            notes.push("data-loss window: unknown (ONTAP reports no last transfer)".into())
        }
    }
    if pf.healthy == Some(false) {
        notes.push(format!(
            "the relationship is unhealthy: {}",
            if pf.unhealthy.is_empty() {
                "no reason given".into()
            } else {
                pf.unhealthy.join("; ")
            }
        ));
    }
    if let Some(peer) = primary_ontap_up {
        notes.push(format!(
            "WARNING --force: the primary ONTAP cluster {} is up (cluster peer {} from DR) and its SVM {} may still serve; it cannot be stopped from here: stop it on {} now (`vserver stop -vserver {}`), or clients reach two live copies{}",
            peer.cluster(),
            peer.state,
            pair.primary_svm,
            peer.cluster(),
            pair.primary_svm,
            if pf.identity_preserved {
                " with the same addresses (and ONTAP refuses the break while it runs with full identity preservation)"
            } else {
                ""
            }
        ));
    } else if !obs.primary.reachable() {
        match &obs.dr.peer {
            PeerReport::NotObserved => {}
            PeerReport::Found(p) => notes.push(format!(
                "the DR cluster reports the cluster peer {} {}: the primary ONTAP does not answer it",
                p.cluster(),
                p.state
            )),
            PeerReport::Missing { cluster } => notes.push(format!(
                "the DR cluster has no cluster peer for the primary cluster{}: make sure the primary SVM {} is not serving",
                cluster.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
                pair.primary_svm
            )),
            PeerReport::Failed { error } => notes.push(format!(
                "could not tell from the DR cluster whether the primary ONTAP is up ({error}): make sure the primary SVM {} is not serving",
                pair.primary_svm
            )),
        }
    }
    match &obs.primary.reach {
        Reach::Unreachable(e) => notes.push(format!(
            "the primary cluster {} is unreachable ({e}); it is not contacted again",
            obs.primary.cluster
        )),
        Reach::NotObserved => notes.push("the primary cluster was not contacted".into()),
        Reach::Reachable if primary_running => notes.push(format!(
            "--force: the primary SVM {} is running and will be stopped first",
            pair.primary_svm
        )),
        Reach::Reachable => {}
    }
    if !pf.identity_preserved {
        notes.push("identity is not preserved: Trident backends on the DR cluster must point at the DR SVM's LIFs (see --update-backends)".into());
    }
    Ok(Plan {
        workflow: Workflow::Failover,
        pair: pair.clone(),
        steps,
        notes,
        observe_primary: obs.primary.reachable(),
    })
}

/// `; the forward relationship ... is healthy` when the DR cluster says so:
/// more evidence that the primary still feeds it.
fn forward_health(fwd: &super::storage::RelView) -> String {
    if fwd.healthy == Some(true) {
        format!(
            "; the relationship {} → {} is healthy ({})",
            fwd.source_path, fwd.destination_path, fwd.state
        )
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::observe::SiteState;
    use crate::plan::testutil::*;

    /// The steps of a failover that cannot (or need not) stop the primary.
    const NO_STOP_PRIMARY: [&str; 6] = [
        "abort-transfer",
        "quiesce",
        "break",
        "start-dr",
        "verify-dr",
        "backends-online",
    ];

    fn step_ids(p: &Plan) -> Vec<&str> {
        p.steps.iter().map(|s| s.id.as_str()).collect()
    }

    /// The plan with the primary unreachable and the DR site as `dr`.
    fn plan_primary_down(dr: SiteState, force: bool) -> Result<Plan, PlanError> {
        plan(
            &observed(primary_down(), dr),
            &pair(),
            FailoverOptions {
                force,
                ..FailoverOptions::default()
            },
        )
    }

    #[test]
    fn plan_with_primary_down() {
        let p = plan_primary_down(dr_site(RelState::Snapmirrored, false), false).expect("plan");
        assert_eq!(step_ids(&p), NO_STOP_PRIMARY);
        assert!(!p.observe_primary);
        assert!(p.notes.iter().any(|n| n.contains("data-loss window")));
        assert!(p.notes.iter().any(|n| n.contains("unreachable")));
    }

    #[test]
    fn split_brain_guard_refuses_without_force() {
        let obs = observed(primary_up(true), dr_site(RelState::Snapmirrored, false));
        let err = plan(&obs, &pair(), FailoverOptions::default()).err();
        assert!(matches!(err, Some(ref e) if e.is_refusal()), "{err:?}");
        let hint = err.map(|e| e.hint()).unwrap_or_default();
        assert!(hint.contains("switchover"), "{hint}");
    }

    #[test]
    fn force_stops_the_primary_first() {
        let obs = observed(primary_up(true), dr_site(RelState::Snapmirrored, false));
        let forced = FailoverOptions {
            force: true,
            ..FailoverOptions::default()
        };
        let p = plan(&obs, &pair(), forced).expect("plan");
        assert_eq!(
            step_ids(&p),
            [
                "abort-transfer",
                "quiesce",
                "stop-primary",
                "break",
                "start-dr",
                "verify-dr",
                "backends-online"
            ]
        );
    }

    #[test]
    fn primary_ontap_up_behind_an_unreachable_primary_is_refused() {
        for primary in [
            primary_down(),
            SiteState::not_observed(SiteRole::Primary, "primary"),
        ] {
            let dr = with_peer(dr_site(RelState::Snapmirrored, false), PeerState::Available);
            let err = plan(&observed(primary, dr), &pair(), FailoverOptions::default()).err();
            assert!(matches!(err, Some(ref e) if e.is_refusal()), "{err:?}");
            let e = err.expect("refused");
            let text = e.to_string();
            assert!(
                text.contains("primary ONTAP cluster ontap-a is up"),
                "{text}"
            );
            assert!(text.contains("cluster peer available from DR"), "{text}");
            assert!(text.contains("svm1: → svm1_dr: is healthy"), "{text}");
            assert!(text.contains("SVM svm1 may still serve"), "{text}");
            let hint = e.hint();
            assert!(hint.contains("vserver stop -vserver svm1"), "{hint}");
            assert!(
                hint.contains("switchover") && hint.contains("--force"),
                "{hint}"
            );
        }
        // Some nodes answering is enough to be up.
        let dr = with_peer(dr_site(RelState::Snapmirrored, false), PeerState::Partial);
        let err = plan_primary_down(dr, false);
        assert!(matches!(err, Err(ref e) if e.is_refusal()), "{err:?}");
    }

    #[test]
    fn force_proceeds_past_an_available_peer_with_a_warning() {
        let dr = with_peer(dr_site(RelState::Snapmirrored, false), PeerState::Available);
        let p = plan_primary_down(dr, true).expect("plan");
        assert_eq!(
            step_ids(&p),
            NO_STOP_PRIMARY,
            "nothing can stop a primary we cannot reach"
        );
        let warning = p
            .notes
            .iter()
            .find(|n| n.starts_with("WARNING --force"))
            .expect("warning note");
        assert!(warning.contains("vserver stop -vserver svm1"), "{warning}");
        assert!(warning.contains("refuses the break"), "{warning}");
    }

    #[test]
    fn unavailable_or_missing_peer_proceeds() {
        let dr = with_peer(
            dr_site(RelState::Snapmirrored, false),
            PeerState::Unavailable,
        );
        let p = plan_primary_down(dr, false).expect("plan");
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("cluster peer ontap-a unavailable")),
            "{:?}",
            p.notes
        );
        for peer in [
            PeerReport::Missing {
                cluster: Some("ontap-a".into()),
            },
            PeerReport::Failed {
                error: "HTTP 403".into(),
            },
            PeerReport::NotObserved,
        ] {
            let mut dr = dr_site(RelState::Snapmirrored, false);
            dr.peer = peer;
            let p = plan_primary_down(dr, false);
            assert!(p.is_ok(), "{p:?}");
        }
        // A pending peer never completed peering: no evidence either way.
        let dr = with_peer(dr_site(RelState::Snapmirrored, false), PeerState::Pending);
        assert!(plan_primary_down(dr, false).is_ok());
    }

    #[test]
    fn a_reachable_primary_is_judged_by_its_own_svm() {
        // The peer record only matters when the primary cannot be asked.
        let dr = with_peer(dr_site(RelState::Snapmirrored, false), PeerState::Available);
        assert!(
            plan(
                &observed(primary_up(false), dr),
                &pair(),
                FailoverOptions::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn stopped_primary_is_not_split_brain() {
        let obs = observed(primary_up(false), dr_site(RelState::Snapmirrored, false));
        assert!(plan(&obs, &pair(), FailoverOptions::default()).is_ok());
    }

    #[test]
    fn uninitialized_or_missing_relationship_fails_preflight() {
        let obs = observed(primary_down(), dr_site(RelState::Uninitialized, false));
        assert!(matches!(
            plan(&obs, &pair(), FailoverOptions::default()),
            Err(PlanError::Preflight { .. })
        ));
        let mut dr = dr_site(RelState::Snapmirrored, false);
        dr.incoming = None;
        let obs = observed(primary_down(), dr);
        assert!(matches!(
            plan(&obs, &pair(), FailoverOptions::default()),
            Err(PlanError::Preflight { .. })
        ));
    }

    #[test]
    fn rerun_after_completion_skips_everything() {
        let mut obs = observed(primary_down(), dr_site(RelState::BrokenOff, true));
        obs.trident = listed(&[("nas-dr", "svm1_dr", "online", "normal")]);
        let p = plan(&obs, &pair(), FailoverOptions::default()).expect("plan");
        let preview = p.preview(&obs);
        for s in &preview {
            assert!(
                matches!(s.check, crate::plan::step::Check::Done(_)),
                "{} was {:?}",
                s.id,
                s.check
            );
        }
        assert!(preflight(&obs).already_failed_over);
    }

    #[test]
    fn dry_run_shows_the_ontap_calls() {
        let obs = observed(primary_down(), dr_site(RelState::Snapmirrored, false));
        let p = plan(&obs, &pair(), FailoverOptions::default()).expect("plan");
        let preview = p.preview(&obs);
        let brk = preview.iter().find(|s| s.id == "break").expect("break");
        assert_eq!(
            brk.calls,
            vec![
                "dr (ontap-b): PATCH /api/snapmirror/relationships/rel-fwd {\"state\":\"broken_off\"}"
            ]
        );
    }
}
