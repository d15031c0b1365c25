//! go-plugin serving: pick the host protocol from the magic cookie, listen
//! on a unix socket (TCP on 127.0.0.1 as a fallback), register the services,
//! print the handshake line, and serve until the host calls Shutdown.
//!
//! Nothing here touches Kubernetes or ONTAP: the action builds its clients
//! on the first Execute that needs them, so the handshake comes fast.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::net::{TcpListener, UnixListener};
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::action::Actions;
use crate::goplugin::{Broker, Controller, ShutdownSignal, Stdio};
use crate::lister::Lister;
use crate::proto::{ark, generated, plugin};
use crate::ria::RestoreItemActionService;
use crate::storage::Storage;

/// go-plugin's core protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// Largest message accepted or sent (go-plugin hosts allow MaxInt32).
pub const MAX_MESSAGE: usize = i32::MAX as usize;
/// After Shutdown, how long in-flight calls may take before the process exits
/// anyway (the host SIGKILLs after 2 s).
const DRAIN: Duration = Duration::from_millis(800);

/// Which plugin host started us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// Velero >= 1.0: `VELERO_PLUGIN=hello`, app protocol 2.
    Velero,
    /// Heptio Ark v0.10: `ARK_PLUGIN=hello`, app protocol 1.
    Ark,
}

impl Host {
    /// Reads the magic cookie; `None` when run by hand.
    pub fn from_env() -> Option<Self> {
        let is_hello = |k: &str| std::env::var(k).is_ok_and(|v| v == "hello");
        if is_hello("VELERO_PLUGIN") {
            Some(Self::Velero)
        } else if is_hello("ARK_PLUGIN") {
            Some(Self::Ark)
        } else {
            None
        }
    }

    /// The app protocol version printed in the handshake.
    pub fn app_version(self) -> u32 {
        match self {
            Self::Velero => 2,
            Self::Ark => 1,
        }
    }
}

/// The message printed when the binary is run outside a plugin host.
pub const NOT_A_HOST: &str = "This binary is a Velero plugin (velero-plugin-svmdr). It is not meant to be \
executed directly: Velero runs it from its plugin directory. Install it with \
`velero plugin add <registry>/velero-plugin-svmdr:<version>`; see the plugin README.";

/// The handshake line (without the newline).
pub fn handshake_line(host: Host, network: &str, addr: &str) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{}|{network}|{addr}|grpc",
        host.app_version()
    )
}

/// The socket the plugin serves on, bound before the handshake is printed.
pub enum Listener {
    /// A unix socket and its path (removed at exit).
    Unix(std::os::unix::net::UnixListener, PathBuf),
    /// TCP on 127.0.0.1.
    Tcp(std::net::TcpListener),
}

impl Listener {
    /// A unix socket in `$PLUGIN_UNIX_SOCKET_DIR`, else `$TMPDIR`, else `/tmp`;
    /// if that fails (read-only, or too long a path), TCP on 127.0.0.1 within
    /// `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`. Synchronous and cheap, so the
    /// handshake can be printed before anything else is set up.
    ///
    /// # Errors
    /// When neither a unix socket nor a loopback TCP port can be bound.
    pub fn bind() -> Result<Self> {
        let dir = ["PLUGIN_UNIX_SOCKET_DIR", "TMPDIR"]
            .iter()
            .filter_map(std::env::var_os)
            .find(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!("plugin-svmdr-{}-{nanos:08x}", std::process::id()));
        if let Ok(l) = std::os::unix::net::UnixListener::bind(&path) {
            return Ok(Self::Unix(l, path));
        }
        let port = |k: &str, d: u16| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse::<u16>().ok())
                .unwrap_or(d)
        };
        let (min, max) = (
            port("PLUGIN_MIN_PORT", 10000),
            port("PLUGIN_MAX_PORT", 25000),
        );
        for p in min..=max.max(min) {
            if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", p)) {
                return Ok(Self::Tcp(l));
            }
        }
        std::net::TcpListener::bind(("127.0.0.1", 0))
            .map(Self::Tcp)
            .context("cannot listen on a unix socket nor on 127.0.0.1")
    }

    /// `unix` or `tcp`, and the address, for the handshake.
    pub fn network_and_address(&self) -> (&'static str, String) {
        match self {
            Self::Unix(_, p) => ("unix", p.display().to_string()),
            Self::Tcp(l) => (
                "tcp",
                l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            ),
        }
    }

    /// Prints the go-plugin handshake line on stdout and flushes it.
    ///
    /// # Errors
    /// When stdout is closed.
    pub fn announce(&self, host: Host) -> Result<()> {
        let (network, addr) = self.network_and_address();
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", handshake_line(host, network, &addr))
            .context("writing the handshake to stdout")?;
        out.flush().context("flushing the handshake")
    }
}

