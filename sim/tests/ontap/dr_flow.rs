//! SVM-DR relationships end to end: create refusals, initialize, update
//! carrying writes, lag_time, quiesce/resume, break rules, resync, reverse
//! resync, failback, delete/release, and data LIF listeners following it all.

use std::net::SocketAddr;

use reqwest::Method;
use serde_json::json;
use sim::ontap::{OntapSim, Topology};

use super::client::*;

fn rel_path(uuid: &str) -> String {
    format!("/api/snapmirror/relationships/{uuid}")
}

#[tokio::test]
async fn relationship_create_refusals() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    peer_clusters(&a, &b).await;
    b.job_ok(
        Method::POST,
        "/api/svm/svms",
        Some(json!({"name": "svm1_dr", "subtype": "dp_destination"})),
    )
    .await;
    let post = |body| b.post("/api/snapmirror/relationships", body);
    let src = json!({"path": "svm1:", "cluster": {"name": "ontap-a"}});
    assert_err(
        &post(json!({"source": src, "destination": {"path": "svm1_dr"}})).await,
        400,
        "13303852",
    );
    assert_err(
        &post(json!({"source": {"path": "svm1:"}, "destination": {"path": "svm1_dr:"}})).await,
        400,
        "13303877",
    );
    assert_err(
        &post(json!({"source": src, "destination": {"path": "svm1_dr:"}, "state": "snapmirrored"}))
            .await,
        400,
        "13303873",
    );
    assert_err(
        &post(json!({"source": src, "destination": {"path": "svm1_dr:"}, "restore": true})).await,
        400,
        "13303853",
    );
    assert_err(&post(json!({"source": {"path": "svm1:", "cluster": {"name": "ontap-b"}}, "destination": {"path": "svm1_dr:"}})).await, 400, "13303880");
    // Not peered yet.
    assert_err(
        &post(json!({"source": src, "destination": {"path": "svm1_dr:"}})).await,
        400,
        "2",
    );
    // Sync policy refused.
    let r = b.send(Method::POST, "/api/svm/peers?return_records=true", Some(json!({"svm": {"name": "svm1_dr"}, "peer": {"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}}}))).await;
    let peer = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    b.wait_job(&r).await;
    // Peered only on one side: still refused.
    assert_err(
        &post(json!({"source": src, "destination": {"path": "svm1_dr:"}})).await,
        400,
        "2",
    );
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/peers/{peer}"),
        Some(json!({"state": "peered"})),
    )
    .await;
    assert_err(
        &post(
            json!({"source": src, "destination": {"path": "svm1_dr:"}, "policy": {"name": "Sync"}}),
        )
        .await,
        400,
        "2",
    );
    assert_err(
        &post(
            json!({"source": src, "destination": {"path": "svm1_dr:"}, "policy": {"name": "Nope"}}),
        )
        .await,
        404,
        "4",
    );
    let ok = post(json!({"source": src, "destination": {"path": "svm1_dr:"}})).await;
    assert_eq!(ok.status, 202);
    assert_eq!(b.wait_job(&ok).await["state"], "success");
    // Duplicate destination.
    assert_err(
        &post(json!({"source": src, "destination": {"path": "svm1_dr:"}})).await,
        409,
        "6619637",
    );
    // Default policy and fields of a new relationship.
    let r = b
        .first("/api/snapmirror/relationships?destination.path=svm1_dr:&fields=*")
        .await;
    assert_eq!(r["state"], "uninitialized");
    assert_eq!(r["policy"]["name"], "Asynchronous");
    assert_eq!(r["policy"]["type"], "async");
    assert_eq!(r["group_type"], "svm_dr");
    assert_eq!(r["source"]["path"], "svm1:");
    assert_eq!(r["source"]["cluster"]["name"], "ontap-a");
    assert!(
        r.get("lag_time").is_none(),
        "no lag_time while uninitialized"
    );
    assert!(
        r.get("svmdr_volumes").is_none(),
        "svmdr_volumes only when named"
    );
    let named = b
        .first("/api/snapmirror/relationships?fields=svmdr_volumes.name")
        .await;
    assert_eq!(named["svmdr_volumes"].as_array().unwrap().len(), 3);
    // Listed on the destination; on the source only with list_destinations_only.
    assert_eq!(
        a.get("/api/snapmirror/relationships").await.body["num_records"],
        0
    );
    assert_eq!(
        a.get("/api/snapmirror/relationships?list_destinations_only=true")
            .await
            .body["num_records"],
        1
    );
}

#[tokio::test]
async fn uninitialized_refusals_initialize_and_replicated_writes() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let ctl = lab.control();
    let rel = setup_dr(&a, &b, "exclude_network_config").await;
    let p = rel_path(&rel);
    assert_err(
        &b.patch(&p, json!({"state": "broken_off"})).await,
        400,
        "13303808",
    );
    assert_err(
        &b.patch(&p, json!({"state": "paused"})).await,
        400,
        "13303809",
    );
    assert_err(
        &b.patch(&p, json!({"state": "in_sync"})).await,
        400,
        "13303828",
    );
    assert_err(
        &b.patch(
            &format!("{p}?failover=true"),
            json!({"state": "broken_off"}),
        )
        .await,
        400,
        "13304156",
    );
    let w1 = ctl.write(PRIMARY, "svm1", VOL_A, 4096).unwrap();
    // Initialize: transferring, then snapmirrored.
    b.job_ok(Method::PATCH, &p, Some(json!({"state": "snapmirrored"})))
        .await;
    let during = b.get(&format!("{p}?fields=state,transfer")).await;
    if during.body["transfer"]["state"] == "transferring" {
        assert_eq!(during.body["state"], "uninitialized");
        assert_eq!(during.body["transfer"]["type"], "initialize");
        assert!(during.body["transfer"]["uuid"].is_string());
        // Break refused while transferring.
        assert_err(
            &b.patch(&p, json!({"state": "broken_off"})).await,
            400,
            "13303808",
        );
    }
    let r = b
        .wait_for(&format!("{p}?fields=*"), |r| r["state"] == "snapmirrored")
        .await;
    assert_eq!(r["healthy"], true);
    assert_eq!(r["last_transfer_type"], "initialize");
    assert!(r["lag_time"].as_str().unwrap().starts_with("P"));
    assert!(r["exported_snapshot"].is_string());
    let dr = ctl
        .volume_data(DR, "svm1_dr", VOL_A)
        .expect("replicated volume");
    assert!(dr.contains(w1));
    let v = b
        .first(&format!(
            "/api/storage/volumes?name={VOL_A}&fields=type,svm.name"
        ))
        .await;
    assert_eq!(v["type"], "dp");
    assert_eq!(v["svm"]["name"], "svm1_dr");
    // Protocols replicated (exclude_network_config keeps protocols).
    let n = b
        .first("/api/protocols/nfs/services?fields=enabled,state")
        .await;
    assert_eq!(n["enabled"], true);
    assert_eq!(n["state"], "offline", "a dp_destination SVM does not serve");
    // Writes on the DR copy are refused, the source protected.
    assert!(ctl.write(DR, "svm1_dr", VOL_A, 1).is_err());
    assert_eq!(
        a.first(&format!(
            "/api/storage/volumes?name={VOL_A}&fields=snapmirror.is_protected"
        ))
        .await["snapmirror"]["is_protected"],
        true
    );
    // Update carries new writes; lag_time filterable.
    let w2 = ctl.write(PRIMARY, "svm1", VOL_B, 8192).unwrap();
    assert!(!ctl.volume_data(DR, "svm1_dr", VOL_B).unwrap().contains(w2));
    let t = b.post(&format!("{p}/transfers"), json!({})).await;
    assert_eq!(t.status, 201, "{:?}", t.body);
    assert!(t.location.as_deref().unwrap().contains("/transfers/"));
    let tid = t.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_err(
        &b.post(&format!("{p}/transfers"), json!({})).await,
        400,
        "13303812",
    );
    let got = b.get(&format!("{p}/transfers/{tid}")).await;
    assert_eq!(got.status, 200);
    b.wait_for(&format!("{p}?fields=transfer"), |r| {
        r["transfer"]["state"] == "success"
    })
    .await;
    let r = b
        .get(&format!("{p}?fields=last_transfer_type,transfer"))
        .await;
    assert_eq!(r.body["last_transfer_type"], "update");
    assert_eq!(r.body["transfer"]["bytes_transferred"], 8192);
    assert!(ctl.volume_data(DR, "svm1_dr", VOL_B).unwrap().contains(w2));
    assert_eq!(
        b.get("/api/snapmirror/relationships?lag_time=<PT1H")
            .await
            .body["num_records"],
        1
    );
    assert_eq!(
        b.get("/api/snapmirror/relationships?lag_time=>P2DT")
            .await
            .body["num_records"],
        0
    );
    // Abort: a running transfer can be aborted; a finished one is gone (4).
    assert_err(
        &b.patch(&format!("{p}/transfers/{tid}"), json!({"state": "aborted"}))
            .await,
        404,
        "4",
    );
    let t = b.post(&format!("{p}/transfers"), json!({})).await;
    let tid = t.body["records"][0]["uuid"].as_str().unwrap().to_string();
    let ab = b
        .patch(&format!("{p}/transfers/{tid}"), json!({"state": "aborted"}))
        .await;
    if ab.status == 200 {
        let r = b.get(&format!("{p}?fields=transfer,healthy")).await;
        assert_eq!(r.body["transfer"]["state"], "aborted");
        assert_eq!(r.body["healthy"], false);
    } else {
        assert_err(&ab, 404, "4");
    }
}

#[tokio::test]
async fn quiesce_resume_break_resync_with_full_identity() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let ctl = lab.control();
    let (nfs_port, iscsi_port) = lab.probe_ports();
    let nfs: SocketAddr = ([127, 0, 0, 1], nfs_port).into();
    let iscsi: SocketAddr = (std::net::Ipv6Addr::LOCALHOST, iscsi_port).into();
    wait_probe(nfs, true).await;
    wait_probe(iscsi, true).await;
    let rel = setup_dr(&a, &b, "full").await;
    let p = rel_path(&rel);
    let w1 = ctl.write(PRIMARY, "svm1", VOL_A, 100).unwrap();
    initialize(&b, &rel).await;
    // Full identity: LIFs copied with the same addresses, down on the DR side.
    let lifs = b
        .get("/api/network/ip/interfaces?svm.name=svm1_dr&fields=ip.address,state")
        .await;
    assert_eq!(lifs.body["num_records"], 2, "{:?}", lifs.body);
    assert!(
        lifs.body["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["state"] == "down")
    );
    // Quiesce, no-op, resume.
    b.job_ok(Method::PATCH, &p, Some(json!({"state": "paused"})))
        .await;
    assert_eq!(b.get(&p).await.body["state"], "paused");
    assert_err(
        &b.post(&format!("{p}/transfers"), json!({})).await,
        400,
        "13303812",
    );
    b.job_ok(Method::PATCH, &p, Some(json!({"state": "paused"})))
        .await;
    b.job_ok(Method::PATCH, &p, Some(json!({"state": "snapmirrored"})))
        .await;
    assert_eq!(b.get(&p).await.body["state"], "snapmirrored");
    // Break refused while the source SVM runs (full identity, GI#1922).
    assert_err(
        &b.patch(&p, json!({"state": "broken_off"})).await,
        400,
        "13303808",
    );
    // Stop the source: its listeners close.
    let src = svm_uuid(&a, "svm1").await;
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/svms/{src}"),
        Some(json!({"state": "stopped"})),
    )
    .await;
    wait_probe(nfs, false).await;
    assert!(ctl.write(PRIMARY, "svm1", VOL_A, 1).is_err());
    b.job_ok(Method::PATCH, &p, Some(json!({"state": "broken_off"})))
        .await;
    let r = b.get(&format!("{p}?fields=state,healthy")).await;
    assert_eq!(r.body["state"], "broken_off");
    let d = b
        .first("/api/svm/svms?name=svm1_dr&fields=state,subtype")
        .await;
    assert_eq!(d["subtype"], "default");
    assert_eq!(
        d["state"], "running",
        "the DR SVM starts by itself after the break"
    );
    let v = b
        .first(&format!("/api/storage/volumes?name={VOL_A}&fields=type"))
        .await;
    assert_eq!(v["type"], "rw");
    // The DR SVM now serves the same addresses.
    wait_probe(nfs, true).await;
    wait_probe(iscsi, true).await;
    let lif = b
        .first("/api/network/ip/interfaces?svm.name=svm1_dr&services=data_nfs&fields=state")
        .await;
    assert_eq!(lif["state"], "up");
    // The old source cannot start while the DR SVM holds its addresses.
    let r = a
        .patch(&format!("/api/svm/svms/{src}"), json!({"state": "running"}))
        .await;
    let job = a.wait_job(&r).await;
    assert_eq!(job["state"], "failure");
    assert_eq!(job["code"], 1376963);
    assert_eq!(job["error"]["code"], "1376963");
    assert_eq!(
        a.get(&format!("/api/svm/svms/{src}")).await.body["state"],
        "stopped"
    );
    // Writes on DR, then a resync (same direction) discards them.
    let dr_write = ctl.write(DR, "svm1_dr", VOL_A, 55).unwrap();
    assert_err(
        &b.patch(&p, json!({"state": "snapmirrored"})).await,
        400,
        "13303810",
    );
    let dst = svm_uuid(&b, "svm1_dr").await;
    b.job_ok(
        Method::PATCH,
        &format!("/api/svm/svms/{dst}"),
        Some(json!({"state": "stopped"})),
    )
    .await;
    wait_probe(nfs, false).await;
    b.job_ok(Method::PATCH, &p, Some(json!({"state": "snapmirrored"})))
        .await;
    let r = b
        .wait_for(
            &format!("{p}?fields=state,transfer,last_transfer_type"),
            |r| r["state"] == "snapmirrored",
        )
        .await;
    assert_eq!(r["last_transfer_type"], "resync");
    let data = ctl.volume_data(DR, "svm1_dr", VOL_A).unwrap();
    assert!(data.contains(w1));
    assert!(
        !data.contains(dr_write),
        "resync discards writes made on the destination"
    );
    assert_eq!(
        b.first("/api/svm/svms?name=svm1_dr&fields=subtype").await["subtype"],
        "dp_destination"
    );
    assert_eq!(
        b.first(&format!("/api/storage/volumes?name={VOL_A}&fields=type"))
            .await["type"],
        "dp"
    );
    // Back to normal: the source starts again.
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/svms/{src}"),
        Some(json!({"state": "running"})),
    )
    .await;
    wait_probe(nfs, true).await;
}

