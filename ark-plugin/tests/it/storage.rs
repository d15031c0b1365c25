//! Readiness against the simulated lab: each way the restore site can be
//! not ready gives its own error; a ready Trident CSI PV is skipped
//! (`skipRestore`) and its PVC gets Trident's import annotations.

use serde_json::Value;
use sim::ontap::Topology;

use crate::lab::{Lab, PLUGIN, restore, to_vec};

const PV: &str = "pvc-3f6c1a52-8f0e-4b8a-9d3c-2f7b6e1a4c90";
const VOL: &str = "trident_pvc_3f6c1a52_8f0e_4b8a_9d3c_2f7b6e1a4c90";
const OLD_BACKEND: &str = "6b1f4d3e-2a7c-4e8b-b1d9-0c5e7f2a9b18";

fn one_svm(vtype: &str, state: &str) -> Topology {
    crate::lab::topology(1, &[(VOL, vtype, state, true)])
}

async fn run_pv(lab: &Lab, pv: &Value) -> Result<Value, tonic::Status> {
    let host = lab.plugin().await;
    let r = host
        .execute(PLUGIN, &to_vec(pv), &restore("u1"), &to_vec(pv))
        .await;
    host.shutdown().await.unwrap();
    r.map(|resp| serde_json::from_slice(&resp.item).unwrap())
}

async fn expect_error(lab: &Lab, pv: &Value, wanted: &[&str]) -> String {
    let e = run_pv(lab, pv).await.expect_err("storage is not ready");
    let msg = e.message().to_string();
    for w in wanted {
        assert!(msg.contains(w), "missing {w:?} in: {msg}");
    }
    assert!(msg.contains(PV), "error does not name the PV: {msg}");
    msg
}

#[tokio::test]
async fn ready_csi_pv_is_skipped_and_its_pvc_imports_the_recorded_volume() {
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    let host = lab.plugin().await;
    // The PV names the primary's backend; the volume is found on DR's.
    let pv = lab.pv(0, PV, Some(OLD_BACKEND));
    let r = host
        .execute(PLUGIN, &to_vec(&pv), &restore("u0"), &to_vec(&pv))
        .await
        .unwrap();
    assert!(
        r.skip_restore,
        "a Trident CSI PV must not be restored as-is"
    );
    assert_eq!(r.item, to_vec(&pv));
    // Velero's velero.io/pvc action stripped the annotations from the item;
    // the backup copy still has them and the binding.
    let backed_up = pvc(PV, "ontap-nas");
    let mut item = backed_up.clone();
    item["metadata"]["annotations"] = serde_json::json!({});
    let r = host
        .execute(PLUGIN, &to_vec(&item), &restore("u0"), &to_vec(&backed_up))
        .await
        .unwrap();
    host.shutdown().await.unwrap();
    assert!(!r.skip_restore);
    let out: Value = serde_json::from_slice(&r.item).unwrap();
    assert!(out.pointer("/spec/volumeName").is_none(), "{out}");
    let ann = &out["metadata"]["annotations"];
    assert_eq!(ann["trident.netapp.io/importOriginalName"], VOL);
    assert_eq!(
        ann["trident.netapp.io/importBackendUUID"],
        lab.sites[0].backend_uuid.as_str()
    );
}

#[tokio::test]
async fn svm_stopped() {
    let mut topo = one_svm("rw", "online");
    topo.clusters[0].svms[0].state = "stopped".into();
    topo.clusters[0].svms[0].subtype = "dp_destination".into();
    let lab = Lab::start(topo, "Netapp1!", &[]).await;
    expect_error(
        &lab,
        &lab.pv(0, PV, None),
        &["SVM svm1", "stopped", "kubectl svmdr failover"],
    )
    .await;
}

#[tokio::test]
async fn volume_still_dp_means_svm_dr_not_broken() {
    let lab = Lab::start(one_svm("dp", "online"), "Netapp1!", &[]).await;
    expect_error(
        &lab,
        &lab.pv(0, PV, None),
        &[
            VOL,
            "svm1",
            "SVM-DR not broken: run `kubectl svmdr failover`",
        ],
    )
    .await;
}

#[tokio::test]
async fn volume_offline() {
    let lab = Lab::start(one_svm("rw", "offline"), "Netapp1!", &[]).await;
    expect_error(&lab, &lab.pv(0, PV, None), &[VOL, "offline"]).await;
}

