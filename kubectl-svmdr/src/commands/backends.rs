//! `kubectl svmdr backends`: the Trident ONTAP backends of a context and the
//! ONTAP cluster behind each (reached with Trident's own credentials,
//! concurrently).

use svmdr::site::{self, SiteRole};

use crate::ctx::Ctx;
use crate::exit::Outcome;
use crate::output;

/// Which configured site to list.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SiteArg {
    /// The primary site of the config file.
    Primary,
    /// The DR site of the config file.
    Dr,
}

/// Flags of `backends`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// List this configured site's context (default: --context, else the DR
    /// site, else the current context).
    #[arg(long, value_enum)]
    pub site: Option<SiteArg>,
}

/// Lists the backends. Exit 1 when a backend's ONTAP cluster is unreachable.
///
/// # Errors
/// Unknown context, Trident not found, no ONTAP backend.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let role = match args.site {
        Some(SiteArg::Primary) => SiteRole::Primary,
        _ => SiteRole::Dr,
    };
    let spec = ctx.required_spec(role)?;
    let report = ctx.block_on(async { Ok(site::survey_backends(&spec).await?) })?;
    output::backends::render(&mut std::io::stdout().lock(), ctx.global.output, &report)?;
    Ok(if report.all_reachable() {
        Outcome::Ok
    } else {
        Outcome::Unhealthy
    })
}
