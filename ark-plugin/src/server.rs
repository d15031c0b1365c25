//! go-plugin serving: pick the host protocol from the magic cookie, listen
//! on a unix socket (TCP on 127.0.0.1 as a fallback), register the services,
//! print the handshake line, and serve until the host calls Shutdown.
//!
//! Nothing here touches Kubernetes or ONTAP: the action builds its clients
//! on the first Execute that needs them, so the handshake comes fast.

use std::io::Write as _;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::transport::Server;
use tonic::transport::server::Connected;
use tonic_health::ServingStatus;

use crate::action::Actions;
use crate::goplugin::{Broker, Controller, ShutdownSignal, Stdio};
use crate::lister::Lister;
use crate::proto::{ark, generated, plugin};
use crate::ria::RestoreItemActionService;
use crate::storage::DrStorage;

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
    let storage = Arc::new(DrStorage::new(DrStorage::velero_namespace_from_env()));
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
                let incoming = UnixListenerStream::new(l).map(|c| c.map(Coalesce::new));
                let r = router.serve_with_incoming_shutdown(incoming, signal).await;
                let _ = std::fs::remove_file(&path);
                r.context("gRPC server failed")
            }
            Listener::Tcp(l) => {
                l.set_nonblocking(true)?;
                let l = TcpListener::from_std(l)?;
                let incoming = TcpListenerStream::new(l).map(|c| {
                    c.map(|s| {
                        // Small frames go out at once (the coalescing is ours).
                        let _ = s.set_nodelay(true);
                        Coalesce::new(s)
                    })
                });
                router
                    .serve_with_incoming_shutdown(incoming, signal)
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

/// Writes up to this size are gathered; larger ones go straight through.
const COALESCE_MAX: usize = 8 * 1024;

/// A connection that gathers small writes, so that a gRPC response leaves
/// in one write. h2's encoder holds at most one DATA frame and flushes it
/// before it buffers the next frame, so a response would leave in two
/// writes (HEADERS+DATA, then the trailers), each waking the host's reader.
/// Here the first flush of a batch answers `Pending` and wakes its task at
/// once: the batch waits one scheduler tick, in which h2 (it flushes on
/// every poll of the connection) adds the trailers; the flush that follows
/// writes everything. As tokio's `AsyncWrite` asks, a flush is `Ready` only
/// once every byte written is in the socket. Writes of more than
/// [`COALESCE_MAX`] (large items) are not copied: what is gathered goes out
/// first, then they go through as they are. Shutdown writes what is
/// gathered, flushes, then shuts the socket down; drop writes what is left,
/// best effort.
pub struct Coalesce<S: TryWrite> {
    io: S,
    buf: Vec<u8>,
    /// The gathered bytes were already held back for one tick.
    held: bool,
}

/// A socket that can be written without a task context (for the drop path).
pub trait TryWrite {
    /// A non-blocking write.
    ///
    /// # Errors
    /// As the socket's `try_write`.
    fn try_write_now(&self, buf: &[u8]) -> std::io::Result<usize>;
}

impl TryWrite for tokio::net::UnixStream {
    fn try_write_now(&self, buf: &[u8]) -> std::io::Result<usize> {
        self.try_write(buf)
    }
}

impl TryWrite for tokio::net::TcpStream {
    fn try_write_now(&self, buf: &[u8]) -> std::io::Result<usize> {
        self.try_write(buf)
    }
}

impl<S: TryWrite> Coalesce<S> {
    /// Wraps an accepted connection.
    pub fn new(io: S) -> Self {
        Self {
            io,
            buf: Vec::new(),
            held: false,
        }
    }
}

impl<S: TryWrite + AsyncWrite + Unpin> Coalesce<S> {
    /// Writes out everything gathered.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while !self.buf.is_empty() {
            let n = std::task::ready!(Pin::new(&mut self.io).poll_write(cx, &self.buf))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.buf.drain(..n);
        }
        self.held = false;
        Poll::Ready(Ok(()))
    }
}

impl<S: TryWrite + AsyncRead + Unpin> AsyncRead for Coalesce<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<S: TryWrite + AsyncWrite + Unpin> AsyncWrite for Coalesce<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.poll_write_vectored(cx, &[std::io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if this.buf.len() + len <= COALESCE_MAX {
            for b in bufs {
                this.buf.extend_from_slice(b);
            }
            return Poll::Ready(Ok(len));
        }
        std::task::ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if !this.buf.is_empty() && !this.held {
            // Not flushed yet: wait one scheduler tick (the task is woken at
            // once), so what the writer buffers meanwhile joins the write.
            this.held = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        std::task::ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_drain(cx))?;
        std::task::ready!(Pin::new(&mut this.io).poll_flush(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

impl<S: TryWrite> Drop for Coalesce<S> {
    fn drop(&mut self) {
        let mut rest = &self.buf[..];
        while let Ok(n @ 1..) = self.io.try_write_now(rest) {
            rest = &rest[n..];
        }
    }
}

impl<S: TryWrite + Connected> Connected for Coalesce<S> {
    type ConnectInfo = S::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flush_returns_once_the_socket_has_every_byte() {
        // Failed before: the first flush answered Ready with the bytes
        // still gathered.
        use tokio::io::AsyncWriteExt as _;
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let mut peer = nonblocking_peer(b);
        let mut w = Coalesce::new(a);
        w.write_all(b"headers+data").await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(
            read_now(&mut peer).expect("flushed bytes are at the peer"),
            b"headers+data"
        );
    }

    /// The peer as a plain non-blocking socket: a read is a real `read(2)`
    /// (tokio's `try_read` answers from its readiness cache).
    fn nonblocking_peer(b: tokio::net::UnixStream) -> std::os::unix::net::UnixStream {
        let peer = b.into_std().unwrap();
        peer.set_nonblocking(true).unwrap();
        peer
    }

    /// What the socket holds now (`WouldBlock` when nothing).
    fn read_now(peer: &mut std::os::unix::net::UnixStream) -> std::io::Result<Vec<u8>> {
        use std::io::Read as _;
        let mut got = [0u8; 256];
        let n = peer.read(&mut got)?;
        Ok(got[..n].to_vec())
    }

    #[tokio::test]
    async fn writes_during_a_pending_flush_leave_in_the_same_write() {
        use tokio::io::AsyncWriteExt as _;
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let mut peer = nonblocking_peer(b);
        let mut w = Coalesce::new(a);
        w.write_all(b"headers+data").await.unwrap();
        let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut w).poll_flush(cx))).await;
        assert!(
            first.is_pending(),
            "the first flush of a batch waits a tick"
        );
        let nothing = read_now(&mut peer).map_err(|e| e.kind());
        assert_eq!(nothing, Err(std::io::ErrorKind::WouldBlock));
        w.write_all(b"|trailers").await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(read_now(&mut peer).unwrap(), b"headers+data|trailers");
    }

    #[tokio::test]
    async fn large_writes_pass_through_after_what_was_gathered() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (a, mut b) = tokio::net::UnixStream::pair().unwrap();
        let mut w = Coalesce::new(a);
        let big = vec![7u8; 3 * COALESCE_MAX];
        w.write_all(b"x").await.unwrap();
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            b.read_to_end(&mut all).await.unwrap();
            all
        });
        w.write_all(&big).await.unwrap();
        w.write_all(b"end").await.unwrap();
        // Shutdown sends what is still gathered.
        w.shutdown().await.unwrap();
        drop(w);
        let all = reader.await.unwrap();
        assert_eq!(all.len(), 1 + big.len() + 3);
        assert_eq!(all[0], b'x');
        assert!(all.ends_with(b"end"));
    }

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
