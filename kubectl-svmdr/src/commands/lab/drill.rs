//! `kubectl svmdr lab drill`: starts the simulated lab in this process and
//! runs the seed scenario through the real commands (this executable, as a
//! user would run it, with `--yes`): peer (with the baseline transfer),
//! status, writes on the primary and a sync, the primary site lost,
//! failover, the Velero restore (the lab's runner calls the real plugin),
//! status on DR, the primary back, reverse resync, failback. Each check
//! reads the simulated storage or clusters directly. Prints each step as it
//! happens (stderr), then the summary (stdout).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sim::lab::app::{NAMESPACE, VOLUMES};
use sim::lab::drill::{DrillFault, DrillReport, Scenario};
use sim::lab::{Lab, LabOptions};
use sim::ontap::{Control, Timing};

use super::step::StepRunner;
use super::{plugin, value_name};
use crate::ctx::Ctx;
use crate::exit::Outcome;
use runner::{Drill, say};

mod restore;
mod runner;
mod sequence;
mod watcher;
mod watcher_procs;

/// `--timing`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TimingArg {
    /// Jobs take tens of milliseconds, transfers 100 ms (the drill takes seconds).
    #[default]
    Fast,
    /// Jobs take seconds, transfers 5 s (closer to a real cluster).
    Realistic,
}

impl TimingArg {
    /// The simulator timing.
    pub fn timing(self) -> Timing {
        match self {
            Self::Fast => Timing::fast(),
            Self::Realistic => Timing::realistic(),
        }
    }
}

/// Flags of `lab drill`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Inject a fault (repeatable).
    #[arg(long, value_enum, value_name = "FAULT")]
    pub fault: Vec<DrillFault>,
    /// Which situation to drill (how real Trident and Velero change the restore).
    #[arg(long, value_enum, default_value_t)]
    pub scenario: Scenario,
    /// The velero-plugin-svmdr binary (default: next to this executable, then $PATH).
    #[arg(long, value_name = "PATH")]
    pub plugin: Option<PathBuf>,
    /// How long simulated ONTAP work takes.
    #[arg(long, value_enum, default_value_t)]
    pub timing: TimingArg,
    /// Keep the lab's files (kubeconfig, config) in this dir instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Runs the drill.
///
/// # Errors
/// When the plugin is missing or the lab cannot start; failed checks are
/// not errors (exit 1 with the verdict).
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let plugin = plugin::locate(args.plugin.as_deref())?;
    let rt = super::runtime()?;
    let format = ctx.global.output;
    let armed: Arc<Mutex<Option<(Control, String)>>> = Arc::default();
    let hook_armed = armed.clone();
    let opts = LabOptions {
        timing: Some(args.timing.timing()),
        plugin: Some(plugin.clone()),
        dir: args.dir.clone(),
        on_restore_start: Some(Arc::new(move |_restore: &str| {
            let taken = hook_armed.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some((ctl, lif)) = taken {
                ctl.set_lif_down("dr", &lif, true);
                eprintln!(
                    "[simulated lab]  FAULT  DR data LIF {lif} is down as the restore starts"
                );
            }
        })),
        ..LabOptions::default()
    };
    let mut opts = opts;
    args.scenario.lab_options(&mut opts);
    let t0 = Instant::now();
    say(
        t0,
        &format!("starting the simulated lab (plugin {})", plugin.display()),
    );
    let lab = rt
        .block_on(Lab::start(opts))
        .context("starting the simulated lab")?;
    let cli = StepRunner::new(&lab.files, !format.is_machine())?;
    let (backup, setup) = args.scenario.prepare(&lab)?;
    let mut d = Drill {
        t0,
        rt: &rt,
        lab: &lab,
        cli,
        ctl: lab.ontap.control(),
        armed,
        faults: args.fault.clone(),
        scenario: args.scenario,
        backup: backup.clone(),
        report: DrillReport::new(
            value_name(&args.timing),
            args.fault.iter().map(value_name).collect(),
            value_name(&args.scenario),
        ),
    };
    d.phase("lab", "start the lab", t0.elapsed(), true, format!(
        "2 ONTAP clusters, 2 Kubernetes APIs with Trident and a witness API, app {NAMESPACE} ({} PVCs), Velero backup {backup}; scenario: {setup}",
        VOLUMES.len()
    ));
    let result = if args.scenario.is_watcher() {
        d.run_watcher_scenario()
    } else {
        d.run_scenario()
    };
    if let Err(e) = &result {
        d.phase(
            "aborted",
            "drill stopped",
            Duration::ZERO,
            false,
            format!("{e:#}"),
        );
    }
    d.report.wall_seconds = t0.elapsed().as_secs_f64();
    d.report.conclude();
    let report = d.report;
    drop(lab);
    rt.shutdown_timeout(Duration::from_secs(2));
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        crate::output::write_structured(&mut w, format, &report)?;
    } else {
        use std::io::Write as _;
        write!(w, "{}", super::report::render_text(&report))?;
    }
    Ok(if report.passed {
        Outcome::Ok
    } else {
        Outcome::Unhealthy
    })
}
