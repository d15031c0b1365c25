//! What NetApp's Ansible collection (`netapp.ontap`, REST modules) sends
//! and reads, which `netapp-ontap` does not: the collection is the second
//! real ONTAP client the simulator is held to (issue 15).

use serde_json::json;
use sim::ontap::{OntapSim, Topology};

use super::client::*;

#[tokio::test]
async fn an_svm_record_has_the_fields_na_ontap_svm_indexes() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    // `na_ontap_svm` asks for these and indexes the record by them.
    let svm = a
        .first("/api/svm/svms?name=svm1&fields=subtype,aggregates,language,snapshot_policy,ipspace,comment,nfs,cifs,fcp,iscsi,nvme,state,s3,max_volumes")
        .await;
    assert_eq!(svm["snapshot_policy"]["name"], "default", "{svm}");
    assert_eq!(svm["language"], "c.utf_8");
    assert_eq!(svm["ipspace"]["name"], "Default");
    assert!(svm["aggregates"].is_array());
    assert!(svm["comment"].is_string());
    assert_eq!(svm["max_volumes"], "unlimited");
    assert_eq!(svm["s3"]["enabled"], false);
}

#[tokio::test]
async fn a_relationship_names_its_source_cluster_as_a_plain_string() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    peer_svms(&a, &b).await;
    // `na_ontap_snapmirror` `get_create_body`: `cluster` is a bare name.
    let r = b
        .post(
            "/api/snapmirror/relationships",
            json!({"source": {"path": "svm1:", "cluster": "ontap-a"}, "destination": {"path": "svm1_dr:"}}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(b.wait_job(&r).await["state"], "success");
    let rel = b
        .first("/api/snapmirror/relationships?destination.path=svm1_dr:&fields=source")
        .await;
    assert_eq!(rel["source"]["cluster"]["name"], "ontap-a", "{rel}");
}

#[tokio::test]
async fn application_json_keeps_the_job_link_of_an_asynchronous_answer() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let b = Api::admin(&lab, DR);
    // `na_ontap_restit` asks for application/json, then follows
    // `job._links.self.href` (`module_utils/netapp.py` `wait_on_job`).
    let r = b
        .http
        .post(format!("{}/api/svm/svms?return_timeout=0", b.base))
        .basic_auth("admin", Some("Netapp1!"))
        .header("accept", "application/json")
        .json(&json!({"name": "svm1_dr", "subtype": "dp_destination"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let v: serde_json::Value = r.json().await.unwrap();
    let href = v["job"]["_links"]["self"]["href"]
        .as_str()
        .unwrap_or_default();
    assert!(href.starts_with("/api/cluster/jobs/"), "{v}");
    // Everything else still loses its links.
    let v = b.get_accepting("/api/svm/svms", "application/json").await;
    assert!(v["records"][0].get("_links").is_none(), "{v}");
}
