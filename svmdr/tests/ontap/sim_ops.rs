//! Every client operation against the ONTAP simulator: an SVM-DR set-up,
//! transfer, failover and tear-down on the two-site lab, plus the failure
//! paths the simulator can inject.

use std::time::Duration;

use http::Method;
use sim::ontap::{Fault, FaultKind, OntapSim, Topology};
use svmdr::ontap::models::{
    GroupType, IdentityPreservation, PeerAvailability, PolicyType, RelationshipState,
    SvmPeerApplication, SvmPeerState, SvmState, SvmSubtype, TransferState,
};
use svmdr::ontap::{
    Auth, CreateClusterPeer, CreateRelationship, DeleteOptions, ErrorKind, InterfaceQuery,
    LifPlacement, NewInterclusterLif, OntapClient, OntapConfig, OntapError, PatchOptions,
    RelationshipQuery, SvmPeerQuery, SvmQuery, Timeouts, TlsOptions, VolumeQuery,
};
use svmdr::secret::Secret;

const SRC_SVM: &str = "svm1";
const DST_SVM: &str = "svm1_dr";

/// Bounds a step so a bug fails the test instead of hanging it.
async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(60), f).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within 60 s"),
    }
}

fn client(
    lab: &OntapSim,
    cluster: &str,
    user: &str,
    password: &str,
    timeouts: Timeouts,
) -> OntapClient {
    OntapClient::new(OntapConfig {
        name: format!("{cluster} (sim)"),
        endpoint: lab.url(cluster),
        auth: Auth::Basic {
            username: user.into(),
            password: Secret::new(password),
        },
        tls: TlsOptions {
            ca_pem: Some(lab.ca_pem().to_string()),
            insecure_skip_verify: false,
        },
        timeouts,
    })
    .expect("client")
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(10),
        job: Duration::from_secs(30),
    }
}

fn admin(lab: &OntapSim, cluster: &str) -> OntapClient {
    client(lab, cluster, "admin", "Netapp1!", timeouts())
}

/// Peers the two clusters (passphrase generated on primary, used on dr).
async fn peer_clusters(a: &OntapClient, b: &OntapClient) {
    let ips = |lifs: Vec<svmdr::ontap::models::IpInterface>| -> Vec<String> {
        lifs.iter()
            .filter_map(|l| l.address().map(str::to_string))
            .collect()
    };
    let a_ips = ips(a.intercluster_interfaces().await.expect("a IC LIFs"));
    let b_ips = ips(b.intercluster_interfaces().await.expect("b IC LIFs"));
    let offer = a
        .create_cluster_peer(&CreateClusterPeer {
            remote_ips: b_ips,
            ..Default::default()
        })
        .await
        .expect("offer");
    let pp = offer.passphrase.clone().expect("generated passphrase");
    assert!(
        !format!("{offer:?}").contains(pp.expose()),
        "Debug shows the passphrase"
    );
    b.create_cluster_peer(&CreateClusterPeer {
        remote_ips: a_ips,
        passphrase: Some(pp),
        ..Default::default()
    })
    .await
    .expect("accept offer");
    let peer = a.cluster_peer(&offer.uuid).await.expect("peer by uuid");
    assert_eq!(peer.uuid.as_deref(), Some(offer.uuid.as_str()));
}