#[tokio::test]
async fn volume_missing() {
    let lab = Lab::start(crate::lab::topology(1, &[]), "Netapp1!", &[]).await;
    expect_error(&lab, &lab.pv(0, PV, None), &[VOL, "not found on SVM svm1"]).await;
    // Unknown backend and nothing on any SVM: the search says so.
    expect_error(&lab, &lab.pv(0, PV, Some(OLD_BACKEND)), &[VOL, "not found"]).await;
}

#[tokio::test]
async fn lif_down() {
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    lab.ontap
        .control()
        .set_lif_down("dr", "svm1_nfs_lif1", true);
    expect_error(
        &lab,
        &lab.pv(0, PV, None),
        &["svm1_nfs_lif1", "127.0.1.1", "down"],
    )
    .await;
}

#[tokio::test]
async fn tcp_port_closed() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let port = closed.to_string();
    let lab = Lab::start(
        one_svm("rw", "online"),
        "Netapp1!",
        &[("nfsProbePort", &port)],
    )
    .await;
    expect_error(
        &lab,
        &lab.pv(0, PV, None),
        &[
            "svm1_nfs_lif1",
            &format!("127.0.1.1:{port}"),
            "not reachable",
        ],
    )
    .await;
}

#[tokio::test]
async fn ontap_down() {
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    lab.ontap.control().set_cluster_down("dr", true);
    expect_error(
        &lab,
        &lab.pv(0, PV, None),
        &["unreachable", "svm1", "nas-svm1"],
    )
    .await;
}

#[tokio::test]
async fn wrong_credentials() {
    let lab = Lab::start(one_svm("rw", "online"), "wrong-password", &[]).await;
    let msg = expect_error(&lab, &lab.pv(0, PV, None), &["refused the login", "401"]).await;
    assert!(
        !msg.contains("wrong-password"),
        "the password leaked: {msg}"
    );
}

#[tokio::test]
async fn warn_mode_restores_anyway_and_off_mode_does_not_look() {
    let lab = Lab::start(one_svm("dp", "online"), "Netapp1!", &[("mode", "warn")]).await;
    let pv = lab.pv(0, PV, None);
    assert_eq!(run_pv(&lab, &pv).await.unwrap(), pv);

    let lab = Lab::start(one_svm("dp", "online"), "Netapp1!", &[("mode", "off")]).await;
    let before = lab.ontap.control().request_count("dr");
    assert_eq!(run_pv(&lab, &pv).await.unwrap(), pv);
    assert_eq!(
        lab.ontap.control().request_count("dr"),
        before,
        "mode off still called ONTAP"
    );
}

#[tokio::test]
async fn bad_config_is_a_clear_error() {
    let lab = Lab::start(
        one_svm("rw", "online"),
        "Netapp1!",
        &[("mode", "enforcing")],
    )
    .await;
    let e = run_pv(&lab, &lab.pv(0, PV, None)).await.unwrap_err();
    assert!(
        e.message().contains("velero/svmdr-plugin") && e.message().contains("mode"),
        "{e}"
    );
}

#[tokio::test]
async fn waits_for_storage_that_is_coming_up() {
    let lab = Lab::start(
        one_svm("rw", "online"),
        "Netapp1!",
        &[("waitForReady", "20s"), ("retryInterval", "100ms")],
    )
    .await;
    let ctl = lab.ontap.control();
    ctl.set_lif_down("dr", "svm1_nfs_lif1", true);
    let host = lab.plugin().await;
    let pv = lab.pv(0, PV, None);
    let (item, rest) = (to_vec(&pv), restore("u1"));
    let call = host.execute(PLUGIN, &item, &rest, &item);
    let bring_up = async {
        // Let the plugin see it down at least once.
        while ctl.request_count("dr") < 4 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        ctl.set_lif_down("dr", "svm1_nfs_lif1", false);
    };
    let (r, ()) = tokio::join!(call, bring_up);
    let lines = host.shutdown().await.unwrap().stderr.join("\n");
    r.expect("ready once the LIF is up");
    assert!(lines.contains("retrying"), "no retry was logged: {lines}");
}

