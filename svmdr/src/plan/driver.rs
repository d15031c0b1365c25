//! What a front end needs around the engine: which SVM pair, and which plan
//! for which command.

use serde::{Deserialize, Serialize};

use super::engine::{Plan, Sites};
use super::error::PlanError;
use super::failover::FailoverOptions;
use super::observe::{DrPair, Observed};
use super::resync::Direction;
use super::storage::{Storage, StorageError};
use crate::ontap::{OntapClient, RelationshipQuery};

/// A workflow with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "workflow")]
pub enum Command {
    /// Unplanned failover.
    Failover(FailoverOptions),
    /// Planned switchover.
    Switchover,
    /// Resync in one direction.
    Resync {
        /// Which way.
        direction: Direction,
        /// `quick_resync`.
        quick: bool,
    },
    /// Failback.
    Failback {
        /// `quick_resync`.
        quick: bool,
    },
}

impl Command {
    /// The plan for `obs`.
    ///
    /// # Errors
    ///
    /// The workflow's preflight refusal.
    pub fn plan(self, obs: &Observed, pair: &DrPair) -> Result<Plan, PlanError> {
        match self {
            Command::Failover(o) => super::failover::plan(obs, pair, o),
            Command::Switchover => super::switchover::plan(obs, pair),
            Command::Resync { direction, quick } => {
                super::resync::plan(obs, pair, direction, quick)
            }
            Command::Failback { quick } => super::failback::plan(obs, pair, quick),
        }
    }

    /// The same command with its safety guard overridden, and the flag that
    /// does it (`failover` → `failover --force`), so that `--dry-run` can
    /// show the plan a refused run would follow, with the refusal marked.
    /// `None` when the command has no such flag or already uses it.
    pub fn with_guard_overridden(self) -> Option<(Command, &'static str)> {
        match self {
            Command::Failover(o) if !o.force => Some((
                Command::Failover(FailoverOptions { force: true, ..o }),
                "--force",
            )),
            _ => None,
        }
    }

    /// Observes what [`Command::plan`] needs: both sites and, for a failover
    /// only, the DR cluster's peer record of a primary that did not answer
    /// (its split-brain guard; see [`Sites::preflight`]). The other
    /// workflows never read it, so they skip that GET.
    ///
    /// # Errors
    ///
    /// As for [`Sites::observe`].
    pub async fn preflight<S: Storage>(
        self,
        sites: &Sites<S>,
        pair: &DrPair,
        detail: bool,
    ) -> Result<Observed, StorageError> {
        match self {
            Command::Failover(_) => sites.preflight(pair, detail).await,
            _ => sites.observe(pair, detail, true).await,
        }
    }
}

/// Finds the SVM pair from the SVM-DR relationships on the DR cluster
/// (`GET /api/snapmirror/relationships`, destination side). `svm` and
/// `dr_svm` narrow the choice; with both given and nothing found, they are
/// used as they are (the plan's preflight then says what is missing).
///
/// # Errors
///
/// [`PlanError::Preflight`] when the DR cluster cannot be read, nothing
/// matches, or several relationships match.
pub async fn discover_pair(
    dr: &OntapClient,
    svm: Option<&str>,
    dr_svm: Option<&str>,
) -> Result<DrPair, PlanError> {
    let rels = dr
        .relationships(&RelationshipQuery {
            destination_path: dr_svm.map(|d| format!("{d}:")),
            ..Default::default()
        })
        .await
        .map_err(|e| PlanError::Preflight {
            reason: format!("cannot list SVM-DR relationships on the DR cluster: {e}"),
            hint: match e.failure() {
                crate::ontap::Failure::AuthenticationFailed => {
                    "fix the DR site's ONTAP credentials (their source is named above)".into()
                }
                crate::ontap::Failure::NotPermitted => {
                    "use cluster-admin ONTAP credentials for the DR site".into()
                }
                crate::ontap::Failure::Tls => "trust the DR cluster's CA with --ca-file (or \
                     `caFile` in the config file), or, only for a lab, pass \
                     --insecure-skip-tls-verify"
                    .into(),
                _ => "check --dr-context, the DR ONTAP address and credentials".into(),
            },
        })?;
    let mut svm_dr: Vec<DrPair> =
        rels.iter()
            .filter_map(|r| {
                let src = r.source_path().strip_suffix(':')?;
                let dst = r.destination_path().strip_suffix(':')?;
                (!src.is_empty() && !dst.is_empty() && !src.contains(':') && !dst.contains(':'))
                    .then(|| DrPair {
                        primary_svm: src.to_string(),
                        dr_svm: dst.to_string(),
                    })
            })
            .filter(|p| svm.is_none_or(|s| s == p.primary_svm))
            .filter(|p| dr_svm.is_none_or(|s| s == p.dr_svm))
            .collect();
    if svm_dr.len() == 1 {
        return Ok(svm_dr.remove(0));
    }
    match (svm_dr.len(), svm, dr_svm) {
        (0, Some(s), Some(d)) => Ok(DrPair {
            primary_svm: s.into(),
            dr_svm: d.into(),
        }),
        (0, _, _) => Err(PlanError::Preflight {
            reason: format!(
                "no SVM-DR relationship{} on the DR cluster {}",
                match (svm, dr_svm) {
                    (Some(s), _) => format!(" from SVM {s}"),
                    (_, Some(d)) => format!(" into SVM {d}"),
                    _ => String::new(),
                },
                dr.name()
            ),
            hint: "set it up with `kubectl svmdr peer`, or name the SVMs with --svm and --dr-svm"
                .into(),
        }),
        (n, _, _) => Err(PlanError::Preflight {
            reason: format!(
                "{n} SVM-DR relationships on {}: {}",
                dr.name(),
                svm_dr
                    .iter()
                    .map(|p| format!("{} → {}", p.primary_svm, p.dr_svm))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "choose one with --svm (source SVM) or --dr-svm".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unforced_failover_has_a_guard_to_override() {
        let o = FailoverOptions {
            force: false,
            backend_grace: std::time::Duration::from_secs(1),
            backend_wait: std::time::Duration::from_secs(2),
        };
        let forced = Command::Failover(o).with_guard_overridden();
        assert_eq!(
            forced,
            Some((
                Command::Failover(FailoverOptions { force: true, ..o }),
                "--force"
            ))
        );
        assert_eq!(
            Command::Failover(FailoverOptions { force: true, ..o }).with_guard_overridden(),
            None
        );
        assert_eq!(Command::Switchover.with_guard_overridden(), None);
    }
}
