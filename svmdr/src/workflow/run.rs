//! The change: the DR workloads, the plan on the engine, the Trident
//! backend, the export policies, the chained restore, and the outcome.

use std::time::Duration;

use super::prepare::{ChainedRestore, Prepared};
use super::types::WorkflowError;
use crate::audit::{AuditOutcome, Recorder};
use crate::plan::backends::{self, BackendChange};
use crate::plan::driver::Command;
use crate::plan::engine::Workflow;
use crate::plan::switchover::{NoLossProof, no_loss_proof};
use crate::plan::workloads::{DrAppsPlan, ScaleDown};
use crate::plan::{DrPair, EngineOptions, RunReport, Timeline, execute};
use crate::report::Reporter;
use crate::restore::{self, RestoreError, RestoreReport};
use crate::site::Site;

/// A workflow that ran to the end (it may still have found a problem:
/// [`WorkflowRun::outcome`]).
#[derive(Debug)]
pub struct WorkflowRun {
    /// The workflow.
    pub workflow: Workflow,
    /// The SVM pair.
    pub pair: DrPair,
    /// The plan's notes (the data-loss window, ...).
    pub notes: Vec<String>,
    /// The engine's report: timeline and final state.
    pub report: RunReport,
    /// `switchover`: that the last transfer covers the stop.
    pub no_loss_proof: Option<NoLossProof>,
    /// The Trident backend changes a DR SVM without preserved identity needs.
    pub backend_changes: Vec<BackendChange>,
    /// They were applied (`--update-backends`).
    pub backends_updated: bool,
    /// The DR SVM's export policies refuse the DR nodes' NFS mounts.
    pub export_problems: Vec<String>,
    /// The Velero restore after a failover.
    pub restore: Option<RestoreReport>,
    /// `failback`: the workloads restored on DR it scaled to 0.
    pub dr_workloads_scaled_down: Vec<ScaleDown>,
    /// As recorded, and as the exit code says: `Succeeded`, or
    /// `PartiallyFailed`/`Unhealthy` when the storage part succeeded but
    /// what it left is not ready.
    pub outcome: AuditOutcome,
}