/// Creates the DR SVM and the SVM peer (initiated on dr, accepted on
/// primary), then the relationship.
async fn set_up_relationship(a: &OntapClient, b: &OntapClient) -> String {
    let dst = b
        .create_dp_destination_svm(DST_SVM)
        .await
        .expect("create DR SVM");
    assert_eq!(dst.subtype, Some(SvmSubtype::DpDestination));
    let peer = b
        .create_svm_peer(
            DST_SVM,
            "ontap-a",
            SRC_SVM,
            &[SvmPeerApplication::Snapmirror],
        )
        .await
        .expect("svm peer");
    let uuid = peer.uuid.clone().expect("svm peer uuid");
    assert_eq!(peer.state, Some(SvmPeerState::Initiated));
    let pending = a
        .svm_peers(&SvmPeerQuery {
            svm: Some(SRC_SVM.into()),
            peer_svm: Some(DST_SVM.into()),
            ..Default::default()
        })
        .await
        .expect("pending peers");
    let remote = pending.first().expect("pending peer on primary");
    assert_eq!(remote.state, Some(SvmPeerState::Pending));
    a.accept_svm_peer(remote.uuid.as_deref().expect("uuid"))
        .await
        .expect("accept");
    let peered = b
        .svm_peers(&SvmPeerQuery {
            uuid: Some(uuid),
            ..Default::default()
        })
        .await
        .expect("peers");
    assert_eq!(peered[0].state, Some(SvmPeerState::Peered));

    let policy = b
        .snapmirror_policy("MirrorAllSnapshots")
        .await
        .expect("policy")
        .expect("built-in policy exists");
    assert_eq!(policy.kind, Some(PolicyType::Async));
    assert!(
        b.snapmirror_policy("NoSuchPolicy")
            .await
            .expect("lookup")
            .is_none()
    );

    let rel = b
        .create_relationship(&CreateRelationship {
            source_path: format!("{SRC_SVM}:"),
            source_cluster: Some("ontap-a".into()),
            destination_path: format!("{DST_SVM}:"),
            policy: Some("MirrorAllSnapshots".into()),
            identity_preservation: Some(IdentityPreservation::Full),
            transfer_schedule: None,
        })
        .await
        .expect("create relationship");
    assert_eq!(rel.state, Some(RelationshipState::Uninitialized));
    assert_eq!(rel.destination_path(), "svm1_dr:");
    rel.uuid.expect("relationship uuid")
}

fn mirrored_and_idle(r: &svmdr::ontap::models::Relationship) -> bool {
    r.state == Some(RelationshipState::Snapmirrored)
        && r.transfer_state() == Some(TransferState::Success)
        && !r.is_transferring()
}

#[tokio::test]
async fn discovery_calls() {
    let lab = OntapSim::start(Topology::two_sites()).await.expect("lab");
    let a = admin(&lab, "primary");
    bounded("discovery", async {
        let c = a.cluster().await.expect("cluster");
        assert_eq!(c.name.as_deref(), Some("ontap-a"));
        assert!(c.version.expect("version").at_least(9, 14, 1));
        let nodes = a.nodes().await.expect("nodes");
        assert_eq!(nodes.len(), 2);

        let ic = a.intercluster_interfaces().await.expect("IC LIFs");
        assert_eq!(ic.len(), 2);
        assert!(
            ic.iter()
                .all(|l| l.has_service("intercluster_core") && l.svm.is_none())
        );
        let nfs = a
            .ip_interfaces(&InterfaceQuery {
                svm: Some(SRC_SVM.into()),
                services: Some("data_nfs".into()),
                name: None,
            })
            .await
            .expect("NFS LIFs");
        assert_eq!(nfs.len(), 1);
        assert!(nfs[0].is_serving(), "{:?}", nfs[0]);
        assert_eq!(nfs[0].address(), Some("127.0.0.1"));

        let svms = a.svms(&SvmQuery::default()).await.expect("svms");
        assert!(svms.iter().any(|s| s.name.as_deref() == Some(SRC_SVM)));
        let svm = a
            .svm_by_name(SRC_SVM)
            .await
            .expect("svm")
            .expect("svm1 exists");
        assert_eq!(svm.state, Some(SvmState::Running));
        assert!(
            a.svm_by_name("svm").await.expect("lookup").is_none(),
            "exact match only"
        );

        let vols = a
            .volumes(&VolumeQuery {
                svm: Some(SRC_SVM.into()),
                ..Default::default()
            })
            .await
            .expect("volumes");
        assert_eq!(vols.len(), 4);
        let root = vols
            .iter()
            .find(|v| v.is_svm_root == Some(true))
            .expect("root");
        assert_eq!(root.junction_path(), Some("/"));
        assert!(
            vols.iter()
                .all(|v| v.space.as_ref().and_then(|s| s.size).is_some())
        );

        let nfs = a
            .nfs_service(SRC_SVM)
            .await
            .expect("nfs")
            .expect("nfs configured");
        assert_eq!(nfs.enabled, Some(true));
        let iscsi = a
            .iscsi_service(SRC_SVM)
            .await
            .expect("iscsi")
            .expect("iscsi configured");
        assert!(
            iscsi
                .target
                .and_then(|t| t.name)
                .is_some_and(|n| n.starts_with("iqn."))
        );

        let raw = a
            .get_json("cluster", &[("fields", "name")])
            .await
            .expect("raw");
        assert_eq!(raw["name"], "ontap-a");

        let lif = a
            .create_intercluster_interface(&NewInterclusterLif {
                name: "ontap-a-01_ic2".into(),
                address: "192.0.2.13".into(),
                netmask: "24".into(),
                home_node: "ontap-a-01".into(),
                placement: LifPlacement::Port("e0c".into()),
                ipspace: "Default".into(),
            })
            .await
            .expect("create IC LIF");
        assert_eq!(lif.address(), Some("192.0.2.13"));
        assert_eq!(a.intercluster_interfaces().await.expect("IC LIFs").len(), 3);
    })
    .await;
}

