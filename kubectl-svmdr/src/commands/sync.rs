//! `kubectl svmdr sync [--wait]`: a SnapMirror transfer now, with progress,
//! then the new lag.

use std::time::Duration;

use svmdr::peering::PeeringError;
use svmdr::peering::sync::{self, SyncRequest};
use svmdr::site::{Access, SiteRole};

use crate::ctx::Ctx;
use crate::exit::Outcome;
use crate::output;

/// Flags of `sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// SVM whose relationship to update (source or destination name;
    /// default: the only SVM-DR relationship).
    #[arg(long)]
    pub svm: Option<String>,
    /// Wait for the transfer to finish, with progress.
    #[arg(long)]
    pub wait: bool,
    /// Bound on --wait.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Starts (and optionally waits for) a transfer.
///
/// # Errors
/// Site errors, no or several relationships, a relationship that cannot
/// take a transfer, a failed transfer.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let spec = ctx.required_spec(SiteRole::Dr)?;
    let reporter = ctx.reporter();
    let format = ctx.global.output;
    let dry_run = ctx.global.dry_run;
    let report = ctx.block_on(async move {
        let dr = Ctx::resolve(reporter.clone(), spec, Access::ClusterAdmin).await?;
        let req = SyncRequest {
            svm: args.svm.clone(),
            wait: args.wait,
            timeout: args.timeout,
        };
        if dry_run {
            let call = sync::plan(&dr.ontap, &req).await?;
            println!("Dry run: nothing was changed. The transfer would be:\n  {call}");
            return Ok(None);
        }
        sync::sync(&dr.ontap, &req, reporter.as_ref())
            .await
            .map(Some)
            .map_err(|e: PeeringError| anyhow::Error::new(e))
    })?;
    if let Some(report) = report {
        output::sync::render(&mut std::io::stdout().lock(), format, &report)?;
    }
    Ok(Outcome::Ok)
}
