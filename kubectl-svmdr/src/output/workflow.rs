//! Workflow output (failover, switchover, resync, failback): the
//! `--dry-run` plan (`WorkflowPlan`) and the finished run (`WorkflowRun`):
//! the timeline, the no-data-loss proof, the restore summary.

use std::io::Write;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use svmdr::plan::DrPair;
use svmdr::plan::backends::BackendChange;
use svmdr::plan::engine::{Plan, StepPreview, Timeline};
use svmdr::plan::step::Check;
use svmdr::plan::switchover::NoLossProof;
use svmdr::plan::workloads::{DrAppsPlan, REPLICAS_ANNOTATION, ScaleDown};
use svmdr::report::StepEnd;
use svmdr::restore::RestoreReport;
use svmdr::workflow::{Refusal, WorkflowRun};

use super::{API_VERSION, table, write_structured};
use crate::global::OutputFormat;

/// `--dry-run` output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DryRun<'a> {
    api_version: &'static str,
    kind: &'static str,
    workflow: String,
    pair: &'a DrPair,
    notes: &'a [String],
    /// Set when a safety guard refuses the run: the steps are then those
    /// the run would follow with `refused.overrideFlag`; exit 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<&'a Refusal>,
    steps: &'a [StepPreview],
    /// `failback`: the workloads restored on DR and what it would do with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    dr_workloads: Option<&'a DrAppsPlan>,
}

/// A finished run's output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RunOutput<'a> {
    api_version: &'static str,
    kind: &'static str,
    workflow: String,
    pair: &'a DrPair,
    notes: &'a [String],
    timeline: &'a Timeline,
    #[serde(skip_serializing_if = "Option::is_none")]
    no_loss_proof: Option<&'a NoLossProof>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    backend_changes: &'a [BackendChange],
    backends_updated: bool,
    /// The DR SVM's export policies refuse the DR nodes' NFS mounts.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    export_problems: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    restore: Option<&'a RestoreReport>,
    /// `failback`: the workloads restored on DR it scaled to 0.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    dr_workloads_scaled_down: &'a [ScaleDown],
}

/// Renders a `--dry-run`: each step with what it would do, the refusal
/// above them when a guard refuses.
///
/// # Errors
/// Write errors.
pub fn render_dry_run(
    format: OutputFormat,
    plan: &Plan,
    pair: &DrPair,
    steps: &[StepPreview],
    refused: Option<&Refusal>,
    dr_apps: Option<&DrAppsPlan>,
) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        let d = DryRun {
            dr_workloads: dr_apps,
            api_version: API_VERSION,
            kind: "WorkflowPlan",
            workflow: plan.workflow.to_string(),
            pair,
            notes: &plan.notes,
            refused,
            steps,
        };
        return write_structured(&mut w, format, &d);
    }
    match refused {
        None => writeln!(
            w,
            "Dry run: nothing was changed. Plan for {} ({} → {}):",
            plan.workflow, pair.primary_svm, pair.dr_svm
        )?,
        Some(r) => {
            writeln!(w, "Dry run: nothing was changed.")?;
            writeln!(w, "REFUSED (exit 3): {}", r.reason)?;
            writeln!(w, "  next: {}", r.next)?;
            writeln!(
                w,
                "Plan for {} ({} → {}), which runs only with {}:",
                plan.workflow, pair.primary_svm, pair.dr_svm, r.override_flag
            )?;
        }
    }
    for (i, s) in steps.iter().enumerate() {
        let state = match &s.check {
            Check::Done(why) => format!("already done: {why}"),
            Check::Todo => "to do".into(),
            Check::Blocked(why) => format!("blocked now: {why}"),
        };
        writeln!(w, "{}. {} — {} [{}]", i + 1, s.id, s.title, state)?;
        for c in &s.calls {
            writeln!(w, "   └─ {c}")?;
        }
    }
    if let Some(a) = dr_apps.filter(|a| !a.scale_down.is_empty()) {
        writeln!(
            w,
            "Before the first step, the workloads Velero restored on DR are scaled to 0 (their replicas kept in annotation {REPLICAS_ANNOTATION}):"
        )?;
        for s in &a.scale_down {
            writeln!(w, "   {}", s.line())?;
            writeln!(w, "   └─ {}", s.call())?;
        }
    }
    Ok(())
}

fn step_row(id: &str, status: &str, duration: Duration, cluster: &str) -> Vec<String> {
    vec![
        id.to_string(),
        status.to_string(),
        format!("{:.2}s", duration.as_secs_f64()),
        cluster.to_string(),
    ]
}

fn steps_table(rows: Vec<Vec<String>>) -> String {
    table(&["step", "status", "duration", "cluster"], rows)
}

fn timeline_table(t: &Timeline) -> String {
    let rows = t
        .steps
        .iter()
        .map(|s| {
            let status = format!("{:?}", s.status).to_lowercase();
            step_row(&s.id, &status, s.duration, &s.cluster)
        })
        .collect();
    steps_table(rows)
}

/// The timeline on stderr (not with `-o json|yaml`), for a run that failed.
pub fn print_timeline(format: OutputFormat, t: &Timeline) {
    if !format.is_machine() && !t.steps.is_empty() {
        eprintln!("{}", timeline_table(t));
    }
}

/// The finished steps on stderr (not with `-o json|yaml`), for a run that
/// Ctrl-C cut short.
pub fn print_steps(format: OutputFormat, steps: &[StepEnd]) {
    if !format.is_machine() && !steps.is_empty() {
        let rows = steps
            .iter()
            .map(|s| step_row(&s.id, &s.status, s.duration, &s.cluster))
            .collect();
        eprintln!("{}", steps_table(rows));
    }
}

/// Renders a finished run.
///
/// # Errors
/// Write errors.
pub fn render_run(format: OutputFormat, run: &WorkflowRun) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        let out = RunOutput {
            api_version: API_VERSION,
            kind: "WorkflowRun",
            workflow: run.workflow.to_string(),
            pair: &run.pair,
            notes: &run.notes,
            timeline: &run.report.timeline,
            no_loss_proof: run.no_loss_proof.as_ref(),
            backend_changes: &run.backend_changes,
            backends_updated: run.backends_updated,
            export_problems: &run.export_problems,
            restore: run.restore.as_ref(),
            dr_workloads_scaled_down: &run.dr_workloads_scaled_down,
        };
        return write_structured(&mut w, format, &out);
    }
    let timeline = &run.report.timeline;
    writeln!(w, "{}", timeline_table(timeline))?;
    writeln!(
        w,
        "total (storage RTO): {:.2}s",
        timeline.total.as_secs_f64()
    )?;
    if let Some(p) = &run.no_loss_proof {
        let t = |d: Option<chrono::DateTime<Utc>>| {
            d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_else(|| "-".into())
        };
        writeln!(
            w,
            "no data loss: primary SVM stopped at {}, last transfer started {} and ended {} → {}",
            t(p.primary_stopped_at),
            t(p.last_update_started_at),
            t(p.last_transfer_end),
            if p.covered {
                "every write before the stop was transferred"
            } else {
                "not shown by this run (a re-run skipped those steps)"
            }
        )?;
    }
    if let Some(r) = &run.restore {
        super::restore::render_table(&mut w, r)?;
    }
    for s in &run.dr_workloads_scaled_down {
        writeln!(w, "scaled to 0 on DR: {}", s.line())?;
    }
    Ok(())
}
