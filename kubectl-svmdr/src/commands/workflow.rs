//! The runner the workflow commands share (failover, switchover, resync,
//! failback): resolve the DR site, prepare the workflow
//! ([`svmdr::workflow::prepare`]), show the `--dry-run` plan or confirm,
//! run it ([`svmdr::workflow::run`]) and render the result. Ctrl-C records
//! how far the run got. The workflow itself, and its audit, are in `svmdr`.

use std::time::Duration;

use svmdr::audit::{AuditOutcome, Recorder, StepLog, user_of};
use svmdr::plan::Timeline;
use svmdr::plan::driver::Command;
use svmdr::plan::workloads::FailbackApps;
use svmdr::restore::RestoreOptions;
use svmdr::site::{Access, Site, SiteRole, SiteSpec};
use svmdr::workflow::{Prepared, WorkflowError, WorkflowOptions, audit_name, resolve_primary};

use crate::ctx::{CLEANUP_TIMEOUT, Ctx};
use crate::exit::{Interrupted, Outcome};
use crate::failure::workflow_error;
use crate::global::OutputFormat;
use crate::output::workflow::{print_steps, print_timeline, render_dry_run, render_run};
use crate::progress::CliReporter;
use crate::prompt::TerminalCredentialPrompt;

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

/// What the commands add to the SVM pair.
#[derive(Debug, Default)]
pub(crate) struct Extras {
    /// `failover --restore-from-backup`.
    pub restore: Option<RestoreOptions>,
    /// `--update-backends`.
    pub update_backends: bool,
    /// `failback`: the workloads restored on DR.
    pub dr_apps: Option<FailbackApps>,
}

/// Resolves both sites, prepares `cmd`, then shows the plan (`--dry-run`)
/// or confirms and runs it.
///
/// # Errors
/// Site errors, preflight refusals (exit 3 for a safety guard or a declined
/// confirmation), the failed step.
pub(crate) fn run(
    ctx: &mut Ctx,
    cmd: Command,
    pair: &PairArgs,
    extras: Extras,
) -> anyhow::Result<Outcome> {
    let dr_spec = ctx.required_spec(SiteRole::Dr)?;
    let primary_spec = ctx.site_spec(SiteRole::Primary)?;
    let reporter = ctx.reporter();
    let g = &ctx.global;
    let (format, yes, request_timeout) = (g.output, g.yes, g.request_timeout);
    let opts = WorkflowOptions {
        command: cmd,
        svm: pair.svm.clone(),
        dr_svm: pair.dr_svm.clone(),
        step_timeout: pair.step_timeout,
        restore: extras.restore,
        update_backends: extras.update_backends,
        dr_apps: extras.dr_apps,
        dry_run: g.dry_run,
    };
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
        let audit = Recorder::new(
            dr.kube.clone(),
            dr.namespace.clone(),
            audit_name(cmd),
            user_of(kubeconfig.as_deref(), &dr.context),
            "? → ?",
            opts.dry_run,
            reporter.as_ref(),
        );
        let log = StepLog::new(reporter.as_ref());
        let sites = Sites {
            dr: &dr,
            primary: primary_spec,
            request_timeout,
        };
        let body = workflow(sites, opts, &audit, &log, &reporter, format, yes);
        match interrupt.run(body).await {
            Some(r) => r,
            None => {
                print_steps(format, &log.finished());
                audit.interrupted(&log, CLEANUP_TIMEOUT).await;
                Err(Interrupted.into())
            }
        }
    })
}

/// The DR site, and how to reach the primary.
struct Sites<'a> {
    dr: &'a Site,
    primary: Option<SiteSpec>,
    request_timeout: Duration,
}

/// Everything Ctrl-C may cut short (the caller then records what `log` saw).
async fn workflow(
    sites: Sites<'_>,
    opts: WorkflowOptions,
    audit: &Recorder<'_>,
    log: &StepLog<'_>,
    reporter: &CliReporter,
    format: OutputFormat,
    yes: bool,
) -> anyhow::Result<Outcome> {
    let fail = |e: WorkflowError| {
        if let Some(t) = e.timeline() {
            print_timeline(format, t);
        }
        workflow_error(e)
    };
    let prompt = TerminalCredentialPrompt;
    let primary = resolve_primary(sites.primary, sites.request_timeout, &prompt, reporter).await;
    let dry_run = opts.dry_run;
    let mut prepared = svmdr::workflow::prepare(sites.dr, primary, opts, audit, reporter)
        .await
        .map_err(fail)?;
    if dry_run {
        let preview = prepared.preview().await;
        render_dry_run(
            format,
            &prepared.plan,
            &prepared.pair,
            &preview.steps,
            preview.refused.as_ref(),
            prepared.dr_apps.as_ref(),
        )?;
        return match prepared.dry_run_error() {
            Some(e) => Err(fail(e)),
            None => Ok(Outcome::Ok),
        };
    }
    if let Err(e) = crate::prompt::confirm(&question(&prepared), yes) {
        let nothing = Timeline::default();
        audit
            .record(AuditOutcome::Refused, e.to_string(), &nothing)
            .await;
        return Err(e);
    }
    let run = svmdr::workflow::run(prepared, sites.dr, audit, log)
        .await
        .map_err(fail)?;
    render_run(format, &run)?;
    Ok(if run.outcome == AuditOutcome::Succeeded {
        Outcome::Ok
    } else {
        Outcome::Unhealthy
    })
}

/// `Failover svm1 → svm1_dr now?`, with the DR workloads scaled first.
fn question(p: &Prepared) -> String {
    let scaling = p.dr_apps.as_ref().map_or(0, |a| a.scale_down.len());
    let name = p.plan.workflow.as_str();
    let mut c = name.chars();
    let capitalised = c
        .next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default();
    format!(
        "{capitalised} {} → {} now?{}",
        p.pair.primary_svm,
        p.pair.dr_svm,
        if scaling > 0 {
            format!(" ({scaling} workload(s) restored on DR are scaled to 0 first)")
        } else {
            String::new()
        }
    )
}
