//! `kubectl svmdr watcher status|arm|disarm`: what the in-cluster watcher
//! sees and decided (its status ConfigMap on the DR cluster), and its arm
//! switch for the people on call. Arming lets an `automatic` watcher fail
//! over once; it disarms itself when it does.

use std::io::Write as _;

use serde::Serialize;
use svmdr::audit::user_of;
use svmdr::site::SiteRole;
use svmdr::watch::{StateStore, WatcherState};

use crate::ctx::Ctx;
use crate::exit::Outcome;
use crate::output;

/// Flags of `watcher`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
    /// The watcher's namespace on the DR cluster.
    #[arg(long, default_value = "svmdr", value_name = "NS", global = true)]
    pub watcher_namespace: String,
}

/// `watcher` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// What the watcher sees and decided (exit 1 unless healthy and recent).
    Status,
    /// Let an `automatic` watcher fail over (once) when the primary is lost.
    Arm {
        /// Why (recorded in the status object and an Event).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Forbid automatic failover until re-armed.
    Disarm {
        /// Why (recorded in the status object and an Event).
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    api_version: &'static str,
    kind: &'static str,
    namespace: &'a str,
    found: bool,
    armed: bool,
    data: &'a std::collections::BTreeMap<String, String>,
}

/// Runs the subcommand.
///
/// # Errors
/// Site errors, a failed read or write, a declined confirmation.
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let spec = ctx.required_spec(SiteRole::Dr)?;
    let (format, yes, dry_run) = (ctx.global.output, ctx.global.yes, ctx.global.dry_run);
    let ns = args.watcher_namespace.clone();
    let user = user_of(
        spec.kubeconfig.as_deref(),
        spec.context.as_deref().unwrap_or_default(),
    );
    let (switch, reason) = match &args.action {
        Action::Status => (None, String::new()),
        Action::Arm { reason } => (Some(true), reason.clone()),
        Action::Disarm { reason } => (Some(false), reason.clone()),
    };
    if let Some(armed) = switch {
        let verb = if armed { "arm" } else { "disarm" };
        if dry_run {
            writeln!(
                std::io::stdout(),
                "would {verb} the watcher in namespace {ns} (ConfigMap {}), as {user}",
                svmdr::watch::STATUS_CONFIGMAP
            )?;
            return Ok(Outcome::Ok);
        }
        if armed {
            crate::prompt::confirm(
                &format!(
                    "Arm the watcher in {ns}? In mode automatic it will fail over on its own (once) when the primary is lost"
                ),
                yes,
            )?;
        }
    }
    let state = ctx.block_on(async move {
        let (client, _) = svmdr::site::kube_client(&spec).await?;
        let store = StateStore::new(client, &ns);
        if let Some(armed) = switch {
            store.arm(armed, &user, &reason).await?;
        }
        Ok::<WatcherState, anyhow::Error>(store.read().await?)
    })?;
    let found = !state.data.is_empty();
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        output::write_structured(
            &mut w,
            format,
            &Document {
                api_version: svmdr::API_VERSION,
                kind: "WatcherStatus",
                namespace: &args.watcher_namespace,
                found,
                armed: state.armed(),
                data: &state.data,
            },
        )?;
    } else {
        render(&mut w, &args.watcher_namespace, &state)?;
    }
    Ok(if switch.is_some() || healthy(&state) {
        Outcome::Ok
    } else {
        Outcome::Unhealthy
    })
}

/// Healthy: a status object whose verdict is `healthy`.
fn healthy(state: &WatcherState) -> bool {
    state.get("verdict") == Some("healthy")
}

fn render(w: &mut impl std::io::Write, ns: &str, s: &WatcherState) -> std::io::Result<()> {
    if s.data.is_empty() {
        return writeln!(
            w,
            "No watcher status in namespace {ns} (ConfigMap {}): is svmdr-watcher deployed there?",
            svmdr::watch::STATUS_CONFIGMAP
        );
    }
    let get = |k: &str| s.get(k).unwrap_or("-").to_string();
    let mut armed = if s.armed() { "yes" } else { "no" }.to_string();
    if let Some(r) = s
        .get("disarmedReason")
        .filter(|r| !r.is_empty() && !s.armed())
    {
        armed = format!("no ({r})");
    }
    let rows = vec![
        vec![
            "verdict".into(),
            format!("{} since {}", get("verdict"), get("since")),
        ],
        vec!["action".into(), get("action")],
        vec!["message".into(), get("message")],
        vec!["mode".into(), get("mode")],
        vec!["armed".into(), armed],
        vec!["leader".into(), get("leader")],
        vec!["observed".into(), get("observedAt")],
    ];
    writeln!(w, "{}", output::table(&["", "watcher"], rows))?;
    if let Some(ev) = s.get("evidence")
        && let Ok(items) = serde_json::from_str::<Vec<svmdr::watch::Evidence>>(ev)
        && !items.is_empty()
    {
        writeln!(w, "\nEvidence:")?;
        for e in items {
            writeln!(w, "  {e}")?;
        }
    }
    if let Some(f) = s.failover() {
        writeln!(
            w,
            "\nAutomatic failover: {} at {} by {} ({}): {}",
            f.pair,
            f.started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            f.by,
            f.outcome,
            f.message
        )?;
    }
    Ok(())
}
