//! `kubectl svmdr restore`: a Velero restore on the DR cluster from the
//! newest completed backup (or a named one), with progress, then a summary
//! of what came back (workloads per namespace, each PVC's binding).
//!
//! The backup is inspected first: one that carries volume data for the
//! Trident volumes is refused (exit 3) unless `--force`
//! (`svmdr::restore::backup_data`). A restore still running at the timeout
//! exits 2 and is recorded `timed-out`: Velero carries on with it. One that
//! ended `PartiallyFailed` exits 1 and is recorded `partially-failed`.

use std::time::Duration;

use svmdr::audit::{Recorder, user_of};
use svmdr::restore::{BackupChoice, RestoreOptions};
use svmdr::site::SiteRole;

use crate::ctx::Ctx;
use crate::exit::Outcome;
use crate::failure::restore_error;
use crate::output;

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
/// Site errors, no usable backup, a refused backup (exit 3), a failed or
/// timed-out restore.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let spec = ctx.required_spec(SiteRole::Dr)?;
    let reporter = ctx.reporter();
    let format = ctx.global.output;
    let dry_run = ctx.global.dry_run;
    let mut opts = args.flags.options(&args.backup, args.force);
    // A backup that already has a Completed restore is restored again only
    // when confirmed: --yes answers the question, --force skips it.
    opts.repeat = args.force || ctx.global.yes;
    ctx.block_on(async move {
        // Kubernetes only: a restore makes no ONTAP call (the plugin checks
        // the storage inside Velero), so no Trident backend is needed here.
        let (kube, context) = svmdr::site::kube_client(&spec).await?;
        if dry_run {
            let plan = svmdr::workflow::restore::preview(&kube, &opts, reporter.as_ref()).await?;
            output::restore::render_plan(&mut std::io::stdout().lock(), format, &plan)?;
            return match plan.refused {
                Some(e) => Err(restore_error(e, "--force")),
                None => Ok(Outcome::Ok),
            };
        }
        let user = user_of(spec.kubeconfig.as_deref(), &context);
        let audit = Recorder::new(
            kube.clone(),
            spec.namespace.clone(),
            "restore",
            user,
            "",
            false,
            reporter.as_ref(),
        );
        let again = |backup: &str, restores: &[String]| {
            let question = format!(
                "Velero backup {backup} was already restored ({}); restore it again?",
                restores.join(", ")
            );
            crate::prompt::interactive() && crate::prompt::confirm(&question, false).is_ok()
        };
        let report = svmdr::workflow::restore::run(&kube, opts, &audit, reporter.as_ref(), again)
            .await
            .map_err(|e| restore_error(e, "--force"))?;
        let mut w = std::io::stdout().lock();
        if format.is_machine() {
            output::write_structured(&mut w, format, &output::typed("RestoreReport", &report))?;
        } else {
            output::restore::render_table(&mut w, &report)?;
        }
        Ok(if report.status.phase == "Completed" {
            Outcome::Ok
        } else {
            Outcome::Unhealthy
        })
    })
}
