//! `fields=` as ONTAP answers it: names checked against the catalogue
//! generated from NetApp's `netapp_ontap` schemas (unknown → 400, code
//! 262197, target `fields`), and records that carry ONTAP's fields.

use std::collections::BTreeSet;

use serde_json::Value;
use sim::ontap::{OntapSim, Topology};

use super::client::*;

/// (collection path, catalogue file) for every resource; `{rel}` and
/// `{policy}` are filled in by [`lab_with_everything`].
const RESOURCES: &[(&str, &str)] = &[
    (
        "/api/cluster",
        include_str!("../../src/ontap/fields/cluster.txt"),
    ),
    (
        "/api/cluster/nodes",
        include_str!("../../src/ontap/fields/nodes.txt"),
    ),
    (
        "/api/cluster/jobs",
        include_str!("../../src/ontap/fields/jobs.txt"),
    ),
    (
        "/api/cluster/schedules",
        include_str!("../../src/ontap/fields/schedules.txt"),
    ),
    (
        "/api/cluster/peers",
        include_str!("../../src/ontap/fields/cluster_peers.txt"),
    ),
    (
        "/api/network/ip/interfaces",
        include_str!("../../src/ontap/fields/ip_interfaces.txt"),
    ),
    (
        "/api/svm/svms",
        include_str!("../../src/ontap/fields/svms.txt"),
    ),
    (
        "/api/svm/peers",
        include_str!("../../src/ontap/fields/svm_peers.txt"),
    ),
    (
        "/api/svm/peer-permissions",
        include_str!("../../src/ontap/fields/svm_peer_permissions.txt"),
    ),
    (
        "/api/snapmirror/policies",
        include_str!("../../src/ontap/fields/snapmirror_policies.txt"),
    ),
    (
        "/api/snapmirror/relationships",
        include_str!("../../src/ontap/fields/snapmirror_relationships.txt"),
    ),
    (
        "/api/snapmirror/relationships/{rel}/transfers",
        include_str!("../../src/ontap/fields/snapmirror_transfers.txt"),
    ),
    (
        "/api/storage/volumes",
        include_str!("../../src/ontap/fields/volumes.txt"),
    ),
    (
        "/api/protocols/nfs/services",
        include_str!("../../src/ontap/fields/nfs_services.txt"),
    ),
    (
        "/api/protocols/nfs/export-policies",
        include_str!("../../src/ontap/fields/export_policies.txt"),
    ),
    (
        "/api/protocols/nfs/export-policies/{policy}/rules",
        include_str!("../../src/ontap/fields/export_rules.txt"),
    ),
    (
        "/api/storage/luns",
        include_str!("../../src/ontap/fields/luns.txt"),
    ),
    (
        "/api/protocols/san/iscsi/services",
        include_str!("../../src/ontap/fields/iscsi_services.txt"),
    ),
];

fn paths(cat: &str) -> impl Iterator<Item = &str> {
    cat.lines().filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn knows(cat: &str, name: &str) -> bool {
    paths(cat).any(|p| match p.strip_suffix('*') {
        Some(open) => name.starts_with(open),
        None => p == name || p.starts_with(&format!("{name}.")),
    })
}

/// Every dotted path of `v` (arrays flattened).
fn walk(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                walk(x, &p, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, prefix, out)),
        _ => {}
    }
}

/// Two peered clusters with an initialized SVM-DR relationship; returns
/// the lab, both APIs and the relationship uuid.
async fn lab_with_everything() -> (OntapSim, Api, Api, String) {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let (a, b) = (Api::admin(&lab, PRIMARY), Api::admin(&lab, DR));
    let rel = setup_dr(&a, &b, "full").await;
    initialize(&b, &rel).await;
    (lab, a, b, rel)
}

async fn records(api: &Api, path: &str, fields: &str) -> Vec<Value> {
    let r = api.get(&format!("{path}?fields={fields}")).await;
    assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    match r.body.get("records") {
        Some(Value::Array(recs)) => recs.clone(),
        _ => vec![r.body.clone()],
    }
}

/// Every resource path of the lab, with its catalogue.
async fn every_path(b: &Api, rel: &str) -> Vec<(String, &'static str)> {
    let policy = records(b, "/api/protocols/nfs/export-policies", "id").await[0]["id"].to_string();
    RESOURCES
        .iter()
        .map(|(p, c)| (p.replace("{rel}", rel).replace("{policy}", &policy), *c))
        .collect()
}

#[tokio::test]
async fn an_unknown_field_name_is_refused_as_ontap_does() {
    let (_lab, _a, b, rel) = lab_with_everything().await;
    for (path, _) in every_path(&b, &rel).await {
        // ONTAP names the first unknown one (harvest #2237, netapp.ontap #189).
        let r = b
            .get(&format!("{path}?fields=*,interface.name,also_unknown"))
            .await;
        assert_err(&r, 400, "262197");
        assert_eq!(r.body["error"]["target"], "fields", "{path}");
        assert_eq!(
            r.body["error"]["message"],
            "The value \"interface.name\" is invalid for field \"fields\" (<field,...>)",
            "{path}"
        );
    }
    // Instance GETs and return_records=false check too.
    let svm = svm_uuid(&b, "svm1_dr").await;
    let r = b
        .get(&format!("/api/svm/svms/{svm}?fields=name,bogus"))
        .await;
    assert_err(&r, 400, "262197");
    let r = b
        .get(&format!(
            "/api/snapmirror/relationships/{rel}?fields=state,nam"
        ))
        .await;
    assert_err(&r, 400, "262197");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"nam\"")
    );
    let r = b
        .get("/api/storage/volumes?return_records=false&fields=name.first")
        .await;
    assert_err(&r, 400, "262197");
}

