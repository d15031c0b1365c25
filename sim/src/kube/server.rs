//! The TLS accept loop of one simulated API server, with "site down":
//! taking the server down closes the listening socket (new connections are
//! refused) and cuts every open connection, live watches included; bringing
//! it up binds the same port again.
//!
//! This is a sibling of [`crate::tls::serve_tls`] rather than a user of it
//! because a lost site must also drop connections already open, which needs
//! a handle on each connection task.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

#[derive(Default)]
struct Slot {
    listener: Option<TcpListener>,
    /// While down, the port stays reserved (connects refused, nothing else
    /// can bind it), so coming back up on the same port cannot fail.
    parked: Option<crate::ontap::listeners::Parked>,
    waker: Option<Waker>,
}

/// A running accept loop; stops (and closes every connection) on drop.
pub struct Server {
    slot: Arc<Mutex<Slot>>,
    epoch: watch::Sender<u64>,
    runtime: tokio::runtime::Handle,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `127.0.0.1:0` and serves the router `make_router` builds for
    /// the bound address, over TLS.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn start(
        acceptor: TlsAcceptor,
        make_router: impl FnOnce(SocketAddr) -> axum::Router,
    ) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding 127.0.0.1:0 for the simulated Kubernetes API")?;
        let addr = listener.local_addr()?;
        let router = make_router(addr);
        let slot = Arc::new(Mutex::new(Slot {
            listener: Some(listener),
            parked: None,
            waker: None,
        }));
        let (epoch, _) = watch::channel(0u64);
        let task = tokio::spawn(accept_loop(slot.clone(), epoch.clone(), acceptor, router));
        Ok(Self {
            slot,
            epoch,
            runtime: tokio::runtime::Handle::current(),
            addr,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the server is down.
    pub fn is_down(&self) -> bool {
        lock(&self.slot).listener.is_none()
    }

    /// Takes the server down (`true`) or brings it back up (`false`).
    ///
    /// # Errors
    /// When the port cannot be bound again.
    pub fn set_down(&self, down: bool) -> Result<()> {
        let mut slot = lock(&self.slot);
        if down {
            if slot.listener.take().is_some() {
                slot.parked = crate::ontap::listeners::Parked::reserve(self.addr);
            }
            self.epoch.send_modify(|e| *e += 1);
        } else if slot.listener.is_none() {
            let std_listener = std::net::TcpListener::bind(self.addr).with_context(|| {
                format!(
                    "binding {} again to bring the simulated Kubernetes API up",
                    self.addr
                )
            })?;
            std_listener.set_nonblocking(true)?;
            let _guard = self.runtime.enter();
            slot.listener = Some(TcpListener::from_std(std_listener)?);
            slot.parked = None;
        }
        if let Some(w) = slot.waker.take() {
            w.wake();
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        lock(&self.slot).listener = None;
        self.epoch.send_modify(|e| *e += 1);
        self.task.abort();
    }
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(
    slot: Arc<Mutex<Slot>>,
    epoch: watch::Sender<u64>,
    acceptor: TlsAcceptor,
    router: axum::Router,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use tower::ServiceExt;

    loop {
        let accepted = poll_fn(|cx| {
            let mut s = lock(&slot);
            s.waker = Some(cx.waker().clone());
            match &s.listener {
                Some(l) => l.poll_accept(cx),
                None => Poll::Pending,
            }
        })
        .await;
        let (tcp, peer) = match accepted {
            Ok(conn) => conn,
            Err(err) => {
                tracing::debug!(%err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let mut cut = epoch.subscribe();
        tokio::spawn(async move {
            let tls = tokio::select! {
                tls = acceptor.accept(tcp) => match tls {
                    Ok(tls) => tls,
                    Err(err) => {
                        tracing::debug!(%err, %peer, "TLS handshake failed");
                        return;
                    }
                },
                _ = cut.changed() => return,
            };
            let service =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    router.clone().oneshot(req.map(axum::body::Body::new))
                });
            let builder = Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            tokio::select! {
                res = conn => {
                    if let Err(err) = res {
                        tracing::debug!(%err, %peer, "connection ended with an error");
                    }
                }
                _ = cut.changed() => tracing::debug!(%peer, "connection cut: server down"),
            }
        });
    }
}
