//! `kubectl svmdr lab`: the drill end to end (the real binary, the real
//! `velero-plugin-svmdr` driven by the lab's restore runner), the
//! fault-injected drill, and `lab up` / `lab down` with a command run by
//! hand against the running lab.

mod drill_support;

use std::process::Stdio;
use std::time::Duration;

use drill_support::{BIN, assert_passed, check, checks_pass, drill, phase, plugin, run, scenario};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};

#[tokio::test]
async fn drill_runs_the_whole_scenario_and_passes() {
    let r = drill(&[]).await;
    let j = r.json();
    assert_eq!(r.code, 0, "{:#}\n{}", j, r.stderr);
    assert_eq!(j["kind"], "LabDrill");
    assert_eq!(j["simulated"], true);
    assert_eq!(j["passed"], true);
    assert!(
        j["verdict"]
            .as_str()
            .is_some_and(|v| v.starts_with("PASS (simulated)")),
        "{j:#}"
    );
    for id in [
        "peer", "sync", "disaster", "failover", "restore", "resync", "failback",
    ] {
        assert_eq!(phase(&j, id)["result"], "ok", "{id}: {j:#}");
    }
    for id in [
        "replicated-before-disaster",
        "dr-has-pre-disaster-data",
        "dr-backend-online",
        "restore-completed",
        "pvcs-bound-on-dr",
        "volumes-imported-by-trident",
        "app-running-on-dr",
        "primary-has-all-data",
        "healthy-after",
        "app-stopped-on-dr-after-failback",
    ] {
        assert!(check(&j, id), "{id}: {j:#}");
    }
    assert_eq!(j["restore"]["phase"], "Completed");
    assert_eq!(j["scenario"], "standard");
    // Velero's rules: the Retain PV and both PVCs go through the plugin (the
    // PV as an additional item of velero.io/pvc, so before its PVC); the
    // Delete PV is re-provisioned before any plugin runs. The plugin skips
    // the PV and both PVCs are imported.
    let calls: Vec<&str> = j["restore"]["pluginCalls"]
        .as_array()
        .expect("pluginCalls")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        calls,
        [
            "persistentvolumes/pvc-0b6f4a2e-6c1d-4f6b-9d3a-2f1e5c7a8b90",
            "persistentvolumeclaims/shop/data",
            "persistentvolumeclaims/shop/uploads"
        ],
        "{j:#}"
    );
    assert!(j["rto"]["storageSeconds"].as_f64().is_some_and(|s| s > 0.0));
    assert!(j["rto"]["restoreSeconds"].as_f64().is_some_and(|s| s > 0.0));
    assert!(j["wallSeconds"].as_f64().is_some_and(|s| s < 60.0), "{j:#}");
    // Progress went to stderr, step by step, marked simulated.
    assert!(r.stderr.contains("[simulated lab]"), "{}", r.stderr);
    assert!(
        r.stderr.contains("$ kubectl svmdr failover --yes"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn faulted_drill_shows_the_plugin_refusing_pvs_and_fails() {
    let r = drill(&[
        "--fault",
        "primary-down-mid-sync",
        "--fault",
        "data-lif-down-during-restore",
    ])
    .await;
    let j = r.json();
    assert_eq!(r.code, 1, "{j:#}\n{}", r.stderr);
    assert_eq!(j["passed"], false);
    assert_eq!(
        j["faults"],
        serde_json::json!(["primary-down-mid-sync", "data-lif-down-during-restore"])
    );
    assert!(
        phase(&j, "disaster")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("in flight")),
        "{j:#}"
    );
    // The storage part still works: what was replicated before is on DR.
    assert_eq!(phase(&j, "failover")["result"], "ok");
    assert!(check(&j, "dr-has-pre-disaster-data"));
    // The plugin refused the PV and both PVCs; the restore is PartiallyFailed.
    let restore = &j["restore"];
    assert_eq!(restore["phase"], "PartiallyFailed", "{j:#}");
    let errors: Vec<&str> = restore["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    for e in &errors {
        assert!(e.contains("svm1_dr") && e.contains("svm1_nfs_lif1"), "{e}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e.contains("PersistentVolume pvc-0b6f4a2e"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("PersistentVolumeClaim shop/uploads"))
    );
    assert!(!check(&j, "restore-completed"));
    assert!(!check(&j, "pvcs-bound-on-dr"));
    let verdict = j["verdict"].as_str().expect("verdict");
    assert!(verdict.starts_with("FAIL (simulated)"), "{verdict}");
    assert!(
        verdict.contains("PartiallyFailed") && verdict.contains("svm1_nfs_lif1"),
        "{verdict}"
    );
    // The LIF came back and failback still brought every write home.
    assert_eq!(phase(&j, "failback")["result"], "ok");
    assert!(check(&j, "primary-has-all-data"));
}

#[tokio::test]
async fn drill_without_the_plugin_says_how_to_build_it() {
    let r = run(
        &[
            "lab",
            "drill",
            "--plugin",
            "/nonexistent/velero-plugin-svmdr",
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no such file"), "{}", r.stderr);

    // Without --plugin and with none beside the binary or on PATH: the
    // error says how to get it.
    let dir = tempfile::tempdir().expect("dir");
    let alone = dir.path().join("kubectl-svmdr");
    std::fs::copy(BIN, &alone).expect("copy the binary");
    let out = tokio::process::Command::new(&alone)
        .args(["lab", "drill"])
        .env("PATH", dir.path())
        .output()
        .await
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cargo build --bins"), "{stderr}");
}

#[tokio::test]
async fn lab_up_serves_commands_until_lab_down() {
    let p = plugin();
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path().to_str().expect("utf-8").to_string();
    let mut up = tokio::process::Command::new(BIN)
        .args(["lab", "up", "--timing", "fast", "--dir", &d, "--plugin"])
        .arg(&p)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("lab up");
    let mut lines = BufReader::new(up.stdout.take().expect("stdout")).lines();
    let mut env = Vec::new();
    let mut printed = String::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(l) = lines.next_line().await.expect("read") {
            printed.push_str(&l);
            printed.push('\n');
            if let Some(kv) = l.strip_prefix("export ") {
                let (k, v) = kv.split_once('=').expect("k=v");
                env.push((k.to_string(), v.to_string()));
            }
            if l.starts_with("# stop:") {
                break;
            }
        }
    })
    .await
    .expect("lab up printed its environment");
    assert!(printed.contains("SIMULATED"), "{printed}");
    assert!(dir.path().join("lab.pid").is_file());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(env.len(), 2, "{printed}");

    let backends = run(&["--context", "lab-dr", "backends", "-o", "json"], &env).await;
    assert_eq!(backends.code, 0, "{}\n{}", backends.stdout, backends.stderr);
    assert!(
        backends.stdout.contains("ontap-nas-dr"),
        "{}",
        backends.stdout
    );
    let peer = run(
        &["peer", "--svm", "svm1", "--dr-svm", "svm1_dr", "--yes"],
        &env,
    )
    .await;
    assert_eq!(peer.code, 0, "{}", peer.stderr);
    let status = run(&["--context", "lab-dr", "status", "-o", "json"], &env).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert_eq!(status.json()["relationships"][0]["state"], "snapmirrored");

    // Faults by command, as the lines printed by `lab up` say.
    assert!(
        printed.contains(&format!(
            "lab fault primary-down|primary-up|primary-ontap-down|primary-ontap-up|primary-kube-down|primary-kube-up|dr-lif-down|dr-lif-up|witness-down|witness-up --dir {d}"
        )),
        "{printed}"
    );
    let fault = run(&["lab", "fault", "primary-down", "--dir", &d], &[]).await;
    assert_eq!(fault.code, 0, "{}", fault.stderr);
    assert!(fault.stdout.contains("down"), "{}", fault.stdout);
    let status = run(&["--context", "lab-dr", "status", "-o", "json"], &env).await;
    assert_eq!(status.code, 1, "primary down: {}", status.stdout);
    let fault = run(&["lab", "fault", "primary-up", "--dir", &d], &[]).await;
    assert_eq!(fault.code, 0, "{}", fault.stderr);
    let status = run(&["--context", "lab-dr", "status", "-o", "json"], &env).await;
    assert_eq!(status.code, 0, "primary back: {}", status.stdout);
    assert!(printed.contains("context lab-witness"), "{printed}");
    for (f, said) in [
        ("witness-down", "witness Kubernetes API down"),
        ("witness-up", "witness Kubernetes API up again"),
    ] {
        let fault = run(&["lab", "fault", f, "--dir", &d], &[]).await;
        assert_eq!(fault.code, 0, "{}", fault.stderr);
        assert!(fault.stdout.contains(said), "{}", fault.stdout);
    }
    let nolab = tempfile::tempdir().expect("dir");
    let none = run(
        &[
            "lab",
            "fault",
            "dr-lif-down",
            "--dir",
            nolab.path().to_str().expect("utf-8"),
        ],
        &[],
    )
    .await;
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains("lab up --dir"), "{}", none.stderr);

    let down = run(&["lab", "down", "--dir", &d], &[]).await;
    assert_eq!(down.code, 0, "{}", down.stderr);
    let exited = tokio::time::timeout(Duration::from_secs(15), up.wait())
        .await
        .expect("lab up exits after lab down")
        .expect("wait");
    assert!(exited.success(), "{exited:?}");
    assert!(!dir.path().join("lab.pid").exists());
    let again = run(&["lab", "down", "--dir", &d], &[]).await;
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("no simulated lab is running"),
        "{}",
        again.stderr
    );
}

