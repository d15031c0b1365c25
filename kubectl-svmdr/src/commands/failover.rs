//! `kubectl svmdr failover`: unplanned failover to the DR site, optionally
//! followed by a Velero restore. Also holds the runner the other workflow
//! commands (switchover, resync, failback) share: resolve the sites, find the
//! SVM pair, plan, print the plan (`--dry-run`) or confirm and execute, print
//! the timeline, and record the run on the DR cluster (audit).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use svmdr::audit::{AuditEntry, AuditOutcome, AuditStep};
use svmdr::plan::backends::BackendChange;
use svmdr::plan::driver::{Bridge, Command, discover_pair};
use svmdr::plan::engine::{Plan, StepPreview, Timeline};
use svmdr::plan::failover::FailoverOptions;
use svmdr::plan::observe::Reach;
use svmdr::plan::ontap_storage::OntapStorage;
use svmdr::plan::switchover::NoLossProof;
use svmdr::plan::{DrPair, EngineOptions, PlanError, RunReport, Sites, execute};
use svmdr::report::Reporter as _;
use svmdr::site::{Access, Site, SiteRole};

use crate::cli::OutputFormat;
use crate::ctx::Ctx;
use crate::exit::{Outcome, Refused};
use crate::output;
use crate::progress::CliReporter;

/// Which SVM pair (default: the only SVM-DR relationship on the DR cluster).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PairArgs {
    /// Source SVM on the primary cluster.
    #[arg(long, value_name = "NAME")]
    pub svm: Option<String>,
    /// SVM on the DR cluster.
    #[arg(long, value_name = "NAME")]
    pub dr_svm: Option<String>,
    /// Longest wait for one step to complete on ONTAP.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub step_timeout: Duration,
}

/// Flags of `failover`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// SVM pair and step timeout.
    #[command(flatten)]
    pub pair: PairArgs,
    /// Fail over although the primary SVM is reachable and running (it is
    /// stopped first).
    #[arg(long)]
    pub force: bool,
    /// When identity was not preserved, point the DR cluster's Trident
    /// backend at the DR SVM (managementLIF, dataLIF, svm); without it the
    /// needed changes are only shown.
    #[arg(long)]
    pub update_backends: bool,
    /// After the failover, restore Kubernetes objects with Velero from this
    /// backup (`latest` or a backup name).
    #[arg(long, value_name = "latest|NAME")]
    pub restore_from_backup: Option<String>,
    /// Velero restore options.
    #[command(flatten)]
    pub restore: super::restore::RestoreFlags,
}

/// Runs the failover (and the restore when asked).
///
/// # Errors
/// Site errors, preflight refusals (exit 3 for the split-brain guard or a
/// declined confirmation), the failed step.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let cmd = Command::Failover(FailoverOptions { force: args.force });
    let restore = args
        .restore_from_backup
        .as_deref()
        .map(|b| args.restore.options(b));
    run_workflow(ctx, cmd, &args.pair, restore, args.update_backends)
}

/// `--dry-run` output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DryRun<'a> {
    api_version: &'static str,
    kind: &'static str,
    workflow: String,
    pair: &'a DrPair,
    notes: &'a [String],
    steps: Vec<StepPreview>,
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
    no_loss_proof: Option<NoLossProof>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    backend_changes: Vec<BackendChange>,
    backends_updated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    restore: Option<svmdr::restore::RestoreReport>,
}

