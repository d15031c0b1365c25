//! `kubectl svmdr history`: the DR workflows recorded on this cluster
//! (ConfigMap `svmdr-history` in the Trident namespace), newest first.

use std::io::Write as _;

use serde::Serialize;
use svmdr::audit::AuditEntry;
use svmdr::site::SiteRole;

use crate::ctx::Ctx;
use crate::exit::Outcome;
use crate::output;

/// Flags of `history`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show at most this many entries.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct History<'a> {
    api_version: &'static str,
    kind: &'static str,
    items: &'a [AuditEntry],
}

/// Lists the history.
///
/// # Errors
/// Site errors, a failed read.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let spec = ctx.required_spec(SiteRole::Dr)?;
    let namespace = spec.namespace.clone();
    let kubeconfig = spec.clone();
    let format = ctx.global.output;
    let entries = ctx.block_on(async move {
        // Only Kubernetes is needed: no Trident backend or ONTAP lookup.
        let (client, _context) = svmdr::site::kube_client(&kubeconfig).await?;
        Ok(svmdr::audit::history(&client, &namespace).await?)
    })?;
    let shown = &entries[..entries.len().min(args.limit)];
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        output::write_structured(
            &mut w,
            format,
            &History {
                api_version: "svmdr.netapp.io/v1",
                kind: "History",
                items: shown,
            },
        )?;
        return Ok(Outcome::Ok);
    }
    if shown.is_empty() {
        writeln!(w, "No DR workflow has been recorded on this cluster.")?;
        return Ok(Outcome::Ok);
    }
    let rows = shown
        .iter()
        .map(|e| {
            vec![
                e.started_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                e.workflow.clone(),
                e.outcome.as_str().to_string(),
                e.user.clone(),
                format!("{:.1}s", e.duration().as_secs_f64()),
                e.svms.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    writeln!(
        w,
        "{}",
        output::table(
            &[
                "started", "workflow", "outcome", "user", "duration", "svms", "message"
            ],
            rows
        )
    )?;
    Ok(Outcome::Ok)
}
