//! A two-site simulated lab, peered and initialized, for the plan tests and
//! the failover benchmark: the ONTAP-only [`sim::lab::sites`] (no Kubernetes
//! site), with svmdr's clients and the SVM-DR set-up done through them (the
//! simulator never depends on svmdr, so that part stays here).

#![allow(dead_code)]

use std::time::Duration;

use sim::lab::sites::{SimSites, SimSitesOptions};
use sim::ontap::{OntapSim, Timing};
use svmdr::ontap::models::{RelationshipState, SvmPeerApplication};
use svmdr::ontap::{
    Auth, CreateClusterPeer, CreateRelationship, OntapClient, OntapConfig, PatchOptions,
    SvmPeerQuery, Timeouts, TlsOptions,
};
use svmdr::plan::ontap_storage::OntapStorage;
use svmdr::plan::{DrPair, Sites};
use svmdr::secret::Secret;

/// The SVM names of the lab pair: the lab's own.
pub use sim::lab::{DR_SVM, PRIMARY_SVM};
/// A Trident-named NFS volume of svm1 in the example topology.
pub use sim::ontap::TWO_SITES_VOLUME as VOLUME;

/// A running lab.
pub struct Lab {
    /// The simulator.
    pub sim: OntapSim,
    /// Client of the primary cluster.
    pub primary: OntapClient,
    /// Client of the DR cluster.
    pub dr: OntapClient,
}

/// Client timeouts short enough for fault tests.
pub fn fast_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(500),
        request: Duration::from_millis(1500),
        job: Duration::from_secs(10),
    }
}

/// A client of `cluster` in `sim`.
pub fn client(sim: &OntapSim, key: &str, label: &str, timeouts: Timeouts) -> OntapClient {
    OntapClient::new(OntapConfig {
        name: label.to_string(),
        endpoint: sim.url(key),
        auth: Auth::Basic {
            username: "admin".into(),
            password: Secret::new("Netapp1!"),
        },
        tls: TlsOptions {
            ca_pem: Some(sim.ca_pem().to_string()),
            insecure_skip_verify: false,
        },
        timeouts,
    })
    .expect("client")
}

impl Lab {
    /// Starts the example topology and sets up SVM-DR svm1 → svm1_dr
    /// (identity preserved), initialized.
    pub async fn start(timing: Timing, timeouts: Timeouts) -> Lab {
        let lab = Lab::bare(timing, timeouts).await;
        lab.setup().await;
        lab
    }

    /// Starts the example topology as it is: no peering, no DR SVM.
    pub async fn bare(timing: Timing, timeouts: Timeouts) -> Lab {
        let SimSites { ontap: sim, .. } = SimSites::start(SimSitesOptions {
            timing,
            ..SimSitesOptions::default()
        })
        .await
        .expect("sim");
        let primary = client(&sim, "primary", "primary (ontap-a)", timeouts);
        let dr = client(&sim, "dr", "dr (ontap-b)", timeouts);
        Lab { sim, primary, dr }
    }

    async fn setup(&self) {
        let ips = |c: &OntapClient| {
            let c = c.clone();
            async move {
                c.intercluster_interfaces()
                    .await
                    .expect("ic lifs")
                    .iter()
                    .filter_map(|l| l.address().map(String::from))
                    .collect::<Vec<_>>()
            }
        };
        let (p_ips, d_ips) = (ips(&self.primary).await, ips(&self.dr).await);
        let created = self
            .primary
            .create_cluster_peer(&CreateClusterPeer {
                remote_ips: d_ips,
                ..Default::default()
            })
            .await
            .expect("cluster peer on primary");
        self.dr
            .create_cluster_peer(&CreateClusterPeer {
                remote_ips: p_ips,
                passphrase: created.passphrase.clone(),
                ..Default::default()
            })
            .await
            .expect("cluster peer on dr");
        self.dr
            .create_dp_destination_svm(DR_SVM)
            .await
            .expect("dp_destination svm");
        self.primary
            .create_svm_peer(
                PRIMARY_SVM,
                "ontap-b",
                DR_SVM,
                &[SvmPeerApplication::Snapmirror],
            )
            .await
            .expect("svm peer");
        let pending = self
            .dr
            .svm_peers(&SvmPeerQuery {
                svm: Some(DR_SVM.into()),
                peer_svm: Some(PRIMARY_SVM.into()),
                ..Default::default()
            })
            .await
            .expect("svm peers");
        let uuid = pending
            .first()
            .and_then(|p| p.uuid.clone())
            .expect("pending svm peer");
        self.dr.accept_svm_peer(&uuid).await.expect("accept");
        let rel = self
            .dr
            .create_relationship(&CreateRelationship {
                source_path: format!("{PRIMARY_SVM}:"),
                source_cluster: Some("ontap-a".into()),
                destination_path: format!("{DR_SVM}:"),
                policy: Some("MirrorAllSnapshots".into()),
                identity_preservation: Some(svmdr::ontap::models::IdentityPreservation::Full),
                transfer_schedule: None,
            })
            .await
            .expect("relationship");
        let rel_uuid = rel.uuid.clone().expect("uuid");
        self.dr
            .patch_relationship_state(
                &rel_uuid,
                RelationshipState::Snapmirrored,
                PatchOptions::default(),
            )
            .await
            .expect("initialize");
        self.dr
            .wait_relationship(
                &rel_uuid,
                |r| r.state == Some(RelationshipState::Snapmirrored) && !r.is_transferring(),
                Duration::from_secs(20),
                Duration::from_millis(20),
                |_| {},
            )
            .await
            .expect("initialized");
    }

    /// The pair.
    pub fn pair(&self) -> DrPair {
        DrPair {
            primary_svm: PRIMARY_SVM.into(),
            dr_svm: DR_SVM.into(),
        }
    }

    /// Both sites for the engine.
    pub fn sites(&self) -> Sites<OntapStorage> {
        Sites {
            primary: Some(OntapStorage::new(self.primary.clone())),
            dr: OntapStorage::new(self.dr.clone()),
            primary_label: self.primary.name().to_string(),
            trident: None,
            primary_trident: None,
        }
    }

    /// Writes to the primary volume; returns the write id.
    pub fn write_primary(&self) -> sim::ontap::WriteId {
        self.sim
            .control()
            .write("primary", PRIMARY_SVM, VOLUME, 4096)
            .expect("write on primary")
    }
}
