//! The `restore` command: a Velero restore on the DR cluster, its
//! `--dry-run`, and its audit record.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use crate::audit::{AuditOutcome, Recorder};
use crate::report::Reporter;
use crate::restore::{self, RestoreError, RestoreOptions, RestoreReport};

/// What `restore --dry-run` shows: the Restore it would create.
#[derive(Debug)]
pub struct RestorePreview {
    /// The backup it would restore.
    pub backup: String,
    /// How long it would wait (unknown when refused).
    pub wait: Option<Duration>,
    /// Why a real run would refuse (a backup with volume data, or one
    /// already restored).
    pub refused: Option<RestoreError>,
    /// The Velero Restore object.
    pub restore: Value,
}

/// Picks and judges the backup and builds the Restore it would create,
/// also when a real run would refuse it; changes nothing. The backup's
/// warnings go to `reporter`.
///
/// # Errors
///
/// Any [`RestoreError`] other than the two refusals.
pub async fn preview(
    kube: &kube::Client,
    opts: &RestoreOptions,
    reporter: &dyn Reporter,
) -> Result<RestorePreview, RestoreError> {
    let (backup, wait, refused) = match restore::prepare(kube, opts).await {
        Ok(prepared) => {
            for w in &prepared.warnings {
                reporter.warning(w);
            }
            (prepared.backup.name, Some(prepared.timeout), None)
        }
        Err(RestoreError::VolumeData { report }) => {
            let backup = report.backup.clone();
            (backup, None, Some(RestoreError::VolumeData { report }))
        }
        Err(RestoreError::AlreadyRestored {
            backup,
            namespace,
            restores,
        }) => {
            let e = RestoreError::AlreadyRestored {
                backup: backup.clone(),
                namespace,
                restores,
            };
            (backup, None, Some(e))
        }
        Err(e) => return Err(e),
    };
    let name = restore::restore_name(&backup, Utc::now());
    let restore = restore::restore_object(&name, opts, &backup)?;
    Ok(RestorePreview {
        backup,
        wait,
        refused,
        restore,
    })
}

/// Restores and records the outcome through `audit`. A backup already
/// restored is restored again only when `again(backup, earlier restores)`
/// says so (a confirmation); otherwise that refusal is the result.
///
/// # Errors
///
/// Any [`RestoreError`]; a `PartiallyFailed` restore is a report (its
/// outcome is recorded `partially-failed`).
pub async fn run(
    kube: &kube::Client,
    mut opts: RestoreOptions,
    audit: &Recorder<'_>,
    reporter: &dyn Reporter,
    again: impl FnOnce(&str, &[String]) -> bool,
) -> Result<RestoreReport, RestoreError> {
    let mut result = restore::restore(kube, &opts, reporter).await;
    if let Err(RestoreError::AlreadyRestored {
        backup, restores, ..
    }) = &result
        && again(backup, restores)
    {
        opts.repeat = true;
        result = restore::restore(kube, &opts, reporter).await;
    }
    let (outcome, message) = verdict(&result);
    audit.record_steps(outcome, message, Vec::new()).await;
    result
}

/// The recorded outcome (the exit outcome) and message of a restore.
fn verdict(result: &Result<RestoreReport, RestoreError>) -> (AuditOutcome, String) {
    match result {
        Ok(r) => (
            match r.status.phase.as_str() {
                "Completed" => AuditOutcome::Succeeded,
                "PartiallyFailed" => AuditOutcome::PartiallyFailed,
                _ => AuditOutcome::Unhealthy,
            },
            format!(
                "restore {} from backup {}: {} ({} warnings, {} errors)",
                r.name, r.backup.name, r.status.phase, r.status.warnings, r.status.errors
            ),
        ),
        Err(e) => (crate::audit::AuditOutcome::of_restore(e), e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::{BackupInfo, RestoreStatus};

    fn report(phase: &str) -> RestoreReport {
        RestoreReport {
            name: "nightly-svmdr-1".into(),
            namespace: "velero".into(),
            backup: BackupInfo {
                name: "nightly".into(),
                phase: "Completed".into(),
                completed_at: None,
                included_namespaces: Vec::new(),
            },
            status: RestoreStatus {
                phase: phase.into(),
                warnings: 2,
                errors: 1,
                ..RestoreStatus::default()
            },
            duration: Duration::from_secs(3),
            namespaces: Vec::new(),
            backup_data: Default::default(),
            timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_recorded_outcome_is_the_exit_outcome() {
        let (o, m) = verdict(&Ok(report("Completed")));
        assert_eq!(o, AuditOutcome::Succeeded);
        assert_eq!(
            m,
            "restore nightly-svmdr-1 from backup nightly: Completed (2 warnings, 1 errors)"
        );
        assert_eq!(
            verdict(&Ok(report("PartiallyFailed"))).0,
            AuditOutcome::PartiallyFailed
        );
        let timeout = RestoreError::Timeout {
            name: "r".into(),
            namespace: "velero".into(),
            phase: "InProgress".into(),
            waited: Duration::from_secs(1),
        };
        assert_eq!(verdict(&Err(timeout)).0, AuditOutcome::TimedOut);
    }
}
