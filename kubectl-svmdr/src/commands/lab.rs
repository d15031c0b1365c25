//! `kubectl svmdr lab`: the simulated lab ([`sim::lab`]): two sites with
//! simulated ONTAP clusters and Kubernetes APIs, Trident, a sample app and
//! its Velero backup, and a Velero restore runner driving the real
//! `velero-plugin-svmdr` binary.
//!
//! - `lab drill`: the whole DR scenario through the real commands, with a
//!   summary and a verdict.
//! - `lab up` / `lab down`: keep the lab running to try commands by hand.

mod drill;
mod fault;
mod plugin;
mod report;
mod step;
mod up;

use anyhow::Context as _;

use crate::ctx::Ctx;
use crate::exit::Outcome;

/// Flags of `lab`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with the lab.
    #[command(subcommand)]
    pub command: LabCommand,
}

/// The `lab` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LabCommand {
    /// Run the DR drill on a fresh simulated lab: peer, writes, primary
    /// lost, failover, Velero restore with the plugin, failback; summary
    /// with RTOs and a verdict (exit 1 when a check fails).
    Drill(drill::Args),
    /// Run the simulated lab in the foreground until Ctrl-C or `lab down`,
    /// and print the environment that points every command at it.
    Up(up::UpArgs),
    /// Stop a lab started with `lab up`.
    Down(up::DownArgs),
    /// Inject a fault into (or repair) a lab started with `lab up`: the
    /// primary site (whole, or only its ONTAP or its Kubernetes API), the
    /// DR data LIF, or the witness cluster's API, down or up.
    Fault(fault::Args),
}

/// Runs a `lab` subcommand.
///
/// # Errors
/// The subcommand's.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    match args.command {
        LabCommand::Drill(a) => drill::run(a, ctx),
        LabCommand::Up(a) => up::up(a, ctx),
        LabCommand::Down(a) => up::down(a),
        LabCommand::Fault(a) => fault::run(a),
    }
}

/// The runtime the lab's servers run on (owned by the command, so it can
/// shut them down).
/// The default state dir.
fn default_dir() -> std::path::PathBuf {
    dirs::runtime_dir()
        .or_else(dirs::state_dir)
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("kubectl-svmdr-lab")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the lab's runtime")
}

/// A flag value as clap spells it on the command line.
fn value_name(v: &impl clap::ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}