#[tokio::test]
async fn scenario_export_policy_of_the_primary_nodes_only_is_refused_by_name() {
    let (r, j) = scenario("export-primary-only").await;
    assert_passed(&r, &j);
    checks_pass(
        &j,
        &[
            "dr-backend-online",
            "plugin-refuses-export-policy",
            "nothing-imported",
        ],
    );
    let errors = j["restore"]["errors"].as_array().expect("errors");
    assert!(
        errors.iter().any(|e| e
            .as_str()
            .is_some_and(|e| e.contains("no rule matches 198.51.100.21")
                && e.contains("rules 1: 192.0.2.11,192.0.2.12"))),
        "{j:#}"
    );
}

#[tokio::test]
async fn scenario_fs_backup_is_refused_and_forced_keeps_the_data() {
    let (r, j) = scenario("fs-backup").await;
    assert_passed(&r, &j);
    checks_pass(
        &j,
        &[
            "restore-refuses-data-backup",
            "plugin-refuses-data-restore",
            "replicated-data-not-overwritten",
            "nothing-imported",
        ],
    );
}

#[tokio::test]
async fn scenario_csi_snapshot_backup_is_refused_and_forced_keeps_the_data() {
    let (r, j) = scenario("csi-snapshot").await;
    assert_passed(&r, &j);
    checks_pass(
        &j,
        &[
            "restore-refuses-data-backup",
            "plugin-refuses-data-restore",
            "replicated-data-not-overwritten",
        ],
    );
}

