//! The state every cluster server, the ticker and [`super::Control`] share:
//! the world, the listeners, the runtime and the lab's TLS identity.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use tokio::runtime::Handle;
use tokio_rustls::TlsAcceptor;

use super::listeners::{Listeners, Slot};
use super::world::World;
use crate::tls::Identity;

/// State shared by every cluster server, the ticker and [`super::Control`].
pub struct Shared {
    /// The world.
    pub world: Mutex<World>,
    /// Every listener.
    pub listeners: Mutex<Listeners>,
    /// The runtime the lab runs on.
    pub handle: Handle,
    /// TLS for every cluster.
    pub acceptor: TlsAcceptor,
    /// The lab CA.
    pub identity: Identity,
}

impl Shared {
    /// Locks the world (a poisoned lock is recovered: the world has no
    /// invariants a panicking handler could half-apply across a lock).
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the listeners.
    pub fn listeners(&self) -> MutexGuard<'_, Listeners> {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Advances time and brings data LIF listeners in line with the world.
    pub fn sync(&self) {
        let desired = {
            let mut w = self.world();
            w.tick();
            w.data_listeners()
        };
        self.listeners().reconcile_data(&self.handle, &desired);
    }

    /// Opens the API listener of `cluster` on `port` (0 = ephemeral).
    pub fn open_api(&self, cluster: &str, port: u16) -> std::io::Result<u16> {
        let mut ls = self.listeners();
        if ls.closed {
            return Ok(port);
        }
        if let Some(slot) = ls.api.get(cluster) {
            return Ok(slot.addr.port());
        }
        let Some(serve) = ls.api_serve.get(cluster).cloned() else {
            return Err(std::io::Error::other(format!(
                "cluster {cluster} has no API server (start it with server::serve_cluster)"
            )));
        };
        let slot = Slot::bind(
            &self.handle,
            SocketAddr::from(([127, 0, 0, 1], port)),
            move |tcp, peer| serve(tcp, peer),
        )?;
        let bound = slot.addr.port();
        ls.parked_api.remove(cluster);
        ls.api.insert(cluster.to_string(), slot);
        Ok(bound)
    }

    /// Closes the API listener of `cluster` (connections are refused; the
    /// port stays reserved for its return).
    pub fn close_api(&self, cluster: &str) {
        let mut ls = self.listeners();
        if let Some(parked) = ls.api.remove(cluster).and_then(Slot::park) {
            ls.parked_api.insert(cluster.to_string(), parked);
        }
    }
}
