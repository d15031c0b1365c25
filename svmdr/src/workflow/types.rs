//! The types the workflow steps share: what a workflow is given, the
//! primary site as resolved, and why a workflow stopped (a leaf module).

use std::time::Duration;

use crate::plan::backends::BackendUpdateError;
use crate::plan::driver::Command;
use crate::plan::workloads::{FailbackApps, WorkloadError};
use crate::plan::{PlanError, RunFailed, Timeline};
use crate::restore::{RestoreError, RestoreOptions};
use crate::site::{Site, SiteError};

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

/// The primary site, or why it could not be used.
#[derive(Debug)]
pub enum Primary {
    /// Resolved.
    Site(Box<Site>),
    /// Not configured, not resolved, or no answer in time: the reason. A
    /// failover goes on without it; the other workflows refuse in preflight.
    Unavailable(String),
}
