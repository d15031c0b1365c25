//! TCP listeners the lab can close synchronously: the per-cluster API
//! listeners (closed while a cluster is "down") and the data LIF probe
//! listeners (bound exactly while a LIF serves).
//!
//! The tokio listener sits in a shared slot that the accept loop polls
//! without holding the lock across an await, so closing a slot drops the
//! socket at once: the next connect is refused, with no race against a
//! background task.
//!
//! A closed listener's port stays reserved by a bound, non-listening socket
//! ([`Parked`]): connects are still refused (the kernel answers RST), but no
//! other socket (another lab's listener, or a client connection's ephemeral
//! local port) can take the port while the cluster or LIF is down, so
//! bringing it back on the same port cannot fail.

use std::collections::{BTreeMap, BTreeSet};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

type Shared = Arc<Mutex<Option<TcpListener>>>;

/// How a listener serves each connection it accepts.
pub type Serve = Arc<dyn Fn(TcpStream, SocketAddr) + Send + Sync>;

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

    /// Closes the socket (connects are refused from now on) but keeps its
    /// port reserved until the returned [`Parked`] is dropped.
    pub fn park(self) -> Option<Parked> {
        let addr = self.addr;
        self.close();
        Parked::reserve(addr)
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

/// A port held by a bound socket that does not listen: connects to it are
/// refused, and nothing else can bind it (both sides set `SO_REUSEADDR`, so
/// the listener that comes back may bind while this is still held).
pub struct Parked {
    _socket: TcpSocket,
}

impl Parked {
    /// Binds `addr` without listening; `None` (logged) if the port was taken
    /// in the instant since the listener closed.
    pub(crate) fn reserve(addr: SocketAddr) -> Option<Parked> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        };
        let bound = socket.and_then(|s| {
            s.set_reuseaddr(true)?;
            s.bind(addr)?;
            Ok(s)
        });
        match bound {
            Ok(socket) => Some(Parked { _socket: socket }),
            Err(err) => {
                tracing::warn!(%err, %addr, "cannot reserve the port of a closed listener");
                None
            }
        }
    }
}

/// Every listener of a lab.
#[derive(Default)]
pub struct Listeners {
    /// Cluster key → API listener (absent while the cluster is down).
    pub api: BTreeMap<String, Slot>,
    /// Cluster key → the reserved port of a cluster that is down.
    pub parked_api: BTreeMap<String, Parked>,
    /// Cluster key → how its API listener serves (kept across outages).
    pub api_serve: BTreeMap<String, Serve>,
    /// (ip, port) → data LIF probe listener.
    pub data: BTreeMap<(String, u16), Slot>,
    /// (ip, port) → the reserved port of a LIF that is down.
    pub parked_data: BTreeMap<(String, u16), Parked>,
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
            if let Some(parked) = self.data.remove(&k).and_then(Slot::park) {
                self.parked_data.insert(k, parked);
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
                    self.parked_data.remove(&key);
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
        self.parked_api.clear();
        self.parked_data.clear();
        self.api_serve.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_parked_port_refuses_connects_holds_the_port_and_reopens() {
        let handle = Handle::current();
        let slot = Slot::bind(&handle, "127.0.0.1:0".parse().unwrap(), |s, _| drop(s)).unwrap();
        let addr = slot.addr;
        assert!(std::net::TcpStream::connect(addr).is_ok());

        let parked = slot.park().expect("port reserved");
        let refused = std::net::TcpStream::connect(addr).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        // Nobody else gets the port meanwhile (a plain bind, as a client's
        // ephemeral port or another server would take it).
        let other = TcpSocket::new_v4().unwrap();
        assert!(other.bind(addr).is_err(), "the parked port was taken");

        // The listener comes back on the same port while still parked.
        let again = Slot::bind(&handle, addr, |s, _| drop(s)).expect("rebind");
        drop(parked);
        assert!(std::net::TcpStream::connect(addr).is_ok());
        again.close();
    }
}