#[tokio::test]
async fn known_names_prefixes_and_stars_are_accepted() {
    let (_lab, _a, b, rel) = lab_with_everything().await;
    let v = b
        .first("/api/storage/volumes?svm.name=svm1_dr&fields=svm,nas.export_policy.name,aggregates.name,tiering.policy")
        .await;
    assert_eq!(v["svm"]["name"], "svm1_dr", "{v}");
    assert_eq!(v["nas"]["export_policy"]["name"], "default");
    assert!(v["aggregates"][0]["name"].is_string(), "{v}");
    assert_eq!(v["tiering"]["policy"], "none");
    let r = b
        .get(&format!(
            "/api/snapmirror/relationships/{rel}?fields=*,**,,source.svm.name,transfer.state"
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // A name below where the catalogue stops (the schedule's `svm` is a
    // whole SVM in netapp_ontap) is accepted.
    let r = b
        .get("/api/cluster/schedules?fields=svm.aggregates.name")
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn every_field_served_is_one_ontap_knows() {
    let (_lab, a, b, rel) = lab_with_everything().await;
    for api in [&a, &b] {
        for (path, cat) in every_path(&b, &rel).await {
            let r = api.get(&format!("{path}?fields=**")).await;
            if r.status == 404 || r.status == 405 {
                continue; // relationship paths exist on the destination only
            }
            assert_eq!(r.status, 200, "{path}: {:?}", r.body);
            let recs = match r.body.get("records") {
                Some(Value::Array(x)) => x.clone(),
                _ => vec![r.body.clone()],
            };
            let mut seen = BTreeSet::new();
            recs.iter().for_each(|x| walk(x, "", &mut seen));
            let unknown: Vec<_> = seen.iter().filter(|p| !knows(cat, p)).collect();
            assert!(unknown.is_empty(), "{path}: {unknown:?}");
        }
    }
}

#[tokio::test]
async fn records_carry_ontap_defaults() {
    let (_lab, _a, b, rel) = lab_with_everything().await;
    let v = b.first("/api/storage/volumes?name=!*_root&fields=*").await;
    assert_eq!(v["language"], "c.utf_8", "{v}");
    assert_eq!(v["snapshot_policy"]["name"], "default");
    assert_eq!(v["tiering"]["policy"], "none");
    assert_eq!(v["guarantee"]["type"], "volume");
    let node = records(&b, "/api/cluster/nodes", "name").await[0]["name"].clone();
    let aggr = format!("{}_aggr1", node.as_str().unwrap().replace('-', "_"));
    assert_eq!(v["aggregates"][0]["name"], aggr.as_str());
    assert_eq!(v["snapshot_directory_access_enabled"], true);
    assert_eq!(v["access_time_enabled"], true);
    assert_eq!(v["snaplock"]["type"], "non_snaplock");
    assert!(v["create_time"].as_str().is_some_and(|t| t.contains('T')));

    let l = b.first("/api/network/ip/interfaces?fields=*").await;
    for f in ["location", "scope", "ipspace", "enabled", "service_policy"] {
        assert!(l.get(f).is_some(), "LIF lacks {f}: {l}");
    }

    let r = b
        .get(&format!("/api/snapmirror/relationships/{rel}"))
        .await
        .body;
    for f in [
        "policy",
        "healthy",
        "throttle",
        "exported_snapshot",
        "state",
    ] {
        assert!(r.get(f).is_some(), "relationship lacks {f}: {r}");
    }
    let t = b
        .first(&format!(
            "/api/snapmirror/relationships/{rel}/transfers?fields=*"
        ))
        .await;
    assert!(
        t["total_duration"]
            .as_str()
            .is_some_and(|d| d.starts_with("PT")),
        "{t}"
    );
    assert_eq!(t["throttle"], 0);

    let s = b.first("/api/cluster/schedules?name=5min&fields=*").await;
    assert_eq!(s["type"], "cron", "{s}");
    assert_eq!(s["scope"], "cluster");
    assert!(s["cron"]["minutes"].is_array());
    let j = b.first("/api/cluster/jobs?fields=*").await;
    for f in [
        "description",
        "start_time",
        "end_time",
        "code",
        "message",
        "state",
    ] {
        assert!(j.get(f).is_some(), "job lacks {f}: {j}");
    }

    let p = b
        .first("/api/snapmirror/policies?name=MirrorAllSnapshots&fields=*")
        .await;
    assert_eq!(p["copy_all_source_snapshots"], true, "{p}");
    let p = b
        .first("/api/snapmirror/policies?name=XDPDefault&fields=*")
        .await;
    assert_eq!(p["create_snapshot_on_source"], false, "{p}");
    let p = b
        .first("/api/snapmirror/policies?name=AutomatedFailOver&fields=*")
        .await;
    assert_eq!(p["sync_type"], "automated_failover", "{p}");

    let n = b.first("/api/protocols/nfs/services?fields=*").await;
    assert_eq!(n["showmount_enabled"], true, "{n}");
    assert_eq!(n["vstorage_enabled"], false);
    assert_eq!(n["extended_groups_limit"], 32);
    let i = b.first("/api/protocols/san/iscsi/services?fields=**").await;
    assert!(i.get("state").is_none(), "{i}");
}
