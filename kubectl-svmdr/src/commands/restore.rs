//! `kubectl svmdr restore`: a Velero restore on the DR cluster from the
//! newest completed backup (or a named one), with progress, then a summary
//! of what came back (workloads per namespace, each PVC's binding).
//!
//! The backup is inspected first: one that carries volume data for the
//! Trident volumes is refused (exit 3) unless `--force`
//! (`svmdr::restore::backup_data`). A restore still running at the timeout
//! exits 2 and is recorded `timed-out`: Velero carries on with it. One that
//! ended `PartiallyFailed` exits 1 and is recorded `partially-failed`.

use std::io::Write;
use std::time::Duration;

use chrono::Utc;
use svmdr::audit::{AuditEntry, AuditOutcome};
use svmdr::report::Reporter as _;
use svmdr::restore::{BackupChoice, RestoreError, RestoreOptions, RestoreReport};
use svmdr::site::SiteRole;

use crate::ctx::Ctx;
use crate::exit::{Outcome, Refused};
use crate::output;
use crate::progress::CliReporter;

/// Velero restore flags shared with `failover --restore-from-backup`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreFlags {
    /// Namespace Velero runs in.
    #[arg(long, default_value = "velero", value_name = "NS")]
    pub velero_namespace: String,
    /// Restore only these namespaces (comma-separated; default: all in the backup).
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub include_namespaces: Vec<String>,
    /// Restore only objects matching this label selector (e.g. `app=web,tier in (a,b)`).
    #[arg(long, short = 'l', value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Restore cluster-scoped objects (PVs, StorageClasses, …) too, as
    /// `velero restore create --include-cluster-resources`; default: Velero's.
    /// With `false` no PV is restored and the plugin imports each Trident
    /// PVC from the replicated volume named after its PV.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub include_cluster_resources: Option<bool>,
    /// Longest wait for the restore to finish. Default: 30m plus the svmdr
    /// plugin's worst case, its `waitForReady` (read from its ConfigMap in
    /// the Velero namespace) for each DR Trident backend, so the CLI never
    /// gives up while the plugin may still be waiting; a shorter value is
    /// warned about. Velero itself has no deadline: at the timeout the
    /// restore goes on, and the CLI says how to follow it.
    #[arg(long, alias = "timeout", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub restore_timeout: Option<Duration>,
}

impl RestoreFlags {
    /// The library options for `backup` (`latest` or a name).
    /// `force`: restore even from a backup that carries volume data.
    pub fn options(&self, backup: &str, force: bool) -> RestoreOptions {
        RestoreOptions {
            velero_namespace: self.velero_namespace.clone(),
            backup: BackupChoice::parse(backup),
            include_namespaces: self.include_namespaces.clone(),
            selector: self.selector.clone(),
            include_cluster_resources: self.include_cluster_resources,
            timeout: self.restore_timeout,
            poll_interval: Duration::from_secs(1),
            force,
            repeat: false,
        }
    }
}

/// Flags of `restore`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup: `latest` (newest Completed) or a backup name.
    #[arg(long, default_value = "latest", value_name = "latest|NAME")]
    pub backup: String,
    /// Restore options.
    #[command(flatten)]
    pub flags: RestoreFlags,
    /// Restore even from a backup that carries volume data (CSI or native
    /// snapshots, data mover, file-system backup) for the Trident volumes,
    /// which Velero re-provisions or overwrites; the findings are printed
    /// as `warning:` lines. Without it such a backup is refused (exit 3).
    /// Also restores a backup that already has a Completed restore without
    /// asking (as --yes does).
    #[arg(long)]
    pub force: bool,
}

