//! How long `restore` waits: above the svmdr plugin's worst case by
//! default (its ConfigMap's `waitForReady` per DR Trident backend), a
//! warning for a shorter `--restore-timeout`, and at the timeout the Velero
//! restore is named as still running, exit 2, audit `timed-out`.

use serde_json::json;
use sim::kube::fixtures::velero_backup;

use super::common::Lab;

/// A Completed backup `nightly` that no Velero ever restores.
fn backup_without_velero(lab: &Lab) {
    lab.dr_kube
        .apply(velero_backup(
            "nightly",
            "velero",
            "Completed",
            Some("2026-11-28T03:00:00Z"),
            &["shop"],
        ))
        .expect("backup");
}

/// The plugin ConfigMap as `ark-plugin/deploy/configmap.yaml` labels it.
fn plugin_config(lab: &Lab, wait: &str) {
    lab.dr_kube
        .apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "svmdr-plugin", "namespace": "velero", "labels": {
                "velero.io/plugin-config": "",
                "svmdr.netapp.io/trident-storage": "RestoreItemAction"}},
            "data": {"waitForReady": wait},
        }))
        .expect("configmap");
}

#[tokio::test]
async fn the_default_wait_exceeds_the_plugin_worst_case() {
    let lab = Lab::start().await;
    backup_without_velero(&lab);
    lab.dr_kube
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "velero"}}))
        .expect("ns");
    plugin_config(&lab, "10m");
    // One DR Trident backend (the lab's): 30m + 10m.
    let dry = lab.run(&["restore", "--dry-run"]).await.expect_code(0);
    assert!(dry.stdout.contains("wait up to 40m"), "{}", dry.all());
    assert!(
        dry.stdout.contains("name: nightly-svmdr-"),
        "{}",
        dry.stdout
    );
    let short = lab
        .run(&["restore", "--dry-run", "--restore-timeout", "5m"])
        .await
        .expect_code(0);
    assert!(
        short.stderr.contains(
            "warning: --restore-timeout 5m is not longer than the svmdr plugin's worst case 10m"
        ),
        "{}",
        short.all()
    );
    assert!(
        short.stderr.contains("ConfigMap velero/svmdr-plugin"),
        "{}",
        short.stderr
    );
}

#[tokio::test]
async fn a_timed_out_restore_is_still_running_in_velero() {
    let lab = Lab::start().await;
    backup_without_velero(&lab);
    let r = lab
        .run(&["restore", "--restore-timeout", "1s"])
        .await
        .expect_code(2);
    let name = lab.dr_kube.list("velero.io/v1", "Restore", Some("velero"))[0]["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(name.starts_with("nightly-svmdr-"), "{name}");
    assert!(
        r.stderr.contains("Velero is still running it"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("velero restore describe {name}")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("kubectl -n velero get restore {name} -w")),
        "{}",
        r.stderr
    );
    let h = lab.history().await;
    assert_eq!(h[0]["outcome"], "timed-out", "{h:?}");
}