/// The whole plugin life: listen and print the handshake first (the host
/// waits for that line, and nothing else needs to exist before it), then
/// logging, the runtime and the services; serve until Shutdown.
pub fn run(host: Host, log_level: Option<&str>) -> ExitCode {
    let listener = match Listener::bind().and_then(|l| l.announce(host).map(|()| l)) {
        Ok(l) => l,
        Err(e) => {
            let line = crate::logging::render_line(
                "error",
                &format!("{e:#}"),
                "server.rs",
                serde_json::Map::new(),
            );
            eprint!("{line}");
            return ExitCode::FAILURE;
        }
    };
    crate::logging::init(log_level);
    // One thread serves Velero's sequential calls; blocking work (DNS) goes
    // to tokio's blocking pool. Small and fast to start.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(host, listener));
    // Do not wait for idle blocking threads (DNS) to wind down.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Serves on `listener` (already announced) until Shutdown. Must run inside
/// a tokio runtime.
///
/// # Errors
/// Only if the listener cannot be handed to tokio or the server fails.
pub async fn serve(host: Host, listener: Listener) -> Result<()> {
    let shutdown = ShutdownSignal::new();
    let storage = Arc::new(Storage::new(Storage::velero_namespace_from_env()));
    let ria = RestoreItemActionService::new(Arc::new(Actions::new(storage)));
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", ServingStatus::Serving)
        .await;

    let mut router = Server::builder()
        .add_service(health_service)
        .add_service(
            generated::plugin_lister_server::PluginListerServer::new(Lister {
                command: Lister::command_from_env(),
            })
            .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(plugin::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(plugin::grpc_broker_server::GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }));
    router = match host {
        Host::Velero => router.add_service(
            generated::restore_item_action_server::RestoreItemActionServer::new(ria)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        ),
        Host::Ark => router.add_service(
            ark::restore_item_action_server::RestoreItemActionServer::new(ria)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        ),
    };

    // go-plugin plugins ignore SIGINT (the host stops them via Shutdown).
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            tracing::debug!("ignoring SIGINT");
        }
    });

    let (network, addr) = listener.network_and_address();
    tracing::debug!(network, address = %addr, "serving");
    let signal = {
        let s = shutdown.clone();
        async move { s.fired().await }
    };
    let served = async {
        match listener {
            Listener::Unix(l, path) => {
                l.set_nonblocking(true)?;
                let l = UnixListener::from_std(l)?;
                let r = router
                    .serve_with_incoming_shutdown(UnixListenerStream::new(l), signal)
                    .await;
                let _ = std::fs::remove_file(&path);
                r.context("gRPC server failed")
            }
            Listener::Tcp(l) => {
                l.set_nonblocking(true)?;
                let l = TcpListener::from_std(l)?;
                router
                    .serve_with_incoming_shutdown(TcpListenerStream::new(l), signal)
                    .await
                    .context("gRPC server failed")
            }
        }
    };
    // Exit promptly after Shutdown even if a connection lingers.
    tokio::select! {
        r = served => r?,
        () = async { shutdown.fired().await; tokio::time::sleep(DRAIN).await } => {
            tracing::debug!("connections still open after Shutdown; exiting anyway");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_lines() {
        assert_eq!(
            handshake_line(Host::Velero, "unix", "/tmp/p"),
            "1|2|unix|/tmp/p|grpc"
        );
        assert_eq!(
            handshake_line(Host::Ark, "tcp", "127.0.0.1:10000"),
            "1|1|tcp|127.0.0.1:10000|grpc"
        );
    }
}
