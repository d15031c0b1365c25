//! Failback to the original site (`kubectl svmdr failback`): reverse resync,
//! switch back, restore the original direction.
//!
//! The CLI procedure "reactivate the original source SVM"
//! (`docs/ontap-rest.md` §12.5), each step a REST call:
//!
//! 1. `stop-primary`: the primary SVM becomes a destination, so it must not run.
//! 2. `create-reverse`: on the primary cluster, DR → primary.
//! 3. `resync-reverse`: PATCH `state=snapmirrored` (needs a common snapshot).
//! 4. `stop-dr`: clients of the DR SVM disconnect.
//! 5. `update-reverse`: a final transfer carries every DR write.
//! 6. `quiesce-reverse`, 7. `break-reverse`: the primary volumes become rw.
//! 8. `start-primary` (ONTAP may have started it), 9. `verify-primary`.
//! 10. `backends-online`: the primary's Trident backends serve again (its
//!     SVM was stopped, so Trident had them offline; see `docs/trident.md`).
//! 11. `resync-forward`: on the DR cluster, primary → DR again (DR stopped).
//! 12. `delete-reverse`: on the primary cluster; also releases the DR side.
//!
//! Steps 1–7 are skipped once the forward relationship mirrors again, so a
//! re-run after step 10 only finishes the clean-up. Not used: the single
//! `PATCH ?failback=true` of newer releases (see the module docs of
//! [`super`] for the version assumptions).

use super::engine::{Plan, Workflow};
use super::error::PlanError;
use super::observe::{DrPair, Observed};
use super::preflight::{both_reachable, require_forward};
use super::step::{Cond, Step, StepKind};
use super::storage::RelState;
use crate::site::SiteRole;

/// Builds the failback plan.
///
/// # Errors
///
/// [`PlanError::Preflight`] when a site is unreachable or no failover happened.
pub fn plan(obs: &Observed, pair: &DrPair, quick: bool) -> Result<Plan, PlanError> {
    both_reachable(obs, "a failback")?;
    require_forward(obs, pair)?;
    let restored = || Cond::RelIn {
        dest: SiteRole::Dr,
        states: vec![RelState::Snapmirrored],
    };
    let reverse_in = |s: &[RelState]| Cond::RelIn {
        dest: SiteRole::Primary,
        states: s.to_vec(),
    };
    let steps = vec![
        Step::new(
            "stop-primary",
            StepKind::StopSvm {
                site: SiteRole::Primary,
            },
        )
        .skip_if(reverse_in(&[RelState::BrokenOff]))
        .skip_if(restored()),
        Step::new(
            "create-reverse",
            StepKind::CreateRelationship {
                dest: SiteRole::Primary,
            },
        )
        .skip_if(restored()),
        Step::new(
            "resync-reverse",
            StepKind::Resync {
                dest: SiteRole::Primary,
                quick,
            },
        )
        .skip_if(reverse_in(&[RelState::Paused, RelState::BrokenOff]))
        .skip_if(restored()),
        Step::new("stop-dr", StepKind::StopSvm { site: SiteRole::Dr }),
        Step::new(
            "update-reverse",
            StepKind::Update {
                dest: SiteRole::Primary,
            },
        )
        .skip_if(reverse_in(&[RelState::Paused, RelState::BrokenOff]))
        .skip_if(restored()),
        Step::new(
            "quiesce-reverse",
            StepKind::Quiesce {
                dest: SiteRole::Primary,
            },
        )
        .skip_if(restored()),
        Step::new(
            "break-reverse",
            StepKind::Break {
                dest: SiteRole::Primary,
            },
        )
        .skip_if(restored()),
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
        Step::new(
            "backends-online",
            StepKind::BackendsOnline {
                site: SiteRole::Primary,
                grace: super::failover::BACKEND_GRACE,
                limit: super::failover::BACKEND_WAIT,
            },
        ),
        Step::new(
            "resync-forward",
            StepKind::Resync {
                dest: SiteRole::Dr,
                quick,
            },
        ),
        Step::new(
            "delete-reverse",
            StepKind::DeleteRelationship {
                dest: SiteRole::Primary,
            },
        ),
    ];
    Ok(Plan {
        workflow: Workflow::Failback,
        pair: pair.clone(),
        steps,
        notes: vec![format!(
            "writes made on {} are carried back to {} before the switch; {} is unavailable from stop-dr until start-primary",
            pair.dr_svm, pair.primary_svm, pair.dr_svm
        )],
        observe_primary: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::step::Check;
    use crate::plan::storage::SvmState;
    use crate::plan::testutil::*;

    #[test]
    fn after_failover_everything_is_to_do() {
        let obs = observed(primary_up(true), dr_site(RelState::BrokenOff, true));
        let p = plan(&obs, &pair(), false).expect("plan");
        let pv = p.preview(&obs);
        assert_eq!(pv.len(), 12);
        assert_eq!(pv[0].check, Check::Todo);
    }

    #[test]
    fn completed_failback_is_all_skipped() {
        let mut primary = primary_up(true);
        primary.svm = Some(svm("svm1", SvmState::Running, "default"));
        let mut dr = dr_site(RelState::Snapmirrored, false);
        dr.svm = Some(svm("svm1_dr", SvmState::Stopped, "dp_destination"));
        let mut obs = observed(primary, dr);
        obs.primary.volumes = Some(vec![]);
        obs.primary.lifs = Some(vec![crate::plan::storage::LifView {
            name: "nfs1".into(),
            address: None,
            state: "up".into(),
            enabled: true,
        }]);
        // The primary's Trident has its backend online again.
        obs.trident = crate::plan::trident::TridentReport::Listed {
            backends: vec![crate::trident::backend::Backend {
                name: "ontap-nas-primary".into(),
                uuid: "u1".into(),
                svm: Some("svm1".into()),
                state: "online".into(),
                user_state: "normal".into(),
                online: true,
                ..Default::default()
            }],
        };
        let p = plan(&obs, &pair(), false).expect("plan");
        for s in p.preview(&obs) {
            assert!(matches!(s.check, Check::Done(_)), "{}: {:?}", s.id, s.check);
        }
    }

    #[test]
    fn after_reverse_break_the_primary_is_not_stopped_again() {
        let mut primary = primary_up(true);
        primary.incoming = Some(rel("rel-rev", "svm1_dr:", "svm1:", RelState::BrokenOff));
        let obs = observed(primary, dr_site(RelState::BrokenOff, false));
        let p = plan(&obs, &pair(), false).expect("plan");
        let pv = p.preview(&obs);
        let check = |id: &str| pv.iter().find(|s| s.id == id).map(|s| s.check.clone());
        assert!(matches!(check("stop-primary"), Some(Check::Done(_))));
        assert!(matches!(check("update-reverse"), Some(Check::Done(_))));
        assert!(matches!(check("break-reverse"), Some(Check::Done(_))));
        assert_eq!(check("resync-forward"), Some(Check::Todo));
    }
}