#[tokio::test]
async fn svm_dr_lifecycle() {
    let lab = OntapSim::start(Topology::two_sites()).await.expect("lab");
    let (a, b) = (admin(&lab, "primary"), admin(&lab, "dr"));
    bounded("svm-dr lifecycle", async {
        peer_clusters(&a, &b).await;
        let peers = b.cluster_peers().await.expect("peers");
        assert_eq!(peers.len(), 1);
        assert_eq!(
            peers[0].status.as_ref().and_then(|s| s.state),
            Some(PeerAvailability::Available)
        );
        assert!(peers[0].is_healthy(), "{:?}", peers[0]);

        let rel = set_up_relationship(&a, &b).await;
        // Breaking an uninitialized relationship is refused.
        let err = b
            .patch_relationship_state(&rel, RelationshipState::BrokenOff, PatchOptions::default())
            .await
            .expect_err("break uninitialized");
        assert!(err.is_wrong_state(), "{err}");
        assert!(err.to_string().contains("dr (sim)"), "{err}");

        // Initialize and wait for the baseline.
        b.patch_relationship_state(
            &rel,
            RelationshipState::Snapmirrored,
            PatchOptions::default(),
        )
        .await
        .expect("initialize");
        let mut seen = 0;
        let r = b
            .wait_relationship(
                &rel,
                mirrored_and_idle,
                Duration::from_secs(20),
                Duration::from_millis(20),
                |_| seen += 1,
            )
            .await
            .expect("baseline done");
        assert!(seen >= 1);
        assert_eq!(r.group_type, Some(GroupType::SvmDr));
        assert!(r.lag_time.is_some(), "lag after the first transfer");
        let with_vols = b
            .relationship_with_volumes(&rel)
            .await
            .expect("with volumes");
        let vols = with_vols
            .svmdr_volumes
            .expect("svmdr_volumes asked by name");
        assert!(
            vols.iter()
                .any(|v| v.name.as_deref()
                    == Some("trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90")),
            "{vols:?}"
        );

        // Reads.
        let by_dst = b
            .relationship_by_destination("svm1_dr:")
            .await
            .expect("by dst")
            .expect("found");
        assert_eq!(by_dst.uuid.as_deref(), Some(rel.as_str()));
        let listed = b
            .relationships(&RelationshipQuery {
                source_path: Some("svm1:".into()),
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        let on_source = a
            .relationships(&RelationshipQuery {
                list_destinations_only: true,
                ..Default::default()
            })
            .await
            .expect("source view");
        assert_eq!(on_source.len(), 1);
        assert!(
            b.relationship_by_destination("nope:")
                .await
                .expect("lookup")
                .is_none()
        );
        let dst_vols = b
            .volumes(&VolumeQuery {
                svm: Some(DST_SVM.into()),
                ..Default::default()
            })
            .await
            .expect("dr volumes");
        assert!(!dst_vols.is_empty(), "replicated volumes exist on dr");

        // An update transfer, its listing, and an abort (which may find it
        // already finished: both outcomes are fine).
        let t = b.start_transfer(&rel).await.expect("update");
        assert!(!t.is_empty());
        let transfers = b.transfers(&rel).await.expect("transfers");
        let _ = transfers;
        b.abort_transfer(&rel, &t)
            .await
            .expect("abort or already gone");
        let r = b
            .wait_relationship(
                &rel,
                |r| r.state == Some(RelationshipState::Snapmirrored) && !r.is_transferring(),
                Duration::from_secs(20),
                Duration::from_millis(20),
                |_| {},
            )
            .await
            .expect("idle again");
        assert!(
            matches!(
                r.transfer_state(),
                Some(TransferState::Success | TransferState::Aborted)
            ),
            "{}",
            r.summary()
        );

        // Failover: quiesce, stop the source (full identity), break.
        b.patch_relationship_state(&rel, RelationshipState::Paused, PatchOptions::default())
            .await
            .expect("quiesce");
        b.wait_relationship(
            &rel,
            |r| r.state == Some(RelationshipState::Paused),
            Duration::from_secs(20),
            Duration::from_millis(20),
            |_| {},
        )
        .await
        .expect("paused");
        let err = b
            .patch_relationship_state(&rel, RelationshipState::BrokenOff, PatchOptions::default())
            .await
            .expect_err("break with source running");
        assert!(err.is_wrong_state(), "{err}");
        let src = a.svm_by_name(SRC_SVM).await.expect("svm").expect("exists");
        a.set_svm_state(src.uuid.as_deref().expect("uuid"), SvmState::Stopped)
            .await
            .expect("stop source");
        assert_eq!(
            a.svm_by_name(SRC_SVM)
                .await
                .expect("svm")
                .expect("exists")
                .state,
            Some(SvmState::Stopped)
        );
        b.patch_relationship_state(&rel, RelationshipState::BrokenOff, PatchOptions::default())
            .await
            .expect("break");
        let r = b
            .wait_relationship(
                &rel,
                |r| r.state == Some(RelationshipState::BrokenOff),
                Duration::from_secs(20),
                Duration::from_millis(20),
                |_| {},
            )
            .await
            .expect("broken off");
        assert_eq!(r.state, Some(RelationshipState::BrokenOff));

        // Tear down.
        b.delete_relationship(&rel, DeleteOptions::default())
            .await
            .expect("delete");
        let err = b.relationship(&rel).await.expect_err("gone");
        assert!(err.is_not_found(), "{err}");
    })
    .await;
}

#[tokio::test]
async fn peer_permission_pre_authorizes() {
    let lab = OntapSim::start(Topology::two_sites()).await.expect("lab");
    let (a, b) = (admin(&lab, "primary"), admin(&lab, "dr"));
    bounded("permission", async {
        peer_clusters(&a, &b).await;
        a.create_svm_peer_permission("ontap-b", SRC_SVM, &[SvmPeerApplication::Snapmirror])
            .await
            .expect("permission");
        b.create_dp_destination_svm(DST_SVM).await.expect("dr svm");
        let peer = b
            .create_svm_peer(
                DST_SVM,
                "ontap-a",
                SRC_SVM,
                &[SvmPeerApplication::Snapmirror],
            )
            .await
            .expect("svm peer");
        assert_eq!(peer.state, Some(SvmPeerState::Peered), "pre-authorized");
    })
    .await;
}

#[tokio::test]
async fn ontap_errors_from_the_simulator() {
    let lab = OntapSim::start(Topology::two_sites()).await.expect("lab");
    let (a, b) = (admin(&lab, "primary"), admin(&lab, "dr"));
    bounded("errors", async {
        let err = b
            .relationship("00000000-0000-0000-0000-000000000000")
            .await
            .expect_err("404");
        assert!(err.is_not_found(), "{err}");

        let err = b
            .create_relationship(&CreateRelationship {
                source_path: "svm1".into(),
                source_cluster: Some("ontap-a".into()),
                destination_path: "svm1_dr".into(),
                ..Default::default()
            })
            .await
            .expect_err("path without colon");
        assert_eq!(err.code(), Some("13303852"), "{err}");

        let err = a
            .create_cluster_peer(&CreateClusterPeer {
                passphrase: Some(Secret::new("long-enough-passphrase")),
                ..Default::default()
            })
            .await
            .expect_err("passphrase without IPs");
        assert_eq!(err.code(), Some("4656069"), "{err}");
        assert!(!err.to_string().contains("long-enough-passphrase"));

        b.create_dp_destination_svm(DST_SVM).await.expect("first");
        let err = b
            .create_dp_destination_svm(DST_SVM)
            .await
            .expect_err("second");
        assert!(err.is_duplicate() || err.code().is_some(), "{err}");

        let err = a
            .job("00000000-0000-0000-0000-000000000000")
            .await
            .expect_err("no job");
        assert!(err.is_not_found(), "{err}");
    })
    .await;
}

#[tokio::test]
async fn credentials_and_roles() {
    let lab = OntapSim::start(Topology::two_sites()).await.expect("lab");
    bounded("auth", async {
        let bad = client(&lab, "primary", "admin", "wrong-password", timeouts());
        let err = bad.cluster().await.expect_err("401");
        assert!(err.is_unauthorized(), "{err}");
        assert!(!format!("{err} {err:?}").contains("wrong-password"));

        let vs = client(&lab, "primary", "vsadmin", "Vsadmin1!", timeouts());
        let err = vs.cluster_peers().await.expect_err("403");
        assert!(err.is_permission_denied(), "{err}");
        assert!(err.to_string().contains("cluster-admin"), "{err}");

        let pair = lab.client_cert("admin").expect("client cert");
        let by_cert = OntapClient::new(OntapConfig {
            name: "primary (cert)".into(),
            endpoint: lab.url("primary"),
            auth: Auth::Certificate {
                cert_pem: pair.cert_pem.clone(),
                key_pem: Secret::new(pair.key_pem.clone()),
            },
            tls: TlsOptions {
                ca_pem: Some(lab.ca_pem().to_string()),
                insecure_skip_verify: false,
            },
            timeouts: timeouts(),
        })
        .expect("cert client");
        assert!(!format!("{by_cert:?}").contains("PRIVATE"));
        let c = by_cert.cluster().await.expect("certificate login");
        assert_eq!(c.name.as_deref(), Some("ontap-a"));
    })
    .await;
}

#[tokio::test]
async fn injected_faults() {
    let lab = OntapSim::start(Topology::two_sites()).await.expect("lab");
    let ctl = lab.control();
    let a = admin(&lab, "primary");
    bounded("faults", async {
        // One 500 on a GET is retried away.
        ctl.inject_fault(
            "primary",
            Fault {
                method: Some(Method::GET),
                path_contains: "/api/cluster".into(),
                kind: FaultKind::Http500,
                times: Some(1),
            },
        );
        a.cluster().await.expect("retried");
        // A dropped connection on a GET is retried away too.
        ctl.inject_fault(
            "primary",
            Fault {
                method: Some(Method::GET),
                path_contains: "/api/svm/svms".into(),
                kind: FaultKind::DropConnection,
                times: Some(1),
            },
        );
        a.svms(&SvmQuery::default())
            .await
            .expect("retried after drop");
        // A persistent 500 gives up with ONTAP's error.
        ctl.inject_fault(
            "primary",
            Fault {
                method: Some(Method::GET),
                path_contains: "/api/cluster/nodes".into(),
                kind: FaultKind::Http500,
                times: None,
            },
        );
        let err = a.nodes().await.expect_err("500");
        assert!(
            matches!(&err.kind, ErrorKind::Api(f) if f.http_status == 500),
            "{err:?}"
        );
        ctl.clear_faults("primary");

        // A job failure carries ONTAP's code and message.
        ctl.inject_fault(
            "primary",
            Fault {
                method: Some(Method::PATCH),
                path_contains: "/api/svm/svms".into(),
                kind: FaultKind::JobFailure {
                    code: 13434894,
                    message: "Injected: too many SVM jobs".into(),
                },
                times: Some(1),
            },
        );
        let svm = a.svm_by_name(SRC_SVM).await.expect("svm").expect("exists");
        let err: OntapError = a
            .set_svm_state(svm.uuid.as_deref().expect("uuid"), SvmState::Stopped)
            .await
            .expect_err("job failure");
        assert!(matches!(&err.kind, ErrorKind::JobFailed { .. }), "{err:?}");
        assert_eq!(err.code(), Some("13434894"));
        assert!(
            err.to_string().contains("Injected: too many SVM jobs"),
            "{err}"
        );

        // A delay past the request timeout is a timeout.
        ctl.inject_fault(
            "primary",
            Fault {
                method: Some(Method::GET),
                path_contains: "/api/cluster".into(),
                kind: FaultKind::Delay(Duration::from_secs(5)),
                times: Some(1),
            },
        );
        let quick = client(
            &lab,
            "primary",
            "admin",
            "Netapp1!",
            Timeouts {
                request: Duration::from_millis(300),
                ..timeouts()
            },
        );
        let err = quick.cluster().await.expect_err("timeout");
        assert!(matches!(err.kind, ErrorKind::Timeout { .. }), "{err:?}");
        ctl.clear_faults("primary");

        // A cluster that is down refuses connections.
        ctl.set_cluster_down("primary", true);
        let err = a.cluster().await.expect_err("down");
        assert!(err.is_unreachable(), "{err:?}");
        ctl.set_cluster_down("primary", false);
        a.cluster().await.expect("back up");
    })
    .await;
}
