//! [`PluginHost`]: start a plugin, read its handshake, call it, stop it.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::Status;
use tonic::transport::{Channel, Endpoint, Uri};

use super::proto::{ark, generated, plugin, v2};

/// The `velero server` flags Velero passes on to every external plugin.
pub const VELERO_SERVER_ARGS: &[&str] = &[
    "--features=",
    "--uploader-type=kopia",
    "--log-level",
    "debug",
    "--default-volumes-to-fs-backup=false",
];

/// Failures of the host itself (not of an RPC).
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The binary could not be started.
    #[error("cannot start plugin {path}: {source}")]
    Start {
        /// Binary.
        path: String,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
    /// No handshake line in time, or the process ended first.
    #[error("plugin {path} gave no handshake within {waited:?}: {detail}; stderr: {stderr}")]
    NoHandshake {
        /// Binary.
        path: String,
        /// How long we waited.
        waited: Duration,
        /// What happened.
        detail: String,
        /// Its last stderr lines.
        stderr: String,
    },
    /// The handshake line is not what go-plugin accepts.
    #[error("plugin {path}: bad handshake line {line:?}: {detail}")]
    BadHandshake {
        /// Binary.
        path: String,
        /// The line.
        line: String,
        /// Why go-plugin would refuse it.
        detail: String,
    },
    /// The announced address could not be dialled.
    #[error("cannot connect to plugin at {addr}: {detail}")]
    Connect {
        /// Address.
        addr: String,
        /// Error.
        detail: String,
    },
    /// Waiting for the process failed.
    #[error("waiting for the plugin process: {0}")]
    Wait(#[source] std::io::Error),
}

/// A parsed go-plugin handshake line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The raw line (without the newline).
    pub line: String,
    /// Core protocol version (must be 1).
    pub core: u32,
    /// App protocol version (2 for Velero).
    pub app: u32,
    /// `unix` or `tcp`.
    pub network: String,
    /// Socket path or `host:port`.
    pub addr: String,
    /// `grpc`.
    pub protocol: String,
}

impl Handshake {
    /// Parses a line as go-plugin's client does (split on `|`, at least 4
    /// parts; this host also requires part 5 = `grpc`, as Velero does).
    ///
    /// # Errors
    /// A description of what go-plugin (or Velero) would reject.
    pub fn parse(line: &str) -> Result<Self, String> {
        let parts: Vec<&str> = line.splitn(6, '|').collect();
        if parts.len() < 4 {
            return Err(format!("Unrecognized remote plugin message: {line}"));
        }
        let core: u32 = parts[0]
            .parse()
            .map_err(|_| format!("core version {:?} is not a number", parts[0]))?;
        if core != 1 {
            return Err(format!(
                "Incompatible core API version with plugin: plugin {core}, host 1"
            ));
        }
        let app: u32 = parts[1]
            .parse()
            .map_err(|_| format!("app version {:?} is not a number", parts[1]))?;
        let network = parts[2].to_string();
        if network != "unix" && network != "tcp" {
            return Err(format!("unknown address type {network:?}"));
        }
        let protocol = parts.get(4).copied().unwrap_or("netrpc").to_string();
        if protocol != "grpc" {
            return Err(format!(
                "protocol {protocol:?} is not allowed (Velero allows only grpc)"
            ));
        }
        Ok(Self {
            line: line.to_string(),
            core,
            app,
            network,
            addr: parts[3].to_string(),
            protocol,
        })
    }
}

/// How the plugin process ended after [`PluginHost::shutdown`].
#[derive(Debug, Clone)]
pub struct ExitReport {
    /// Its exit status.
    pub status: ExitStatus,
    /// From the Shutdown call to process exit.
    pub after: Duration,
    /// Whether it had to be killed (did not exit within the grace period).
    pub killed: bool,
    /// The Shutdown RPC's error, if any.
    pub shutdown_error: Option<String>,
    /// Every stderr line the plugin wrote, read to the end.
    pub stderr: Vec<String>,
}

