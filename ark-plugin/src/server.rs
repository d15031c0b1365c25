//! go-plugin serving: pick the host protocol from the magic cookie, listen
//! on a unix socket (TCP on 127.0.0.1 as a fallback), register the services,
//! print the handshake line, and serve until the host calls Shutdown.
//!
//! Nothing here touches Kubernetes or ONTAP: the action builds its clients
//! on the first Execute that needs them, so the handshake comes fast.

use std::io::Write as _;
use std::path::PathBuf;
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

enum Listener {
    Unix(UnixListener, PathBuf),
    Tcp(TcpListener),
}

/// A unix socket in `$PLUGIN_UNIX_SOCKET_DIR`, else `$TMPDIR`, else `/tmp`;
/// if that fails (read-only or too long a path), TCP on 127.0.0.1 within
/// `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`.
async fn listen() -> Result<Listener> {
    let dir = ["PLUGIN_UNIX_SOCKET_DIR", "TMPDIR"]
        .iter()
        .filter_map(|k| std::env::var_os(k))
        .find(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path = dir.join(format!("plugin-svmdr-{}-{nanos:08x}", std::process::id()));
    match UnixListener::bind(&path) {
        Ok(l) => return Ok(Listener::Unix(l, path)),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "cannot bind a unix socket; using TCP")
        }
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
        if let Ok(l) = TcpListener::bind(("127.0.0.1", p)).await {
            return Ok(Listener::Tcp(l));
        }
    }
    TcpListener::bind(("127.0.0.1", 0))
        .await
        .map(Listener::Tcp)
        .context("cannot listen on a unix socket nor on 127.0.0.1")
}

/// Serves until Shutdown. Prints the handshake on stdout once listening.
///
/// # Errors
/// Only if no listener can be opened or stdout is closed.
pub async fn serve(host: Host) -> Result<()> {
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

    let listener = listen().await?;
    let (network, addr) = match &listener {
        Listener::Unix(_, p) => ("unix", p.display().to_string()),
        Listener::Tcp(l) => ("tcp", l.local_addr()?.to_string()),
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", handshake_line(host, network, &addr))
            .context("writing the handshake to stdout")?;
        out.flush().context("flushing the handshake")?;
    }
    tracing::debug!(network, address = %addr, "serving");

    let signal = {
        let s = shutdown.clone();
        async move { s.fired().await }
    };
    let served = async {
        match listener {
            Listener::Unix(l, path) => {
                let r = router
                    .serve_with_incoming_shutdown(UnixListenerStream::new(l), signal)
                    .await;
                let _ = std::fs::remove_file(&path);
                r
            }
            Listener::Tcp(l) => {
                router
                    .serve_with_incoming_shutdown(TcpListenerStream::new(l), signal)
                    .await
            }
        }
    };
    // Exit promptly after Shutdown even if a connection lingers.
    tokio::select! {
        r = served => r.context("gRPC server failed")?,
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
