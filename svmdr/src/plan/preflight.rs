//! Preflight rules shared by the workflows: checks on the observed state
//! made before any plan is built, each written once.

use super::error::PlanError;
use super::observe::{DrPair, Observed, Reach};
use super::storage::{RelState, RelView};
use crate::site::SiteRole;

/// The forward relationship (primary → DR, on the DR cluster), which every
/// workflow starts from; refused when it is missing or was never
/// initialized (the DR SVM then holds no data).
///
/// # Errors
///
/// [`PlanError::Preflight`] naming the destination path and the DR cluster
/// (missing), or the relationship (uninitialized), with the fix.
pub fn require_forward<'a>(obs: &'a Observed, pair: &DrPair) -> Result<&'a RelView, PlanError> {
    let Some(fwd) = obs.forward() else {
        return Err(PlanError::Preflight {
            reason: format!(
                "no SVM-DR relationship into {} on {}",
                pair.path(SiteRole::Dr),
                obs.dr.cluster
            ),
            hint: "check the SVM names (--svm/--dr-svm) and `kubectl svmdr status`; set up \
                   replication with `kubectl svmdr peer`"
                .into(),
        });
    };
    if fwd.state == RelState::Uninitialized {
        return Err(PlanError::Preflight {
            reason: format!(
                "the relationship {} → {} was never initialized: the DR SVM holds no data",
                fwd.source_path, fwd.destination_path
            ),
            hint: "initialize it with `kubectl svmdr peer` (or `kubectl svmdr sync`) first".into(),
        });
    }
    Ok(fwd)
}

/// Fails unless both sites answered; `what` names the workflow for the
/// message (e.g. `"a switchover"`).
///
/// # Errors
///
/// [`PlanError::Preflight`] naming the unreachable site, with what to do.
pub fn both_reachable(obs: &Observed, what: &str) -> Result<(), PlanError> {
    for s in [&obs.primary, &obs.dr] {
        if !s.reachable() {
            let why = match &s.reach {
                Reach::Unreachable(e) => e.clone(),
                _ => "not configured".into(),
            };
            return Err(PlanError::Preflight {
                reason: format!(
                    "{what} needs both sites; the {} cluster {} is unreachable: {why}",
                    s.site, s.cluster
                ),
                hint: if s.site == SiteRole::Primary {
                    "if the primary site is lost, use `kubectl svmdr failover`; otherwise re-run when it is back".into()
                } else {
                    "check --dr-context and the DR ONTAP address, then re-run".into()
                },
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::*;

    fn preflight_text(e: PlanError) -> (String, String) {
        match e {
            PlanError::Preflight { reason, hint } => (reason, hint),
            other => panic!("expected a preflight error, got {other:?}"),
        }
    }

    #[test]
    fn forward_is_returned_when_initialized() {
        for state in [
            RelState::Snapmirrored,
            RelState::BrokenOff,
            RelState::Paused,
        ] {
            let obs = observed(primary_up(true), dr_site(state.clone(), false));
            let fwd = require_forward(&obs, &pair()).ok().map(|r| r.uuid.clone());
            assert_eq!(fwd.as_deref(), Some("rel-fwd"), "{state}");
        }
    }

    #[test]
    fn missing_forward_names_the_path_the_cluster_and_peer() {
        let mut dr = dr_site(RelState::Snapmirrored, false);
        dr.incoming = None;
        let obs = observed(primary_up(true), dr);
        let err = require_forward(&obs, &pair()).err().map(preflight_text);
        let (reason, hint) = err.unwrap_or_default();
        assert_eq!(
            reason,
            "no SVM-DR relationship into svm1_dr: on dr (ontap-b)"
        );
        assert!(hint.contains("kubectl svmdr peer"), "{hint}");
    }

    #[test]
    fn uninitialized_forward_is_refused() {
        let obs = observed(primary_up(true), dr_site(RelState::Uninitialized, false));
        let err = require_forward(&obs, &pair()).err().map(preflight_text);
        let (reason, hint) = err.unwrap_or_default();
        assert!(
            reason.contains("svm1: → svm1_dr: was never initialized"),
            "{reason}"
        );
        assert!(hint.starts_with("initialize it"), "{hint}");
    }

    #[test]
    fn every_workflow_refuses_an_uninitialized_forward_alike() {
        use crate::plan::{failback, failover, resync, switchover};
        let obs = observed(primary_up(false), dr_site(RelState::Uninitialized, false));
        let p = pair();
        let refusals = [
            failover::plan(&obs, &p, failover::FailoverOptions::default()).err(),
            switchover::plan(&obs, &p).err(),
            resync::plan(&obs, &p, resync::Direction::Forward, false).err(),
            resync::plan(&obs, &p, resync::Direction::Reverse, false).err(),
            failback::plan(&obs, &p, false).err(),
        ];
        let wanted = require_forward(&obs, &p).err().map(preflight_text);
        assert!(wanted.is_some());
        for r in refusals {
            assert_eq!(r.map(preflight_text), wanted);
        }
    }

    #[test]
    fn both_reachable_names_the_unreachable_site() {
        let obs = observed(primary_down(), dr_site(RelState::Snapmirrored, false));
        let err = both_reachable(&obs, "a resync").err().map(preflight_text);
        let (reason, hint) = err.unwrap_or_default();
        assert!(
            reason.starts_with("a resync needs both sites; the primary"),
            "{reason}"
        );
        assert!(hint.contains("failover"), "{hint}");
        let obs = observed(primary_up(true), dr_site(RelState::Snapmirrored, false));
        assert!(both_reachable(&obs, "a resync").is_ok());
    }
}