/// Knobs for [`PluginHost::spawn_with`].
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    /// App protocol the host speaks (2 = Velero); sets `PLUGIN_PROTOCOL_VERSIONS`.
    pub app_version: u32,
    /// Magic cookie (key, value); Velero's is `VELERO_PLUGIN=hello`.
    pub cookie: (String, String),
    /// How long to wait for the handshake (go-plugin: 1 minute).
    pub start_timeout: Duration,
    /// After Shutdown, how long before SIGKILL (go-plugin: 2 s).
    pub kill_grace: Duration,
    /// Keep stdin open (a pipe the host never closes) instead of `/dev/null`.
    pub stdin_open: bool,
    /// Use this as argv\[0\] (the `command` ListPlugins must echo).
    pub argv0: Option<String>,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        Self {
            app_version: 2,
            cookie: ("VELERO_PLUGIN".into(), "hello".into()),
            start_timeout: Duration::from_secs(60),
            kill_grace: Duration::from_secs(2),
            stdin_open: false,
            argv0: None,
        }
    }
}

/// One running plugin process and a gRPC channel to it.
pub struct PluginHost {
    child: Child,
    channel: Channel,
    path: PathBuf,
    handshake: Handshake,
    started: Instant,
    handshake_after: Duration,
    stderr: Arc<Mutex<Vec<String>>>,
    stderr_reader: Option<tokio::task::JoinHandle<()>>,
    kill_grace: Duration,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("path", &self.path)
            .field("handshake", &self.handshake)
            .finish_non_exhaustive()
    }
}

