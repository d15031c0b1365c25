//! One module per subcommand. Each has `pub struct Args` (clap) and
//! `pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome>`, fills
//! options, calls `svmdr`, and renders through [`crate::output`]; none holds
//! ONTAP or Kubernetes logic of its own. The list of subcommands is in
//! [`crate::cli`]. [`workflow`] is not a subcommand: it is the runner the
//! four workflow commands share (confirmation, rendering, Ctrl-C).

pub mod backends;
pub mod completion;
pub mod failback;
pub mod failover;
pub mod history;
pub mod lab;
pub mod peer;
pub mod restore;
pub mod resync;
pub mod status;
pub mod switchover;
pub mod sync;
pub mod version;
pub mod watcher;
pub mod workflow;
