//! Injected faults (HTTP 500, delay, dropped connection, job failure),
//! cluster down (connection refused, replication failing, lag growing),
//! data LIF down, and the `/_sim` HTTP controls.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sim::ontap::{Fault, FaultKind, OntapSim, Topology};

use super::client::*;

#[tokio::test]
async fn http500_and_dropped_connections_hit_only_matching_requests() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let ctl = lab.control();
    ctl.inject_fault(
        PRIMARY,
        Fault {
            method: Some(Method::GET),
            path_contains: "/api/svm/svms".into(),
            kind: FaultKind::Http500,
            times: Some(1),
        },
    );
    assert_err(&a.get("/api/svm/svms").await, 500, "1");
    assert_eq!(a.get("/api/svm/svms").await.status, 200, "times=1 is spent");
    assert_eq!(a.get("/api/cluster").await.status, 200);
    ctl.inject_fault(
        PRIMARY,
        Fault {
            method: None,
            path_contains: "/api/cluster".into(),
            kind: FaultKind::DropConnection,
            times: None,
        },
    );
    assert!(a.try_send(Method::GET, "/api/cluster", None).await.is_err());
    assert!(a.try_send(Method::GET, "/api/cluster", None).await.is_err());
    ctl.clear_faults(PRIMARY);
    assert_eq!(a.get("/api/cluster").await.status, 200);
}

#[tokio::test]
async fn delays_hold_the_answer_back() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    lab.control().inject_fault(
        PRIMARY,
        Fault {
            method: None,
            path_contains: String::new(),
            kind: FaultKind::Delay(Duration::from_secs(30)),
            times: Some(1),
        },
    );
    let quick = reqwest::Client::builder()
        .use_preconfigured_tls(tls_config(lab.ca_pem(), None))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let r = quick
        .get(format!("{}/api/cluster", a.base))
        .basic_auth("admin", Some("Netapp1!"))
        .send()
        .await;
    assert!(r.is_err_and(|e| e.is_timeout()));
}

#[tokio::test]
async fn a_job_failure_fault_fails_the_job_and_applies_nothing() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let b = Api::admin(&lab, DR);
    lab.control().inject_fault(
        DR,
        Fault {
            method: Some(Method::POST),
            path_contains: "/svm/svms".into(),
            kind: FaultKind::JobFailure {
                code: 13434894,
                message: "Too many SVM create jobs.".into(),
            },
            times: Some(1),
        },
    );
    let r = b
        .post(
            "/api/svm/svms",
            json!({"name": "svm1_dr", "subtype": "dp_destination"}),
        )
        .await;
    assert_eq!(r.status, 202);
    let job = b.wait_job(&r).await;
    assert_eq!(job["state"], "failure");
    assert_eq!(job["code"], 13434894);
    assert_eq!(job["error"]["code"], "13434894");
    assert_eq!(job["message"], "Too many SVM create jobs.");
    assert_eq!(
        b.get("/api/svm/svms?name=svm1_dr").await.body["num_records"],
        0
    );
    b.job_ok(
        Method::POST,
        "/api/svm/svms",
        Some(json!({"name": "svm1_dr", "subtype": "dp_destination"})),
    )
    .await;
}

#[tokio::test]
async fn a_down_cluster_refuses_connections_and_replication_fails() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let ctl = lab.control();
    let rel = setup_dr(&a, &b, "exclude_network_config").await;
    initialize(&b, &rel).await;
    let (nfs_port, _) = lab.probe_ports();
    let nfs: SocketAddr = ([127, 0, 0, 1], nfs_port).into();
    wait_probe(nfs, true).await;
    let port: u16 = a.base.rsplit(':').next().unwrap().parse().unwrap();
    // Down via HTTP on its own port.
    assert_eq!(
        a.post("/_sim/down", json!({"down": true})).await.status,
        200
    );
    let err = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(a.try_send(Method::GET, "/api/cluster", None).await.is_err());
    assert!(!probe(nfs).await, "the SVM's LIFs stop serving");
    assert!(ctl.write(PRIMARY, "svm1", VOL_A, 1).is_err());
    // Replication from it fails: unhealthy, with a reason.
    let p = format!("/api/snapmirror/relationships/{rel}");
    let before = b.get(&format!("{p}?fields=lag_time")).await.body["lag_time"].clone();
    assert!(before.is_string());
    let seen = b.get(&format!("{p}?fields=healthy,unhealthy_reason")).await;
    assert_eq!(
        seen.body["healthy"], false,
        "an unreachable source shows at once"
    );
    assert!(
        seen.body["unhealthy_reason"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ontap-a")
    );
    let t = b.post(&format!("{p}/transfers"), json!({})).await;
    assert_eq!(t.status, 201);
    let r = b
        .wait_for(
            &format!("{p}?fields=healthy,unhealthy_reason,transfer,lag_time"),
            |r| r["transfer"]["state"] == "failed",
        )
        .await;
    assert_eq!(r["healthy"], false);
    assert!(!r["unhealthy_reason"].as_array().unwrap().is_empty());
    assert!(r["unhealthy_reason"][0]["code"].is_string());
    assert!(
        r["lag_time"].is_string(),
        "lag keeps being reported from the last good snapshot"
    );
    // Back up via another cluster's port, on the same port.
    assert_eq!(
        b.post("/_sim/down", json!({"cluster": "primary", "down": false}))
            .await
            .status,
        200
    );
    assert_eq!(a.get("/api/cluster").await.status, 200);
    wait_probe(nfs, true).await;
    b.post(&format!("{p}/transfers"), json!({})).await;
    let r = b
        .wait_for(&format!("{p}?fields=healthy,transfer"), |r| {
            r["transfer"]["state"] == "success"
        })
        .await;
    assert_eq!(r["healthy"], true);
}

