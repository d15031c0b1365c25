//! The PVC import path as real Velero and Trident drive it: the item has
//! been through Velero's built-in actions (annotations stripped, class
//! possibly changed), the backup copy carries the binding, and Trident's own
//! rules decide whether an import can succeed.

use serde_json::{Value, json};

use crate::lab::{Lab, PLUGIN, to_vec};

const PV: &str = "pvc-3f6c1a52-8f0e-4b8a-9d3c-2f7b6e1a4c90";
const VOL: &str = "trident_pvc_3f6c1a52_8f0e_4b8a_9d3c_2f7b6e1a4c90";

fn lab_topology() -> sim::ontap::Topology {
    crate::lab::topology(1, &[(VOL, "rw", "online", true)])
}

/// The PVC as backed up (bound, Trident's annotations) and as Velero hands
/// it to third-party actions after `velero.io/pvc` (annotations stripped).
fn pvc_pair(class: &str) -> (Value, Value) {
    let mut backed_up = sim::kube::fixtures::trident_pvc("shop", "data", PV, "ontap-nas", "10Gi");
    backed_up.as_object_mut().map(|o| o.remove("status"));
    let mut item = backed_up.clone();
    item["metadata"]["annotations"] = json!({});
    item["spec"]["storageClassName"] = json!(class);
    (backed_up, item)
}

fn restore_of(backup: &str, uid: &str) -> Vec<u8> {
    to_vec(&json!({"apiVersion": "velero.io/v1", "kind": "Restore",
        "metadata": {"name": "r", "namespace": "velero", "uid": uid},
        "spec": {"backupName": backup}}))
}

async fn run(lab: &Lab, item: &Value, backed_up: &Value, uid: &str) -> Result<Value, String> {
    let host = lab.plugin().await;
    let r = host
        .execute(
            PLUGIN,
            &to_vec(item),
            &restore_of("nightly", uid),
            &to_vec(backed_up),
        )
        .await;
    host.shutdown().await.expect("plugin stops");
    r.map(|r| serde_json::from_slice(&r.item).expect("json"))
        .map_err(|s| s.message().to_string())
}

#[tokio::test]
async fn pvc_without_its_pv_finds_the_volume_under_another_dr_prefix() {
    let mut lab = Lab::start(lab_topology(), "Netapp1!", &[]).await;
    // The DR backend names new volumes differently; the replicated one kept
    // the primary's name.
    lab.sites[0].storage_prefix = "dr_".into();
    lab.sites[0].seed(&lab.kube).expect("reseed");
    let (backed_up, item) = pvc_pair("ontap-nas");
    let out = run(&lab, &item, &backed_up, "p1").await.expect("imported");
    assert_eq!(
        out["metadata"]["annotations"]["trident.netapp.io/importOriginalName"],
        VOL
    );
    assert!(out.pointer("/spec/volumeName").is_none(), "{out}");
}

#[tokio::test]
async fn the_class_of_the_restored_item_is_used() {
    let lab = Lab::start(lab_topology(), "Netapp1!", &[]).await;
    // velero.io/change-storage-class mapped ontap-nas to a class that does
    // not exist here: the import is checked against that class.
    let (backed_up, item) = pvc_pair("gold-dr");
    let e = run(&lab, &item, &backed_up, "c1").await.unwrap_err();
    assert!(e.contains("StorageClass gold-dr does not exist"), "{e}");
    // A mapped class that exists and fits the DR backend is accepted.
    lab.kube
        .apply(sim::kube::fixtures::storage_class(
            "gold-dr",
            "ontap-nas",
            "",
        ))
        .expect("class");
    let out = run(&lab, &item, &backed_up, "c2").await.expect("imported");
    assert_eq!(out["spec"]["storageClassName"], "gold-dr");
    assert_eq!(
        out["metadata"]["annotations"]["trident.netapp.io/importOriginalName"],
        VOL
    );
}

