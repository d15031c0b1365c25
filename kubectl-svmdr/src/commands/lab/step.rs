//! Running one `kubectl svmdr` command of the drill: this same executable,
//! with the lab's `KUBECONFIG` and `SVMDR_CONFIG`, stdin closed, bounded in
//! time, its stderr echoed (indented) as it is, its stdout kept.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;
use sim::lab::LabFiles;

/// How a step's command ended.
#[derive(Debug)]
pub struct StepRun {
    /// Exit code (-1 for a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl StepRun {
    /// stdout as JSON, when it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.stdout).ok()
    }

    /// The last non-empty stderr line (the error, for a failed command).
    pub fn last_error(&self) -> String {
        self.stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

/// Runs the drill's `kubectl svmdr` commands against the lab (this executable).
#[derive(Debug, Clone)]
pub struct StepRunner {
    exe: PathBuf,
    kubeconfig: PathBuf,
    config: PathBuf,
    /// Echo the commands' stderr.
    pub echo: bool,
}

impl StepRunner {
    /// For the lab's files.
    ///
    /// # Errors
    /// When this executable cannot be found.
    pub fn new(files: &LabFiles, echo: bool) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating kubectl-svmdr itself")?;
        Ok(Self {
            exe,
            kubeconfig: files.kubeconfig.clone(),
            config: files.config.clone(),
            echo,
        })
    }

    /// The command for `args` (not started).
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.exe);
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("SVMDR_CONFIG", &self.config)
            .env_remove("SVMDR_ONTAP_USERNAME")
            .env_remove("SVMDR_ONTAP_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs `args` to the end (at most `limit`).
    ///
    /// # Errors
    /// When it cannot start or does not end in time.
    pub async fn run(&self, args: &[&str], limit: Duration) -> anyhow::Result<StepRun> {
        let t0 = Instant::now();
        let child = self
            .command(args)
            .spawn()
            .with_context(|| format!("starting {}", Path::new(&self.exe).display()))?;
        let out = tokio::time::timeout(limit, child.wait_with_output())
            .await
            .with_context(|| {
                format!(
                    "`kubectl svmdr {}` did not finish within {}",
                    args.join(" "),
                    humantime::format_duration(limit)
                )
            })??;
        let run = StepRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: t0.elapsed(),
        };
        if self.echo {
            for l in run.stderr.lines().filter(|l| !l.trim().is_empty()) {
                eprintln!("                    │ {l}");
            }
        }
        Ok(run)
    }
}
