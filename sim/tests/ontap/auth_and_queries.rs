//! Auth (basic, certificate, 401, vsadmin 403), fields/filters/pagination,
//! jobs (202 → poll, return_timeout, failure, expiry).

use std::time::Duration;

use serde_json::json;
use sim::ontap::{OntapSim, Timing, Topology};

use super::client::*;

#[tokio::test]
async fn missing_or_bad_credentials_get_401_with_an_ontap_body() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let none = Api::new(&lab, PRIMARY, None);
    let r = none.get("/api/cluster").await;
    assert_err(&r, 401, "6691623");
    let bad = Api::new(&lab, PRIMARY, Some(("admin", "wrong")));
    assert_err(&bad.get("/api/svm/svms").await, 401, "6691623");
    // The vsadmin account exists only on primary.
    let vs_on_dr = Api::new(&lab, DR, Some(("vsadmin", "Vsadmin1!")));
    assert_err(&vs_on_dr.get("/api/svm/svms").await, 401, "6691623");
    let ok = Api::admin(&lab, PRIMARY)
        .get("/api/cluster?fields=name,version")
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["name"], "ontap-a");
    assert_eq!(ok.body["version"]["generation"], 9);
    assert_eq!(ok.body["version"]["major"], 14);
    assert_eq!(ok.body["version"]["minor"], 1);
}

#[tokio::test]
async fn certificate_logins_map_the_cn_to_an_account() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let call = |user: &str| {
        let pair = lab.client_cert(user).unwrap();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config(lab.ca_pem(), Some(&pair)))
            .build()
            .unwrap();
        Api {
            http,
            base: lab.url(PRIMARY),
            auth: None,
        }
    };
    let admin = call("admin");
    let r = admin.get("/api/cluster").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let vs = call("vsadmin");
    assert_err(&vs.get("/api/cluster/peers").await, 403, "6");
    let stranger = call("nobody");
    assert_err(&stranger.get("/api/cluster").await, 401, "6691623");
}

#[tokio::test]
async fn vsadmin_is_refused_cluster_level_calls_and_sees_only_its_svm() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let vs = Api::new(&lab, PRIMARY, Some(("vsadmin", "Vsadmin1!")));
    assert_err(&vs.get("/api/cluster/peers").await, 403, "6");
    assert_err(
        &vs.post(
            "/api/cluster/peers",
            json!({"authentication": {"generate_passphrase": true}}),
        )
        .await,
        403,
        "6",
    );
    assert_err(
        &vs.post("/api/svm/svms", json!({"name": "x"})).await,
        403,
        "6",
    );
    let uuid = svm_uuid(&vs, "svm1").await;
    assert_err(
        &vs.patch(
            &format!("/api/svm/svms/{uuid}"),
            json!({"state": "stopped"}),
        )
        .await,
        403,
        "6",
    );
    assert_err(
        &vs.post(
            "/api/svm/peers",
            json!({"svm": {"name": "svm1"}, "peer": {"svm": {"name": "x"}}}),
        )
        .await,
        403,
        "6",
    );
    assert_err(
        &vs.post("/api/network/ip/interfaces", json!({"name": "ic9", "ip": {"address": "192.0.2.99", "netmask": "24"}, "ipspace": {"name": "Default"}, "service_policy": {"name": "default-intercluster"}, "location": {"home_node": {"name": "ontap-a-01"}}})).await,
        403,
        "6",
    );
    // GETs are allowed but scoped to the SVM.
    let lifs = vs
        .get("/api/network/ip/interfaces?fields=svm.name,services")
        .await;
    assert_eq!(lifs.status, 200);
    assert_eq!(lifs.body["num_records"], 2, "{:?}", lifs.body);
    assert!(
        lifs.body["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["svm"]["name"] == "svm1")
    );
    let svms = vs.get("/api/svm/svms").await;
    assert_eq!(svms.body["num_records"], 1);
    // SVM peers GET is allowed through an SVM account.
    assert_eq!(vs.get("/api/svm/peers").await.status, 200);
}

