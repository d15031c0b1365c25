//! The watcher's processes in a drill: two `svmdr-watcher run` replicas on
//! the DR site and the primary's `svmdr-watcher heartbeat`, the real binary
//! (next to this executable), against the lab's clusters and its witness;
//! each killed when dropped. Their logs go to the lab's state dir.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use sim::lab::{LabFiles, WITNESS_CONTEXT, WITNESS_NAMESPACE};

/// The watcher's namespace on the DR cluster in the drill.
pub(super) const NAMESPACE: &str = "svmdr";

/// The policy the drill's watcher runs with: seconds, not minutes.
pub(super) fn policy(mode: &str, max_data_loss: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": svmdr::watch::POLICY_CONFIGMAP, "namespace": NAMESPACE},
        "data": {
            "mode": mode,
            "interval": "1s",
            "gracePeriod": "4s",
            "witnessMaxAge": "3s",
            "maxDataLoss": max_data_loss,
            "restoreFromBackup": "latest",
            "svm": sim::lab::PRIMARY_SVM,
            "drSvm": sim::lab::DR_SVM,
        }
    })
}

/// One process.
pub(super) struct Proc {
    /// Its name (a replica's identity).
    pub name: String,
    /// Where its metrics are served (replicas only).
    pub port: Option<u16>,
    child: tokio::process::Child,
}

impl Proc {
    /// Kills it now (SIGKILL: no goodbye, as a node lost).
    pub fn kill(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts the drill's watcher processes.
pub(super) struct Procs {
    exe: PathBuf,
    files: LabFiles,
    /// The drill's runtime: the children are tokio processes, spawned and
    /// reaped on it.
    rt: tokio::runtime::Handle,
}

impl Procs {
    /// For the lab's files; the binary next to this executable.
    ///
    /// # Errors
    /// The binary is missing.
    pub fn new(files: &LabFiles, rt: tokio::runtime::Handle) -> anyhow::Result<Self> {
        let me = std::env::current_exe().context("locating kubectl-svmdr itself")?;
        let exe = me.with_file_name("svmdr-watcher");
        anyhow::ensure!(
            exe.exists(),
            "{} is missing: build it (cargo build -p watcher)",
            exe.display()
        );
        Ok(Self {
            exe,
            files: files.clone(),
            rt,
        })
    }

    fn command(&self, log: &Path) -> anyhow::Result<tokio::process::Command> {
        let log =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut c = tokio::process::Command::new(&self.exe);
        c.env("KUBECONFIG", &self.files.kubeconfig)
            .env_remove("RUST_LOG")
            .env_remove("POD_NAME")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true);
        Ok(c)
    }

    fn witness_args(&self) -> Vec<String> {
        vec![
            "--witness-kubeconfig".into(),
            self.files.kubeconfig.display().to_string(),
            "--witness-context".into(),
            WITNESS_CONTEXT.into(),
            "--witness-namespace".into(),
            WITNESS_NAMESPACE.into(),
        ]
    }

    /// The primary's heartbeat, renewing every 500 ms.
    ///
    /// # Errors
    /// It cannot start.
    pub fn heartbeat(&self) -> anyhow::Result<Proc> {
        let name = "heartbeat-primary";
        let mut c = self.command(&self.files.dir.join(format!("{name}.log")))?;
        c.arg("heartbeat")
            .args(self.witness_args())
            .args(["--identity", name, "--every", "500ms"]);
        let child = {
            let _rt = self.rt.enter();
            c.spawn().context("starting the heartbeat")?
        };
        Ok(Proc {
            name: name.into(),
            port: None,
            child,
        })
    }

    /// A watcher replica named `name`.
    ///
    /// # Errors
    /// It cannot start, or does not say where it listens within 20 s.
    pub fn replica(&self, name: &str) -> anyhow::Result<Proc> {
        let log = self.files.dir.join(format!("{name}.log"));
        let mut c = self.command(&log)?;
        c.arg("run")
            .args(["--config", &self.files.config.display().to_string()])
            .args(["--namespace", NAMESPACE])
            .args(self.witness_args())
            // Port 0: the kernel picks a free one (no race between replicas
            // or parallel drills); the replica logs the address it bound.
            .args(["--listen", "127.0.0.1:0"])
            .args(["--identity", name])
            .args(["--request-timeout", "2s", "--leader-lease", "3s"]);
        let child = {
            let _rt = self.rt.enter();
            c.spawn().with_context(|| format!("starting {name}"))?
        };
        let port = bound_port(&log, Duration::from_secs(20)).with_context(|| {
            format!(
                "{name} did not say where it listens (see {})",
                log.display()
            )
        })?;
        Ok(Proc {
            name: name.into(),
            port: Some(port),
            child,
        })
    }
}

/// The port in the replica's `svmdr-watcher started listen=127.0.0.1:PORT`
/// log line, waiting up to `limit` for it.
fn bound_port(log: &Path, limit: Duration) -> Option<u16> {
    let t = std::time::Instant::now();
    while t.elapsed() < limit {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let port = text
            .lines()
            .filter(|l| l.contains("svmdr-watcher started"))
            .find_map(|l| l.split("listen=127.0.0.1:").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok());
        if port.is_some() {
            return port;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// `GET /metrics` of a replica (empty when it does not answer in time).
pub(super) async fn metrics(port: u16) -> String {
    sim::lab::local_http::get(port, "/metrics", Duration::from_secs(2))
        .await
        .unwrap_or_default()
}

pub(super) use sim::lab::local_http::sample;
