//! `kubectl svmdr` DR workflows end to end on the simulated lab (two ONTAP
//! clusters, two Kubernetes clusters with Trident, a simulated Velero): the
//! seed scenario peer → initialize → writes → failover (primary site down)
//! → restore → writes on DR → reverse resync → failback, asserting the
//! storage and the Kubernetes objects at each stage; plus the safety
//! refusals and `--dry-run`.

mod common;

#[path = "workflows/velero.rs"]
mod velero;

#[path = "workflows/backup_data.rs"]
mod backup_data;

#[path = "workflows/restore_wait.rs"]
mod restore_wait;

#[path = "workflows/dr_backend.rs"]
mod dr_backend;

use common::{DR_SVM, Lab, PRIMARY_SVM, VOLUME, step_statuses};

#[tokio::test]
async fn seed_scenario_failover_restore_resync_failback() {
    let lab = Lab::start().await;
    lab.peer().await;
    let ctl = lab.ontap.control();
    let before = ctl
        .write("primary", PRIMARY_SVM, VOLUME, 4096)
        .expect("write on primary");
    lab.run(&["sync", "--wait"]).await.expect_code(0);
    velero::install_nightly(&lab.dr_kube, VOLUME, false);

    lab.primary_site_down();
    let fo = lab
        .failover_restoring_latest(&["-o", "json"])
        .await
        .expect_code(0);
    let out = fo.json();
    assert_eq!(out["kind"], "WorkflowRun");
    let steps = step_statuses(&out["timeline"]["steps"]);
    assert!(
        steps
            .iter()
            .any(|(id, st)| id == "break" && st == "succeeded"),
        "{steps:?}"
    );
    assert!(
        out["timeline"]["total"].as_u64().is_some(),
        "total RTO in ms"
    );
    assert!(fo.stderr.contains("data-loss window"), "{}", fo.stderr);
    assert!(
        fo.stderr.contains("primary site unavailable"),
        "{}",
        fo.stderr
    );
    // Storage: DR serves with the replicated data.
    let dr = ctl.volume_data("dr", DR_SVM, VOLUME).expect("dr volume");
    assert!(dr.contains(before));
    let on_dr = ctl
        .write("dr", DR_SVM, VOLUME, 4096)
        .expect("DR volume writable after failover");
    // Kubernetes: the restore brought the app back with its PVC bound.
    let restore = &out["restore"];
    assert_eq!(restore["status"]["phase"], "Completed", "{restore}");
    assert_eq!(restore["backup"]["name"], "nightly");
    let ns = &restore["namespaces"][0];
    assert_eq!(ns["namespace"], "shop");
    assert_eq!(ns["deployments"]["web"], "1/1");
    assert_eq!(ns["pvcs"][0]["name"], "data");
    assert_eq!(ns["pvcs"][0]["phase"], "Bound");
    assert_eq!(ns["pvcs"][0]["volume"], "pvc-1b2c");
    assert!(
        lab.dr_kube
            .get("v1", "PersistentVolumeClaim", Some("shop"), "data")
            .is_some()
    );

    // The primary comes back (its SVM still thinks it runs): reverse resync.
    ctl.set_cluster_down("primary", false);
    lab.primary_kube.set_down(false);
    lab.run(&["resync", "--direction", "reverse", "--yes"])
        .await
        .expect_code(0);
    let after_resync = ctl
        .write("dr", DR_SVM, VOLUME, 4096)
        .expect("DR still serves during the reverse resync");

    // Failback: everything written on DR comes home; the original direction is back.
    let fb = lab
        .run(&["failback", "--yes", "-o", "json"])
        .await
        .expect_code(0);
    let steps = step_statuses(&fb.json()["timeline"]["steps"]);
    assert_eq!(steps.len(), 12, "{steps:?}");
    assert!(
        steps.iter().any(|(id, _)| id == "backends-online"),
        "{steps:?}"
    );
    let primary = ctl
        .volume_data("primary", PRIMARY_SVM, VOLUME)
        .expect("primary volume");
    assert!(primary.contains(on_dr) && primary.contains(after_resync));
    ctl.write("primary", PRIMARY_SVM, VOLUME, 4096)
        .expect("primary serves again");
    let status = lab.run(&["status", "-o", "json"]).await;
    assert!(status.stdout.contains("snapmirrored"), "{}", status.all());

    // A re-run of failback finds nothing to do.
    let again = lab
        .run(&["failback", "--yes", "-o", "json"])
        .await
        .expect_code(0);
    assert!(
        step_statuses(&again.json()["timeline"]["steps"])
            .iter()
            .all(|(_, s)| s == "skipped"),
        "{}",
        again.stdout
    );

    // The audit trail on the DR cluster.
    let h = lab.history().await;
    let items: Vec<(String, String)> = h
        .iter()
        .map(|e| {
            (
                e["workflow"].as_str().unwrap_or("").to_string(),
                e["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for w in ["failover", "resync --direction reverse", "failback"] {
        assert!(
            items.iter().any(|(wf, o)| wf == w && o == "succeeded"),
            "{w} missing from {items:?}"
        );
    }
    assert!(h[0]["user"].as_str().is_some_and(|u| !u.is_empty()));
    let events = lab.dr_kube.list("v1", "Event", Some("trident"));
    assert!(
        events.iter().any(|e| e["reason"] == "SvmdrFailover"),
        "{events:?}"
    );
    let table = lab.run(&["history"]).await.expect_code(0);
    assert!(table.stdout.contains("WORKFLOW"), "{}", table.stdout);
}

#[tokio::test]
async fn failover_refuses_while_the_primary_runs_and_dry_run_changes_nothing() {
    let lab = Lab::start().await;
    lab.peer().await;
    let before = lab.snapshot();
    let dry = lab
        .run(&["failover", "--force", "--dry-run"])
        .await
        .expect_code(0);
    assert!(dry.stdout.contains("Dry run"), "{}", dry.all());
    assert!(
        dry.stdout.contains("PATCH /api/snapmirror/relationships/"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("stop-primary"), "{}", dry.stdout);
    assert_eq!(before, lab.snapshot(), "--dry-run changed nothing");

    let refused = lab.run(&["failover", "--yes"]).await.expect_code(3);
    assert!(refused.stderr.contains("split-brain"), "{}", refused.stderr);
    assert!(refused.stderr.contains("switchover"), "{}", refused.stderr);
    // Without --yes and without a terminal: refused, nothing changed.
    let no_tty = lab.run(&["switchover"]).await.expect_code(3);
    assert!(no_tty.stderr.contains("--yes"), "{}", no_tty.stderr);
    assert_eq!(before, lab.snapshot());
    let h = lab
        .run(&["history", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert!(
        h["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["outcome"] == "refused")),
        "{h}"
    );
}

#[tokio::test]
async fn failover_refuses_when_only_the_primary_kubernetes_is_down() {
    let lab = Lab::start().await;
    lab.peer().await;
    // The primary Kubernetes API is gone, its ONTAP (and SVM) still serve:
    // the DR cluster sees the cluster peer available.
    lab.primary_kube.set_down(true);
    let before = lab.snapshot();
    let args = ["failover", "--yes", "--request-timeout", "3s"];
    let refused = lab.run(&args).await.expect_code(3);
    let err = &refused.stderr;
    assert!(err.contains("split-brain guard"), "{err}");
    assert!(err.contains("primary ONTAP cluster"), "{err}");
    assert!(err.contains("cluster peer available from DR"), "{err}");
    assert!(err.contains("is healthy (snapmirrored)"), "{err}");
    assert!(err.contains("Kubernetes API / management address"), "{err}");
    assert!(
        err.contains(&format!("vserver stop -vserver {PRIMARY_SVM}")),
        "{err}"
    );
    assert!(
        err.contains("switchover") && err.contains("--force"),
        "{err}"
    );
    // --dry-run refuses the same way.
    let dry = lab
        .run(&["failover", "--dry-run", "--request-timeout", "3s"])
        .await
        .expect_code(3);
    assert!(dry.stderr.contains("split-brain guard"), "{}", dry.all());
    assert_eq!(
        before,
        lab.snapshot(),
        "nothing changed: still snapmirrored"
    );
    let h = lab
        .run(&["history", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert!(
        h["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["outcome"] == "refused"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("cluster peer")))),
        "{h}"
    );

    // --force passes the guard with a warning; ONTAP itself still refuses to
    // break while the identity-preserving source SVM runs.
    let forced = lab
        .run(&["failover", "--yes", "--force", "--request-timeout", "3s"])
        .await
        .expect_code(2);
    let err = &forced.stderr;
    assert!(err.contains("WARNING --force"), "{err}");
    assert!(err.contains("step break"), "{err}");
    assert!(err.contains("Stop the source SVM first"), "{err}");
    assert!(err.contains("next: the source SVM still runs"), "{err}");

    // Once the primary ONTAP is gone too, the peer is unavailable: proceed.
    lab.ontap.control().set_cluster_down("primary", true);
    let fo = lab
        .run(&["failover", "--yes", "--request-timeout", "3s"])
        .await
        .expect_code(0);
    assert!(
        fo.stderr
            .contains("unavailable: the primary ONTAP does not answer"),
        "{}",
        fo.stderr
    );
}

#[tokio::test]
async fn switchover_reports_no_data_loss() {
    let lab = Lab::start().await;
    lab.peer().await;
    let w = lab
        .ontap
        .control()
        .write("primary", PRIMARY_SVM, VOLUME, 4096)
        .expect("write");
    let run = lab.run(&["switchover", "--yes"]).await.expect_code(0);
    assert!(run.stdout.contains("no data loss"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("every write before the stop was transferred"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("total (storage RTO)"), "{}", run.stdout);
    let dr = lab
        .ontap
        .control()
        .volume_data("dr", DR_SVM, VOLUME)
        .expect("dr");
    assert!(dr.contains(w));
}

#[tokio::test]
async fn restore_command_reports_partial_failure() {
    let lab = Lab::start().await;
    velero::install(
        &lab.dr_kube,
        "nightly",
        velero::BackupContent {
            namespace: "shop".into(),
            deployment: "web".into(),
            pvc: ("data".into(), "pvc-9".into()),
            volume: ("u".into(), VOLUME.into()),
            partially_fail: true,
        },
    );
    // A restore makes no ONTAP call: it needs no Trident backend on DR.
    for kind in ["TridentBackendConfig", "TridentBackend"] {
        let objs = lab
            .dr_kube
            .list("trident.netapp.io/v1", kind, Some("trident"));
        assert!(!objs.is_empty(), "the lab has a DR {kind}");
        for obj in objs {
            let name = obj["metadata"]["name"].as_str().expect("name");
            assert!(
                lab.dr_kube
                    .delete("trident.netapp.io/v1", kind, Some("trident"), name)
            );
        }
    }
    let none = lab
        .run(&["restore", "--backup", "missing", "--timeout", "10s"])
        .await
        .expect_code(2);
    assert!(none.stderr.contains("not found"), "{}", none.stderr);
    let r = lab
        .run(&[
            "restore",
            "--include-namespaces",
            "shop",
            "--timeout",
            "10s",
        ])
        .await
        .expect_code(1);
    assert!(r.stdout.contains("PartiallyFailed"), "{}", r.stdout);
    assert!(r.stdout.contains("shop"), "{}", r.stdout);
    let restores = lab.dr_kube.list("velero.io/v1", "Restore", Some("velero"));
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0]["spec"]["includedNamespaces"][0], "shop");
}

#[tokio::test]
async fn failover_whose_restore_partially_fails_exits_1() {
    let lab = Lab::start().await;
    lab.peer().await;
    velero::install_nightly(&lab.dr_kube, VOLUME, true);
    lab.primary_site_down();
    let out = lab
        .failover_restoring_latest(&["-o", "json"])
        .await
        .expect_code(1)
        .json();
    // The storage part succeeded; the run is unhealthy because of the restore.
    assert!(
        step_statuses(&out["timeline"]["steps"])
            .iter()
            .any(|(id, st)| id == "break" && st == "succeeded"),
        "{out:#}"
    );
    assert_eq!(
        out["restore"]["status"]["phase"], "PartiallyFailed",
        "{out:#}"
    );
}

/// The Velero LISTs the DR cluster served, by collection path: a `GET`
/// on `/apis/velero.io/v1/namespaces/<ns>/<plural>` (no object name).
fn velero_lists(log: &[String]) -> std::collections::BTreeMap<String, usize> {
    let mut lists = std::collections::BTreeMap::new();
    for line in log {
        let Some(path) = line.strip_prefix("GET /apis/velero.io/v1/namespaces/") else {
            continue;
        };
        if path.split('/').count() == 2 {
            *lists.entry(path.to_string()).or_insert(0) += 1;
        }
    }
    lists
}

/// `failover --restore-from-backup` judges the backup once, before the
/// storage steps, and restores that judgement afterwards: each Velero
/// collection is listed once (the CLI used to prepare the restore twice,
/// listing the backups, the restores, ... again after the failover).
#[tokio::test]
async fn failover_restoring_a_backup_prepares_it_once() {
    let lab = Lab::start().await;
    lab.peer().await;
    lab.run(&["sync", "--wait"]).await.expect_code(0);
    velero::install_nightly(&lab.dr_kube, VOLUME, false);
    lab.primary_site_down();
    lab.dr_kube.clear_request_log();
    let fo = lab
        .failover_restoring_latest(&["-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(fo.json()["restore"]["status"]["phase"], "Completed");
    let lists = velero_lists(&lab.dr_kube.request_log());
    assert_eq!(lists.get("velero/backups"), Some(&1), "{lists:?}");
    assert_eq!(lists.get("velero/restores"), Some(&1), "{lists:?}");
    assert!(lists.values().all(|n| *n == 1), "{lists:?}");
}
