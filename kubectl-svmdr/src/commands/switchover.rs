//! `kubectl svmdr switchover`: planned move to the DR site without data loss
//! (final update, stop the primary SVM, last update, break, start the DR
//! SVM), then the reverse resync so the old primary becomes the destination.
//! Both sites must be up. The output proves the last transfer covers the stop.

use svmdr::plan::driver::Command;

use super::workflow::{Extras, PairArgs};
use crate::ctx::Ctx;
use crate::exit::Outcome;

/// Flags of `switchover`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// SVM pair and step timeout.
    #[command(flatten)]
    pub pair: PairArgs,
    /// When identity was not preserved, point the DR cluster's Trident
    /// backend at the DR SVM (managementLIF, dataLIF, svm).
    #[arg(long)]
    pub update_backends: bool,
}

/// Runs the switchover.
///
/// # Errors
/// Site errors, preflight refusals, the failed step.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let extras = Extras {
        update_backends: args.update_backends,
        ..Extras::default()
    };
    super::workflow::run(ctx, Command::Switchover, &args.pair, extras)
}
