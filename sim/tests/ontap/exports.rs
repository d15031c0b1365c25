//! NFS export policies, volume sizes and export policy names, and LUNs:
//! REST shapes, `fields=` projection, writes over REST and the lab control,
//! and what SVM-DR carries to the destination SVM.

use reqwest::Method;
use serde_json::{Value, json};
use sim::ontap::{OntapSim, Topology};

use super::client::*;

const SAN_VOL: &str = "trident_pvc_7d2a5c4e_1f3b_4a6d_8e9c_0b1a2c3d4e5f";

fn only_primary(index: u64) -> Value {
    json!({"index": index, "clients": [{"match": "192.0.2.11"}, {"match": "192.0.2.12"}],
           "protocols": ["nfs"], "ro_rule": ["sys"], "rw_rule": ["sys"], "superuser": ["sys"]})
}

#[tokio::test]
async fn default_policy_volume_fields_and_luns() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    // Keys only by default.
    let r = a
        .get("/api/protocols/nfs/export-policies?svm.name=svm1")
        .await;
    assert_eq!(r.body["num_records"], 1, "{:?}", r.body);
    let rec = &r.body["records"][0];
    assert_eq!(rec["name"], "default");
    assert!(rec["id"].is_u64());
    assert!(rec.get("rules").is_none(), "{rec:?}");
    // fields=name,rules: the topology's rule, with ONTAP's defaults filled in.
    let r = a
        .get("/api/protocols/nfs/export-policies?svm.name=svm1&name=default&fields=name,rules")
        .await;
    let rules = &r.body["records"][0]["rules"];
    assert_eq!(rules.as_array().map(Vec::len), Some(1), "{:?}", r.body);
    assert_eq!(rules[0]["index"], 1);
    assert_eq!(rules[0]["clients"], json!([{"match": "0.0.0.0/0"}]));
    assert_eq!(rules[0]["protocols"], json!(["nfs"]));
    assert_eq!(rules[0]["rw_rule"], json!(["sys"]));
    assert_eq!(rules[0]["anonymous_user"], "65534");
    // Volumes: size and nas.export_policy on request.
    let v = a
        .first(&format!(
            "/api/storage/volumes?name={VOL_A}&fields=nas.export_policy.name,size"
        ))
        .await;
    assert_eq!(v["nas"]["export_policy"]["name"], "default", "{v:?}");
    assert_eq!(v["size"], json!(10u64 << 30));
    assert!(v.get("state").is_none(), "only the fields asked for: {v:?}");
    let v = a
        .first(&format!("/api/storage/volumes?name={VOL_A}&fields=nas"))
        .await;
    assert_eq!(v["nas"]["export_policy"]["id"], rec["id"], "{v:?}");
    // The topology's LUN.
    let r = a
        .get("/api/storage/luns?svm.name=svm1&fields=name,location.volume.name,location.logical_unit,status.state,enabled,space.size,svm.name")
        .await;
    assert_eq!(r.body["num_records"], 1, "{:?}", r.body);
    let l = &r.body["records"][0];
    assert_eq!(l["name"], format!("/vol/{SAN_VOL}/lun0"));
    assert_eq!(l["location"]["volume"]["name"], SAN_VOL);
    assert_eq!(l["location"]["logical_unit"], "lun0");
    assert_eq!(l["status"]["state"], "online");
    assert_eq!(l["enabled"], true);
    assert_eq!(l["space"]["size"], json!(5u64 << 30));
    assert_eq!(l["svm"]["name"], "svm1");
    // Offline LUN through the control.
    let ctl = lab.control();
    assert!(ctl.set_lun_online(PRIMARY, "svm1", SAN_VOL, "lun0", false));
    let l = a
        .first("/api/storage/luns?fields=status.state,enabled")
        .await;
    assert_eq!(l["status"]["state"], "offline");
    assert_eq!(l["enabled"], false);
    let snap = ctl.snapshot();
    assert_eq!(snap["luns"][0]["state"], "offline");
    assert_eq!(snap["luns"][0]["volume"], SAN_VOL);
}