#[tokio::test]
async fn reverse_resync_brings_dr_writes_back_to_the_original_source() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let ctl = lab.control();
    let rel = setup_dr(&a, &b, "exclude_network_config").await;
    initialize(&b, &rel).await;
    // Disaster: primary goes away; break on DR; the DR SVM starts.
    ctl.set_cluster_down(PRIMARY, true);
    b.job_ok(
        Method::PATCH,
        &rel_path(&rel),
        Some(json!({"state": "broken_off"})),
    )
    .await;
    assert_eq!(
        b.first("/api/svm/svms?name=svm1_dr&fields=state").await["state"],
        "running"
    );
    let dr_write = ctl.write(DR, "svm1_dr", VOL_A, 777).unwrap();
    ctl.set_cluster_down(PRIMARY, false);
    // docs/ontap-rest.md §12.5: on the original source, create the reverse
    // relationship and resync it.
    let src = svm_uuid(&a, "svm1").await;
    let r = a
        .send(Method::POST, "/api/snapmirror/relationships?return_records=true", Some(json!({"source": {"path": "svm1_dr:", "cluster": {"name": "ontap-b"}}, "destination": {"path": "svm1:"}, "policy": {"name": "MirrorAllSnapshots"}, "identity_preservation": "exclude_network_config"})))
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let rev = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(a.wait_job(&r).await["state"], "success");
    let rp = rel_path(&rev);
    assert_eq!(a.get(&rp).await.body["state"], "broken_off");
    // The original source must be stopped first.
    assert_err(
        &a.patch(&rp, json!({"state": "snapmirrored"})).await,
        400,
        "13303810",
    );
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/svms/{src}"),
        Some(json!({"state": "stopped"})),
    )
    .await;
    a.job_ok(Method::PATCH, &rp, Some(json!({"state": "snapmirrored"})))
        .await;
    a.wait_for(&rp, |r| r["state"] == "snapmirrored").await;
    assert!(
        ctl.volume_data(PRIMARY, "svm1", VOL_A)
            .unwrap()
            .contains(dr_write)
    );
    assert_eq!(
        a.first("/api/svm/svms?name=svm1&fields=subtype").await["subtype"],
        "dp_destination"
    );
    // Flip back: stop DR, break the reverse one, start the original source.
    let dst = svm_uuid(&b, "svm1_dr").await;
    b.job_ok(
        Method::PATCH,
        &format!("/api/svm/svms/{dst}"),
        Some(json!({"state": "stopped"})),
    )
    .await;
    a.job_ok(Method::PATCH, &rp, Some(json!({"state": "broken_off"})))
        .await;
    let s = a
        .first("/api/svm/svms?name=svm1&fields=subtype,state")
        .await;
    assert_eq!(s["subtype"], "default");
    assert_eq!(s["state"], "running");
    // Resync the original direction, then delete the reverse relationship (release).
    b.job_ok(
        Method::PATCH,
        &rel_path(&rel),
        Some(json!({"state": "snapmirrored"})),
    )
    .await;
    b.wait_for(&rel_path(&rel), |r| r["state"] == "snapmirrored")
        .await;
    a.job_ok(Method::DELETE, &rp, None).await;
    assert_err(&a.get(&rp).await, 404, "4");
    assert_eq!(
        b.get("/api/snapmirror/relationships?list_destinations_only=true")
            .await
            .body["num_records"],
        0
    );
    assert!(ctl.write(PRIMARY, "svm1", VOL_A, 1).is_ok());
}

