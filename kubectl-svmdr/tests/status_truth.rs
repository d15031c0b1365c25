//! `status` tells the truth about both halves of DR (issue 12, item 2),
//! driven through the built binary on the simulated lab:
//! - a relationship without a transfer schedule is unprotected (exit 1);
//! - the relationship is followed in whichever direction exists: forward,
//!   reverse after `resync --direction reverse` (held on the primary
//!   cluster), forward again after `failback`; the report says which site is
//!   active and which way data flows;
//! - the Velero half: the newest backup's age against the RPO, its Schedule
//!   and its BackupStorageLocation.

mod common;

use std::time::Duration;

use common::{ADMIN_PASSWORD, DR_SVM, Lab, PRIMARY_SVM};
use serde_json::{Value, json};

/// A raw HTTP client for one simulated ONTAP cluster, as an admin would use
/// its REST API by hand (the sim's certificate is not checked: tests only).
fn ontap_http(lab: &Lab, cluster: &str) -> kube::Client {
    let url = lab.ontap.url(cluster).parse().expect("sim URL");
    let mut cfg = kube::Config::new(url);
    cfg.accept_invalid_certs = true;
    cfg.auth_info.username = Some("admin".into());
    cfg.auth_info.password = Some(ADMIN_PASSWORD.to_string().into());
    kube::Client::try_from(cfg).expect("client")
}

async fn ontap(lab: &Lab, cluster: &str, method: http::Method, path: &str, body: Value) -> Value {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).expect("body"))
        .expect("request");
    let text = ontap_http(lab, cluster)
        .request_text(req)
        .await
        .unwrap_or_else(|e| panic!("ONTAP {cluster} {path}: {e}"));
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The SVM-DR relationship `cluster` is the destination of.
async fn relationship(lab: &Lab, cluster: &str) -> Value {
    let list = ontap(
        lab,
        cluster,
        http::Method::GET,
        "/api/snapmirror/relationships?fields=uuid,state,transfer_schedule",
        Value::Null,
    )
    .await;
    list["records"][0].clone()
}

