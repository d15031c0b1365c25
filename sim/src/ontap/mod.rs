//! The stateful ONTAP REST simulator.
//!
//! [`OntapSim`] serves every cluster of a [`Topology`] over HTTPS on its own
//! `127.0.0.1` port, with one lab CA ([`OntapSim::ca_pem`]). It speaks the
//! subset of ONTAP's REST API an SVM-DR tool uses, with ONTAP's field names,
//! status codes and error bodies (`{"error":{"message","code","target"}}`,
//! `code` a string of digits), and it refuses what ONTAP refuses:
//!
//! - `/api/cluster`, `/api/cluster/nodes`, `/api/cluster/jobs/{uuid}`
//! - `/api/network/ip/interfaces` (intercluster LIF create, PATCH, DELETE)
//! - `/api/cluster/peers` (two-sided passphrase flow), `/api/svm/peer-permissions`
//! - `/api/svm/svms` (dp_destination create, start/stop as jobs), `/api/svm/peers`
//! - `/api/snapmirror/policies`, `/api/snapmirror/relationships[/{uuid}/transfers]`
//! - `/api/storage/volumes`, `/api/protocols/nfs/services`, `/api/protocols/san/iscsi/services`
//! - `/api/protocols/nfs/export-policies[/{id}[/rules[/{index}]]]` (GET, POST, DELETE),
//!   `/api/storage/luns` (GET)
//!
//! Collections honour `fields=` (keys only by default, `*`, `**`; a name
//! not in the resource's catalogue, `catalogue.rs`, is ONTAP's 400 with
//! code 262197), filters
//! (`name=svm*`, `state=!stopped`, `lag_time=>PT1H`, `a|b`), `order_by`,
//! `max_records` with `_links.next`, and `return_records`. POST/PATCH/DELETE
//! that ONTAP runs as jobs answer 202 with a job link (or 200/201 when
//! `return_timeout` covers the job); the change is applied when the job
//! succeeds. Job progress and transfers follow [`Timing`].
//!
//! Auth: HTTP basic against the topology accounts, or a client certificate
//! from [`OntapSim::client_cert`] (CN = user). SVM-scoped (`vsadmin`)
//! accounts get 403 (code 6) on cluster-level calls and see only their SVM.
//!
//! Data LIFs: while a data LIF serves (enabled, not switched down, its SVM
//! running and not a dp_destination, its cluster up), the simulator listens
//! on (LIF ip, probe port): NFS LIFs on the NFS port, iSCSI LIFs on the
//! iSCSI port ([`OntapSim::probe_ports`]). Listeners open and close
//! synchronously with the state change that causes them.
//!
//! # Lab controls over HTTP (`/_sim`, no auth, on every cluster port)
//! Each takes an optional `"cluster"` (key or name) to act on another cluster.
//! - `GET /_sim/state`: a JSON dump of the lab.
//! - `GET /_sim/requests`: `/api` request counts (total and per path).
//! - `POST /_sim/faults` `{"kind":"http500"|"delay"|"drop_connection"|"job_failure",
//!   "method":"PATCH","path_contains":"/snapmirror","times":1,"delay_ms":500,"code":13303812,"message":"..."}`
//! - `DELETE /_sim/faults`
//! - `POST /_sim/down` `{"down":true}`: the cluster's API refuses connections;
//!   bring it back with `{"cluster":"primary","down":false}` sent to another
//!   cluster's port (or [`Control::set_cluster_down`]).
//! - `POST /_sim/lifs/{name}/down` `{"down":true}`
//! - `POST /_sim/volumes/{svm}/{volume}/writes` `{"bytes":4096}` → `{"id":N}`
//! - `GET /_sim/volumes/{svm}/{volume}`: the writes a volume holds.
//!
//! # Example
//! ```text
//! $ ontap-sim --topology sim/examples/two-sites.yaml --ca-out /tmp/lab-ca.pem
//! primary https://127.0.0.1:40111
//! dr https://127.0.0.1:40112
//! ca /tmp/lab-ca.pem
//! $ curl --cacert /tmp/lab-ca.pem -u admin:'Netapp1!' \
//!     'https://127.0.0.1:40111/api/svm/svms?fields=state,subtype'
//! ```
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use sim::ontap::{OntapSim, Timing, Topology};
//! let lab = OntapSim::start_with(Topology::two_sites(), Timing::fast()).await?;
//! let url = lab.url("primary");
//! let ctl = lab.control();
//! ctl.write("primary", "svm1", "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90", 4096)?;
//! # let _ = url; Ok(()) }
//! ```
//!
//! NFS exports: every SVM has a `default` export policy (the topology may
//! give it rules; `exports.rs`); volumes carry `nas.export_policy` and
//! `size`. SVM-DR copies export policies and volume policy names to the
//! destination when the identity preservation includes the protocol
//! configuration (`full`, `exclude_network_config`), and LUNs with their
//! volumes always. [`Control::nfs_mount_check`] answers whether ONTAP would
//! let a client address mount a volume (`mount.rs`).
//!
//! Not modelled: volume-level (non-SVM) relationships, CIFS, FlexGroups,
//! scheduled (cron) updates, PATCH-reverse of a relationship (use the
//! create-and-resync route of `docs/ontap-rest.md` §12.5, or `failback=true`), OAuth.

mod api;
mod auth;
mod catalogue;
mod cluster;
mod control;
mod error;
mod exports;
mod faults;
pub(crate) mod listeners;
mod luns;
mod mount;
mod network;
mod peers;
mod protocols;
mod query;
mod routes;
mod schedules;
mod server;
mod shared;
mod snapmirror;
mod svm;
mod timefmt;
mod topology;
mod volumes;
mod world;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};