/// Resolves both sites, plans `cmd`, then dry-runs or executes it.
///
/// # Errors
/// As for [`run`].
pub(crate) fn run_workflow(
    ctx: &mut Ctx,
    cmd: Command,
    pair_args: &PairArgs,
    restore: Option<svmdr::restore::RestoreOptions>,
    update_backends: bool,
) -> anyhow::Result<Outcome> {
    let dr_spec = ctx.required_spec(SiteRole::Dr)?;
    let primary_spec = ctx.site_spec(SiteRole::Primary)?;
    let reporter = ctx.reporter();
    let format = ctx.global.output;
    let dry_run = ctx.global.dry_run;
    let yes = ctx.global.yes;
    let request_timeout = ctx.global.request_timeout;
    let pair_args = pair_args.clone();
    let kubeconfig = dr_spec.kubeconfig.clone();
    ctx.block_on(async move {
        let dr = Ctx::resolve(reporter.clone(), dr_spec, Access::ClusterAdmin).await?;
        let user = kube_user(kubeconfig.as_deref(), &dr.context);
        let started_at = Utc::now();
        let mut audit = Audit {
            pair: None,
            dr: &dr,
            user: user.clone(),
            workflow: workflow_name(cmd),
            started_at,
            reporter: reporter.clone(),
        };
        let (primary, primary_problem) = match primary_spec {
            None => (None, Some("no primary site configured (--primary-context or the config file)".to_string())),
            Some(spec) => {
                let bound = request_timeout;
                match tokio::time::timeout(bound, Ctx::resolve(reporter.clone(), spec, Access::ClusterAdmin)).await {
                    Ok(Ok(site)) => (Some(site), None),
                    Ok(Err(e)) => (None, Some(e.to_string())),
                    Err(_) => (None, Some(format!("no answer within {}", humantime::format_duration(bound)))),
                }
            }
        };
        if let Some(p) = &primary_problem {
            reporter.note(&format!("primary site unavailable: {p}"));
        }
        let pair = match discover_pair(&dr.ontap, pair_args.svm.as_deref(), pair_args.dr_svm.as_deref()).await {
            Ok(p) => p,
            Err(e) => return Err(audit.fail(&e, &[]).await),
        };
        audit.pair = Some(pair.clone());
        let mut sites = Sites {
            primary: primary.as_ref().map(|p| OntapStorage::new(p.ontap.clone())),
            dr: OntapStorage::new(dr.ontap.clone()),
            primary_label: primary
                .as_ref()
                .map(|p| p.ontap.name().to_string())
                .unwrap_or_else(|| "primary".into()),
        };
        // Without the primary, also asks the DR cluster whether the primary
        // ONTAP still answers (its cluster peer record): the split-brain guard.
        let mut obs = match sites.preflight(&pair, false).await {
            Ok(o) => o,
            Err(source) => {
                let e = PlanError::Observe { step: "preflight".into(), source: Box::new(source) };
                return Err(audit.fail(&e, &[]).await);
            }
        };
        if let Some(p) = &primary_problem {
            obs.primary.reach = Reach::Unreachable(p.clone());
        }
        let plan: Plan = match cmd.plan(&obs, &pair) {
            Ok(p) => p,
            Err(e) => return Err(audit.fail(&e, &[]).await),
        };
        for n in &plan.notes {
            reporter.note(n);
        }
        if dry_run {
            let steps = plan.preview(&obs);
            render_dry_run(format, &plan, &pair, steps)?;
            return Ok(Outcome::Ok);
        }
        if !plan.observe_primary {
            sites.primary = None;
        }
        let question = format!(
            "{} {} → {} now?",
            capitalised(plan.workflow.as_str()),
            pair.primary_svm,
            pair.dr_svm
        );
        if let Err(e) = crate::prompt::confirm(&question, yes) {
            audit
                .record(AuditOutcome::Refused, e.to_string(), &pair, &Timeline::default())
                .await;
            return Err(e);
        }
        let opts = EngineOptions {
            poll_interval: Duration::from_millis(500),
            step_timeout: pair_args.step_timeout,
            before_step: None,
        };
        let report: RunReport = match execute(&plan, &sites, &opts, &Bridge(reporter.as_ref())).await {
            Ok(r) => r,
            Err(f) => {
                print_timeline(format, &f.timeline);
                return Err(audit.fail(&f.error, &f.timeline.steps).await);
            }
        };
        let identity_preserved = obs.forward().is_none_or(|r| r.preserves_network());
        let ends_on_dr = matches!(cmd, Command::Failover(_) | Command::Switchover);
        let mut backend_changes = Vec::new();
        let mut backends_updated = false;
        if ends_on_dr && !identity_preserved {
            match &dr.backend {
                None => reporter.note(&format!(
                    "identity was not preserved and the DR cluster has no Trident ONTAP backend: create one for SVM {} (managementLIF {})",
                    pair.dr_svm,
                    svmdr::plan::backends::endpoint_host(&dr.endpoint)
                )),
                Some(b) => {
                    let data_lif = report
                        .last
                        .dr
                        .lifs
                        .iter()
                        .flatten()
                        .find(|l| l.enabled && l.state == "up")
                        .and_then(|l| l.address.clone());
                    backend_changes = svmdr::plan::backends::backend_changes(
                        b,
                        &pair.dr_svm,
                        &svmdr::plan::backends::endpoint_host(&dr.endpoint),
                        data_lif.as_deref(),
                    );
                    for c in &backend_changes {
                        reporter.note(&format!(
                            "Trident backend {}: {} {} → {}",
                            c.backend,
                            c.field,
                            c.from.as_deref().unwrap_or("(unset)"),
                            c.to
                        ));
                    }
                    if update_backends && !backend_changes.is_empty() {
                        svmdr::plan::backends::apply(&dr.kube, &dr.namespace, b, &backend_changes).await?;
                        backends_updated = true;
                        reporter.note("Trident backend updated; restart pods that mount NFS volumes so they use the new data LIF");
                    } else if !backend_changes.is_empty() {
                        reporter.note("re-run with --update-backends to apply these changes");
                    }
                }
            }
        }
        let proof = matches!(cmd, Command::Switchover)
            .then(|| svmdr::plan::switchover::no_loss_proof(&report));
        let restore_report = match &restore {
            Some(opts) => {
                let r = svmdr::restore::restore(&dr.kube, opts, &super::restore::ProgressReporter(reporter.clone())).await;
                match r {
                    Ok(r) => Some(r),
                    Err(e) => {
                        audit
                            .record(
                                AuditOutcome::Failed,
                                format!("storage part succeeded; restore failed: {e}"),
                                &pair,
                                &report.timeline,
                            )
                            .await;
                        print_timeline(format, &report.timeline);
                        return Err(anyhow::Error::new(e).context(
                            "the storage failover succeeded; the Velero restore did not (re-run `kubectl svmdr restore`)",
                        ));
                    }
                }
            }
            None => None,
        };
        // A restore that did not complete (PartiallyFailed, Failed) makes the
        // whole run unhealthy, as `kubectl svmdr restore` reports it.
        let restore_complete = restore_report
            .as_ref()
            .is_none_or(|r| r.status.phase == "Completed");
        let out = RunOutput {
            api_version: "svmdr.netapp.io/v1",
            kind: "WorkflowRun",
            workflow: plan.workflow.to_string(),
            pair: &pair,
            notes: &plan.notes,
            timeline: &report.timeline,
            no_loss_proof: proof,
            backend_changes,
            backends_updated,
            restore: restore_report,
        };
        render_run(format, &out)?;
        audit
            .record(
                AuditOutcome::Succeeded,
                format!(
                    "{} steps in {} ms",
                    report.timeline.steps.len(),
                    report.timeline.total.as_millis()
                ),
                &pair,
                &report.timeline,
            )
            .await;
        Ok(if restore_complete {
            Outcome::Ok
        } else {
            Outcome::Unhealthy
        })
    })
}