#[tokio::test]
async fn scenario_change_storage_class_imports_through_the_new_class() {
    let (r, j) = scenario("change-storage-class").await;
    assert_passed(&r, &j);
    checks_pass(
        &j,
        &[
            "imported-through-mapped-class",
            "volumes-imported-by-trident",
            "app-running-on-dr",
        ],
    );
}

#[tokio::test]
async fn scenario_pvc_without_its_pv_is_imported() {
    let (r, j) = scenario("pvc-without-pv").await;
    assert_passed(&r, &j);
    checks_pass(&j, &["volumes-imported-by-trident", "app-running-on-dr"]);
    // No PV reached the plugin: Velero restored none.
    let calls = j["restore"]["pluginCalls"].as_array().expect("calls");
    assert!(
        calls
            .iter()
            .all(|c| !c.as_str().unwrap_or("").starts_with("persistentvolumes/")),
        "{j:#}"
    );
}

#[tokio::test]
async fn scenario_trident_25_06_renames_and_the_plugin_warns() {
    let (r, j) = scenario("trident-25.06").await;
    assert_passed(&r, &j);
    checks_pass(
        &j,
        &[
            "no-import-no-rename-on-25.06",
            "plugin-warns-about-rename",
            "flexvols-renamed-by-trident",
            "app-running-on-dr",
        ],
    );
    assert!(
        phase(&j, "failback")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("volume rename"))
    );
}

#[tokio::test]
async fn scenario_another_dr_storage_prefix_still_finds_the_volumes() {
    let (r, j) = scenario("dr-storage-prefix").await;
    assert_passed(&r, &j);
    checks_pass(
        &j,
        &[
            "volumes-imported-by-trident",
            "app-running-on-dr",
            "healthy-after",
        ],
    );
}
