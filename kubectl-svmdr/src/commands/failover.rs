//! `kubectl svmdr failover`: unplanned failover to the DR site, optionally
//! followed by a Velero restore. Also holds the runner the other workflow
//! commands (switchover, resync, failback) share: resolve the sites, find the
//! SVM pair, plan, print the plan (`--dry-run`) or confirm and execute, print
//! the timeline, and record the run on the DR cluster (audit).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use svmdr::audit::{AuditEntry, AuditOutcome, AuditStep};
use svmdr::plan::backends::BackendChange;
use svmdr::plan::driver::{Command, discover_pair};
use svmdr::plan::engine::{Plan, StepPreview, Timeline};
use svmdr::plan::failover::FailoverOptions;
use svmdr::plan::observe::Reach;
use svmdr::plan::ontap_storage::OntapStorage;
use svmdr::plan::switchover::NoLossProof;
use svmdr::plan::workloads::{DrAppsPlan, FailbackApps};
use svmdr::plan::{DrPair, EngineOptions, PlanError, RunReport, Sites, StepRecord, execute};
use svmdr::report::{Reporter, StepEnd, StepOutcome};
use svmdr::site::{Access, Site, SiteRole};

use crate::cli::OutputFormat;
use crate::ctx::Ctx;
use crate::exit::{Interrupted, Outcome, Refused};
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
    /// backup (`latest` or a backup name). The backup is inspected before any
    /// storage change: one that carries volume data for the Trident volumes
    /// is refused (exit 3) unless --force-restore.
    #[arg(long, value_name = "latest|NAME")]
    pub restore_from_backup: Option<String>,
    /// With --restore-from-backup: restore even from a backup that carries
    /// volume data (snapshots, data mover, file-system backup); the findings
    /// are printed as `warning:` lines.
    #[arg(long, requires = "restore_from_backup")]
    pub force_restore: bool,
    /// How long a DR Trident backend may stay offline after the DR SVM
    /// started before Trident is prompted to re-evaluate it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub backend_grace: Duration,
    /// Longest wait for the DR Trident backends to report online (step
    /// backends-online).
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub backend_timeout: Duration,
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
    let cmd = Command::Failover(FailoverOptions {
        force: args.force,
        backend_grace: args.backend_grace,
        backend_wait: args.backend_timeout,
    });
    let restore = args.restore_from_backup.as_deref().map(|b| {
        // The failover's confirmation covers restoring a backup again
        // (the preflight warns when it was already restored).
        let mut o = args.restore.options(b, args.force_restore);
        o.repeat = true;
        o
    });
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
    /// Set when a safety guard refuses the run: the steps are then those
    /// the run would follow with `refused.overrideFlag`; exit 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<DryRunRefusal>,
    steps: Vec<StepPreview>,
    /// `failback`: the workloads restored on DR and what it would do with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    dr_workloads: Option<&'a DrAppsPlan>,
}

/// The refusal a `--dry-run` shows above its plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct DryRunRefusal {
    /// The guard's message.
    reason: String,
    /// What to do instead.
    next: String,
    /// The flag that overrides the guard; the plan shown is the one it runs.
    override_flag: &'static str,
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
    /// The DR SVM's export policies refuse the DR nodes' NFS mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    export_problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    restore: Option<svmdr::restore::RestoreReport>,
    /// `failback`: the workloads restored on DR it scaled to 0.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dr_workloads_scaled_down: Vec<svmdr::plan::workloads::ScaleDown>,
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
    run_workflow_with(ctx, cmd, pair_args, restore, update_backends, None)
}

