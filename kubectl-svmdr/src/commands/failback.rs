//! `kubectl svmdr failback`: back to the original site after a failover or
//! switchover: reverse resync (DR → primary), stop the DR SVM, final
//! transfer, break, start the primary SVM, wait for its Trident backends to
//! be online, resync the original direction, delete the reverse relationship. Writes made on the DR site come back.
//!
//! So that exactly one site runs the application afterwards, the
//! Deployments and StatefulSets that kubectl-svmdr's Velero restores
//! brought back on DR are scaled to 0 first (their replicas kept in an
//! annotation; `svmdr::plan::workloads`), unless `--keep-dr-workloads`.

use svmdr::plan::driver::Command;
use svmdr::plan::workloads::FailbackApps;

use super::workflow::{Extras, PairArgs};
use crate::ctx::Ctx;
use crate::exit::Outcome;

/// Flags of `failback`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send `quick_resync` on both resyncs (ONTAP 9.11.1+).
    #[arg(long)]
    pub quick: bool,
    /// Leave the workloads restored on DR running (by default they are
    /// scaled to 0 before the DR SVM stops; their replicas are kept in the
    /// annotation `svmdr.netapp.io/replicas-before-failback`).
    #[arg(long)]
    pub keep_dr_workloads: bool,
    /// Namespace Velero runs in on DR (where kubectl-svmdr's Restores are).
    #[arg(long, default_value = "velero", value_name = "NS")]
    pub velero_namespace: String,
    /// SVM pair and step timeout.
    #[command(flatten)]
    pub pair: PairArgs,
}

/// Runs the failback.
///
/// # Errors
/// Site errors, preflight refusals, the failed step.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let apps = FailbackApps {
        velero_namespace: args.velero_namespace,
        keep: args.keep_dr_workloads,
    };
    let extras = Extras {
        dr_apps: Some(apps),
        ..Extras::default()
    };
    super::workflow::run(
        ctx,
        Command::Failback { quick: args.quick },
        &args.pair,
        extras,
    )
}