/// Runs a prepared workflow (after the front end's confirmation) and
/// records its outcome. Progress goes to `reporter` (an
/// [`crate::audit::StepLog`] keeps the steps for a run Ctrl-C cuts short).
///
/// # Errors
///
/// [`WorkflowError::ScaleDown`], [`WorkflowError::Run`],
/// [`WorkflowError::Backends`], [`WorkflowError::Restore`], each recorded
/// by `audit` first.
pub async fn run(
    prepared: Prepared,
    dr: &Site,
    audit: &Recorder<'_>,
    reporter: &dyn Reporter,
) -> Result<WorkflowRun, WorkflowError> {
    let Prepared {
        command,
        pair,
        plan,
        dr_apps,
        obs,
        mut sites,
        restore,
        opts,
        ..
    } = prepared;
    if !plan.observe_primary {
        sites.primary = None;
    }
    // Before the DR SVM stops, its applications stop: cleanly, while their
    // volumes still answer. A failure here stops the run before any ONTAP change.
    if let Some(a) = dr_apps.as_ref().filter(|a| !a.scale_down.is_empty()) {
        if let Err(e) = a.apply(&dr.kube).await {
            audit
                .record(
                    AuditOutcome::Failed,
                    format!("nothing changed on ONTAP: {e}"),
                    &Default::default(),
                )
                .await;
            return Err(WorkflowError::ScaleDown(e));
        }
        for s in &a.scale_down {
            reporter.note(&format!("scaled to 0 on DR: {}", s.line()));
        }
    }
    let engine = EngineOptions {
        poll_interval: Duration::from_millis(500),
        step_timeout: opts.step_timeout,
        before_step: None,
    };
    let report = match execute(&plan, &sites, &engine, reporter).await {
        Ok(r) => r,
        Err(f) => {
            let done = dr_apps.as_ref().and_then(DrAppsPlan::audit_text);
            audit
                .fail(&f.error, f.error.is_refusal(), &f.timeline.steps, done)
                .await;
            return Err(WorkflowError::Run(f));
        }
    };
    let identity_preserved = obs.forward().is_none_or(|r| r.preserves_network());
    let ends_on_dr = matches!(command, Command::Failover(_) | Command::Switchover);
    let (backend_changes, backends_updated) = if ends_on_dr && !identity_preserved {
        match update_backends(dr, &pair, &report, opts.update_backends, reporter).await {
            Ok(b) => b,
            Err(e) => {
                audit
                    .record(
                        AuditOutcome::Failed,
                        format!("storage part succeeded; updating the Trident backend failed: {e}"),
                        &report.timeline,
                    )
                    .await;
                return Err(WorkflowError::Backends(e));
            }
        }
    } else {
        (Vec::new(), false)
    };
    let export_problems = if ends_on_dr {
        export_problems(dr, &pair, reporter).await
    } else {
        Vec::new()
    };
    let proof = matches!(command, Command::Switchover).then(|| no_loss_proof(&report));
    let restore = match restore {
        Some(chained) => match chained_restore(dr, chained, reporter).await {
            Ok(r) => Some(r),
            Err(error) => {
                let outcome = crate::audit::AuditOutcome::of_restore(&error);
                let what = match outcome {
                    AuditOutcome::TimedOut => "timed out",
                    AuditOutcome::Refused => "was refused",
                    _ => "failed",
                };
                audit
                    .record(
                        outcome,
                        format!("storage part succeeded; restore {what}: {error}"),
                        &report.timeline,
                    )
                    .await;
                return Err(WorkflowError::Restore {
                    error,
                    timeline: report.timeline,
                });
            }
        },
        None => None,
    };
    let (outcome, message) = verdict(
        &report.timeline,
        restore.as_ref().map(|r| r.status.phase.as_str()),
        &export_problems,
        dr_apps.as_ref().and_then(DrAppsPlan::audit_text),
    );
    audit.record(outcome, message, &report.timeline).await;
    Ok(WorkflowRun {
        workflow: plan.workflow,
        pair,
        notes: plan.notes,
        report,
        no_loss_proof: proof,
        backend_changes,
        backends_updated,
        export_problems,
        restore,
        dr_workloads_scaled_down: dr_apps.map(|a| a.scale_down).unwrap_or_default(),
        outcome,
    })
}

/// The Trident backend changes a DR SVM without preserved identity needs:
/// its SVM, its management address and the first data LIF that is up
/// (from the engine's final observation); applied with `apply`.
async fn update_backends(
    dr: &Site,
    pair: &DrPair,
    report: &RunReport,
    apply: bool,
    reporter: &dyn Reporter,
) -> Result<(Vec<BackendChange>, bool), backends::BackendUpdateError> {
    let Some(b) = &dr.backend else {
        reporter.note(&format!(
            "identity was not preserved and the DR cluster has no Trident ONTAP backend: create one for SVM {} (managementLIF {})",
            pair.dr_svm,
            backends::endpoint_host(&dr.endpoint)
        ));
        return Ok((Vec::new(), false));
    };
    let data_lif = report
        .last
        .dr
        .lifs
        .iter()
        .flatten()
        .find(|l| l.enabled && l.state == "up")
        .and_then(|l| l.address.clone());
    let changes = backends::backend_changes(
        b,
        &pair.dr_svm,
        &backends::endpoint_host(&dr.endpoint),
        data_lif.as_deref(),
    );
    for c in &changes {
        reporter.note(&format!(
            "Trident backend {}: {} {} → {}",
            c.backend,
            c.field,
            c.from.as_deref().unwrap_or("(unset)"),
            c.to
        ));
    }
    if changes.is_empty() {
        return Ok((changes, false));
    }
    if !apply {
        reporter.note("re-run with --update-backends to apply these changes");
        return Ok((changes, false));
    }
    backends::apply(&dr.kube, &dr.namespace, b, &changes).await?;
    reporter.note(
        "Trident backend updated; restart pods that mount NFS volumes so they use the new data LIF",
    );
    Ok((changes, true))
}

