//! `kubectl svmdr completion bash|zsh|fish`: a shell completion script for
//! the `kubectl-svmdr` binary.
//!
//! For `kubectl svmdr <TAB>` (kubectl 1.26+), put the `kubectl_complete-svmdr`
//! binary from the release next to `kubectl-svmdr` on the PATH: kubectl runs
//! it to complete plugin arguments (krew does not install it).

use crate::ctx::Ctx;
use crate::exit::Outcome;

/// Flags of `completion`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Shell to generate the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the script.
///
/// # Errors
/// Only when stdout cannot be written.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let mut cmd = (ctx.command)();
    // Render into memory first: clap_complete panics on write errors, and a
    // closed pipe must exit 0, not panic.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "kubectl-svmdr", &mut script);
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, &script)?;
    std::io::Write::flush(&mut out)?;
    Ok(Outcome::Ok)
}
