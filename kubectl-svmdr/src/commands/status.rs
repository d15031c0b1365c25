//! `kubectl svmdr status`: SVM-DR health from the DR site (and the primary
//! when reachable), both sites queried at the same time. Exit 1 when
//! anything is unhealthy, so it can back a cron job or a probe. The JSON and
//! YAML schema is documented in `svmdr::status`.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use svmdr::site::{Access, SiteRole};
use svmdr::status::{self, SiteInfo};

use crate::ctx::Ctx;
use crate::exit::Outcome;
use crate::global::OutputFormat;
use crate::output;

/// Flags of `status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only relationships of this SVM (source or destination name).
    #[arg(long)]
    pub svm: Option<String>,
    /// Refresh until interrupted (Ctrl-C ends it quietly, exit 0).
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Refresh interval for --watch (at least 1s: each refresh queries both
    /// ONTAP clusters and the DR Kubernetes API).
    #[arg(long, default_value = "5s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Namespace Velero runs in on the DR cluster: its newest Completed
    /// backup is checked for volume data (a restore from such a backup
    /// would destroy the replicated data).
    #[arg(long, default_value = "velero", value_name = "NS")]
    pub velero_namespace: String,
    /// The age above which the newest Velero backup is stale (a problem).
    /// Default: the smallest RPO of the live relationships.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub backup_max_age: Option<Duration>,
    /// Namespace of the in-cluster watcher on the DR cluster: what it last
    /// saw and decided is shown when it is deployed there.
    #[arg(long, default_value = "svmdr", value_name = "NS")]
    pub watcher_namespace: String,
}

/// The smallest `--interval`.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Parses `--interval`: a duration of at least [`MIN_INTERVAL`].
///
/// # Errors
/// A malformed duration or one below the floor.
pub fn parse_interval(value: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(value).map_err(|e| e.to_string())?;
    if d < MIN_INTERVAL {
        return Err(format!(
            "the --watch interval must be at least {} (each refresh queries both ONTAP \
             clusters); got {value}",
            humantime::format_duration(MIN_INTERVAL)
        ));
    }
    Ok(d)
}

/// Shows the status.
///
/// # Errors
/// Site configuration errors (unknown context, no backend, credentials).
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let dr_spec = ctx.required_spec(SiteRole::Dr)?;
    let primary_spec = ctx.site_spec(SiteRole::Primary)?;
    let reporter = ctx.reporter();
    let format = ctx.global.output;
    let redraw = args.watch && format == OutputFormat::Table && std::io::stdout().is_terminal();
    let watch = args.watch;
    let result = ctx.block_on(async move {
        let primary_info = primary_spec.as_ref().map(|s| SiteInfo {
            context: s.context.clone(),
            ..SiteInfo::default()
        });
        let (dr, primary) = tokio::join!(
            Ctx::resolve(reporter.clone(), dr_spec, Access::ClusterAdmin),
            async {
                match primary_spec {
                    None => None,
                    Some(spec) => {
                        Some(Ctx::resolve(reporter.clone(), spec, Access::ClusterAdmin).await)
                    }
                }
            }
        );
        let dr = dr?;
        let primary = primary.map(|r| {
            r.map_err(|e| Box::new((primary_info.clone().unwrap_or_default(), (&e).into())))
        });
        loop {
            let p = primary.as_ref().map(|r| r.as_ref().map_err(|b| &**b));
            let (mut report, velero, watcher) = tokio::join!(
                status::collect(&dr, p, args.svm.as_deref()),
                status::velero::collect(&dr.kube, &args.velero_namespace, args.backup_max_age),
                status::watcher::collect(&dr.kube, &args.watcher_namespace)
            );
            status::velero::apply(&mut report, velero);
            status::watcher::apply(&mut report, watcher);
            let mut out = std::io::stdout().lock();
            if redraw {
                out.write_all(b"\x1b[2J\x1b[H")?;
            } else if args.watch && format == OutputFormat::Yaml {
                out.write_all(b"---\n")?;
            }
            output::status::render(&mut out, format, &report)?;
            if !args.watch {
                return Ok(if report.healthy {
                    Outcome::Ok
                } else {
                    Outcome::Unhealthy
                });
            }
            drop(out);
            tokio::time::sleep(args.interval).await;
        }
    });
    match result {
        // Ctrl-C is how a watch ends: quietly, exit 0 (as `watch` and
        // `kubectl get -w` users expect), not as an interrupted workflow.
        Err(e) if watch && e.is::<crate::exit::Interrupted>() => Ok(Outcome::Ok),
        other => other,
    }
}
