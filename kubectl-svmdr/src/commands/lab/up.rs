//! `kubectl svmdr lab up` / `lab down`: the simulated lab in the
//! foreground, its files (kubeconfig with `lab-primary`, `lab-dr` and
//! `lab-witness`,
//! `config.yaml` for `SVMDR_CONFIG`, the ONTAP CA) and a pid file in a
//! state dir; `down` signals that process (SIGTERM) and waits for it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sim::lab::app::{BACKUP, NAMESPACE};
use sim::lab::faults::LabFault;
use sim::lab::{
    DR_CONTEXT, DR_SVM, Lab, LabFiles, LabOptions, PRIMARY_CONTEXT, PRIMARY_SVM, WITNESS_CONTEXT,
    WITNESS_NAMESPACE,
};

use super::drill::TimingArg;
use super::plugin;
use crate::ctx::Ctx;
use crate::exit::Outcome;

const PID_FILE: &str = "lab.pid";
const ENV_FILE: &str = "lab.env";

/// Flags of `lab up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// State dir (default: <runtime or data dir>/kubectl-svmdr-lab).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The velero-plugin-svmdr binary for Velero restores (default: next to
    /// this executable, then $PATH; without it restores are not run).
    #[arg(long, value_name = "PATH")]
    pub plugin: Option<PathBuf>,
    /// How long simulated ONTAP work takes.
    #[arg(long, value_enum, default_value = "realistic")]
    pub timing: TimingArg,
}

/// Flags of `lab down`.
#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// State dir of the lab (as given to `lab up`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Longest wait for the lab to stop.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Whether process `pid` exists (`kill -0`) and is not a zombie.
fn alive(pid: u32) -> bool {
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        && let Some((_, rest)) = stat.rsplit_once(')')
        && rest.trim_start().starts_with('Z')
    {
        return false;
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn read_pid(dir: &Path) -> Option<u32> {
    std::fs::read_to_string(dir.join(PID_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn remove_files(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(PID_FILE));
    let _ = std::fs::remove_file(dir.join(ENV_FILE));
    let _ = std::fs::remove_file(dir.join(super::fault::SOCKET));
    for f in LabFiles::new(dir).written() {
        let _ = std::fs::remove_file(f);
    }
}

/// Runs the lab until Ctrl-C, SIGTERM or `lab down`.
///
/// # Errors
/// Another lab running in the same dir, or the lab failing to start.
pub fn up(args: UpArgs, _ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let dir = args.dir.clone().unwrap_or_else(super::default_dir);
    if let Some(pid) = read_pid(&dir)
        && alive(pid)
    {
        bail!(
            "a simulated lab is already running (pid {pid}, dir {}); stop it with `kubectl svmdr lab down{}`",
            dir.display(),
            args.dir
                .as_ref()
                .map(|d| format!(" --dir {}", d.display()))
                .unwrap_or_default()
        );
    }
    let plugin = match plugin::locate(args.plugin.as_deref()) {
        Ok(p) => Some(p),
        Err(e) if args.plugin.is_some() => return Err(e),
        Err(e) => {
            eprintln!("[simulated lab] warning: {e}; Velero restores will not run");
            None
        }
    };
    let rt = super::runtime()?;
    let opts = LabOptions {
        timing: Some(args.timing.timing()),
        plugin,
        dir: Some(dir.clone()),
        ..LabOptions::default()
    };
    let lab = std::sync::Arc::new(
        rt.block_on(Lab::start(opts))
            .context("starting the simulated lab")?,
    );
    {
        let _guard = rt.enter();
        super::fault::serve(&dir, lab.clone())?;
    }
    let pid = std::process::id();
    let env = format!(
        "export KUBECONFIG={}\nexport SVMDR_CONFIG={}\n",
        lab.files.kubeconfig.display(),
        lab.files.config.display()
    );
    std::fs::write(dir.join(PID_FILE), format!("{pid}\n")).context("writing the pid file")?;
    std::fs::write(dir.join(ENV_FILE), &env).context("writing the env file")?;
    {
        let mut w = std::io::stdout().lock();
        writeln!(
            w,
            "# SIMULATED lab is up (pid {pid}): two ONTAP clusters and three Kubernetes APIs (two sites and a witness) on 127.0.0.1, nothing real."
        )?;
        writeln!(
            w,
            "# ONTAP primary {} / dr {}; contexts {PRIMARY_CONTEXT} and {DR_CONTEXT}; app namespace {NAMESPACE}; Velero backup {BACKUP}.",
            lab.ontap.url("primary"),
            lab.ontap.url("dr")
        )?;
        writeln!(
            w,
            "# witness cluster: context {WITNESS_CONTEXT} ({}), namespace {WITNESS_NAMESPACE}; no Trident, no ONTAP.",
            lab.witness_kube.url()
        )?;
        write!(w, "{env}")?;
        writeln!(
            w,
            "# then, e.g.: kubectl svmdr peer --svm {PRIMARY_SVM} --dr-svm {DR_SVM} --yes && kubectl svmdr status"
        )?;
        let dir_flag = args
            .dir
            .as_ref()
            .map(|d| format!(" --dir {}", d.display()))
            .unwrap_or_default();
        writeln!(
            w,
            "# faults: kubectl svmdr lab fault {}{dir_flag}",
            LabFault::names()
        )?;
        writeln!(
            w,
            "# stop: kubectl svmdr lab down{dir_flag} (or Ctrl-C here)"
        )?;
        w.flush()?;
    }
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    eprintln!("[simulated lab] stopping");
    drop(lab);
    rt.shutdown_timeout(Duration::from_secs(2));
    remove_files(&dir);
    eprintln!("[simulated lab] stopped");
    Ok(Outcome::Ok)
}

/// Stops the lab of `dir`.
///
/// # Errors
/// When it does not stop in time.
pub fn down(args: DownArgs) -> anyhow::Result<Outcome> {
    let dir = args.dir.clone().unwrap_or_else(super::default_dir);
    let Some(pid) = read_pid(&dir) else {
        eprintln!(
            "no simulated lab is running (no {PID_FILE} in {})",
            dir.display()
        );
        return Ok(Outcome::Unhealthy);
    };
    if !alive(pid) {
        remove_files(&dir);
        eprintln!("no simulated lab is running (pid {pid} is gone; stale files removed)");
        return Ok(Outcome::Unhealthy);
    }
    if let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) {
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !(text.contains("lab") && text.contains("up")) {
            bail!(
                "pid {pid} in {} is not a `lab up` process ({text}); not signalling it",
                dir.display()
            );
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("could not signal pid {pid}");
    }
    let t0 = Instant::now();
    while alive(pid) {
        if t0.elapsed() > args.timeout {
            bail!(
                "the lab (pid {pid}) did not stop within {}",
                humantime::format_duration(args.timeout)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("simulated lab (pid {pid}) stopped");
    Ok(Outcome::Ok)
}