/// PATCHes `transfer_schedule` of the relationship held on `cluster` (ONTAP:
/// `snapmirror modify -schedule`), and waits until it shows.
async fn set_schedule(lab: &Lab, cluster: &str, schedule: Option<&str>) {
    let uuid = relationship(lab, cluster).await["uuid"]
        .as_str()
        .expect("a relationship")
        .to_string();
    ontap(
        lab,
        cluster,
        http::Method::PATCH,
        &format!("/api/snapmirror/relationships/{uuid}"),
        // The sim takes `transfer_schedule: null` as "remove the schedule"
        // (sim/src/ontap/snapmirror.rs), not `{"name": null}`.
        match schedule {
            Some(name) => json!({"transfer_schedule": {"name": name}}),
            None => json!({"transfer_schedule": null}),
        },
    )
    .await;
    for _ in 0..100 {
        let r = relationship(lab, cluster).await;
        if r["transfer_schedule"]["name"].as_str() == schedule {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the schedule of the relationship on {cluster} did not become {schedule:?}");
}

fn problems(j: &Value) -> String {
    j["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relationship_without_a_schedule_is_unprotected() {
    let lab = Lab::start().await;
    lab.peer().await;
    // Whatever `peer` chose, take the schedule away as an admin could.
    set_schedule(&lab, "dr", None).await;
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(j["healthy"], json!(false), "{j:#}");
    let rel = &j["relationships"][0];
    assert_eq!(rel["rpo"], json!("none (no schedule)"), "{j:#}");
    assert_eq!(rel["protected"], json!(false), "{j:#}");
    assert_eq!(rel["healthy"], json!(false), "{j:#}");
    assert!(problems(&j).contains("unprotected"), "{j:#}");
    let table = lab.run(&["status"]).await.expect_code(1);
    assert!(table.stdout.contains("unprotected"), "{}", table.stdout);
    assert!(!table.stdout.contains("Healthy."), "{}", table.stdout);

    set_schedule(&lab, "dr", Some("hourly")).await;
    lab.run(&["status"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_follows_the_relationship_through_reverse_resync_and_failback() {
    let lab = Lab::start().await;
    lab.peer().await;
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["activeSite"], json!("primary"), "{j:#}");
    assert_eq!(j["flow"], json!("primary → dr"), "{j:#}");

    // Disaster, failover, the primary returns, reverse resync.
    let ctl = lab.ontap.control();
    ctl.set_cluster_down("primary", true);
    lab.primary_kube.set_down(true);
    lab.run(&["failover", "--yes"]).await.expect_code(0);
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(j["activeSite"], json!("dr"), "{j:#}");
    assert_eq!(j["flow"], json!("none"), "{j:#}");
    ctl.set_cluster_down("primary", false);
    lab.primary_kube.set_down(false);
    // The returning primary SVM still runs: both sites serve.
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(j["activeSite"], json!("both"), "{j:#}");
    lab.run(&["resync", "--direction", "reverse", "--yes"])
        .await
        .expect_code(0);

    let j = lab.run(&["status", "-o", "json"]).await.json();
    assert_eq!(j["activeSite"], json!("dr"), "{j:#}");
    assert_eq!(j["flow"], json!("dr → primary"), "{j:#}");
    let rels = j["relationships"].as_array().expect("relationships");
    let reverse = rels
        .iter()
        .find(|r| r["direction"] == "reverse")
        .unwrap_or_else(|| panic!("the reverse relationship is reported: {j:#}"));
    assert_eq!(reverse["heldOn"], json!("primary"));
    assert_eq!(reverse["live"], json!(true));
    assert_eq!(reverse["state"], json!("snapmirrored"));
    assert_eq!(reverse["source"]["svm"], json!(DR_SVM));
    assert_eq!(reverse["destination"]["svm"], json!(PRIMARY_SVM));
    let forward = rels
        .iter()
        .find(|r| r["direction"] == "forward")
        .expect("forward");
    assert_eq!(forward["live"], json!(false));
    assert!(
        !problems(&j).contains("no longer protected"),
        "the broken-off forward relationship is expected now: {j:#}"
    );
    if reverse["schedule"].is_null() {
        // The reverse relationship was created without a schedule: that
        // is the truth, and status says so.
        assert!(problems(&j).contains("unprotected"), "{j:#}");
        set_schedule(&lab, "primary", Some("hourly")).await;
    }
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["flow"], json!("dr → primary"), "{j:#}");
    let table = lab.run(&["status"]).await.expect_code(0);
    assert!(
        table.stdout.contains("ACTIVE   dr  FLOW dr → primary"),
        "{}",
        table.stdout
    );

    // Failback: forward again.
    lab.run(&["failback", "--yes"]).await.expect_code(0);
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["activeSite"], json!("primary"), "{j:#}");
    assert_eq!(j["flow"], json!("primary → dr"), "{j:#}");
    let rels = j["relationships"].as_array().expect("relationships");
    assert_eq!(rels.len(), 1, "the reverse one is deleted: {j:#}");
    assert_eq!(rels[0]["direction"], json!("forward"));
    assert_eq!(rels[0]["live"], json!(true));
}

/// A Completed backup of `shop` finished `age` ago, made by Schedule
/// `hourly` (Velero's `velero.io/schedule-name` label), stored in `default`.
fn seed_backup(lab: &Lab, name: &str, age: chrono::Duration) {
    let done = (chrono::Utc::now() - age).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    lab.dr_kube
        .apply(json!({
            "apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero",
                         "labels": {"velero.io/schedule-name": "hourly"}},
            "spec": {"includedNamespaces": ["shop"], "snapshotVolumes": false,
                     "storageLocation": "default"},
            "status": {"phase": "Completed", "completionTimestamp": done},
        }))
        .expect("backup");
}

fn seed_velero(lab: &Lab, bsl_phase: &str) {
    lab.dr_kube
        .apply(json!({
            "apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": {"name": "hourly", "namespace": "velero"},
            "spec": {"schedule": "@every 1h", "template": {"snapshotVolumes": false}},
            "status": {"phase": "Enabled"},
        }))
        .expect("schedule");
    lab.dr_kube
        .apply(json!({
            "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": "default", "namespace": "velero"},
            "spec": {"default": true, "provider": "aws",
                     "objectStorage": {"bucket": "dr-backups"}},
            "status": {"phase": bsl_phase},
        }))
        .expect("bsl");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_velero_half_age_schedule_and_location() {
    let lab = Lab::start().await;
    lab.peer().await;
    seed_velero(&lab, "Available");
    seed_backup(&lab, "hourly-fresh", chrono::Duration::minutes(20));
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    let v = &j["velero"];
    assert_eq!(v["latestBackup"], json!("hourly-fresh"), "{j:#}");
    assert_eq!(v["stale"], json!(false), "{j:#}");
    assert_eq!(v["maxAgeSeconds"], json!(3600), "{j:#}");
    assert_eq!(v["schedule"]["name"], json!("hourly"), "{j:#}");
    assert_eq!(v["schedule"]["cron"], json!("@every 1h"), "{j:#}");
    assert_eq!(v["storageLocations"][0]["phase"], json!("Available"));
    let table = lab.run(&["status"]).await.expect_code(0);
    assert!(
        table.stdout.contains(
            "max 1h): no volume data; schedule hourly (@every 1h); location default Available"
        ),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("newest backup velero/hourly-fresh (20m"),
        "{}",
        table.stdout
    );

    // The location becomes Unavailable: the backup cannot be read.
    seed_velero(&lab, "Unavailable");
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert!(
        problems(&j)
            .contains("BackupStorageLocation velero/default on the DR cluster is Unavailable"),
        "{j:#}"
    );

    // A stale backup (3 h old against an hourly RPO), then a max age that
    // accepts it.
    seed_velero(&lab, "Available");
    lab.dr_kube
        .delete("velero.io/v1", "Backup", Some("velero"), "hourly-fresh");
    seed_backup(&lab, "hourly-old", chrono::Duration::hours(3));
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(j["velero"]["stale"], json!(true), "{j:#}");
    assert!(problems(&j).contains("velero/hourly-old is 3h"), "{j:#}");
    lab.run(&["status", "--backup-max-age", "4h"])
        .await
        .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_that_leaves_out_a_namespace_with_protected_data() {
    let lab = Lab::start().await;
    lab.peer().await;
    seed_velero(&lab, "Available");
    seed_backup(&lab, "hourly-fresh", chrono::Duration::minutes(5));
    // Trident PVs on the primary's backend (svm1): `shop` is in the backup,
    // `billing` is not.
    let backend = lab
        .primary_kube
        .list("trident.netapp.io/v1", "TridentBackend", Some("trident"))
        .into_iter()
        .next()
        .expect("primary backend");
    let uuid = backend["backendUUID"].as_str().expect("backendUUID");
    for (ns, pv) in [("shop", "pvc-1"), ("billing", "pvc-2")] {
        lab.primary_kube
            .apply(sim::kube::fixtures::trident_csi_pv(
                pv,
                uuid,
                &format!("trident_{pv}"),
                "file",
                "1Gi",
                ns,
                "data",
                "Retain",
            ))
            .expect("pv");
    }
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(
        j["protectedNamespaces"],
        json!(["billing", "shop"]),
        "{j:#}"
    );
    assert_eq!(
        j["velero"]["uncoveredNamespaces"],
        json!(["billing"]),
        "{j:#}"
    );
    assert!(
        problems(&j).contains("leaves out namespaces billing"),
        "{j:#}"
    );
}