impl PluginHost {
    /// Starts `binary` as Velero does, with `env` added to this process's
    /// environment and `args` as its arguments (use [`VELERO_SERVER_ARGS`]).
    ///
    /// # Errors
    /// [`HostError`] when it does not start, handshake or accept a connection.
    pub async fn spawn(
        binary: impl AsRef<Path>,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Result<Self, HostError> {
        Self::spawn_with(binary, env, args, SpawnOptions::default()).await
    }

    /// [`Self::spawn`] with options.
    ///
    /// # Errors
    /// As [`Self::spawn`].
    pub async fn spawn_with(
        binary: impl AsRef<Path>,
        env: &[(&str, &str)],
        args: &[&str],
        opts: SpawnOptions,
    ) -> Result<Self, HostError> {
        let path =
            std::path::absolute(binary.as_ref()).unwrap_or_else(|_| binary.as_ref().to_path_buf());
        let shown = path.display().to_string();
        let mut cmd = Command::new(&path);
        if let Some(a0) = &opts.argv0 {
            cmd.arg0(a0);
        }
        cmd.args(args)
            .env(&opts.cookie.0, &opts.cookie.1)
            .env("PLUGIN_PROTOCOL_VERSIONS", opts.app_version.to_string())
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .stdin(if opts.stdin_open {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|source| HostError::Start {
            path: shown.clone(),
            source,
        })?;
        let stderr_lines = Arc::new(Mutex::new(Vec::new()));
        let mut stderr_reader = None;
        if let Some(err) = child.stderr.take() {
            let sink = stderr_lines.clone();
            stderr_reader = Some(tokio::spawn(async move {
                let mut lines = BufReader::new(err).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    sink.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(line);
                }
            }));
        }
        let Some(out) = child.stdout.take() else {
            return Err(HostError::NoHandshake {
                path: shown,
                waited: Duration::ZERO,
                detail: "no stdout pipe".into(),
                stderr: String::new(),
            });
        };
        let mut out = BufReader::new(out);
        let mut line = String::new();
        let read = tokio::time::timeout(opts.start_timeout, out.read_line(&mut line)).await;
        let handshake_after = started.elapsed();
        let tail = |lines: &Arc<Mutex<Vec<String>>>| {
            let l = lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            l.iter()
                .rev()
                .take(5)
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ")
        };
        match read {
            Err(_) => {
                return Err(HostError::NoHandshake {
                    path: shown,
                    waited: opts.start_timeout,
                    detail: "timed out".into(),
                    stderr: tail(&stderr_lines),
                });
            }
            Ok(Ok(0)) => {
                let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                // Give the stderr reader a moment to collect the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(HostError::NoHandshake {
                    path: shown,
                    waited: handshake_after,
                    detail: format!("stdout closed (exit: {status:?})"),
                    stderr: tail(&stderr_lines),
                });
            }
            Ok(Err(e)) => {
                return Err(HostError::NoHandshake {
                    path: shown,
                    waited: handshake_after,
                    detail: e.to_string(),
                    stderr: tail(&stderr_lines),
                });
            }
            Ok(Ok(_)) => {}
        }
        let line = line.trim_end_matches(['\n', '\r']).to_string();
        let handshake = Handshake::parse(&line).map_err(|detail| HostError::BadHandshake {
            path: shown.clone(),
            line: line.clone(),
            detail,
        })?;
        if handshake.app != opts.app_version {
            return Err(HostError::BadHandshake {
                path: shown,
                line,
                detail: format!(
                    "Incompatible API version with plugin: plugin {}, host {}",
                    handshake.app, opts.app_version
                ),
            });
        }
        // go-plugin drains stdout after the handshake.
        tokio::spawn(async move {
            let mut sink = tokio::io::sink();
            let _ = tokio::io::copy(&mut out, &mut sink).await;
        });
        let channel = connect(&handshake).await?;
        Ok(Self {
            child,
            channel,
            path,
            handshake,
            started,
            handshake_after,
            stderr: stderr_lines,
            stderr_reader,
            kill_grace: opts.kill_grace,
        })
    }

    /// The handshake the plugin printed.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// From process start to the handshake line.
    pub fn handshake_after(&self) -> Duration {
        self.handshake_after
    }

    /// When the process was started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The absolute path that was executed (what ListPlugins must return).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Every stderr line so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the process has exited (without waiting).
    pub fn try_exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The gRPC channel (for calls this host does not wrap).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// `PluginLister.ListPlugins`.
    ///
    /// # Errors
    /// The RPC's status.
    pub async fn list_plugins(&self) -> Result<Vec<generated::PluginIdentifier>, Status> {
        let mut c = generated::plugin_lister_client::PluginListerClient::new(self.channel.clone());
        Ok(c.list_plugins(generated::Empty {})
            .await?
            .into_inner()
            .plugins)
    }

    /// `AppliesTo` on the service of `kind` (`RestoreItemAction` or
    /// `RestoreItemActionV2`) for plugin `name`.
    ///
    /// # Errors
    /// The RPC's status; an unsupported kind is `InvalidArgument`.
    pub async fn applies_to(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<generated::ResourceSelector, Status> {
        let sel = match kind {
            "RestoreItemAction" => {
                let mut c = generated::restore_item_action_client::RestoreItemActionClient::new(
                    self.channel.clone(),
                );
                c.applies_to(generated::RestoreItemActionAppliesToRequest {
                    plugin: name.into(),
                })
                .await?
                .into_inner()
                .resource_selector
            }
            "RestoreItemActionV2" => {
                let mut c = v2::restore_item_action_client::RestoreItemActionClient::new(
                    self.channel.clone(),
                );
                c.applies_to(v2::RestoreItemActionAppliesToRequest {
                    plugin: name.into(),
                })
                .await?
                .into_inner()
                .resource_selector
            }
            other => {
                return Err(Status::invalid_argument(format!(
                    "this host does not speak kind {other}"
                )));
            }
        };
        Ok(sel.unwrap_or_default())
    }

    /// RestoreItemAction v1 `Execute`, with Velero's unlimited message sizes.
    ///
    /// # Errors
    /// The RPC's status.
    pub async fn execute(
        &self,
        name: &str,
        item: &[u8],
        restore: &[u8],
        item_from_backup: &[u8],
    ) -> Result<generated::RestoreItemActionExecuteResponse, Status> {
        let mut c = generated::restore_item_action_client::RestoreItemActionClient::new(
            self.channel.clone(),
        )
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
        Ok(c.execute(generated::RestoreItemActionExecuteRequest {
            plugin: name.into(),
            item: item.to_vec(),
            restore: restore.to_vec(),
            item_from_backup: item_from_backup.to_vec(),
        })
        .await?
        .into_inner())
    }

    /// Heptio Ark v0.10 `AppliesTo` (a flat selector answer).
    ///
    /// # Errors
    /// The RPC's status.
    pub async fn ark_applies_to(&self, name: &str) -> Result<ark::AppliesToResponse, Status> {
        let mut c =
            ark::restore_item_action_client::RestoreItemActionClient::new(self.channel.clone());
        Ok(c.applies_to(ark::AppliesToRequest {
            plugin: name.into(),
        })
        .await?
        .into_inner())
    }

    /// Heptio Ark v0.10 `Execute` (no itemFromBackup; answers item + warning).
    ///
    /// # Errors
    /// The RPC's status.
    pub async fn ark_execute(
        &self,
        name: &str,
        item: &[u8],
        restore: &[u8],
    ) -> Result<ark::RestoreExecuteResponse, Status> {
        let mut c =
            ark::restore_item_action_client::RestoreItemActionClient::new(self.channel.clone())
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX);
        Ok(c.execute(ark::RestoreExecuteRequest {
            plugin: name.into(),
            item: item.to_vec(),
            restore: restore.to_vec(),
        })
        .await?
        .into_inner())
    }

    /// `grpc.health.v1.Health/Check` for service `plugin`; true when SERVING.
    ///
    /// # Errors
    /// The RPC's status.
    pub async fn health(&self) -> Result<bool, Status> {
        use tonic_health::pb::{
            HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
        };
        let mut c = HealthClient::new(self.channel.clone());
        let r = c
            .check(HealthCheckRequest {
                service: "plugin".into(),
            })
            .await?
            .into_inner();
        Ok(r.status == ServingStatus::Serving as i32)
    }

    /// Opens `GRPCStdio.StreamStdio` as go-plugin >= 1.1 does; returns the stream.
    ///
    /// # Errors
    /// The RPC's status.
    pub async fn stdio(&self) -> Result<tonic::Streaming<plugin::StdioData>, Status> {
        let mut c = plugin::grpc_stdio_client::GrpcStdioClient::new(self.channel.clone());
        Ok(c.stream_stdio(()).await?.into_inner())
    }

    /// go-plugin's `Kill()`: `GRPCController.Shutdown`, then wait up to the
    /// grace period (2 s) and SIGKILL if the process is still there.
    ///
    /// # Errors
    /// Only when waiting for the process fails.
    pub async fn shutdown(mut self) -> Result<ExitReport, HostError> {
        let t0 = Instant::now();
        let mut c = plugin::grpc_controller_client::GrpcControllerClient::new(self.channel.clone());
        let shutdown_error = tokio::time::timeout(self.kill_grace, c.shutdown(plugin::Empty {}))
            .await
            .map_err(|_| "Shutdown did not answer".to_string())
            .and_then(|r| r.map(|_| ()).map_err(|s| s.to_string()))
            .err();
        let remaining = self.kill_grace.saturating_sub(t0.elapsed());
        let (status, killed) = match tokio::time::timeout(remaining, self.child.wait()).await {
            Ok(status) => (status.map_err(HostError::Wait)?, false),
            Err(_) => {
                let _ = self.child.start_kill();
                (self.child.wait().await.map_err(HostError::Wait)?, true)
            }
        };
        let after = t0.elapsed();
        if let Some(reader) = self.stderr_reader.take() {
            // The pipe closes with the process; bounded in case a grandchild holds it.
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        Ok(ExitReport {
            status,
            after,
            killed,
            shutdown_error,
            stderr: self.stderr_lines(),
        })
    }

    /// Kills the process at once (no Shutdown call).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn connect(h: &Handshake) -> Result<Channel, HostError> {
    let err = |detail: String| HostError::Connect {
        addr: h.addr.clone(),
        detail,
    };
    match h.network.as_str() {
        "unix" => {
            let path = PathBuf::from(&h.addr);
            // The URI is ignored by the connector; tonic needs a valid one.
            Endpoint::try_from("http://[::1]:1")
                .map_err(|e| err(e.to_string()))?
                .connect_timeout(Duration::from_secs(10))
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let path = path.clone();
                    async move {
                        Ok::<_, std::io::Error>(TokioIo::new(
                            tokio::net::UnixStream::connect(path).await?,
                        ))
                    }
                }))
                .await
                .map_err(|e| err(format!("{e:?}")))
        }
        _ => Endpoint::from_shared(format!("http://{}", h.addr))
            .map_err(|e| err(e.to_string()))?
            .connect_timeout(Duration::from_secs(10))
            .connect()
            .await
            .map_err(|e| err(format!("{e:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_parsing_follows_go_plugin() {
        let h = Handshake::parse("1|2|unix|/tmp/plugin1|grpc").unwrap();
        assert_eq!(
            (h.core, h.app, h.network.as_str(), h.addr.as_str()),
            (1, 2, "unix", "/tmp/plugin1")
        );
        assert!(Handshake::parse("1|2|tcp|127.0.0.1:10000|grpc|").is_ok());
        assert!(
            Handshake::parse("hello")
                .unwrap_err()
                .contains("Unrecognized")
        );
        assert!(
            Handshake::parse("2|2|unix|/x|grpc")
                .unwrap_err()
                .contains("core")
        );
        assert!(
            Handshake::parse("1|2|unix|/x")
                .unwrap_err()
                .contains("netrpc")
        );
        assert!(Handshake::parse("1|2|udp|/x|grpc").is_err());
    }
}