/// Runs the restore.
///
/// # Errors
/// Site errors, no usable backup, a failed or timed-out restore.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let spec = ctx.required_spec(SiteRole::Dr)?;
    let reporter = ctx.reporter();
    let format = ctx.global.output;
    let dry_run = ctx.global.dry_run;
    let kubeconfig = spec.kubeconfig.clone();
    let mut opts = args.flags.options(&args.backup, args.force);
    // A backup that already has a Completed restore is restored again only
    // when confirmed: --yes answers the question, --force skips it.
    opts.repeat = args.force || ctx.global.yes;
    ctx.block_on(async move {
        // Kubernetes only: a restore makes no ONTAP call (the plugin checks
        // the storage inside Velero), so no Trident backend is needed here.
        let (kube, context) = svmdr::site::kube_client(&spec).await?;
        let namespace = spec.namespace.clone();
        if dry_run {
            return dry_run_plan(&kube, &opts, format, &reporter).await;
        }
        let started_at = Utc::now();
        let mut result = svmdr::restore::restore(&kube, &opts, reporter.as_ref()).await;
        if let Err(RestoreError::AlreadyRestored {
            backup, restores, ..
        }) = &result
            && crate::prompt::interactive()
        {
            let question = format!(
                "Velero backup {backup} was already restored ({}); restore it again?",
                restores.join(", ")
            );
            if crate::prompt::confirm(&question, false).is_ok() {
                opts.repeat = true;
                result = svmdr::restore::restore(&kube, &opts, reporter.as_ref()).await;
            }
        }
        // The recorded outcome is the exit outcome (see the end of this fn).
        let (outcome, message) = match &result {
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
            Err(e) => (e.audit_outcome(), e.to_string()),
        };
        let entry = AuditEntry {
            workflow: "restore".into(),
            started_at,
            finished_at: Utc::now(),
            user: super::failover::kube_user(kubeconfig.as_deref(), &context),
            outcome,
            message,
            svms: String::new(),
            steps: vec![],
        };
        if let Err(e) = svmdr::audit::record(&kube, &namespace, &entry).await {
            reporter.note(&format!("warning: could not record the run: {e}"));
        }
        let report = result.map_err(|e| refusal(e, "--force"))?;
        let mut w = std::io::stdout().lock();
        if format.is_machine() {
            output::write_structured(&mut w, format, &output::typed("RestoreReport", &report))?;
        } else {
            render_table(&mut w, &report)?;
        }
        Ok(if report.status.phase == "Completed" {
            Outcome::Ok
        } else {
            Outcome::Unhealthy
        })
    })
}

/// `restore --dry-run -o json|yaml`: the Velero Restore it would create.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RestorePlan {
    api_version: &'static str,
    kind: &'static str,
    /// How long the restore would be waited for (unknown when refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    wait: Option<String>,
    /// Why a real run would refuse (exit 3), and the flag that overrides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
    /// The Velero Restore object.
    restore: serde_json::Value,
}

/// `--dry-run`: shows the Restore it would create, also when the backup
/// would be refused (marked, exit 3).
async fn dry_run_plan(
    kube: &kube::Client,
    opts: &RestoreOptions,
    format: crate::cli::OutputFormat,
    reporter: &CliReporter,
) -> anyhow::Result<Outcome> {
    let (backup, wait, refused) = match svmdr::restore::prepare(kube, opts).await {
        Ok(prepared) => {
            for w in &prepared.warnings {
                reporter.line(&format!("warning: {w}"));
            }
            (prepared.backup.name, Some(prepared.timeout), None)
        }
        Err(RestoreError::VolumeData { report }) => {
            let backup = report.backup.clone();
            (backup, None, Some(RestoreError::VolumeData { report }))
        }
        Err(e @ RestoreError::AlreadyRestored { .. }) => {
            let backup = match &e {
                RestoreError::AlreadyRestored { backup, .. } => backup.clone(),
                _ => String::new(),
            };
            (backup, None, Some(e))
        }
        Err(e) => return Err(e.into()),
    };
    let name = svmdr::restore::restore_name(&backup, Utc::now());
    let obj = svmdr::restore::restore_object(&name, opts, &backup)?;
    let refusal_text = refused.as_ref().map(|e| match e {
        RestoreError::AlreadyRestored { .. } => e.to_string(),
        _ => format!("{e}; or pass --force to restore anyway"),
    });
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        let plan = RestorePlan {
            api_version: "svmdr.netapp.io/v1",
            kind: "RestorePlan",
            wait: wait.map(|t| humantime::format_duration(t).to_string()),
            refused: refusal_text,
            restore: obj,
        };
        output::write_structured(&mut w, format, &plan)?;
    } else {
        match (&refusal_text, wait) {
            (Some(r), _) => {
                writeln!(w, "Dry run: nothing was changed.")?;
                writeln!(w, "REFUSED (exit 3): {r}")?;
                let with = match &refused {
                    Some(RestoreError::AlreadyRestored { .. }) => "--yes or --force",
                    _ => "--force",
                };
                writeln!(w, "Would create, only with {with}:")?;
            }
            (None, Some(t)) => writeln!(
                w,
                "Dry run: nothing was changed. Would create (and wait up to {}):",
                humantime::format_duration(t)
            )?,
            (None, None) => writeln!(w, "Dry run: nothing was changed. Would create:")?,
        }
        write!(w, "{}", serde_yaml::to_string(&obj)?)?;
    }
    drop(w);
    match refused {
        Some(e) => Err(refusal(e, "--force")),
        None => Ok(Outcome::Ok),
    }
}