#[tokio::test]
async fn data_lif_listeners_follow_lif_state() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let ctl = lab.control();
    let (nfs_port, iscsi_port) = lab.probe_ports();
    let nfs: SocketAddr = ([127, 0, 0, 1], nfs_port).into();
    let iscsi: SocketAddr = (std::net::Ipv6Addr::LOCALHOST, iscsi_port).into();
    wait_probe(nfs, true).await;
    wait_probe(iscsi, true).await;
    // NFS LIFs do not listen on the iSCSI port and vice versa.
    assert!(!probe(([127, 0, 0, 1], iscsi_port).into()).await);
    ctl.set_lif_down(PRIMARY, "svm1_nfs_lif1", true);
    assert!(!probe(nfs).await);
    assert!(probe(iscsi).await);
    let l = a
        .first("/api/network/ip/interfaces?name=svm1_nfs_lif1&fields=state,enabled")
        .await;
    assert_eq!(l["state"], "down");
    assert_eq!(l["enabled"], true);
    ctl.set_lif_down(PRIMARY, "svm1_nfs_lif1", false);
    assert!(probe(nfs).await);
    // Via HTTP, and an admin disable.
    assert_eq!(
        a.post("/_sim/lifs/svm1_iscsi_lif1/down", json!({"down": true}))
            .await
            .status,
        200
    );
    assert!(!probe(iscsi).await);
    assert_eq!(a.post("/_sim/lifs/nope/down", json!({})).await.status, 404);
    let uuid = l["uuid"].as_str().unwrap().to_string();
    a.patch(
        &format!("/api/network/ip/interfaces/{uuid}"),
        json!({"enabled": false}),
    )
    .await;
    assert!(!probe(nfs).await);
}

#[tokio::test]
async fn sim_http_controls_write_and_dump() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let r = a
        .post(
            &format!("/_sim/volumes/svm1/{VOL_A}/writes"),
            json!({"bytes": 4096}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["id"].as_u64().unwrap();
    let d = a.get(&format!("/_sim/volumes/svm1/{VOL_A}")).await;
    assert_eq!(d.body["writes"][0]["id"], id);
    assert_eq!(
        a.post("/_sim/volumes/svm1/nope/writes", json!({"bytes": 1}))
            .await
            .status,
        404
    );
    let f = a
        .post(
            "/_sim/faults",
            json!({"kind": "http500", "path_contains": "/api/storage", "times": 1}),
        )
        .await;
    assert_eq!(f.status, 201);
    assert_err(&a.get("/api/storage/volumes").await, 500, "1");
    assert_eq!(
        a.post("/_sim/faults", json!({"kind": "bogus"}))
            .await
            .status,
        400
    );
    let s = a.get("/_sim/state").await;
    assert_eq!(s.body["clusters"][0]["name"], "ontap-a");
    assert!(
        !s.body.to_string().contains("Netapp1!"),
        "no passwords in the dump"
    );
    assert_eq!(lab.control().snapshot()["svms"][0]["name"], "svm1");
}

#[tokio::test]
async fn the_binary_prints_urls_writes_the_ca_and_serves() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let topo = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/two-sites.yaml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ontap-sim"))
        .args(["--topology", topo, "--timing", "fast", "--ca-out"])
        .arg(&ca)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .take(3)
            .collect::<Result<Vec<_>, _>>()
    });
    let lines = tokio::time::timeout(Duration::from_secs(30), lines)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        lines[0].starts_with("primary https://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("dr https://127.0.0.1:"), "{lines:?}");
    assert_eq!(lines[2], format!("ca {}", ca.display()));
    let url = lines[0].split_once(' ').unwrap().1.to_string();
    let pem = std::fs::read_to_string(&ca).unwrap();
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls_config(&pem, None))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let r = http
        .get(format!("{url}/api/cluster?fields=name"))
        .basic_auth("admin", Some("Netapp1!"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["name"], "ontap-a");
    // SIGTERM stops it cleanly.
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("ontap-sim did not stop on SIGTERM")
    .unwrap()
    .unwrap();
    assert!(status.success(), "{status:?}");
}