#[tokio::test]
async fn fields_filters_and_pagination() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    // Default: key fields only.
    let r = a.get("/api/storage/volumes").await;
    assert_eq!(r.body["num_records"], 4);
    let rec = &r.body["records"][0];
    assert!(
        rec["uuid"].is_string()
            && rec["name"].is_string()
            && rec["_links"]["self"]["href"].is_string()
    );
    assert!(rec.get("state").is_none(), "{rec:?}");
    // fields= picks nested fields.
    let r = a.get("/api/storage/volumes?fields=svm.name,space.size,nas.path&is_svm_root=false&name=trident_pvc_0b*").await;
    assert_eq!(r.body["num_records"], 1, "{:?}", r.body);
    let rec = &r.body["records"][0];
    assert_eq!(rec["svm"], json!({"name": "svm1"}));
    assert_eq!(rec["space"]["size"], json!(10u64 << 30));
    assert!(
        rec["nas"]["path"]
            .as_str()
            .unwrap()
            .starts_with("/trident_pvc_")
    );
    assert!(rec.get("type").is_none());
    // Not, OR and null.
    assert_eq!(
        a.get("/api/storage/volumes?is_svm_root=!true").await.body["num_records"],
        3
    );
    assert_eq!(
        a.get(&format!("/api/storage/volumes?name=svm1_root|{VOL_A}"))
            .await
            .body["num_records"],
        2
    );
    assert_eq!(
        a.get("/api/storage/volumes?nas.path=null").await.body["num_records"],
        1
    );
    // services is derived from the policy and filterable.
    let nfs = a.get("/api/network/ip/interfaces?services=data_nfs&fields=ip.address,state,enabled,service_policy.name").await;
    assert_eq!(nfs.body["num_records"], 1);
    assert_eq!(nfs.body["records"][0]["ip"]["address"], "127.0.0.1");
    assert_eq!(nfs.body["records"][0]["state"], "up");
    let ic = a
        .get("/api/network/ip/interfaces?services=intercluster_core")
        .await;
    assert_eq!(ic.body["num_records"], 2);
    // Pagination: follow _links.next.
    let mut next = Some("/api/storage/volumes?max_records=3&fields=name".to_string());
    let mut names = vec![];
    let mut pages = 0;
    while let Some(path) = next {
        let r = a.get(&path).await;
        assert_eq!(r.status, 200);
        pages += 1;
        names.extend(
            r.body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["name"].as_str().unwrap().to_string()),
        );
        next = r.body["_links"]["next"]["href"]
            .as_str()
            .map(str::to_string);
    }
    assert_eq!(pages, 2);
    assert_eq!(names.len(), 4);
    // return_records=false → only the count.
    let r = a.get("/api/storage/volumes?return_records=false").await;
    assert!(r.body.get("records").is_none());
    assert_eq!(r.body["num_records"], 4);
    // Bad parameters.
    assert_err(
        &a.get("/api/storage/volumes?max_records=zero").await,
        400,
        "2",
    );
    // Instance GET returns every common field; malformed uuid → 404 code 2.
    let uuid = svm_uuid(&a, "svm1").await;
    let s = a.get(&format!("/api/svm/svms/{uuid}")).await;
    assert_eq!(s.body["state"], "running");
    assert_eq!(s.body["subtype"], "default");
    assert_eq!(s.body["nfs"]["enabled"], true);
    assert_err(&a.get("/api/svm/svms/not-a-uuid").await, 404, "2");
    assert_err(
        &a.get("/api/svm/svms/00000000-0000-0000-0000-000000000000")
            .await,
        404,
        "4",
    );
    assert_err(&a.get("/api/no/such/thing").await, 404, "3");
    // Protocol services.
    let n = a
        .first("/api/protocols/nfs/services?fields=enabled,state,protocol.v3_enabled")
        .await;
    assert_eq!(n["svm"]["name"], "svm1");
    assert_eq!(n["state"], "online");
    let i = a
        .first("/api/protocols/san/iscsi/services?fields=enabled,target.name")
        .await;
    assert!(
        i["target"]["name"]
            .as_str()
            .unwrap()
            .starts_with("iqn.1992-08.com.netapp:sn.")
    );
    // Policies: built-ins with types.
    let p = a
        .first("/api/snapmirror/policies?name=MirrorAllSnapshots&fields=type,identity_preservation")
        .await;
    assert_eq!(p["type"], "async");
    let p = a
        .first("/api/snapmirror/policies?name=Sync&fields=type")
        .await;
    assert_eq!(p["type"], "sync");
    // Accept: application/json drops HAL links.
    let v = a.get_accepting("/api/svm/svms", "application/json").await;
    assert!(v["records"][0].get("_links").is_none(), "{v:?}");
}

