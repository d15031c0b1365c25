//! The watcher's one action: a failover through the same workflow, plan,
//! audit and Velero restore as `kubectl svmdr failover --force
//! --restore-from-backup`, recorded under the watcher's name with the
//! evidence it rests on.
//!
//! Before the first step the watcher disarms itself and records the
//! failover as `running` in its status object: a second decision can never
//! start another failover, and a replica that becomes leader while the
//! record says `running` finishes the same one ([`resume_needed`]): the
//! plan starts from the storage's real state.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;

use super::decide::Decision;
use super::policy::Policy;
use super::state::{FailoverRecord, StateError, StateStore, WatcherState};
use crate::audit::{AuditOutcome, Recorder};
use crate::plan::driver::Command;
use crate::plan::failover::FailoverOptions;
use crate::report::Reporter;
use crate::restore::{BackupChoice, RestoreOptions};
use crate::site::Site;
use crate::workflow::{self, Primary, WorkflowOptions};

/// The audit's workflow name for the watcher's failover.
pub const AUDIT_WORKFLOW: &str = "failover --force (svmdr-watcher)";

/// A failover the status object says is running and nobody finished: the
/// new leader's to finish.
pub fn resume_needed(state: &WatcherState) -> Option<FailoverRecord> {
    state.failover().filter(|f| f.outcome == "running")
}

/// Records the decision (disarmed, failover running) before anything
/// changes. If this fails the watcher must not act: it could not stop a
/// second failover.
///
/// # Errors
/// The status object could not be written.
pub async fn begin(
    store: &StateStore,
    decision: &Decision,
    by: &str,
) -> Result<FailoverRecord, StateError> {
    let record = FailoverRecord {
        started_at: Utc::now(),
        by: by.into(),
        pair: decision.pair.clone().unwrap_or_default(),
        evidence: decision.evidence.iter().map(ToString::to_string).collect(),
        outcome: "running".into(),
        message: decision.message.clone(),
        finished_by: String::new(),
    };
    let keys = BTreeMap::from([
        ("armed".to_string(), "false".to_string()),
        (
            "disarmedReason".to_string(),
            format!(
                "automatic failover started at {} by {by}; re-arm with `kubectl svmdr watcher arm` once the pair is protected again",
                record
                    .started_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ),
        ("armedBy".to_string(), by.to_string()),
        (
            "failover".to_string(),
            serde_json::to_string(&record).unwrap_or_default(),
        ),
    ]);
    store.set(keys).await?;
    let _ = store
        .event(
            true,
            "AutomaticFailover",
            &format!(
                "{}; failing over {} — evidence: {}",
                decision.message,
                record.pair,
                record.evidence.join("; ")
            ),
            by,
        )
        .await;
    Ok(record)
}

/// Runs the failover (and the restore the policy names) as replica `me`
/// and records its outcome in the status object, the audit and an Event.
pub async fn run(
    dr: &Site,
    primary: Primary,
    policy: &Policy,
    mut record: FailoverRecord,
    me: &str,
    store: &StateStore,
    reporter: &dyn Reporter,
) -> FailoverRecord {
    let opts = WorkflowOptions {
        command: Command::Failover(FailoverOptions {
            // The watcher fences a primary whose ONTAP still answers: the
            // plan stops its SVM first, as `failover --force` does.
            force: true,
            backend_grace: Duration::from_secs(30),
            backend_wait: Duration::from_secs(300),
        }),
        svm: policy.svm.clone(),
        dr_svm: policy.dr_svm.clone(),
        step_timeout: Duration::from_secs(600),
        restore: policy
            .restore_from_backup
            .as_deref()
            .map(|b| RestoreOptions {
                velero_namespace: policy.velero_namespace.clone(),
                backup: BackupChoice::parse(b),
                repeat: true,
                ..RestoreOptions::default()
            }),
        update_backends: false,
        dr_apps: None,
        dry_run: false,
    };
    let audit = Recorder::new(
        dr.kube.clone(),
        dr.namespace.clone(),
        AUDIT_WORKFLOW,
        if record.by == me {
            format!("svmdr-watcher ({me})")
        } else {
            format!(
                "svmdr-watcher ({me}, finishing the failover {} decided)",
                record.by
            )
        },
        record.pair.clone(),
        false,
        reporter,
    )
    .with_evidence(record.evidence.clone());
    let result = match workflow::prepare(dr, primary, opts, &audit, reporter).await {
        Ok(prepared) => workflow::run(prepared, dr, &audit, reporter).await,
        Err(e) => Err(e),
    };
    let (outcome, message) = match result {
        Ok(run) => (
            run.outcome.as_str().to_string(),
            format!(
                "automatic failover of {} → {} {}",
                run.pair.primary_svm,
                run.pair.dr_svm,
                run.outcome.as_str()
            ),
        ),
        Err(e) => (
            AuditOutcome::Failed.as_str().to_string(),
            format!(
                "automatic failover failed: {}; see `kubectl svmdr history`; a person must finish it (`kubectl svmdr failover --force`)",
                crate::error_chain::render(&e)
            ),
        ),
    };
    record.outcome = outcome;
    record.message = message;
    record.finished_by = me.to_string();
    let keys = BTreeMap::from([(
        "failover".to_string(),
        serde_json::to_string(&record).unwrap_or_default(),
    )]);
    if let Err(e) = store.set(keys).await {
        reporter.warning(&format!("could not record the failover's outcome: {e}"));
    }
    let _ = store
        .event(
            record.outcome != "succeeded",
            "AutomaticFailoverFinished",
            &record.message,
            me,
        )
        .await;
    record
}
