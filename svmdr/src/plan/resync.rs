//! Resync after a failover (`kubectl svmdr resync --direction forward|reverse`).
//!
//! - **forward** (`docs/ontap-rest.md` §12.4): back to primary → DR, **discarding
//!   writes made on the DR site** since the common snapshot. Stops the DR SVM
//!   (it becomes `dp_destination` again), resyncs the forward relationship on
//!   the DR cluster, then makes sure the primary SVM serves.
//! - **reverse** (§12.5 steps 1–3): DR → primary, keeping the DR site's data.
//!   Stops the primary SVM (it becomes the destination), creates the reverse
//!   relationship on the primary cluster (`source.cluster.name` = the DR
//!   cluster) with the forward one's policy and identity setting, and resyncs
//!   it. It needs a common snapshot; without one ONTAP refuses and a
//!   re-initialize is needed.

use serde::{Deserialize, Serialize};

use super::engine::{Plan, Workflow};
use super::error::PlanError;
use super::observe::{DrPair, Observed};
use super::preflight::{both_reachable, require_forward};
use super::step::{Cond, Step, StepKind};
use super::storage::RelState;
use crate::site::SiteRole;

/// Which way to resync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// primary → DR again, discarding DR-side writes.
    Forward,
    /// DR → primary, keeping DR-side writes.
    Reverse,
}

/// Builds the resync plan.
///
/// # Errors
///
/// [`PlanError::Preflight`] when a site is unreachable, the forward
/// relationship is missing, or (forward) a reverse relationship exists.
pub fn plan(
    obs: &Observed,
    pair: &DrPair,
    direction: Direction,
    quick: bool,
) -> Result<Plan, PlanError> {
    both_reachable(obs, "a resync")?;
    let fwd = require_forward(obs, pair)?;
    match direction {
        Direction::Forward => {
            if let Some(rev) = obs.reverse() {
                return Err(PlanError::Preflight {
                    reason: format!(
                        "a reverse relationship {} → {} exists on {} ({})",
                        rev.source_path, rev.destination_path, obs.primary.cluster, rev.state
                    ),
                    hint: "the DR site is the source now: use `kubectl svmdr failback` to return without losing DR-side writes".into(),
                });
            }
            let done = Cond::RelIn {
                dest: SiteRole::Dr,
                states: vec![RelState::Snapmirrored],
            };
            Ok(Plan {
                workflow: Workflow::ResyncForward,
                pair: pair.clone(),
                steps: vec![
                    Step::new("stop-dr", StepKind::StopSvm { site: SiteRole::Dr }).skip_if(done),
                    Step::new(
                        "resync-forward",
                        StepKind::Resync {
                            dest: SiteRole::Dr,
                            quick,
                        },
                    ),
                    Step::new(
                        "start-primary",
                        StepKind::StartSvm {
                            site: SiteRole::Primary,
                        },
                    ),
                    Step::new(
                        "verify-primary",
                        StepKind::Verify {
                            site: SiteRole::Primary,
                        },
                    ),
                ],
                notes: vec![format!(
                    "writes made on {} since the last common snapshot are discarded",
                    pair.dr_svm
                )],
                observe_primary: true,
            })
        }
        Direction::Reverse => {
            if fwd.state != RelState::BrokenOff {
                return Err(PlanError::Preflight {
                    reason: format!(
                        "the forward relationship is {}; a reverse resync follows a failover (broken_off)",
                        fwd.state
                    ),
                    hint: "run `kubectl svmdr failover` or `kubectl svmdr switchover` first".into(),
                });
            }
            Ok(Plan {
                workflow: Workflow::ResyncReverse,
                pair: pair.clone(),
                steps: reverse_steps(quick),
                notes: vec![format!(
                    "{} becomes the destination of {}; its own writes since the last common snapshot are discarded",
                    pair.primary_svm, pair.dr_svm
                )],
                observe_primary: true,
            })
        }
    }
}

/// Stop the primary SVM, create the reverse relationship, resync it.
pub(super) fn reverse_steps(quick: bool) -> Vec<Step> {
    let reverse_mirrors = Cond::RelIn {
        dest: SiteRole::Primary,
        states: vec![RelState::Snapmirrored],
    };
    vec![
        Step::new(
            "stop-primary",
            StepKind::StopSvm {
                site: SiteRole::Primary,
            },
        )
        .skip_if(reverse_mirrors),
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
                quick,
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::step::Check;
    use crate::plan::testutil::*;

    #[test]
    fn reverse_needs_a_failed_over_relationship() {
        let obs = observed(primary_up(false), dr_site(RelState::Snapmirrored, false));
        assert!(plan(&obs, &pair(), Direction::Reverse, false).is_err());
        let obs = observed(primary_up(true), dr_site(RelState::BrokenOff, true));
        let p = plan(&obs, &pair(), Direction::Reverse, false).expect("plan");
        let pv = p.preview(&obs);
        assert_eq!(pv[0].check, Check::Todo);
        assert!(
            matches!(p.steps[1].check(&obs, &pair()), Check::Blocked(ref r) if r.contains("running")),
            "creating the reverse relationship needs the primary stopped: {:?}",
            pv[1].check
        );
    }

    #[test]
    fn forward_refuses_when_reverse_exists() {
        let mut p = primary_up(false);
        p.incoming = Some(rel("rel-rev", "svm1_dr:", "svm1:", RelState::Snapmirrored));
        let obs = observed(p, dr_site(RelState::BrokenOff, true));
        let err = plan(&obs, &pair(), Direction::Forward, false).err();
        assert!(err.is_some_and(|e| e.hint().contains("failback")));
    }

    #[test]
    fn forward_stops_dr_first() {
        let obs = observed(primary_up(false), dr_site(RelState::BrokenOff, true));
        let p = plan(&obs, &pair(), Direction::Forward, true).expect("plan");
        let pv = p.preview(&obs);
        assert_eq!(pv[0].id, "stop-dr");
        assert_eq!(pv[0].check, Check::Todo);
        assert!(matches!(p.steps[1].check(&obs, &pair()), Check::Blocked(_)));
        assert_eq!(
            pv[1].check,
            Check::Todo,
            "the dry run shows it as to do after stop-dr"
        );
        assert!(pv[1].calls[0].contains("quick_resync"));
    }
}
