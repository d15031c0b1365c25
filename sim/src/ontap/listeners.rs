//! TCP listeners the lab can close synchronously: the per-cluster API
//! listeners (closed while a cluster is "down") and the data LIF probe
//! listeners (bound exactly while a LIF serves).
//!
//! The tokio listener sits in a shared slot that the accept loop polls
//! without holding the lock across an await, so closing a slot drops the
//! socket at once: the next connect is refused, with no race against a
//! background task.

use std::collections::{BTreeMap, BTreeSet};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

type Shared = Arc<Mutex<Option<TcpListener>>>;

/// An open listener and its accept loop.
pub struct Slot {
    listener: Shared,
    task: JoinHandle<()>,
    /// The bound address.
    pub addr: SocketAddr,
}

impl Slot {
    /// Binds `addr` (synchronously) and runs `on_conn` for each connection.
    pub fn bind<F>(handle: &Handle, addr: SocketAddr, on_conn: F) -> std::io::Result<Slot>
    where
        F: Fn(TcpStream, SocketAddr) + Send + 'static,
    {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let bound = std_listener.local_addr()?;
        let listener = {
            let _guard = handle.enter();
            TcpListener::from_std(std_listener)?
        };
        let shared: Shared = Arc::new(Mutex::new(Some(listener)));
        let for_task = shared.clone();
        let task = handle.spawn(async move {
            loop {
                let next = poll_fn(|cx| {
                    let guard = for_task.lock().unwrap_or_else(|e| e.into_inner());
                    match guard.as_ref() {
                        None => Poll::Ready(None),
                        Some(l) => l.poll_accept(cx).map(Some),
                    }
                })
                .await;
                match next {
                    None => return,
                    Some(Ok((stream, peer))) => on_conn(stream, peer),
                    Some(Err(err)) => tracing::debug!(%err, "accept failed"),
                }
            }
        });
        Ok(Slot {
            listener: shared,
            task,
            addr: bound,
        })
    }

    /// Closes the socket now and stops the accept loop.
    pub fn close(self) {
        drop(
            self.listener
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        self.task.abort();
    }
}

/// Every listener of a lab.
#[derive(Default)]
pub struct Listeners {
    /// Cluster key → API listener (absent while the cluster is down).
    pub api: BTreeMap<String, Slot>,
    /// (ip, port) → data LIF probe listener.
    pub data: BTreeMap<(String, u16), Slot>,
    /// Data listeners that failed to bind (warned once).
    pub failed: BTreeSet<(String, u16)>,
    /// Set when the lab stops: nothing binds any more.
    pub closed: bool,
}

impl Listeners {
    /// Opens and closes data listeners to match `desired`.
    pub fn reconcile_data(&mut self, handle: &Handle, desired: &[(String, u16)]) {
        if self.closed {
            return;
        }
        let stale: Vec<(String, u16)> = self
            .data
            .keys()
            .filter(|k| !desired.contains(k))
            .cloned()
            .collect();
        for k in stale {
            if let Some(slot) = self.data.remove(&k) {
                slot.close();
            }
        }
        self.failed.retain(|k| desired.contains(k));
        for (ip, port) in desired {
            let key = (ip.clone(), *port);
            if self.data.contains_key(&key) || self.failed.contains(&key) {
                continue;
            }
            let Ok(ip_addr) = ip.parse::<std::net::IpAddr>() else {
                continue;
            };
            match Slot::bind(handle, SocketAddr::new(ip_addr, *port), |stream, _| {
                drop(stream)
            }) {
                Ok(slot) => {
                    self.data.insert(key, slot);
                }
                Err(err) => {
                    tracing::warn!(%err, ip, port, "cannot bind a data LIF probe listener");
                    self.failed.insert(key);
                }
            }
        }
    }

    /// Closes everything.
    pub fn close_all(&mut self) {
        self.closed = true;
        for (_, s) in std::mem::take(&mut self.api) {
            s.close();
        }
        for (_, s) in std::mem::take(&mut self.data) {
            s.close();
        }
    }
}