/// A backup that carries volume data is a safety refusal (exit 3), which
/// `force_flag` overrides; so is a backup already restored (its message
/// names the override); other restore errors exit 2.
pub(crate) fn refusal(e: RestoreError, force_flag: &str) -> anyhow::Error {
    match e {
        RestoreError::AlreadyRestored { .. } => anyhow::Error::new(Refused(e.to_string())),
        RestoreError::VolumeData { .. } => anyhow::Error::new(Refused(format!(
            "{e}; or pass {force_flag} to restore anyway"
        ))),
        e => anyhow::Error::new(e),
    }
}

/// The restore summary for people.
///
/// # Errors
/// Write errors.
pub(crate) fn render_table(w: &mut impl Write, r: &RestoreReport) -> anyhow::Result<()> {
    writeln!(
        w,
        "Velero restore {}/{} from backup {}: {} in {:.1}s ({} warnings, {} errors)",
        r.namespace,
        r.name,
        r.backup.name,
        r.status.phase,
        r.duration.as_secs_f64(),
        r.status.warnings,
        r.status.errors
    )?;
    for f in &r.status.failure {
        writeln!(w, "  failure: {f}")?;
    }
    let rows = r
        .namespaces
        .iter()
        .map(|n| {
            let join = |m: &std::collections::BTreeMap<String, String>| {
                if m.is_empty() {
                    "-".to_string()
                } else {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let running = n.pods.values().filter(|p| *p == "Running").count();
            let bound = n.pvcs.iter().filter(|p| p.phase == "Bound").count();
            vec![
                n.namespace.clone(),
                join(&n.deployments),
                join(&n.statefulsets),
                format!("{running}/{} running", n.pods.len()),
                format!("{bound}/{} bound", n.pvcs.len()),
            ]
        })
        .collect();
    writeln!(
        w,
        "{}",
        output::table(
            &["namespace", "deployments", "statefulsets", "pods", "pvcs"],
            rows
        )
    )?;
    let pvc_rows: Vec<Vec<String>> = r
        .namespaces
        .iter()
        .flat_map(|n| {
            n.pvcs.iter().map(move |p| {
                vec![
                    n.namespace.clone(),
                    p.name.clone(),
                    p.phase.clone(),
                    output::or_dash(p.volume.as_ref()),
                    output::or_dash(p.storage_class.as_ref()),
                ]
            })
        })
        .collect();
    if !pvc_rows.is_empty() {
        writeln!(
            w,
            "{}",
            output::table(
                &["namespace", "pvc", "status", "volume", "storageclass"],
                pvc_rows
            )
        )?;
    }
    for n in &r.namespaces {
        for p in n.unbound() {
            writeln!(
                w,
                "warning: PVC {}/{} is {}: it has no volume yet; for a Trident PVC look for the svmdr plugin's import in `velero restore logs {}` and at `tridentctl get volume`",
                n.namespace, p.name, p.phase, r.name
            )?;
        }
    }
    Ok(())
}