pub use control::{Control, VolumeData, WriteId};
pub use error::{ApiError, SimError};
pub use faults::{Fault, FaultKind};
pub use timefmt::{format_duration, parse_duration};
pub use topology::{
    AccountSpec, ClusterSpec, DataLifSpec, IcLifSpec, NetworkSpec, RoleSpec, SizeSpec, SvmSpec,
    TWO_SITES_VOLUME, Topology, VolumeSpec,
};
pub use world::WriteRec;

use crate::tls::{CertPair, Identity};
use listeners::Listeners;
use shared::Shared;
use world::World;

/// How long simulated work takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Time a job spends `queued`.
    pub job_queued: Duration,
    /// Time a job then spends `running` before it ends.
    pub job_running: Duration,
    /// Time a SnapMirror transfer takes.
    pub transfer: Duration,
    /// How long finished jobs stay readable (ONTAP: about 300 s).
    pub job_expiry: Duration,
}

impl Timing {
    /// For tests: 20 ms queued, 50 ms running, 100 ms transfers, 300 s expiry.
    pub fn fast() -> Timing {
        Timing {
            job_queued: Duration::from_millis(20),
            job_running: Duration::from_millis(50),
            transfer: Duration::from_millis(100),
            job_expiry: Duration::from_secs(300),
        }
    }

    /// For the lab and benchmarks: 0.5 s queued, 2 s running, 5 s transfers,
    /// 300 s expiry.
    pub fn realistic() -> Timing {
        Timing {
            job_queued: Duration::from_millis(500),
            job_running: Duration::from_secs(2),
            transfer: Duration::from_secs(5),
            job_expiry: Duration::from_secs(300),
        }
    }
}

/// A running simulated lab; stops (every port closes) on drop.
pub struct OntapSim {
    shared: Arc<Shared>,
    ticker: tokio::task::JoinHandle<()>,
    clusters: Vec<(String, u16)>,
    probe_ports: (u16, u16),
}

impl std::fmt::Debug for OntapSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OntapSim")
            .field("clusters", &self.clusters)
            .finish_non_exhaustive()
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).context("picking a free probe port")?;
    Ok(l.local_addr()?.port())
}

impl OntapSim {
    /// Starts the lab with [`Timing::fast`].
    ///
    /// # Errors
    /// A fixed port that cannot be bound, or TLS setup failures.
    pub async fn start(topology: Topology) -> Result<OntapSim> {
        Self::start_with(topology, Timing::fast()).await
    }

    /// Starts every cluster of `topology` on 127.0.0.1.
    ///
    /// # Errors
    /// A fixed port that cannot be bound, or TLS setup failures.
    pub async fn start_with(topology: Topology, timing: Timing) -> Result<OntapSim> {
        let nfs = match topology.network.nfs_port {
            0 => free_port()?,
            p => p,
        };
        let iscsi = match topology.network.iscsi_port {
            0 => {
                let mut p = free_port()?;
                while p == nfs {
                    p = free_port()?;
                }
                p
            }
            p => p,
        };
        let world = World::new(&topology, timing, nfs, iscsi)?;
        let identity = Identity::generate("ontap-sim", &[])?;
        let acceptor = identity.acceptor()?;
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            listeners: Mutex::new(Listeners::default()),
            handle: tokio::runtime::Handle::current(),
            acceptor,
            identity,
        });
        let mut clusters = Vec::new();
        for c in &topology.clusters {
            let port =
                server::serve_cluster(&shared, &c.key, c.port.unwrap_or(0)).with_context(|| {
                    format!(
                        "binding 127.0.0.1:{} for cluster {}",
                        c.port.unwrap_or(0),
                        c.key
                    )
                })?;
            if let Some(wc) = shared.world().cluster_mut(&c.key) {
                wc.port = port;
            }
            clusters.push((c.key.clone(), port));
        }
        shared.sync();
        let weak = Arc::downgrade(&shared);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                match weak.upgrade() {
                    Some(s) => s.sync(),
                    None => return,
                }
            }
        });
        Ok(OntapSim {
            shared,
            ticker,
            clusters,
            probe_ports: (nfs, iscsi),
        })
    }

    /// `https://127.0.0.1:PORT` of a cluster (by key or ONTAP name).
    ///
    /// # Panics
    /// For a cluster the topology does not have (a test bug).
    pub fn url(&self, cluster: &str) -> String {
        let key = self.shared.world().cluster(cluster).map(|c| c.key.clone());
        match key.and_then(|k| self.clusters.iter().find(|(c, _)| *c == k)) {
            Some((_, port)) => format!("https://127.0.0.1:{port}"),
            None => panic!("no cluster {cluster:?} in this lab"),
        }
    }

    /// Cluster keys in topology order.
    pub fn clusters(&self) -> Vec<String> {
        self.clusters.iter().map(|(k, _)| k.clone()).collect()
    }

    /// The lab CA (PEM) that signs every cluster certificate.
    pub fn ca_pem(&self) -> &str {
        self.shared.identity.ca_pem()
    }

    /// A client certificate for `user` (CN = user), for certificate logins.
    ///
    /// # Errors
    /// Certificate generation failures.
    pub fn client_cert(&self, user: &str) -> Result<CertPair> {
        self.shared.identity.issue_client_cert(user)
    }

    /// In-process lab controls.
    pub fn control(&self) -> Control {
        Control {
            shared: self.shared.clone(),
        }
    }

    /// The (NFS, iSCSI) ports data LIFs listen on.
    pub fn probe_ports(&self) -> (u16, u16) {
        self.probe_ports
    }
}

impl Drop for OntapSim {
    fn drop(&mut self) {
        self.ticker.abort();
        self.shared.listeners().close_all();
    }
}