fn workflow_name(cmd: Command) -> String {
    match cmd {
        Command::Failover(o) if o.force => "failover --force".into(),
        Command::Failover(_) => "failover".into(),
        Command::Switchover => "switchover".into(),
        Command::Resync { direction, .. } => format!(
            "resync --direction {}",
            match direction {
                svmdr::plan::resync::Direction::Forward => "forward",
                svmdr::plan::resync::Direction::Reverse => "reverse",
            }
        ),
        Command::Failback { .. } => "failback".into(),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The kubeconfig user of `context`, for the audit trail.
pub(crate) fn kube_user(path: Option<&std::path::Path>, context: &str) -> String {
    let kc = match path {
        Some(p) => kube::config::Kubeconfig::read_from(p).ok(),
        None => kube::config::Kubeconfig::read().ok(),
    };
    kc.and_then(|k| svmdr::audit::kube_user(&k, Some(context)))
        .unwrap_or_else(|| "system:unknown".into())
}

/// Records runs on the DR cluster; a failure to record is a warning.
pub(crate) struct Audit<'a> {
    pub pair: Option<DrPair>,
    pub dr: &'a Site,
    pub user: String,
    pub workflow: String,
    pub started_at: chrono::DateTime<Utc>,
    pub reporter: Arc<CliReporter>,
}

impl Audit<'_> {
    pub(crate) async fn record(
        &self,
        outcome: AuditOutcome,
        message: String,
        pair: &DrPair,
        timeline: &Timeline,
    ) {
        let entry = AuditEntry {
            workflow: self.workflow.clone(),
            started_at: self.started_at,
            finished_at: Utc::now(),
            user: self.user.clone(),
            outcome,
            message,
            svms: format!("{} → {}", pair.primary_svm, pair.dr_svm),
            steps: timeline
                .steps
                .iter()
                .map(|s| AuditStep {
                    id: s.id.clone(),
                    status: format!("{:?}", s.status).to_lowercase(),
                    duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
                })
                .collect(),
        };
        if let Err(e) = svmdr::audit::record(&self.dr.kube, &self.dr.namespace, &entry).await {
            self.reporter
                .note(&format!("warning: could not record the run: {e}"));
        }
    }

    /// Records a failed or refused run and turns the error into the CLI's.
    pub(crate) async fn fail(
        &self,
        e: &PlanError,
        steps: &[svmdr::plan::StepRecord],
    ) -> anyhow::Error {
        let outcome = if e.is_refusal() {
            AuditOutcome::Refused
        } else {
            AuditOutcome::Failed
        };
        let timeline = Timeline {
            steps: steps.to_vec(),
            total: Duration::ZERO,
        };
        let pair = self.pair.clone().unwrap_or(DrPair {
            primary_svm: "?".into(),
            dr_svm: "?".into(),
        });
        self.record(outcome, e.to_string(), &pair, &timeline).await;
        plan_error(e)
    }
}