#[tokio::test]
async fn failback_keeps_destination_writes() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let ctl = lab.control();
    let rel = setup_dr(&a, &b, "exclude_network_config").await;
    initialize(&b, &rel).await;
    let src = svm_uuid(&a, "svm1").await;
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/svms/{src}"),
        Some(json!({"state": "stopped"})),
    )
    .await;
    // exclude_network_config: no LIFs on the DR SVM, so validation refuses.
    assert_err(
        &b.patch(&format!("{}?failover=true", rel_path(&rel)), json!({}))
            .await,
        400,
        "13303857",
    );
    b.job_ok(
        Method::PATCH,
        &format!("{}?force_failover=true", rel_path(&rel)),
        None,
    )
    .await;
    assert_eq!(
        b.first("/api/svm/svms?name=svm1_dr&fields=state").await["state"],
        "running"
    );
    let w = ctl.write(DR, "svm1_dr", VOL_B, 42).unwrap();
    assert_err(
        &b.patch(
            &format!("{}?failback=true", rel_path(&rel)),
            json!({"state": "paused"}),
        )
        .await,
        400,
        "2",
    );
    b.job_ok(
        Method::PATCH,
        &format!("{}?failback=true", rel_path(&rel)),
        Some(json!({"state": "snapmirrored"})),
    )
    .await;
    assert!(ctl.volume_data(PRIMARY, "svm1", VOL_B).unwrap().contains(w));
    assert_eq!(
        a.get(&format!("/api/svm/svms/{src}")).await.body["state"],
        "running"
    );
    assert_eq!(
        b.first("/api/svm/svms?name=svm1_dr&fields=subtype").await["subtype"],
        "dp_destination"
    );
    assert_eq!(b.get(&rel_path(&rel)).await.body["state"], "snapmirrored");
}

