//! `kubectl svmdr failover`: unplanned failover to the DR site, optionally
//! followed by a Velero restore. The workflow is
//! [`svmdr::workflow`]; the runner it shares with switchover, resync and
//! failback is [`super::workflow`].

use std::time::Duration;

use svmdr::plan::driver::Command;
use svmdr::plan::failover::FailoverOptions;

use super::workflow::{Extras, PairArgs};
use crate::ctx::Ctx;
use crate::exit::Outcome;

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
/// Site errors, preflight refusals (exit 3 for the split-brain guard, a
/// backup that carries volume data, or a declined confirmation), the failed
/// step, a restore that failed after the storage part.
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
    let extras = Extras {
        restore,
        update_backends: args.update_backends,
        dr_apps: None,
    };
    super::workflow::run(ctx, cmd, &args.pair, extras)
}
