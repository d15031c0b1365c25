//! `kubectl svmdr failback`: back to the original site after a failover or
//! switchover: reverse resync (DR → primary), stop the DR SVM, final
//! transfer, break, start the primary SVM, resync the original direction,
//! delete the reverse relationship. Writes made on the DR site come back.

use svmdr::plan::driver::Command;

use super::failover::{PairArgs, run_workflow};
use crate::ctx::Ctx;
use crate::exit::Outcome;

/// Flags of `failback`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Send `quick_resync` on both resyncs (ONTAP 9.11.1+).
    #[arg(long)]
    pub quick: bool,
    /// SVM pair and step timeout.
    #[command(flatten)]
    pub pair: PairArgs,
}

/// Runs the failback.
///
/// # Errors
/// Site errors, preflight refusals, the failed step.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    run_workflow(
        ctx,
        Command::Failback { quick: args.quick },
        &args.pair,
        None,
        false,
    )
}