/// [`run_workflow`], with what to do about the workloads restored on DR
/// (`failback`: scale them to 0 before the ONTAP steps).
///
/// # Errors
/// As for [`run`].
pub(crate) fn run_workflow_with(
    ctx: &mut Ctx,
    cmd: Command,
    pair_args: &PairArgs,
    restore: Option<svmdr::restore::RestoreOptions>,
    update_backends: bool,
    dr_apps: Option<FailbackApps>,
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
    ctx.block_on_interruptible(|mut interrupt| async move {
        let resolved = interrupt
            .run(Ctx::resolve(
                reporter.clone(),
                dr_spec,
                Access::ClusterAdmin,
            ))
            .await;
        // Interrupted before the DR cluster is known: nothing to record it on.
        let dr = resolved.ok_or(Interrupted)??;
        let user = kube_user(kubeconfig.as_deref(), &dr.context);
        let audit = Audit {
            pair: OnceLock::new(),
            dr: &dr,
            dry_run,
            user,
            workflow: workflow_name(cmd),
            started_at: Utc::now(),
            reporter: reporter.clone(),
        };
        let log = StepLog::new(reporter.as_ref());
        let body = workflow(
            &dr,
            &audit,
            &log,
            cmd,
            primary_spec,
            WorkflowArgs {
                pair_args,
                restore,
                update_backends,
                format,
                dry_run,
                yes,
                request_timeout,
                dr_apps,
            },
        );
        match interrupt.run(body).await {
            Some(r) => r,
            None => {
                if !format.is_machine() {
                    let rows = log
                        .finished()
                        .iter()
                        .map(|s| step_row(&s.id, &s.status, s.duration, &s.cluster))
                        .collect();
                    print_rows(rows);
                }
                audit.interrupted(&log).await;
                Err(Interrupted.into())
            }
        }
    })
}

/// What [`workflow`] needs besides the sites and the audit.
struct WorkflowArgs {
    pair_args: PairArgs,
    restore: Option<svmdr::restore::RestoreOptions>,
    update_backends: bool,
    format: OutputFormat,
    dry_run: bool,
    yes: bool,
    request_timeout: Duration,
    dr_apps: Option<FailbackApps>,
}