#[tokio::test]
async fn policies_and_rules_over_rest() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let a = Api::admin(&lab, PRIMARY);
    let r = a
        .post(
            "/api/protocols/nfs/export-policies?return_records=true",
            json!({"name": "k8s", "svm.name": "svm1", "rules": [only_primary(0)]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.body["records"][0]["id"].as_u64().unwrap();
    assert_err(
        &a.post(
            "/api/protocols/nfs/export-policies",
            json!({"name": "k8s", "svm": {"name": "svm1"}}),
        )
        .await,
        409,
        "1",
    );
    // A rule inserted at index 1 shifts the existing one.
    let base = format!("/api/protocols/nfs/export-policies/{id}/rules");
    let r = a
        .post(
            &format!("{base}?return_records=true"),
            json!({"index": 1, "clients": [{"match": "198.51.100.0/24"}], "ro_rule": ["sys"], "rw_rule": ["sys"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["records"][0]["index"], 1);
    assert_eq!(r.body["records"][0]["policy"]["name"], "k8s");
    let r = a.get(&format!("{base}?fields=clients")).await;
    let matches: Vec<&str> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["clients"][0]["match"].as_str().unwrap())
        .collect();
    assert_eq!(matches, vec!["198.51.100.0/24", "192.0.2.11"]);
    // Missing ro_rule is refused, naming the field.
    let r = a
        .post(
            &base,
            json!({"clients": [{"match": "h1"}], "rw_rule": ["sys"]}),
        )
        .await;
    assert_err(&r, 400, "2");
    // Volume PATCH to the new policy; an unknown policy is refused.
    let uuid = a.first(&format!("/api/storage/volumes?name={VOL_A}")).await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let vpath = format!("/api/storage/volumes/{uuid}");
    assert_eq!(
        a.patch(&vpath, json!({"nas": {"export_policy": {"name": "nope"}}}))
            .await
            .status,
        404
    );
    a.job_ok(
        Method::PATCH,
        &vpath,
        Some(json!({"nas.export_policy.name": "k8s"})),
    )
    .await;
    assert_eq!(
        a.get(&format!("{vpath}?fields=nas.export_policy"))
            .await
            .body["nas"]["export_policy"]["name"],
        "k8s"
    );
    // A policy in use cannot be deleted; a rule can.
    assert_eq!(
        a.delete(&format!("/api/protocols/nfs/export-policies/{id}"))
            .await
            .status,
        400
    );
    assert_eq!(a.delete(&format!("{base}/1")).await.status, 200);
    let snap = lab.control().snapshot();
    let k8s = snap["export_policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "k8s")
        .cloned()
        .unwrap();
    assert_eq!(k8s["svm"], "svm1");
    assert_eq!(k8s["rules"].as_array().map(Vec::len), Some(1));
    assert_eq!(k8s["rules"][0]["index"], 1);
    let vol = snap["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == VOL_A)
        .cloned()
        .unwrap();
    assert_eq!(vol["export_policy"], "k8s");
    assert_eq!(vol["size"], json!(10u64 << 30));
    // An SVM-scoped account sees only its SVM's policies.
    let vs = Api::new(&lab, PRIMARY, Some(("vsadmin", "Vsadmin1!")));
    let r = vs.get("/api/protocols/nfs/export-policies").await;
    assert_eq!(r.body["num_records"], 2, "{:?}", r.body);
}

#[tokio::test]
async fn control_rules_rename_and_luns() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let ctl = lab.control();
    ctl.set_export_rules(PRIMARY, "svm1", "default", vec![only_primary(1)]);
    assert!(
        ctl.try_set_export_rules(PRIMARY, "svm1", "x", vec![json!({"clients": []})])
            .is_err()
    );
    assert!(
        ctl.try_set_export_rules(PRIMARY, "nosvm", "x", vec![])
            .is_err()
    );
    ctl.set_volume_export_policy(PRIMARY, "svm1", VOL_B, "restricted");
    let a = Api::admin(&lab, PRIMARY);
    let r = a
        .get("/api/protocols/nfs/export-policies?svm.name=svm1&fields=rules&order_by=name")
        .await;
    let recs = r.body["records"].as_array().unwrap();
    assert_eq!(recs.len(), 2, "{:?}", r.body);
    assert_eq!(recs[0]["name"], "default");
    assert_eq!(recs[0]["rules"][0]["clients"][1]["match"], "192.0.2.12");
    assert_eq!(recs[1]["name"], "restricted");
    assert_eq!(recs[1]["rules"], json!([]));
    // Rename: the LUN path follows; a taken name is refused.
    assert!(ctl.rename_volume(PRIMARY, "svm1", SAN_VOL, "trident_pvc_new"));
    assert!(!ctl.rename_volume(PRIMARY, "svm1", VOL_A, VOL_B));
    assert!(!ctl.rename_volume(PRIMARY, "svm1", "missing", "x"));
    let l = a.first("/api/storage/luns?fields=name").await;
    assert_eq!(l["name"], "/vol/trident_pvc_new/lun0");
    assert!(ctl.create_lun(PRIMARY, "svm1", VOL_A, "lun1", 1 << 20));
    assert!(!ctl.create_lun(PRIMARY, "svm1", VOL_A, "lun1", 1 << 20));
    assert_eq!(a.get("/api/storage/luns").await.body["num_records"], 2);
}

/// Sets up DR with `identity`, restricts the primary's default policy and
/// moves VOL_B to a custom policy, initializes, and returns the DR side's
/// policies (`fields=name,rules`) and VOL_B's policy name there.
async fn replicate(identity: &str) -> (Vec<Value>, Value, Value) {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let ctl = lab.control();
    ctl.set_export_rules(PRIMARY, "svm1", "default", vec![only_primary(1)]);
    ctl.set_export_rules(PRIMARY, "svm1", "custom", vec![only_primary(1)]);
    ctl.set_volume_export_policy(PRIMARY, "svm1", VOL_B, "custom");
    let rel = setup_dr(&a, &b, identity).await;
    // A new dp_destination SVM starts with an empty default policy.
    let r = b
        .get("/api/protocols/nfs/export-policies?svm.name=svm1_dr&fields=rules")
        .await;
    assert_eq!(r.body["records"][0]["rules"], json!([]), "{:?}", r.body);
    initialize(&b, &rel).await;
    let r = b
        .get("/api/protocols/nfs/export-policies?svm.name=svm1_dr&fields=name,rules&order_by=name")
        .await;
    // The destination's exports are the source's to change, unless the
    // protocol configuration is not replicated.
    let id = r.body["records"][0]["id"].as_u64().unwrap();
    let add = b
        .post(
            &format!("/api/protocols/nfs/export-policies/{id}/rules"),
            json!({"clients": [{"match": "198.51.100.0/24"}], "ro_rule": ["sys"], "rw_rule": ["sys"]}),
        )
        .await;
    let expect = if identity == "exclude_network_and_protocol_config" {
        201
    } else {
        400
    };
    assert_eq!(add.status, expect, "{identity}: {:?}", add.body);
    if expect == 201 {
        b.delete(&format!("/api/protocols/nfs/export-policies/{id}/rules/1"))
            .await;
    }
    let vol = b
        .first(&format!(
            "/api/storage/volumes?svm.name=svm1_dr&name={VOL_B}&fields=nas.export_policy.name,size"
        ))
        .await;
    let lun = b
        .get("/api/storage/luns?svm.name=svm1_dr&fields=name,status.read_only")
        .await;
    assert_eq!(lun.body["num_records"], 1, "{:?}", lun.body);
    assert_eq!(lun.body["records"][0]["status"]["read_only"], true);
    assert_eq!(vol["size"], json!(20u64 << 30));
    (
        r.body["records"].as_array().cloned().unwrap_or_default(),
        vol["nas"]["export_policy"]["name"].clone(),
        lun.body["records"][0]["name"].clone(),
    )
}

#[tokio::test]
async fn svm_dr_with_protocol_config_carries_export_policies() {
    for identity in ["exclude_network_config", "full"] {
        let (policies, vol_policy, lun) = replicate(identity).await;
        let names: Vec<&str> = policies.iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(names, vec!["custom", "default"], "{identity}");
        assert_eq!(
            policies[1]["rules"][0]["clients"],
            json!([{"match": "192.0.2.11"}, {"match": "192.0.2.12"}]),
            "{identity}"
        );
        assert_eq!(vol_policy, "custom", "{identity}");
        assert_eq!(lun, format!("/vol/{SAN_VOL}/lun0"));
    }
}

#[tokio::test]
async fn svm_dr_without_protocol_config_keeps_the_destination_exports() {
    let (policies, vol_policy, _) = replicate("exclude_network_and_protocol_config").await;
    let names: Vec<&str> = policies.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, vec!["default"]);
    assert_eq!(policies[0]["rules"], json!([]));
    assert_eq!(vol_policy, "default");
}

#[tokio::test]
async fn destination_exports_are_writable_once_broken_off() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let rel = setup_dr(&a, &b, "exclude_network_config").await;
    initialize(&b, &rel).await;
    let id = b
        .first("/api/protocols/nfs/export-policies?svm.name=svm1_dr&name=default")
        .await["id"]
        .as_u64()
        .unwrap();
    let rules = format!("/api/protocols/nfs/export-policies/{id}/rules");
    let rule = json!({"index": 1, "clients": [{"match": "198.51.100.0/24"}], "ro_rule": ["sys"], "rw_rule": ["sys"]});
    assert_err(&b.post(&rules, rule.clone()).await, 400, "2");
    b.job_ok(
        Method::PATCH,
        &format!("/api/snapmirror/relationships/{rel}"),
        Some(json!({"state": "broken_off"})),
    )
    .await;
    assert_eq!(b.post(&rules, rule).await.status, 201);
    let r = b.get(&format!("{rules}?fields=clients")).await;
    assert_eq!(
        r.body["records"][0]["clients"][0]["match"],
        "198.51.100.0/24"
    );
    assert_eq!(r.body["num_records"], 2, "{:?}", r.body);
}

#[tokio::test]
async fn nfs_mounts_follow_the_export_rules() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let ctl = lab.control();
    let mount = |ip: &str| ctl.nfs_mount_check(PRIMARY, "svm1", VOL_A, ip, Some("dr-node-1"), true);
    // The topology's default policy admits everyone.
    mount("198.51.100.21").unwrap();
    ctl.set_export_rules(PRIMARY, "svm1", "default", vec![only_primary(1)]);
    mount("192.0.2.11").unwrap();
    let e = mount("198.51.100.21").unwrap_err().to_string();
    assert!(
        e.contains("no rule of export policy default matches client 198.51.100.21"),
        "{e}"
    );
    // Read-only rule: a read-write mount is refused, a read-only one works.
    let mut ro = only_primary(1);
    ro["clients"] = json!([{"match": "198.51.100.0/24"}]);
    ro["rw_rule"] = json!(["never"]);
    ctl.set_export_rules(PRIMARY, "svm1", "default", vec![ro]);
    let e = mount("198.51.100.21").unwrap_err().to_string();
    assert!(
        e.contains("rule 1 (clientmatch 198.51.100.0/24)") && e.contains("read-only"),
        "{e}"
    );
    ctl.nfs_mount_check(PRIMARY, "svm1", VOL_A, "198.51.100.21", None, false)
        .unwrap();
    // The volume's own policy admits, the root volume's does not.
    ctl.set_export_rules(PRIMARY, "svm1", "default", vec![only_primary(1)]);
    let mut dr = only_primary(1);
    dr["clients"] = json!([{"match": "dr-node-1"}]);
    ctl.set_export_rules(PRIMARY, "svm1", "k8s", vec![dr]);
    ctl.set_volume_export_policy(PRIMARY, "svm1", VOL_A, "k8s");
    let e = mount("198.51.100.21").unwrap_err().to_string();
    assert!(e.contains("SVM root volume svm1_root"), "{e}");
    ctl.set_export_rules(PRIMARY, "svm1", "default", vec![]);
    assert!(
        mount("198.51.100.21").is_err(),
        "an empty policy admits nobody"
    );
    // Open to all again; then a cluster that is down serves no mount.
    ctl.set_export_rules(
        PRIMARY,
        "svm1",
        "default",
        vec![json!({"clients": [{"match": "0.0.0.0/0"}], "ro_rule": ["any"], "rw_rule": ["any"]})],
    );
    mount("198.51.100.21").unwrap();
    assert!(
        ctl.nfs_mount_check(PRIMARY, "svm1", "svm1_root", "198.51.100.21", None, true)
            .is_ok()
    );
    assert!(
        ctl.nfs_mount_check(PRIMARY, "svm1", "missing", "198.51.100.21", None, true)
            .is_err()
    );
    assert!(
        ctl.nfs_mount_check(PRIMARY, "svm1", VOL_A, "not-an-ip", None, true)
            .is_err()
    );
    ctl.set_cluster_down(PRIMARY, true);
    let e = mount("198.51.100.21").unwrap_err().to_string();
    assert!(e.contains("does not serve NFS"), "{e}");
}
