//! Cluster peering (two-sided, passphrase rules), SVM peering (initiate,
//! accept, aliases, pre-authorization) and intercluster LIFs.

use reqwest::Method;
use serde_json::json;
use sim::ontap::{OntapSim, Topology};

use super::client::*;

#[tokio::test]
async fn cluster_peering_is_pending_until_both_sides_post() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let r = a
        .post("/api/cluster/peers", json!({"remote": {"ip_addresses": ["192.0.2.21"]}, "authentication": {"generate_passphrase": true, "expiry_time": "PT2H"}}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(r.location.is_some());
    let rec = &r.body["records"][0];
    let pass = rec["authentication"]["passphrase"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(pass.len() >= 8);
    let uuid_a = rec["uuid"].as_str().unwrap().to_string();
    let p = a
        .get(&format!(
            "/api/cluster/peers/{uuid_a}?fields=status,authentication,encryption,name,remote"
        ))
        .await;
    assert_eq!(p.body["status"]["state"], "pending");
    assert_eq!(p.body["authentication"]["state"], "pending");
    assert_eq!(p.body["encryption"]["proposed"], "tls_psk");
    assert_eq!(p.body["name"], "ontap-b");
    // A wrong passphrase on the other side is refused; nothing is created.
    let bad = b.post("/api/cluster/peers", json!({"remote": {"ip_addresses": ["192.0.2.11"]}, "authentication": {"passphrase": "not-the-one"}})).await;
    assert_err(&bad, 400, "2");
    assert_eq!(bad.body["error"]["target"], "authentication.passphrase");
    assert_eq!(b.get("/api/cluster/peers").await.body["num_records"], 0);
    // The right one completes both sides.
    let r = b.post("/api/cluster/peers", json!({"remote": {"ip_addresses": ["192.0.2.11", "192.0.2.12"]}, "authentication": {"passphrase": pass}})).await;
    assert_eq!(r.status, 201);
    for api in [&a, &b] {
        let p = api
            .first("/api/cluster/peers?fields=status,authentication,encryption,version")
            .await;
        assert_eq!(p["status"]["state"], "available", "{p:?}");
        assert_eq!(p["authentication"]["state"], "ok");
        assert_eq!(p["authentication"]["in_use"], "ok");
        assert_eq!(p["encryption"]["state"], "tls_psk");
        assert_eq!(p["version"]["generation"], 9);
    }
    // A second peering with the same cluster is a duplicate.
    assert_err(&a.post("/api/cluster/peers", json!({"remote": {"ip_addresses": ["192.0.2.21"]}, "authentication": {"generate_passphrase": true}})).await, 409, "1");
    // Down peer → unavailable.
    lab.control().set_cluster_down(DR, true);
    let p = a.first("/api/cluster/peers?fields=status").await;
    assert_eq!(p["status"]["state"], "unavailable");
}

#[tokio::test]
async fn a_pending_offer_takes_a_new_passphrase_by_patch_and_stale_ones_fail() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let r = a
        .post("/api/cluster/peers", json!({"remote": {"ip_addresses": ["192.0.2.21"]}, "authentication": {"generate_passphrase": true}}))
        .await;
    let old = r.body["records"][0]["authentication"]["passphrase"]
        .as_str()
        .unwrap()
        .to_string();
    let uuid = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    let path = format!("/api/cluster/peers/{uuid}");
    // Expire it: the right passphrase no longer works.
    let p = a
        .patch(
            &path,
            json!({"authentication": {"expiry_time": "2020-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    let accept = |pass: &str| {
        b.post("/api/cluster/peers", json!({"remote": {"ip_addresses": ["192.0.2.11", "192.0.2.12"]}, "authentication": {"passphrase": pass}}))
    };
    let expired = accept(&old).await;
    assert_err(&expired, 400, "2");
    assert!(
        expired.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{:?}",
        expired.body
    );
    // generate_passphrase on PATCH is accepted but, as `docs/ontap-rest.md` §7 has
    // it, the passphrase is not returned.
    let g = a
        .patch(
            &path,
            json!({"authentication": {"generate_passphrase": true}}),
        )
        .await;
    assert_eq!(g.status, 200);
    assert!(!g.body.to_string().contains("passphrase"), "{:?}", g.body);
    // Refusals change nothing.
    assert_err(
        &a.patch(&path, json!({"authentication": {"passphrase": "short"}}))
            .await,
        400,
        "4653236",
    );
    assert_err(
        &a.patch(
            &path,
            json!({"authentication": {"passphrase": "abcdefghij", "generate_passphrase": true}}),
        )
        .await,
        400,
        "2",
    );
    assert_err(
        &a.patch(
            &path,
            json!({"authentication": {"passphrase": "abcdefghij", "expiry_time": "P8D"}}),
        )
        .await,
        400,
        "4655058",
    );
    assert_err(
        &a.patch(&path, json!({"remote": {"ip_addresses": ["192.0.2.11"]}}))
            .await,
        400,
        "4653058",
    );
    // An explicit passphrase renews the offer; the old one is stale.
    let fresh = "A-new-passphrase-0123456789";
    let p = a
        .patch(
            &path,
            json!({"authentication": {"passphrase": fresh, "expiry_time": "PT1H"}}),
        )
        .await;
    assert_eq!(p.status, 200, "{:?}", p.body);
    assert!(!p.body.to_string().contains(fresh));
    let off = a.get(&format!("{path}?fields=authentication")).await;
    assert_eq!(off.body["authentication"]["state"], "pending");
    assert_err(&accept(&old).await, 400, "2");
    assert_err(&accept("abcdefghij").await, 400, "2");
    assert_eq!(accept(fresh).await.status, 201);
    for api in [&a, &b] {
        let p = api
            .first("/api/cluster/peers?fields=status,authentication")
            .await;
        assert_eq!(p["status"]["state"], "available", "{p:?}");
        assert_eq!(p["authentication"]["state"], "ok");
    }
    assert_err(
        &a.patch(
            "/api/cluster/peers/00000000-0000-0000-0000-000000000000",
            json!({"name": "x"}),
        )
        .await,
        404,
        "4",
    );
}

#[tokio::test]
async fn cluster_peer_create_refusals() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let post = |body| a.post("/api/cluster/peers", body);
    assert_err(
        &post(json!({"authentication": {"passphrase": "abcdefghij"}})).await,
        400,
        "4656069",
    );
    assert_err(
        &post(json!({"remote": {"ip_addresses": ["192.0.2.21"]}})).await,
        400,
        "4656077",
    );
    assert_err(&post(json!({"remote": {"ip_addresses": ["192.0.2.11"]}, "authentication": {"generate_passphrase": true}})).await, 400, "4653058");
    assert_err(&post(json!({"remote": {"ip_addresses": ["198.51.100.7"]}, "authentication": {"generate_passphrase": true}})).await, 400, "4653368");
    assert_err(&post(json!({"remote": {"ip_addresses": ["192.0.2.21"]}, "authentication": {"generate_passphrase": true, "expiry_time": "P8D"}})).await, 400, "4655058");
    assert_err(&post(json!({"remote": {"ip_addresses": ["192.0.2.21"]}, "authentication": {"passphrase": "short"}})).await, 400, "4653236");
    // Seven days is the maximum and allowed.
    assert_eq!(post(json!({"remote": {"ip_addresses": ["192.0.2.21"]}, "authentication": {"generate_passphrase": true, "expiry_time": "P7D"}})).await.status, 201);
}

#[tokio::test]
async fn intercluster_lifs_can_be_created_changed_and_deleted() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let body = json!({"name": "ic3", "ip": {"address": "192.0.2.13", "netmask": "24"}, "ipspace": {"name": "Default"}, "service_policy": {"name": "default-intercluster"}, "location": {"home_node": {"name": "ontap-a-01"}, "home_port": {"name": "e0c"}}});
    let r = a
        .post(
            "/api/network/ip/interfaces?return_records=true",
            body.clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let uuid = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["records"][0]["services"],
        json!(["intercluster_core"])
    );
    assert_eq!(r.body["records"][0]["scope"], "cluster");
    assert_err(
        &a.post("/api/network/ip/interfaces", body.clone()).await,
        409,
        "1966140",
    );
    let mut dup_ip = body.clone();
    dup_ip["name"] = json!("ic4");
    assert_err(
        &a.post("/api/network/ip/interfaces", dup_ip).await,
        409,
        "1376963",
    );
    let mut no_ipspace = body.clone();
    no_ipspace["name"] = json!("ic5");
    no_ipspace["ip"]["address"] = json!("192.0.2.15");
    no_ipspace.as_object_mut().unwrap().remove("ipspace");
    assert_err(
        &a.post("/api/network/ip/interfaces", no_ipspace).await,
        400,
        "2",
    );
    assert_eq!(
        a.patch(
            &format!("/api/network/ip/interfaces/{uuid}"),
            json!({"enabled": false})
        )
        .await
        .status,
        200
    );
    let l = a.get(&format!("/api/network/ip/interfaces/{uuid}")).await;
    assert_eq!(l.body["state"], "down");
    assert_eq!(l.body["enabled"], false);
    assert_eq!(
        a.delete(&format!("/api/network/ip/interfaces/{uuid}"))
            .await
            .status,
        200
    );
    assert_err(
        &a.get(&format!("/api/network/ip/interfaces/{uuid}")).await,
        404,
        "4",
    );
}

#[tokio::test]
async fn svm_peering_needs_an_accept_on_the_remote_unless_preauthorized() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    // Without a cluster peer: refused.
    b.job_ok(
        Method::POST,
        "/api/svm/svms",
        Some(json!({"name": "svm1_dr", "subtype": "dp_destination"})),
    )
    .await;
    let r = b.post("/api/svm/peers", json!({"svm": {"name": "svm1_dr"}, "peer": {"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}}, "applications": ["snapmirror"]})).await;
    assert_err(&r, 404, "4");
    peer_clusters(&a, &b).await;
    // lun_copy is not allowed intercluster.
    let r = b.post("/api/svm/peers", json!({"svm": {"name": "svm1_dr"}, "peer": {"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}}, "applications": ["lun_copy"]})).await;
    assert_err(&r, 400, "9895996");
    let r = b.send(Method::POST, "/api/svm/peers?return_records=true", Some(json!({"svm": {"name": "svm1_dr"}, "peer": {"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}}, "applications": ["snapmirror"]}))).await;
    assert_eq!(r.status, 202);
    let uuid = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(b.wait_job(&r).await["state"], "success");
    let mine = b.get(&format!("/api/svm/peers/{uuid}")).await;
    assert_eq!(mine.body["state"], "initiated");
    assert_eq!(mine.body["peer"]["svm"]["name"], "svm1");
    assert_eq!(mine.body["peer"]["cluster"]["name"], "ontap-a");
    // The initiator cannot accept its own request.
    assert_err(
        &b.patch(
            &format!("/api/svm/peers/{uuid}"),
            json!({"state": "peered"}),
        )
        .await,
        400,
        "26345576",
    );
    assert_err(
        &a.patch(
            &format!("/api/svm/peers/{uuid}"),
            json!({"state": "initiated"}),
        )
        .await,
        400,
        "26345576",
    );
    // Same uuid on the remote, pending until accepted.
    let theirs = a
        .first("/api/svm/peers?svm.name=svm1&peer.svm.name=svm1_dr&fields=uuid,state,name")
        .await;
    assert_eq!(theirs["uuid"], json!(uuid));
    assert_eq!(theirs["state"], "pending");
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/peers/{uuid}"),
        Some(json!({"state": "peered"})),
    )
    .await;
    assert_eq!(
        b.get(&format!("/api/svm/peers/{uuid}")).await.body["state"],
        "peered"
    );
    // Pre-authorized by a peer permission: straight to peered.
    let r = a.post("/api/svm/peer-permissions", json!({"cluster_peer": {"name": "ontap-b"}, "svm": {"name": "svm1"}, "applications": ["snapmirror"]})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        a.get("/api/svm/peer-permissions").await.body["num_records"],
        1
    );
    b.job_ok(
        Method::POST,
        "/api/svm/svms",
        Some(json!({"name": "svm1_dr2", "subtype": "dp_destination"})),
    )
    .await;
    let r = b.send(Method::POST, "/api/svm/peers?return_records=true", Some(json!({"svm": {"name": "svm1_dr2"}, "peer": {"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}}}))).await;
    let uuid2 = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(b.wait_job(&r).await["state"], "success");
    assert_eq!(
        b.get(&format!("/api/svm/peers/{uuid2}")).await.body["state"],
        "peered"
    );
    // Deleting removes both sides.
    b.job_ok(Method::DELETE, &format!("/api/svm/peers/{uuid2}"), None)
        .await;
    assert_err(&a.get(&format!("/api/svm/peers/{uuid2}")).await, 404, "4");
}

#[tokio::test]
async fn a_peer_svm_name_clash_needs_a_local_alias() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    peer_clusters(&a, &b).await;
    // An SVM named svm1 on dr too.
    b.job_ok(
        Method::POST,
        "/api/svm/svms",
        Some(json!({"name": "svm1", "subtype": "dp_destination"})),
    )
    .await;
    let body = json!({"svm": {"name": "svm1"}, "peer": {"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}}});
    assert_err(
        &b.post("/api/svm/peers", body.clone()).await,
        400,
        "9896086",
    );
    let mut aliased = body.clone();
    aliased["name"] = json!("svm1_src");
    let r = b
        .send(
            Method::POST,
            "/api/svm/peers?return_records=true",
            Some(aliased),
        )
        .await;
    let uuid = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(b.wait_job(&r).await["state"], "success");
    assert_eq!(
        b.get(&format!("/api/svm/peers/{uuid}")).await.body["name"],
        "svm1_src"
    );
    // The acceptor sees the same clash.
    assert_err(
        &a.patch(
            &format!("/api/svm/peers/{uuid}"),
            json!({"state": "peered"}),
        )
        .await,
        400,
        "9896088",
    );
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/peers/{uuid}"),
        Some(json!({"state": "peered", "name": "svm1_dst"})),
    )
    .await;
    assert_eq!(
        a.get(&format!("/api/svm/peers/{uuid}")).await.body["name"],
        "svm1_dst"
    );
}