/// The DR SVM serves: would the DR nodes be allowed to mount it? (SVM-DR
/// replicated the primary's export policies; see docs/trident.md.)
async fn export_problems(dr: &Site, pair: &DrPair, reporter: &dyn Reporter) -> Vec<String> {
    let svms = [pair.dr_svm.clone()];
    let problems = match crate::status::exports::collect(&dr.ontap, &dr.kube, &svms).await {
        Ok(inputs) => crate::status::exports::svm_problems(&pair.dr_svm, &inputs),
        Err(e) => {
            reporter.note(&format!(
                "the export policies of {} were not checked against the DR nodes: {e}",
                pair.dr_svm
            ));
            Vec::new()
        }
    };
    for p in &problems {
        reporter.warning(p);
    }
    problems
}

/// The restore after the storage steps, of the backup judged before them
/// (its warnings were shown then; not again).
async fn chained_restore(
    dr: &Site,
    chained: ChainedRestore,
    reporter: &dyn Reporter,
) -> Result<RestoreReport, RestoreError> {
    let ChainedRestore { opts, prepared } = chained;
    let prepared = match prepared {
        Some(p) => p,
        None => restore::prepare(&dr.kube, &opts).await?,
    };
    restore::create_and_wait(&dr.kube, &opts, prepared, reporter).await
}

/// The recorded outcome, which is the exit outcome (exit 1 is never
/// `succeeded`), and the audit message. A restore that did not complete
/// (PartiallyFailed) makes the whole run unhealthy, as `restore` reports it.
fn verdict(
    timeline: &Timeline,
    restore_phase: Option<&str>,
    export_problems: &[String],
    dr_apps_done: Option<String>,
) -> (AuditOutcome, String) {
    let steps = format!(
        "{} steps in {} ms",
        timeline.steps.len(),
        timeline.total.as_millis()
    );
    let restore_complete = restore_phase.is_none_or(|p| p == "Completed");
    let restore_phase = restore_phase.unwrap_or_default();
    let mut why = Vec::new();
    if !restore_complete {
        why.push(format!("the Velero restore ended {restore_phase}"));
    }
    if !export_problems.is_empty() {
        why.push("the DR SVM's export policy refuses the DR nodes' NFS mounts".to_string());
    }
    let outcome = if !restore_complete && restore_phase == "PartiallyFailed" {
        AuditOutcome::PartiallyFailed
    } else if !why.is_empty() {
        AuditOutcome::Unhealthy
    } else {
        AuditOutcome::Succeeded
    };
    let steps = match dr_apps_done {
        Some(done) => format!("{steps}; {done}"),
        None => steps,
    };
    let message = if why.is_empty() {
        steps
    } else {
        format!(
            "{steps}; the storage part succeeded, but {}",
            why.join("; ")
        )
    };
    (outcome, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline() -> Timeline {
        Timeline {
            steps: Vec::new(),
            total: Duration::from_millis(1500),
        }
    }

    #[test]
    fn a_clean_run_succeeds() {
        let (o, m) = verdict(&timeline(), Some("Completed"), &[], None);
        assert_eq!(
            (o, m.as_str()),
            (AuditOutcome::Succeeded, "0 steps in 1500 ms")
        );
        let (o, m) = verdict(&timeline(), None, &[], Some("scaled to 0 on DR: x".into()));
        assert_eq!(o, AuditOutcome::Succeeded);
        assert_eq!(m, "0 steps in 1500 ms; scaled to 0 on DR: x");
    }

    #[test]
    fn what_the_storage_left_unready_is_never_success() {
        let (o, m) = verdict(&timeline(), Some("PartiallyFailed"), &[], None);
        assert_eq!(o, AuditOutcome::PartiallyFailed);
        assert!(
            m.ends_with("the storage part succeeded, but the Velero restore ended PartiallyFailed"),
            "{m}"
        );
        let (o, m) = verdict(&timeline(), None, &["refused".into()], None);
        assert_eq!(o, AuditOutcome::Unhealthy);
        assert!(m.contains("export policy refuses"), "{m}");
    }
}