#[tokio::test]
async fn legacy_nfs_pv_is_found_by_its_server() {
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    let pv = sim::kube::fixtures::legacy_nfs_pv(
        "default-data-1",
        "127.0.1.1",
        &format!("/{VOL}"),
        "1Gi",
        "shop",
        "data",
        "Retain",
    );
    assert_eq!(run_pv(&lab, &pv).await.unwrap(), pv);
    let pv = sim::kube::fixtures::legacy_nfs_pv(
        "default-data-1",
        "127.0.9.9",
        &format!("/{VOL}"),
        "1Gi",
        "shop",
        "data",
        "Retain",
    );
    let e = run_pv(&lab, &pv).await.unwrap_err();
    assert!(
        e.message().contains("127.0.9.9") && e.message().contains("default-data-1"),
        "{e}"
    );
    let pv = sim::kube::fixtures::legacy_nfs_pv(
        "default-data-1",
        "127.0.1.1",
        "/elsewhere",
        "1Gi",
        "shop",
        "data",
        "Retain",
    );
    let e = run_pv(&lab, &pv).await.unwrap_err();
    assert!(e.message().contains("/elsewhere"), "{e}");
}

fn pvc(pv_name: &str, sc: &str) -> Value {
    let mut pvc = sim::kube::fixtures::trident_pvc("shop", "data", pv_name, sc, "10Gi");
    pvc.as_object_mut().map(|o| o.remove("status"));
    pvc
}

#[tokio::test]
async fn pvc_gets_trident_import_annotations() {
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    let claim = pvc(PV, "ontap-nas");
    let host = lab.plugin().await;
    let r = host
        .execute(PLUGIN, &to_vec(&claim), &restore("u2"), &to_vec(&claim))
        .await;
    host.shutdown().await.unwrap();
    let out: Value = serde_json::from_slice(&r.unwrap().item).unwrap();
    let ann = &out["metadata"]["annotations"];
    assert_eq!(ann["trident.netapp.io/importOriginalName"], VOL);
    assert_eq!(
        ann["trident.netapp.io/importBackendUUID"],
        lab.sites[0].backend_uuid.as_str()
    );
    assert_eq!(ann["trident.netapp.io/notManaged"], "false");
    assert_eq!(ann["trident.netapp.io/importNoRename"], "true");
    assert_eq!(out["kind"], "PersistentVolumeClaim");
}

