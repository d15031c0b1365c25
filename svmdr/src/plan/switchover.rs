//! Planned switchover to the DR site, without data loss
//! (`kubectl svmdr switchover`), followed by the reverse resync.
//!
//! Both sites must be up. Sequence (`docs/ontap-rest.md` §12.3, §12.5):
//!
//! 1. `update`: a transfer now, while the primary still serves (shortens the
//!    last one).
//! 2. `stop-primary`: stop the primary SVM; clients stop writing.
//! 3. `last-update`: a transfer after the stop: it carries every write made
//!    before the stop. The report compares its end time with the stop time.
//! 4. `quiesce`, 5. `break`, 6. `start-dr`, 7. `verify-dr`, and
//!    `backends-online` (with the default grace and limit) as in a failover.
//! 8. `create-reverse`: on the primary cluster, the relationship DR → primary.
//! 9. `resync-reverse`: PATCH it `state=snapmirrored`; the primary SVM (stopped)
//!    becomes the destination.
//!
//! Each update is skipped once a later stage is visible (primary stopped,
//! relationship paused or broken), so a re-run never transfers twice across
//! the stop.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::engine::{Plan, RunReport, StepStatus, Workflow};
use super::error::PlanError;
use super::observe::{DrPair, Observed};
use super::preflight::{both_reachable, require_forward};
use super::step::{Cond, Step, StepKind};
use super::storage::{RelState, SvmState};
use crate::site::SiteRole;

/// Builds the switchover plan.
///
/// # Errors
///
/// [`PlanError::Preflight`] when a site is unreachable or the forward
/// relationship is missing or uninitialized.
pub fn plan(obs: &Observed, pair: &DrPair) -> Result<Plan, PlanError> {
    both_reachable(obs, "a switchover")?;
    let fwd = require_forward(obs, pair)?;
    let mut notes =
        vec!["planned: no data loss; the primary SVM stops before the last transfer".to_string()];
    if fwd.state == RelState::Snapmirrored && fwd.healthy == Some(false) {
        let why: Vec<String> = fwd
            .unhealthy_reason
            .iter()
            .map(|r| format!("{} ({})", r.message, r.code))
            .collect();
        // The first update shows whether replication works again; if it
        // does not, the switchover stops there with ONTAP's reason.
        notes.push(format!(
            "the forward relationship is unhealthy ({}); the first update must succeed before anything changes",
            if why.is_empty() {
                "no reason given".into()
            } else {
                why.join("; ")
            }
        ));
    }
    let later = |s: &[RelState]| Cond::RelIn {
        dest: SiteRole::Dr,
        states: s.to_vec(),
    };
    let steps = vec![
        Step::new("update", StepKind::Update { dest: SiteRole::Dr })
            .skip_if(Cond::SvmIs {
                site: SiteRole::Primary,
                state: SvmState::Stopped,
            })
            .skip_if(later(&[RelState::Paused, RelState::BrokenOff])),
        Step::new(
            "stop-primary",
            StepKind::StopSvm {
                site: SiteRole::Primary,
            },
        ),
        Step::new("last-update", StepKind::Update { dest: SiteRole::Dr })
            .skip_if(later(&[RelState::Paused, RelState::BrokenOff])),
        Step::new("quiesce", StepKind::Quiesce { dest: SiteRole::Dr }),
        Step::new("break", StepKind::Break { dest: SiteRole::Dr }),
        Step::new("start-dr", StepKind::StartSvm { site: SiteRole::Dr }),
        Step::new("verify-dr", StepKind::Verify { site: SiteRole::Dr }),
        Step::new(
            "backends-online",
            StepKind::BackendsOnline {
                site: SiteRole::Dr,
                grace: super::failover::BACKEND_GRACE,
                limit: super::failover::BACKEND_WAIT,
            },
        ),
        Step::new(
            "create-reverse",
            StepKind::CreateRelationship {
                dest: SiteRole::Primary,
            },
        ),
        Step::new(
            "resync-reverse",
            StepKind::Resync {
                dest: SiteRole::Primary,
                quick: false,
            },
        ),
    ];
    Ok(Plan {
        workflow: Workflow::Switchover,
        pair: pair.clone(),
        steps,
        notes,
        observe_primary: true,
    })
}

/// Evidence that the last transfer covers everything written before the
/// primary SVM stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NoLossProof {
    /// When the `stop-primary` step finished (local clock), if this run did it.
    pub primary_stopped_at: Option<DateTime<Utc>>,
    /// When the `last-update` step started (local clock), if this run did it.
    pub last_update_started_at: Option<DateTime<Utc>>,
    /// `transfer.end_time` of the forward relationship as ONTAP reports it.
    pub last_transfer_end: Option<DateTime<Utc>>,
    /// Whether the last transfer started after the stop completed.
    pub covered: bool,
}

/// Reads the proof from a finished run.
pub fn no_loss_proof(report: &RunReport) -> NoLossProof {
    let rec = |id: &str| report.timeline.steps.iter().find(|s| s.id == id);
    let stopped = rec("stop-primary")
        .filter(|s| s.status == StepStatus::Succeeded)
        .map(|s| s.started_at + chrono::Duration::from_std(s.duration).unwrap_or_default());
    let last = rec("last-update")
        .filter(|s| s.status == StepStatus::Succeeded)
        .map(|s| s.started_at);
    NoLossProof {
        primary_stopped_at: stopped,
        last_update_started_at: last,
        last_transfer_end: report.last.forward().and_then(|r| r.last_transfer_end()),
        covered: matches!((stopped, last), (Some(s), Some(l)) if l >= s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::step::Check;
    use crate::plan::testutil::*;

    #[test]
    fn full_sequence() {
        let obs = observed(primary_up(true), dr_site(RelState::Snapmirrored, false));
        let p = plan(&obs, &pair()).expect("plan");
        let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "update",
                "stop-primary",
                "last-update",
                "quiesce",
                "break",
                "start-dr",
                "verify-dr",
                "backends-online",
                "create-reverse",
                "resync-reverse"
            ]
        );
        let pv = p.preview(&obs);
        assert_eq!(pv[0].check, Check::Todo);
    }

    #[test]
    fn updates_are_skipped_once_the_primary_stopped() {
        let obs = observed(primary_up(false), dr_site(RelState::Snapmirrored, false));
        let p = plan(&obs, &pair()).expect("plan");
        let pv = p.preview(&obs);
        assert!(matches!(pv[0].check, Check::Done(_)), "{:?}", pv[0]);
        assert!(matches!(pv[1].check, Check::Done(_)), "{:?}", pv[1]);
        assert_eq!(pv[2].check, Check::Todo, "the last update still runs");
    }

    #[test]
    fn needs_both_sites() {
        let obs = observed(primary_down(), dr_site(RelState::Snapmirrored, false));
        let err = plan(&obs, &pair())
            .err()
            .map(|e| e.hint())
            .unwrap_or_default();
        assert!(err.contains("failover"), "{err}");
    }

    #[test]
    fn unhealthy_relationship_is_noted_and_updated_first() {
        let mut dr = dr_site(RelState::Snapmirrored, false);
        if let Some(r) = dr.incoming.as_mut() {
            r.healthy = Some(false);
        }
        let obs = observed(primary_up(true), dr);
        let p = plan(&obs, &pair()).expect("plan");
        assert!(p.notes.iter().any(|n| n.contains("unhealthy")));
        assert_eq!(p.steps[0].id, "update");
    }
}