#[tokio::test]
async fn delete_flavours_and_release() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let ctl = lab.control();
    let rel = setup_dr(&a, &b, "exclude_network_config").await;
    initialize(&b, &rel).await;
    // Source down: a plain delete cannot release.
    ctl.set_cluster_down(PRIMARY, true);
    let r = b.delete(&rel_path(&rel)).await;
    let job = b.wait_job(&r).await;
    assert_eq!(job["state"], "failure");
    assert_eq!(job["error"]["code"], "13303822");
    b.job_ok(
        Method::DELETE,
        &format!("{}?destination_only=true", rel_path(&rel)),
        None,
    )
    .await;
    assert_eq!(
        b.get("/api/snapmirror/relationships").await.body["num_records"],
        0
    );
    ctl.set_cluster_down(PRIMARY, false);
    // The source still lists it until released there.
    let src_view = a
        .first("/api/snapmirror/relationships?list_destinations_only=true")
        .await;
    let uuid = src_view["uuid"].as_str().unwrap().to_string();
    assert_err(&a.delete(&rel_path(&uuid)).await, 400, "2");
    a.job_ok(
        Method::DELETE,
        &format!("{}?source_only=true", rel_path(&uuid)),
        None,
    )
    .await;
    assert_eq!(
        a.get("/api/snapmirror/relationships?list_destinations_only=true")
            .await
            .body["num_records"],
        0
    );
    // The dp_destination SVM stays behind.
    assert_eq!(
        b.get("/api/svm/svms?name=svm1_dr").await.body["num_records"],
        1
    );
}

#[tokio::test]
async fn create_destination_provisions_the_svm_and_initializes() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    peer_clusters(&a, &b).await;
    let body = json!({"source": {"path": "svm1:", "cluster": {"name": "ontap-a"}}, "destination": {"path": "svm1_auto:"}, "create_destination": {"enabled": true}, "state": "snapmirrored"});
    assert_err(
        &b.post("/api/snapmirror/relationships", body.clone()).await,
        400,
        "13303886",
    );
    a.post("/api/svm/peer-permissions", json!({"cluster_peer": {"name": "ontap-b"}, "svm": {"name": "svm1"}, "applications": ["snapmirror"]})).await;
    let r = b.post("/api/snapmirror/relationships", body).await;
    assert_eq!(b.wait_job(&r).await["state"], "success");
    let s = b.first("/api/svm/svms?name=svm1_auto&fields=subtype").await;
    assert_eq!(s["subtype"], "dp_destination");
    b.wait_for("/api/snapmirror/relationships?fields=state", |r| {
        r["records"][0]["state"] == "snapmirrored"
    })
    .await;
    assert_eq!(
        b.first("/api/svm/peers?fields=state").await["state"],
        "peered"
    );
}
