//! How the errors of a workflow or a restore become the CLI's: the message,
//! what to do next, and the exit code (a safety refusal is
//! [`Refused`], exit 3; everything else exits 2, see [`crate::exit`]).

use svmdr::plan::PlanError;
use svmdr::restore::RestoreError;
use svmdr::workflow::WorkflowError;

use crate::exit::Refused;

/// The CLI error for a plan error: the message, then what to do next.
pub fn plan_error(e: &PlanError) -> anyhow::Error {
    // `next:` only where running again can help; otherwise what to fix.
    let label = if e.needs_fix_first() { "fix" } else { "next" };
    let text = format!("{e}\n  {label}: {}", e.hint());
    if e.is_refusal() {
        Refused(text).into()
    } else {
        anyhow::anyhow!(text)
    }
}

/// A backup that carries volume data is a safety refusal (exit 3), which
/// `force_flag` overrides; so is a backup already restored (its message
/// names the override); other restore errors exit 2.
pub fn restore_error(e: RestoreError, force_flag: &str) -> anyhow::Error {
    match e {
        RestoreError::AlreadyRestored { .. } => anyhow::Error::new(Refused(e.to_string())),
        RestoreError::VolumeData { .. } => anyhow::Error::new(Refused(format!(
            "{e}; or pass {force_flag} to restore anyway"
        ))),
        e => anyhow::Error::new(e),
    }
}

/// The CLI error for a workflow that stopped, saying what was changed.
pub fn workflow_error(e: WorkflowError) -> anyhow::Error {
    match e {
        WorkflowError::Site(e) => e.into(),
        WorkflowError::Plan(e) => plan_error(&e),
        WorkflowError::BackupRefused(e) => restore_error(e, "--force-restore")
            .context("nothing was changed: the Velero backup for --restore-from-backup"),
        WorkflowError::ScaleDown(e) => anyhow::Error::new(e).context(
            "nothing was changed on ONTAP; fix the cause and re-run, or pass --keep-dr-workloads",
        ),
        WorkflowError::Run(f) => plan_error(&f.error),
        WorkflowError::Backends(e) => e.into(),
        WorkflowError::Restore { error, .. } => {
            let next = if matches!(error, RestoreError::Timeout { .. }) {
                "the storage failover succeeded; the Velero restore is still running (do not start another)"
            } else {
                "the storage failover succeeded; the Velero restore did not (re-run `kubectl svmdr restore`)"
            };
            restore_error(error, "--force-restore").context(next)
        }
    }
}