/// The CLI error for a plan error: the message, then what to do next.
pub(crate) fn plan_error(e: &PlanError) -> anyhow::Error {
    let text = format!("{e}\n  next: {}", e.hint());
    if e.is_refusal() {
        Refused(text).into()
    } else {
        anyhow::anyhow!(text)
    }
}

fn render_dry_run(
    format: OutputFormat,
    plan: &Plan,
    pair: &DrPair,
    steps: Vec<StepPreview>,
) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        let d = DryRun {
            api_version: "svmdr.netapp.io/v1",
            kind: "WorkflowPlan",
            workflow: plan.workflow.to_string(),
            pair,
            notes: &plan.notes,
            steps,
        };
        return output::write_structured(&mut w, format, &d);
    }
    use std::io::Write as _;
    writeln!(
        w,
        "Dry run: nothing was changed. Plan for {} ({} → {}):",
        plan.workflow, pair.primary_svm, pair.dr_svm
    )?;
    for (i, s) in steps.iter().enumerate() {
        let state = match &s.check {
            svmdr::plan::step::Check::Done(why) => format!("already done: {why}"),
            svmdr::plan::step::Check::Todo => "to do".into(),
            svmdr::plan::step::Check::Blocked(why) => format!("blocked now: {why}"),
        };
        writeln!(w, "{}. {} — {} [{}]", i + 1, s.id, s.title, state)?;
        for c in &s.calls {
            writeln!(w, "   └─ {c}")?;
        }
    }
    Ok(())
}

fn timeline_table(t: &Timeline) -> String {
    let rows = t
        .steps
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                format!("{:?}", s.status).to_lowercase(),
                format!("{:.2}s", s.duration.as_secs_f64()),
                s.cluster.clone(),
            ]
        })
        .collect();
    output::table(&["step", "status", "duration", "cluster"], rows)
}

fn print_timeline(format: OutputFormat, t: &Timeline) {
    if !format.is_machine() && !t.steps.is_empty() {
        eprintln!("{}", timeline_table(t));
    }
}

fn render_run(format: OutputFormat, out: &RunOutput<'_>) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        return output::write_structured(&mut w, format, out);
    }
    use std::io::Write as _;
    writeln!(w, "{}", timeline_table(out.timeline))?;
    writeln!(
        w,
        "total (storage RTO): {:.2}s",
        out.timeline.total.as_secs_f64()
    )?;
    if let Some(p) = &out.no_loss_proof {
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
    if let Some(r) = &out.restore {
        super::restore::render_table(&mut w, r)?;
    }
    Ok(())
}