#[tokio::test]
async fn velero_restoring_the_data_itself_is_refused() {
    let lab = Lab::start(lab_topology(), "Netapp1!", &[]).await;
    // CSI snapshot / data mover: Velero's CSI action set a dataSource.
    let (backed_up, mut item) = pvc_pair("ontap-nas");
    item["spec"]["dataSource"] = json!({"apiGroup": "snapshot.storage.k8s.io",
        "kind": "VolumeSnapshot", "name": "velero-data-x1"});
    let e = run(&lab, &item, &backed_up, "d1").await.unwrap_err();
    assert!(
        e.contains("velero-data-x1") && e.contains("instead of the replicated one"),
        "{e}"
    );
    // File-system backup: a PodVolumeBackup of this PVC in the backup.
    lab.kube
        .apply(json!({"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
            "metadata": {"name": "nightly-abc12", "namespace": "velero",
                "labels": {"velero.io/backup-name": "nightly"},
                "annotations": {"velero.io/pvc-name": "data"}},
            "spec": {"pod": {"kind": "Pod", "namespace": "shop", "name": "web-0"}, "volume": "data"}}))
        .expect("pvb");
    let (backed_up, item) = pvc_pair("ontap-nas");
    let e = run(&lab, &item, &backed_up, "d2").await.unwrap_err();
    assert!(
        e.contains("PodVolumeBackup nightly-abc12") && e.contains("overwriting"),
        "{e}"
    );
}

async fn set_backend(lab: &Lab, patch: Value) {
    let mut tbe = lab
        .kube
        .list("trident.netapp.io/v1", "TridentBackend", Some("trident"))
        .into_iter()
        .next()
        .expect("a backend");
    for (k, v) in patch.as_object().expect("object") {
        tbe[k] = v.clone();
    }
    lab.kube.apply(tbe).expect("backend");
}

#[tokio::test]
async fn suspended_or_offline_backends_are_refused_with_the_reason() {
    let lab = Lab::start(lab_topology(), "Netapp1!", &[]).await;
    set_backend(&lab, json!({"userState": "suspended"})).await;
    let (backed_up, item) = pvc_pair("ontap-nas");
    let e = run(&lab, &item, &backed_up, "s1").await.unwrap_err();
    assert!(
        e.contains("suspended") && e.contains("--user-state normal"),
        "{e}"
    );
    set_backend(
        &lab,
        json!({"userState": "normal", "state": "offline", "online": false,
            "stateReason": "SVM svm1 is not running"}),
    )
    .await;
    let e = run(&lab, &item, &backed_up, "s2").await.unwrap_err();
    assert!(
        e.contains("offline") && e.contains("SVM svm1 is not running"),
        "{e}"
    );
}

#[tokio::test]
async fn import_no_rename_only_where_trident_honours_it() {
    let lab = Lab::start(lab_topology(), "Netapp1!", &[]).await;
    let version = |v: &str| {
        json!({"apiVersion": "trident.netapp.io/v1", "kind": "TridentVersion",
            "metadata": {"name": "trident", "namespace": "trident"},
            "trident_version": v, "trident_api_version": "1"})
    };
    lab.kube.apply(version("25.06.1")).expect("version");
    let (backed_up, item) = pvc_pair("ontap-nas");
    let out = run(&lab, &item, &backed_up, "v1").await.expect("imported");
    let ann = &out["metadata"]["annotations"];
    assert!(
        ann.get("trident.netapp.io/importNoRename").is_none(),
        "{out}"
    );
    assert_eq!(ann["trident.netapp.io/notManaged"], "false");
    lab.kube.apply(version("25.10.0")).expect("version");
    let out = run(&lab, &item, &backed_up, "v2").await.expect("imported");
    assert_eq!(
        out["metadata"]["annotations"]["trident.netapp.io/importNoRename"],
        "true"
    );
}

#[tokio::test]
async fn a_class_whose_pools_do_not_fit_the_dr_backend_is_refused() {
    let lab = Lab::start(lab_topology(), "Netapp1!", &[]).await;
    let mut sc = sim::kube::fixtures::storage_class("pinned", "ontap-nas", "");
    // The primary's backend and aggregate: neither exists on DR.
    sc["parameters"]["storagePools"] = json!("nas-primary:aggr_a1");
    lab.kube.apply(sc).expect("class");
    let (backed_up, item) = pvc_pair("pinned");
    let e = run(&lab, &item, &backed_up, "x1").await.unwrap_err();
    assert!(
        e.contains("does not match any storage pools") && e.contains("storagePools"),
        "{e}"
    );
}