#[tokio::test]
async fn jobs_go_202_then_success_and_apply_their_change_only_then() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let b = Api::admin(&lab, DR);
    let r = b
        .post(
            "/api/svm/svms",
            json!({"name": "svm1_dr", "subtype": "dp_destination"}),
        )
        .await;
    assert_eq!(r.status, 202);
    let href = r.body["job"]["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(href.starts_with("/api/cluster/jobs/"));
    assert!(r.location.as_deref().unwrap().starts_with("/api/svm/svms/"));
    let early = b.get(&format!("{href}?fields=state")).await;
    assert!(
        matches!(early.body["state"].as_str(), Some("queued" | "running")),
        "{:?}",
        early.body
    );
    let job = b.wait_job(&r).await;
    assert_eq!(job["state"], "success");
    assert_eq!(job["code"], 0);
    assert!(job["end_time"].is_string());
    let s = b
        .first("/api/svm/svms?name=svm1_dr&fields=subtype,state")
        .await;
    assert_eq!(s["subtype"], "dp_destination");
    // return_timeout covering the job → 201 with the finished job.
    let r = b
        .post(
            "/api/svm/svms?return_timeout=10",
            json!({"name": "other", "subtype": "dp_destination"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let j = b
        .get(&format!(
            "/api/cluster/jobs/{}",
            r.body["job"]["uuid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(j.body["state"], "success");
    assert_err(
        &b.post("/api/svm/svms?return_timeout=500", json!({"name": "x"}))
            .await,
        400,
        "2",
    );
    // dp_destination POST may only carry name/comment/ipspace.
    assert_err(
        &b.post(
            "/api/svm/svms",
            json!({"name": "y", "subtype": "dp_destination", "language": "c.utf_8"}),
        )
        .await,
        400,
        "2621580",
    );
    assert_err(
        &b.post(
            "/api/svm/svms",
            json!({"name": "svm1_dr", "subtype": "dp_destination"}),
        )
        .await,
        409,
        "1",
    );
}

#[tokio::test]
async fn finished_jobs_expire() {
    let timing = Timing {
        job_expiry: Duration::from_millis(200),
        ..Timing::fast()
    };
    let lab = OntapSim::start_with(Topology::two_sites(), timing)
        .await
        .unwrap();
    let b = Api::admin(&lab, DR);
    let r = b
        .post(
            "/api/svm/svms",
            json!({"name": "svm1_dr", "subtype": "dp_destination"}),
        )
        .await;
    let job = b.wait_job(&r).await;
    let uuid = job["uuid"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = b.get(&format!("/api/cluster/jobs/{uuid}")).await;
        if r.status == 404 {
            assert_err(&r, 404, "4");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "job never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn svm_stop_and_start_pass_through_transitional_states() {
    let timing = Timing {
        job_queued: Duration::from_millis(10),
        job_running: Duration::from_millis(400),
        ..Timing::fast()
    };
    let lab = OntapSim::start_with(Topology::two_sites(), timing)
        .await
        .unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let uuid = svm_uuid(&a, "svm1").await;
    let r = a
        .patch(
            &format!("/api/svm/svms/{uuid}"),
            json!({"state": "stopped"}),
        )
        .await;
    assert_eq!(r.status, 202);
    a.wait_for(&format!("/api/svm/svms/{uuid}?fields=state"), |s| {
        s["state"] == "stopping"
    })
    .await;
    assert_eq!(a.wait_job(&r).await["state"], "success");
    let s = a.get(&format!("/api/svm/svms/{uuid}")).await;
    assert_eq!(s.body["state"], "stopped");
    assert!(
        s.body.get("nfs").is_none(),
        "protocol settings are absent while stopped"
    );
    let n = a.first("/api/protocols/nfs/services?fields=state").await;
    assert_eq!(n["state"], "offline");
    let r = a
        .patch(
            &format!("/api/svm/svms/{uuid}"),
            json!({"state": "running"}),
        )
        .await;
    a.wait_for(&format!("/api/svm/svms/{uuid}?fields=state"), |s| {
        s["state"] == "starting"
    })
    .await;
    assert_eq!(a.wait_job(&r).await["state"], "success");
    assert_err(
        &a.patch(&format!("/api/svm/svms/{uuid}"), json!({"state": "paused"}))
            .await,
        400,
        "2",
    );
    assert_err(
        &a.patch(
            &format!("/api/svm/svms/{uuid}"),
            json!({"subtype": "default"}),
        )
        .await,
        400,
        "2",
    );
}

#[tokio::test]
async fn request_counts_are_kept_per_cluster() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    a.get("/api/cluster").await;
    a.get("/api/cluster").await;
    a.get("/api/svm/svms").await;
    let ctl = lab.control();
    assert_eq!(ctl.request_count(PRIMARY), 3);
    assert_eq!(ctl.request_count(DR), 0);
    assert_eq!(
        ctl.request_counts(PRIMARY).get("GET /api/cluster"),
        Some(&2)
    );
    let r = a.get("/_sim/requests").await;
    assert_eq!(r.body["total"], 3, "/_sim calls are not counted");
}

#[tokio::test]
async fn volumes_are_created_changed_and_deleted_through_jobs() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let r = a
        .post("/api/storage/volumes?return_records=true", json!({"name": "trident_pvc_new", "svm": {"name": "svm1"}, "size": "2GB", "nas": {"path": "/trident_pvc_new"}}))
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let uuid = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(a.wait_job(&r).await["state"], "success");
    let v = a.get(&format!("/api/storage/volumes/{uuid}")).await;
    assert_eq!(v.body["space"]["size"], json!(2u64 << 30));
    assert_eq!(v.body["type"], "rw");
    assert_err(
        &a.post(
            "/api/storage/volumes",
            json!({"name": "trident_pvc_new", "svm": {"name": "svm1"}}),
        )
        .await,
        409,
        "1",
    );
    assert_err(
        &a.post("/api/storage/volumes", json!({"name": "x"})).await,
        400,
        "2",
    );
    // Offline volumes lose their junction path.
    let r = a
        .patch(
            &format!("/api/storage/volumes/{uuid}"),
            json!({"state": "offline"}),
        )
        .await;
    assert_eq!(a.wait_job(&r).await["state"], "success");
    let v = a.get(&format!("/api/storage/volumes/{uuid}")).await;
    assert_eq!(v.body["state"], "offline");
    assert!(v.body["nas"].get("path").is_none());
    assert!(
        lab.control()
            .write(PRIMARY, "svm1", "trident_pvc_new", 1)
            .is_err()
    );
    let root = a.first("/api/storage/volumes?is_svm_root=true").await;
    assert_err(
        &a.delete(&format!(
            "/api/storage/volumes/{}",
            root["uuid"].as_str().unwrap()
        ))
        .await,
        400,
        "2",
    );
    let r = a.delete(&format!("/api/storage/volumes/{uuid}")).await;
    assert_eq!(a.wait_job(&r).await["state"], "success");
    assert_err(
        &a.get(&format!("/api/storage/volumes/{uuid}")).await,
        404,
        "4",
    );
}

/// Volumes and export policies read the SVM from the body by one rule:
/// `svm.name` or `svm.uuid` is required (400 code 2), and must name an SVM
/// of this cluster (404 code 4).
#[tokio::test]
async fn volumes_and_export_policies_name_their_svm_the_same_way() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    for path in ["/api/storage/volumes", "/api/protocols/nfs/export-policies"] {
        let missing = a.post(path, json!({"name": "p1"})).await;
        assert_err(&missing, 400, "2");
        assert_eq!(missing.body["error"]["target"], "svm.name", "{path}");
        let unknown = a
            .post(path, json!({"name": "p1", "svm": {"name": "no_such_svm"}}))
            .await;
        assert_err(&unknown, 404, "4");
        assert_eq!(unknown.body["error"]["message"], "SVM not found.", "{path}");
    }
}
