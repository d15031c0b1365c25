//! `kubectl svmdr resync --direction forward|reverse`.
//!
//! - `forward`: primary → DR again, discarding writes made on the DR site
//!   since the last common snapshot (stops the DR SVM first).
//! - `reverse`: DR → primary, keeping the DR site's data (stops the primary
//!   SVM, creates the reverse relationship on the primary cluster, resyncs it).

use svmdr::plan::driver::Command;
use svmdr::plan::resync::Direction;

use super::workflow::{Extras, PairArgs};
use crate::ctx::Ctx;
use crate::exit::Outcome;

/// Direction flag values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DirectionArg {
    /// primary → DR (discards DR-side writes).
    Forward,
    /// DR → primary (keeps DR-side writes).
    Reverse,
}

/// Flags of `resync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which way to replicate from now on.
    #[arg(long, value_enum, default_value = "reverse")]
    pub direction: DirectionArg,
    /// Send `quick_resync` (ONTAP 9.11.1+; skips storage-efficiency preservation).
    #[arg(long)]
    pub quick: bool,
    /// SVM pair and step timeout.
    #[command(flatten)]
    pub pair: PairArgs,
}

/// Runs the resync.
///
/// # Errors
/// Site errors, preflight refusals, the failed step.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let direction = match args.direction {
        DirectionArg::Forward => Direction::Forward,
        DirectionArg::Reverse => Direction::Reverse,
    };
    let cmd = Command::Resync {
        direction,
        quick: args.quick,
    };
    super::workflow::run(ctx, cmd, &args.pair, Extras::default())
}