#[tokio::test]
async fn pvc_import_conditions_each_reported() {
    let lab = Lab::start(
        one_svm("dp", "online"),
        "Netapp1!",
        &[("importManaged", "false")],
    )
    .await;
    let host = lab.plugin().await;
    let exec = |claim: Value| {
        let host = &host;
        async move {
            host.execute(PLUGIN, &to_vec(&claim), &restore("u3"), &to_vec(&claim))
                .await
                .map(|r| serde_json::from_slice::<Value>(&r.item).unwrap())
        }
    };
    // Volume still dp.
    let e = exec(pvc(PV, "ontap-nas")).await.unwrap_err();
    assert!(
        e.message().contains("SVM-DR not broken") && e.message().contains("shop/data"),
        "{e}"
    );
    // Unknown StorageClass.
    let e = exec(pvc(PV, "gold")).await.unwrap_err();
    assert!(
        e.message().contains("StorageClass gold does not exist"),
        "{e}"
    );
    // A class for another driver.
    lab.kube
        .apply(sim::kube::fixtures::storage_class("san", "ontap-san", ""))
        .unwrap();
    let e = exec(pvc(PV, "san")).await.unwrap_err();
    assert!(
        e.message().contains("does not offer backendType ontap-san")
            && e.message().contains("does not match any storage pools"),
        "{e}"
    );
    host.shutdown().await.unwrap();

    // Name already used by a TridentVolume.
    let lab = Lab::start(
        one_svm("rw", "online"),
        "Netapp1!",
        &[("importManaged", "false")],
    )
    .await;
    lab.kube
        .apply(sim::kube::fixtures::trident_volume(
            "trident",
            "pvc-other",
            &lab.sites[0].backend_uuid,
            VOL,
            "file",
            "1Gi",
            "",
            "",
        ))
        .unwrap();
    let host = lab.plugin().await;
    let claim = pvc(PV, "ontap-nas");
    let e = host
        .execute(PLUGIN, &to_vec(&claim), &restore("u4"), &to_vec(&claim))
        .await
        .unwrap_err();
    assert!(
        e.message()
            .contains("TridentVolume pvc-other already uses it"),
        "{e}"
    );
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn pvc_of_an_existing_pv_is_left_to_bind_to_it() {
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    let mut existing = lab.pv(0, PV, None);
    existing.as_object_mut().map(|o| o.remove("status"));
    lab.kube.apply(existing).unwrap();
    let host = lab.plugin().await;
    let claim = pvc(PV, "ontap-nas");
    let r = host
        .execute(PLUGIN, &to_vec(&claim), &restore("u5"), &to_vec(&claim))
        .await
        .unwrap();
    assert_eq!(r.item, to_vec(&claim));
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn facts_are_collected_once_per_svm_per_restore() {
    let svms = 5;
    let per_svm = 20;
    let vols: Vec<String> = (0..per_svm)
        .map(|i| format!("trident_pvc_{i}_{{n}}"))
        .collect();
    let specs: Vec<(&str, &str, &str, bool)> = vols
        .iter()
        .map(|v| (v.as_str(), "rw", "online", true))
        .collect();
    let lab = Lab::start(crate::lab::topology(svms, &specs), "Netapp1!", &[]).await;
    let host = lab.plugin().await;
    let ctl = lab.ontap.control();
    let before = ctl.request_counts("dr");
    for n in 1..=svms {
        for i in 0..per_svm {
            let pv = lab.pv(n - 1, &format!("pvc-{i}-{n}"), None);
            host.execute(PLUGIN, &to_vec(&pv), &restore("u6"), &to_vec(&pv))
                .await
                .unwrap();
        }
    }
    let after = ctl.request_counts("dr");
    host.shutdown().await.unwrap();
    let delta = |path: &str| {
        after
            .iter()
            .filter(|(k, _)| k.contains(path))
            .map(|(_, v)| *v)
            .sum::<u64>()
            - before
                .iter()
                .filter(|(k, _)| k.contains(path))
                .map(|(_, v)| *v)
                .sum::<u64>()
    };
    assert_eq!(delta("/api/storage/volumes"), svms as u64, "{after:?}");
    assert_eq!(
        delta("/api/network/ip/interfaces"),
        svms as u64,
        "{after:?}"
    );
    assert_eq!(delta("/api/svm/svms"), svms as u64, "{after:?}");
}

#[tokio::test]
async fn economy_backends_get_svm_and_lif_checks_only() {
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    let mut site = sim::kube::fixtures::TridentSite::new("eco", &lab.ontap.url("dr"), "svm1")
        .credentials("admin", "Netapp1!");
    site.driver = "ontap-nas-economy".into();
    site.storage_class = "eco".into();
    site.seed(&lab.kube).unwrap();
    // A qtree inside a shared FlexVol: not in the volume listing by this name.
    let mut pv = sim::kube::fixtures::trident_csi_pv(
        "pvc-eco-1",
        &site.backend_uuid,
        "trident_qtree_pool_trident_abcdef_pvc_eco_1",
        "file",
        "1Gi",
        "shop",
        "d",
        "Retain",
    );
    pv.as_object_mut().map(|o| o.remove("status"));
    assert_eq!(run_pv(&lab, &pv).await.unwrap(), pv);
    lab.ontap
        .control()
        .set_lif_down("dr", "svm1_nfs_lif1", true);
    let e = run_pv(&lab, &pv).await.unwrap_err();
    assert!(
        e.message().contains("svm1_nfs_lif1") && e.message().contains("pvc-eco-1"),
        "{e}"
    );
}

/// A TridentBackend being deleted (`deletionTimestamp` set while Trident's
/// finalizer holds it) serves nothing: the plugin skips it, as the CLI does
/// (both through `svmdr::trident::discovery::join_backends`). Before they
/// shared it, the plugin still used such a backend and accepted the PV.
#[tokio::test]
async fn a_backend_being_deleted_is_not_used() {
    const TBE: &str = "trident.netapp.io/v1";
    let lab = Lab::start(one_svm("rw", "online"), "Netapp1!", &[]).await;
    let uuid = lab.sites[0].backend_uuid.clone();
    let pv = lab.pv(0, PV, None);
    let ok = run_pv(&lab, &pv)
        .await
        .expect("ready while the backend is there");
    assert_eq!(ok, pv);
    let name = lab
        .kube
        .list(TBE, "TridentBackend", Some("trident"))
        .iter()
        .find(|b| b["backendUUID"] == uuid.as_str())
        .and_then(|b| b.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string)
        .expect("the site's TridentBackend");
    assert!(
        lab.kube
            .delete(TBE, "TridentBackend", Some("trident"), &name)
    );
    let kept = lab.kube.list(TBE, "TridentBackend", Some("trident"));
    assert!(
        kept.iter().any(|b| b["backendUUID"] == uuid.as_str()
            && b.pointer("/metadata/deletionTimestamp").is_some()),
        "the finalizer keeps it, being deleted: {kept:?}"
    );
    expect_error(&lab, &pv, &["is not in the restore cluster", &uuid]).await;
}