/// The workflow once the DR site is resolved: everything Ctrl-C may cut
/// short (the caller then records what `log` saw).
async fn workflow(
    dr: &Site,
    audit: &Audit<'_>,
    log: &StepLog<'_>,
    cmd: Command,
    primary_spec: Option<svmdr::site::SiteSpec>,
    args: WorkflowArgs,
) -> anyhow::Result<Outcome> {
    let WorkflowArgs {
        pair_args,
        mut restore,
        update_backends,
        format,
        dry_run,
        yes,
        request_timeout,
        dr_apps,
    } = args;
    let reporter = audit.reporter.clone();
    let (primary, primary_problem) = match primary_spec {
        None => (
            None,
            Some("no primary site configured (--primary-context or the config file)".to_string()),
        ),
        Some(spec) => {
            // `--request-timeout 0` is no limit (kubectl's meaning).
            let bound = if request_timeout.is_zero() {
                Duration::MAX
            } else {
                request_timeout
            };
            match tokio::time::timeout(
                bound,
                Ctx::resolve(reporter.clone(), spec, Access::ClusterAdmin),
            )
            .await
            {
                Ok(Ok(site)) => (Some(site), None),
                Ok(Err(e)) => (None, Some(e.to_string())),
                Err(_) => (
                    None,
                    Some(format!(
                        "no answer within {}",
                        humantime::format_duration(bound)
                    )),
                ),
            }
        }
    };
    if let Some(p) = &primary_problem {
        reporter.note(&format!("primary site unavailable: {p}"));
    }
    // Two names for one cluster would make every step below act on the
    // wrong side: refuse (exit 2) before any ONTAP change.
    if let Some(p) = &primary {
        svmdr::site::identity::ensure_distinct(p, dr).await?;
    }
    let pair = match discover_pair(
        &dr.ontap,
        pair_args.svm.as_deref(),
        pair_args.dr_svm.as_deref(),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return Err(audit.fail(&e, &[]).await),
    };
    let _ = audit.pair.set(pair.clone());
    let mut sites = Sites {
        primary: primary.as_ref().map(|p| OntapStorage::new(p.ontap.clone())),
        dr: OntapStorage::new(dr.ontap.clone()),
        primary_label: primary
            .as_ref()
            .map(|p| p.ontap.name().to_string())
            .unwrap_or_else(|| "primary".into()),
        trident: Some(svmdr::plan::trident::TridentApi::new(
            dr.kube.clone(),
            dr.namespace.clone(),
        )),
        primary_trident: primary
            .as_ref()
            .map(|p| svmdr::plan::trident::TridentApi::new(p.kube.clone(), p.namespace.clone())),
    };
    // A failover without the primary also asks the DR cluster whether the
    // primary ONTAP still answers (its cluster peer record): the split-brain guard.
    let mut obs = match cmd.preflight(&sites, &pair, false).await {
        Ok(o) => o,
        Err(source) => {
            let e = PlanError::Observe {
                step: "preflight".into(),
                source: Box::new(source),
            };
            return Err(audit.fail(&e, &[]).await);
        }
    };
    if let Some(p) = &primary_problem {
        obs.primary.reach = Reach::Unreachable(p.clone());
    }
    // A refused --dry-run still shows the plan: the one the guard's
    // override flag would run, with the refusal marked (and exit 3).
    let (plan, refusal): (Plan, Option<(PlanError, &'static str)>) = match cmd.plan(&obs, &pair) {
        Ok(p) => (p, None),
        Err(e) if dry_run && e.is_refusal() => match cmd.with_guard_overridden() {
            Some((forced, flag)) => match forced.plan(&obs, &pair) {
                Ok(p) => (p, Some((e, flag))),
                Err(_) => return Err(audit.fail(&e, &[]).await),
            },
            None => return Err(audit.fail(&e, &[]).await),
        },
        Err(e) => return Err(audit.fail(&e, &[]).await),
    };
    for n in &plan.notes {
        reporter.note(n);
    }
    let dr_apps = match &dr_apps {
        Some(o) => Some(DrAppsPlan::look(&dr.kube, o).await),
        None => None,
    };
    for w in dr_apps.iter().flat_map(DrAppsPlan::warnings) {
        reporter.line(&format!("warning: {w}"));
    }
    // The backup is judged before any storage change: a backup that would
    // destroy the replicated data is refused with both sites as they are.
    // Any other problem (no backup yet, Velero not reachable) must not hold
    // up a failover: it is shown, and the restore reports it afterwards.
    let mut backup_refused = None;
    if let Some(opts) = &mut restore {
        match svmdr::restore::prepare(&dr.kube, opts).await {
            Ok(p) => {
                for w in &p.warnings {
                    reporter.line(&format!("warning: {w}"));
                }
                // Restore the backup that was judged, not whatever is newest
                // once the storage steps are done.
                opts.backup = svmdr::restore::BackupChoice::Named(p.backup.name.clone());
            }
            Err(e @ svmdr::restore::RestoreError::VolumeData { .. }) if dry_run => {
                // A dry-run shows the plan all the same, the refusal marked.
                backup_refused = Some(e);
            }
            Err(e @ svmdr::restore::RestoreError::VolumeData { .. }) => {
                audit
                    .record(
                        AuditOutcome::Refused,
                        format!("nothing changed: {e}"),
                        &pair,
                        &Timeline::default(),
                    )
                    .await;
                return Err(super::restore::refusal(e, "--force-restore")
                    .context("nothing was changed: the Velero backup for --restore-from-backup"));
            }
            Err(e) => reporter.line(&format!(
                "warning: the Velero restore after the failover will likely fail: {e}"
            )),
        }
    }
    if dry_run {
        if let Some(step) = plan.steps.iter().find(|s| s.kind.needs_trident()) {
            obs.trident = sites.observe_trident(step.kind.site()).await;
        }
        let steps = plan.preview(&obs);
        let shown = refusal
            .as_ref()
            .map(|(e, flag)| DryRunRefusal {
                reason: e.to_string().trim_start_matches("refused: ").to_string(),
                next: e.hint(),
                override_flag: flag,
            })
            .or_else(|| {
                backup_refused.as_ref().map(|e| DryRunRefusal {
                    reason: e.to_string(),
                    next: "restore from a backup without volume data for Trident volumes".into(),
                    override_flag: "--force-restore",
                })
            });
        render_dry_run(format, &plan, &pair, steps, shown, dr_apps.as_ref())?;
        return match (refusal, backup_refused) {
            (Some((e, _)), _) => Err(plan_error(&e)),
            (None, Some(e)) => Err(super::restore::refusal(e, "--force-restore")
                .context("nothing was changed: the Velero backup for --restore-from-backup")),
            (None, None) => Ok(Outcome::Ok),
        };
    }
    if !plan.observe_primary {
        sites.primary = None;
    }
    let scaling = dr_apps.as_ref().map_or(0, |a| a.scale_down.len());
    let question = format!(
        "{} {} → {} now?{}",
        capitalised(plan.workflow.as_str()),
        pair.primary_svm,
        pair.dr_svm,
        if scaling > 0 {
            format!(" ({scaling} workload(s) restored on DR are scaled to 0 first)")
        } else {
            String::new()
        }
    );
    if let Err(e) = crate::prompt::confirm(&question, yes) {
        audit
            .record(
                AuditOutcome::Refused,
                e.to_string(),
                &pair,
                &Timeline::default(),
            )
            .await;
        return Err(e);
    }
    // Before the DR SVM stops, its applications stop: cleanly, while their
    // volumes still answer. A failure here stops the run before any ONTAP change.
    if let Some(a) = dr_apps.as_ref().filter(|a| !a.scale_down.is_empty()) {
        if let Err(e) = a.apply(&dr.kube).await {
            audit
                .record(
                    AuditOutcome::Failed,
                    format!("nothing changed on ONTAP: {e}"),
                    &pair,
                    &Timeline::default(),
                )
                .await;
            return Err(anyhow::Error::new(e).context(
                "nothing was changed on ONTAP; fix the cause and re-run, or pass --keep-dr-workloads",
            ));
        }
        for s in &a.scale_down {
            reporter.note(&format!("scaled to 0 on DR: {}", s.line()));
        }
    }
    let opts = EngineOptions {
        poll_interval: Duration::from_millis(500),
        step_timeout: pair_args.step_timeout,
        before_step: None,
    };
    let report: RunReport = match execute(&plan, &sites, &opts, log).await {
        Ok(r) => r,
        Err(f) => {
            print_timeline(format, &f.timeline);
            let done = dr_apps.as_ref().and_then(DrAppsPlan::audit_text);
            return Err(audit.fail_with(&f.error, &f.timeline.steps, done).await);
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
                    if let Err(e) =
                        svmdr::plan::backends::apply(&dr.kube, &dr.namespace, b, &backend_changes)
                            .await
                    {
                        audit
                            .record(
                                AuditOutcome::Failed,
                                format!("storage part succeeded; updating the Trident backend failed: {e}"),
                                &pair,
                                &report.timeline,
                            )
                            .await;
                        return Err(e.into());
                    }
                    backends_updated = true;
                    reporter.note("Trident backend updated; restart pods that mount NFS volumes so they use the new data LIF");
                } else if !backend_changes.is_empty() {
                    reporter.note("re-run with --update-backends to apply these changes");
                }
            }
        }
    }
    // The DR SVM serves: would the DR nodes be allowed to mount it? (SVM-DR
    // replicated the primary's export policies; see docs/trident.md.)
    let export_problems = if ends_on_dr {
        let svms = [pair.dr_svm.clone()];
        match svmdr::status::exports::collect(&dr.ontap, &dr.kube, &svms).await {
            Ok(inputs) => svmdr::status::exports::svm_problems(&pair.dr_svm, &inputs),
            Err(e) => {
                reporter.note(&format!(
                    "the export policies of {} were not checked against the DR nodes: {e}",
                    pair.dr_svm
                ));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    for p in &export_problems {
        reporter.line(&format!("warning: {p}"));
    }
    let proof =
        matches!(cmd, Command::Switchover).then(|| svmdr::plan::switchover::no_loss_proof(&report));
    let restore_report = match &restore {
        Some(opts) => {
            // The warnings were shown before the failover; not again.
            let r =
                svmdr::restore::restore(&dr.kube, opts, &WarnedAlready(reporter.as_ref())).await;
            match r {
                Ok(r) => Some(r),
                Err(e) => {
                    let outcome = e.audit_outcome();
                    let what = match outcome {
                        AuditOutcome::TimedOut => "timed out",
                        AuditOutcome::Refused => "was refused",
                        _ => "failed",
                    };
                    audit
                        .record(
                            outcome,
                            format!("storage part succeeded; restore {what}: {e}"),
                            &pair,
                            &report.timeline,
                        )
                        .await;
                    print_timeline(format, &report.timeline);
                    let next = if matches!(e, svmdr::restore::RestoreError::Timeout { .. }) {
                        "the storage failover succeeded; the Velero restore is still running (do not start another)"
                    } else {
                        "the storage failover succeeded; the Velero restore did not (re-run `kubectl svmdr restore`)"
                    };
                    return Err(super::restore::refusal(e, "--force-restore").context(next));
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
        export_problems: export_problems.clone(),
        restore: restore_report,
        dr_workloads_scaled_down: dr_apps
            .as_ref()
            .map(|a| a.scale_down.clone())
            .unwrap_or_default(),
    };
    render_run(format, &out)?;
    // The recorded outcome is the exit outcome: exit 1 is never `succeeded`.
    let steps = format!(
        "{} steps in {} ms",
        report.timeline.steps.len(),
        report.timeline.total.as_millis()
    );
    let restore_phase = out
        .restore
        .as_ref()
        .map(|r| r.status.phase.clone())
        .unwrap_or_default();
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
    let steps = match dr_apps.as_ref().and_then(DrAppsPlan::audit_text) {
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
    audit
        .record(outcome, message, &pair, &report.timeline)
        .await;
    Ok(if outcome == AuditOutcome::Succeeded {
        Outcome::Ok
    } else {
        Outcome::Unhealthy
    })
}

/// Restore progress without the warnings already shown in preflight.
struct WarnedAlready<'a>(&'a dyn Reporter);

impl Reporter for WarnedAlready<'_> {
    fn note(&self, message: &str) {
        self.0.note(message);
    }

    fn progress(&self, task: &str, done: u64, total: Option<u64>, message: &str) {
        self.0.progress(task, done, total, message);
    }

    fn progress_finished(&self, task: &str) {
        self.0.progress_finished(task);
    }
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

/// Forwards progress and remembers the plan steps, so that a run cut short
/// by Ctrl-C can still record how far it got.
pub(crate) struct StepLog<'a> {
    inner: &'a dyn Reporter,
    /// Finished steps, in order.
    done: Mutex<Vec<StepEnd>>,
    /// The step started and not finished.
    current: Mutex<Option<String>>,
}

impl<'a> StepLog<'a> {
    pub(crate) fn new(inner: &'a dyn Reporter) -> Self {
        Self {
            inner,
            done: Mutex::new(Vec::new()),
            current: Mutex::new(None),
        }
    }

    /// The finished steps.
    pub(crate) fn finished(&self) -> Vec<StepEnd> {
        self.done.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The step in progress, if any.
    pub(crate) fn in_progress(&self) -> Option<String> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    /// The audit steps of an interrupted run: the finished ones, then the one
    /// in progress as `interrupted`.
    pub(crate) fn interrupted_steps(&self) -> Vec<AuditStep> {
        let mut steps: Vec<AuditStep> = self
            .finished()
            .iter()
            .map(|s| AuditStep {
                id: s.id.clone(),
                status: s.status.clone(),
                duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
            })
            .collect();
        if let Some(id) = self.in_progress() {
            steps.push(AuditStep {
                id,
                status: "interrupted".into(),
                duration_ms: 0,
            });
        }
        steps
    }
}

impl Reporter for StepLog<'_> {
    fn note(&self, message: &str) {
        self.inner.note(message);
    }

    fn warning(&self, message: &str) {
        self.inner.warning(message);
    }

    fn step_started(&self, step: &str) {
        self.inner.step_started(step);
    }

    fn step_finished(&self, step: &str, outcome: &StepOutcome) {
        self.inner.step_finished(step, outcome);
    }

    fn progress(&self, task: &str, done: u64, total: Option<u64>, message: &str) {
        self.inner.progress(task, done, total, message);
    }

    fn progress_finished(&self, task: &str) {
        self.inner.progress_finished(task);
    }

    fn plan_step_started(&self, index: usize, total: usize, id: &str, title: &str) {
        if let Ok(mut c) = self.current.lock() {
            *c = Some(id.to_string());
        }
        self.inner.plan_step_started(index, total, id, title);
    }

    fn step_waiting(&self, id: &str, what: &str) {
        self.inner.step_waiting(id, what);
    }

    fn plan_step_finished(&self, step: &StepEnd) {
        if let Ok(mut c) = self.current.lock() {
            *c = None;
        }
        if let Ok(mut d) = self.done.lock() {
            d.push(step.clone());
        }
        self.inner.plan_step_finished(step);
    }
}

fn audit_step(s: &StepRecord) -> AuditStep {
    AuditStep {
        id: s.id.clone(),
        status: format!("{:?}", s.status).to_lowercase(),
        duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
    }
}

/// What the audit says about a run cut short by Ctrl-C.
fn interrupted_message(finished: usize, current: Option<&str>) -> String {
    let next = "re-run the same command to continue from where the storage is";
    match (current, finished) {
        (Some(id), 0) => format!("interrupted (Ctrl-C) during step {id}; {next}"),
        (Some(id), n) => {
            format!("interrupted (Ctrl-C) during step {id}, after {n} finished step(s); {next}")
        }
        (None, 0) => "interrupted (Ctrl-C) before any step ran".into(),
        (None, n) => format!("interrupted (Ctrl-C) after {n} finished step(s); {next}"),
    }
}

/// Records runs on the DR cluster; a failure to record is a warning.
pub(crate) struct Audit<'a> {
    /// The pair, once found.
    pub pair: OnceLock<DrPair>,
    pub dr: &'a Site,
    /// A `--dry-run` is not a workflow run: nothing is recorded.
    pub dry_run: bool,
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
        let steps = timeline.steps.iter().map(audit_step).collect();
        self.record_steps(outcome, message, pair, steps).await;
    }

    async fn record_steps(
        &self,
        outcome: AuditOutcome,
        message: String,
        pair: &DrPair,
        steps: Vec<AuditStep>,
    ) {
        if self.dry_run {
            return;
        }
        let entry = AuditEntry {
            workflow: self.workflow.clone(),
            started_at: self.started_at,
            finished_at: Utc::now(),
            user: self.user.clone(),
            outcome,
            message,
            svms: format!("{} → {}", pair.primary_svm, pair.dr_svm),
            steps,
        };
        if let Err(e) = svmdr::audit::record(&self.dr.kube, &self.dr.namespace, &entry).await {
            self.reporter
                .note(&format!("warning: could not record the run: {e}"));
        }
    }

    /// Records a run cut short by Ctrl-C with the steps `log` saw, within
    /// [`crate::ctx::CLEANUP_TIMEOUT`] (Ctrl-C must not hang on an
    /// unresponsive DR cluster).
    pub(crate) async fn interrupted(&self, log: &StepLog<'_>) {
        let steps = log.interrupted_steps();
        let message = interrupted_message(log.finished().len(), log.in_progress().as_deref());
        let pair = self.pair_or_unknown();
        let record = self.record_steps(AuditOutcome::Interrupted, message, &pair, steps);
        if tokio::time::timeout(crate::ctx::CLEANUP_TIMEOUT, record)
            .await
            .is_err()
        {
            self.reporter.note(&format!(
                "warning: could not record the interrupted run within {}",
                humantime::format_duration(crate::ctx::CLEANUP_TIMEOUT)
            ));
        }
    }

    fn pair_or_unknown(&self) -> DrPair {
        self.pair.get().cloned().unwrap_or(DrPair {
            primary_svm: "?".into(),
            dr_svm: "?".into(),
        })
    }

    /// Records a failed or refused run and turns the error into the CLI's.
    pub(crate) async fn fail(
        &self,
        e: &PlanError,
        steps: &[svmdr::plan::StepRecord],
    ) -> anyhow::Error {
        self.fail_with(e, steps, None).await
    }

    /// [`Audit::fail`], with what the run did besides its steps.
    pub(crate) async fn fail_with(
        &self,
        e: &PlanError,
        steps: &[svmdr::plan::StepRecord],
        done: Option<String>,
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
        let pair = self.pair_or_unknown();
        let message = match done {
            Some(d) => format!("{e}; {d}"),
            None => e.to_string(),
        };
        self.record(outcome, message, &pair, &timeline).await;
        plan_error(e)
    }
}

/// The CLI error for a plan error: the message, then what to do next.
pub(crate) fn plan_error(e: &PlanError) -> anyhow::Error {
    // `next:` only where running again can help; otherwise what to fix.
    let label = if e.needs_fix_first() { "fix" } else { "next" };
    let text = format!("{e}\n  {label}: {}", e.hint());
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
    refused: Option<DryRunRefusal>,
    dr_apps: Option<&DrAppsPlan>,
) -> anyhow::Result<()> {
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        let d = DryRun {
            dr_workloads: dr_apps,
            api_version: "svmdr.netapp.io/v1",
            kind: "WorkflowPlan",
            workflow: plan.workflow.to_string(),
            pair,
            notes: &plan.notes,
            refused,
            steps,
        };
        return output::write_structured(&mut w, format, &d);
    }
    use std::io::Write as _;
    match &refused {
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
            svmdr::plan::step::Check::Done(why) => format!("already done: {why}"),
            svmdr::plan::step::Check::Todo => "to do".into(),
            svmdr::plan::step::Check::Blocked(why) => format!("blocked now: {why}"),
        };
        writeln!(w, "{}. {} — {} [{}]", i + 1, s.id, s.title, state)?;
        for c in &s.calls {
            writeln!(w, "   └─ {c}")?;
        }
    }
    if let Some(a) = dr_apps.filter(|a| !a.scale_down.is_empty()) {
        writeln!(
            w,
            "Before the first step, the workloads Velero restored on DR are scaled to 0 (their replicas kept in annotation {}):",
            svmdr::plan::workloads::REPLICAS_ANNOTATION
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

fn timeline_table(t: &Timeline) -> String {
    let rows = t
        .steps
        .iter()
        .map(|s| {
            let status = format!("{:?}", s.status).to_lowercase();
            step_row(&s.id, &status, s.duration, &s.cluster)
        })
        .collect();
    output::table(&["step", "status", "duration", "cluster"], rows)
}

fn print_rows(rows: Vec<Vec<String>>) {
    if !rows.is_empty() {
        eprintln!(
            "{}",
            output::table(&["step", "status", "duration", "cluster"], rows)
        );
    }
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
    for s in &out.dr_workloads_scaled_down {
        writeln!(w, "scaled to 0 on DR: {}", s.line())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use svmdr::plan::StepStatus;

    fn record(id: &str, status: StepStatus) -> StepRecord {
        StepRecord {
            id: id.into(),
            title: id.into(),
            cluster: "dr".into(),
            status,
            started_at: Utc::now(),
            duration: Duration::from_millis(12),
            note: None,
        }
    }

    #[test]
    fn step_log_keeps_finished_steps_and_the_one_in_progress() {
        let quiet = svmdr::report::NoopReporter;
        let log = StepLog::new(&quiet);
        log.plan_step_started(0, 3, "abort-transfer", "abort");
        log.plan_step_finished(&record("abort-transfer", StepStatus::Skipped).end());
        log.plan_step_started(1, 3, "quiesce", "quiesce");
        let steps = log.interrupted_steps();
        let got: Vec<(&str, &str)> = steps
            .iter()
            .map(|s| (s.id.as_str(), s.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [("abort-transfer", "skipped"), ("quiesce", "interrupted")]
        );
        assert_eq!(steps[0].duration_ms, 12);
        assert_eq!(log.finished().len(), 1);
        assert_eq!(log.in_progress().as_deref(), Some("quiesce"));
    }

    #[test]
    fn interrupted_messages_say_where_and_what_next() {
        assert_eq!(
            interrupted_message(0, None),
            "interrupted (Ctrl-C) before any step ran"
        );
        let m = interrupted_message(2, Some("break"));
        assert!(m.contains("during step break, after 2 finished"), "{m}");
        assert!(m.contains("re-run the same command"), "{m}");
        assert!(interrupted_message(5, None).contains("after 5 finished"));
    }
}
