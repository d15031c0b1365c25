//! One module per subcommand. Each has `pub struct Args` (clap) and
//! `pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome>`, fills
//! options, calls `svmdr`, and renders through [`crate::output`]; none holds
//! ONTAP or Kubernetes logic of its own. The list of subcommands is in
//! [`crate::cli`].

pub mod backends;
pub mod completion;
pub mod peer;
pub mod status;
pub mod sync;
pub mod version;
