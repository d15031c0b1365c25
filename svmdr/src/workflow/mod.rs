//! The DR workflows as a front end runs them: failover, switchover, resync
//! and failback (with the Velero restore a failover may chain), and the
//! `restore` command. The CLI only parses flags, confirms and renders.
//!
//! A workflow runs in two calls, so that a front end can show a `--dry-run`
//! or ask for confirmation in between:
//!
//! 1. [`prepare`]: resolve the SVM pair on the DR cluster, observe both
//!    sites (a primary that did not resolve is marked unreachable), plan,
//!    look up the DR workloads a failback scales down, and judge the Velero
//!    backup a failover restores, all before any change. A refusal is
//!    recorded in the audit and returned.
//! 2. [`run`]: scale the DR workloads, execute the plan on the engine, show
//!    the Trident backend changes a DR SVM without preserved identity needs
//!    (and apply them when asked), check the DR SVM's export policies,
//!    restore the judged backup, and record the outcome.
//!
//! Every run is recorded on the DR cluster through one
//! [`crate::audit::Recorder`], with the outcome its exit code reports.

mod prepare;
pub mod restore;
mod run;

use std::time::Duration;

pub use prepare::{Prepared, Preview, Refusal, prepare};
pub use run::{WorkflowRun, run};

use crate::plan::backends::BackendUpdateError;
use crate::plan::driver::Command;
use crate::plan::resync::Direction;
use crate::plan::workloads::{FailbackApps, WorkloadError};
use crate::plan::{PlanError, RunFailed, Timeline};
use crate::report::Reporter;
use crate::restore::{RestoreError, RestoreOptions};
use crate::site::{Access, CredentialPrompt, Site, SiteError, SiteSpec};

/// What to run and how.
#[derive(Debug, Clone)]
pub struct WorkflowOptions {
    /// The workflow with its options.
    pub command: Command,
    /// Source SVM on the primary cluster (default: found on the DR cluster).
    pub svm: Option<String>,
    /// SVM on the DR cluster.
    pub dr_svm: Option<String>,
    /// Longest wait for one step to complete on ONTAP.
    pub step_timeout: Duration,
    /// After a failover: restore with Velero (the backup is judged first).
    pub restore: Option<RestoreOptions>,
    /// Apply the Trident backend changes a DR SVM without preserved
    /// identity needs (otherwise they are only shown).
    pub update_backends: bool,
    /// `failback`: what to do with the workloads restored on DR.
    pub dr_apps: Option<FailbackApps>,
    /// Plan only: nothing changes and nothing is recorded.
    pub dry_run: bool,
}

/// Why a workflow stopped. The audit has recorded it already.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The sites cannot be used (two names for one cluster); nothing changed.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// No SVM pair, the sites cannot be observed, or the plan's preflight
    /// refuses ([`PlanError::is_refusal`]); nothing changed.
    #[error(transparent)]
    Plan(PlanError),
    /// The backup to restore after the failover carries volume data;
    /// nothing changed.
    #[error(transparent)]
    BackupRefused(RestoreError),
    /// Scaling the DR workloads to 0 failed; nothing changed on ONTAP.
    #[error(transparent)]
    ScaleDown(WorkloadError),
    /// A step failed; the timeline shows how far the run got.
    #[error(transparent)]
    Run(RunFailed),
    /// The storage part succeeded; updating the Trident backend failed.
    #[error(transparent)]
    Backends(BackendUpdateError),
    /// The storage part succeeded; the Velero restore did not.
    #[error("{error}")]
    Restore {
        /// Why.
        #[source]
        error: RestoreError,
        /// The storage part's steps.
        timeline: Timeline,
    },
}

impl WorkflowError {
    /// The steps the run reached, when it reached any (a failed step, a
    /// restore that failed after the storage part).
    pub fn timeline(&self) -> Option<&Timeline> {
        match self {
            Self::Run(f) => Some(&f.timeline),
            Self::Restore { timeline, .. } => Some(timeline),
            _ => None,
        }
    }
}

/// The workflow's name in the audit (`failover --force`,
/// `resync --direction reverse`).
pub fn audit_name(command: Command) -> String {
    match command {
        Command::Failover(o) if o.force => "failover --force".into(),
        Command::Failover(_) => "failover".into(),
        Command::Switchover => "switchover".into(),
        Command::Resync { direction, .. } => format!(
            "resync --direction {}",
            match direction {
                Direction::Forward => "forward",
                Direction::Reverse => "reverse",
            }
        ),
        Command::Failback { .. } => "failback".into(),
    }
}

/// The primary site, or why it could not be used.
#[derive(Debug)]
pub enum Primary {
    /// Resolved.
    Site(Box<Site>),
    /// Not configured, not resolved, or no answer in time: the reason. A
    /// failover goes on without it; the other workflows refuse in preflight.
    Unavailable(String),
}

/// Resolves the primary site, bounded by `request_timeout` (`0`: no limit,
/// kubectl's meaning), and notes why it is unavailable.
pub async fn resolve_primary(
    spec: Option<SiteSpec>,
    request_timeout: Duration,
    prompt: &dyn CredentialPrompt,
    reporter: &dyn Reporter,
) -> Primary {
    let primary = match spec {
        None => Primary::Unavailable(
            "no primary site configured (--primary-context or the config file)".into(),
        ),
        Some(spec) => {
            let bound = if request_timeout.is_zero() {
                Duration::MAX
            } else {
                request_timeout
            };
            let resolve = crate::site::resolve(&spec, Access::ClusterAdmin, prompt, reporter);
            match tokio::time::timeout(bound, resolve).await {
                Ok(Ok(site)) => Primary::Site(Box::new(site)),
                Ok(Err(e)) => Primary::Unavailable(e.to_string()),
                Err(_) => Primary::Unavailable(format!(
                    "no answer within {}",
                    humantime::format_duration(bound)
                )),
            }
        }
    };
    if let Primary::Unavailable(p) = &primary {
        reporter.note(&format!("primary site unavailable: {p}"));
    }
    primary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::failover::FailoverOptions;
    use crate::report::RecordingReporter;
    use crate::site::NoPrompt;

    #[test]
    fn audit_names_say_the_command_and_its_guard() {
        let o = FailoverOptions {
            force: true,
            backend_grace: Duration::from_secs(1),
            backend_wait: Duration::from_secs(2),
        };
        assert_eq!(audit_name(Command::Failover(o)), "failover --force");
        let o = FailoverOptions { force: false, ..o };
        assert_eq!(audit_name(Command::Failover(o)), "failover");
        assert_eq!(
            audit_name(Command::Resync {
                direction: Direction::Reverse,
                quick: false
            }),
            "resync --direction reverse"
        );
        assert_eq!(audit_name(Command::Failback { quick: true }), "failback");
    }

    #[tokio::test]
    async fn no_primary_is_noted_as_unavailable() {
        let r = RecordingReporter::default();
        let p = resolve_primary(None, Duration::from_secs(1), &NoPrompt, &r).await;
        assert!(matches!(p, Primary::Unavailable(_)));
        assert_eq!(
            r.events(),
            [
                "note: primary site unavailable: no primary site configured (--primary-context or the config file)"
            ]
        );
    }
}
