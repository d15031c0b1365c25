//! The backend's transport (Trident `sanType`) decides which data LIF the
//! plugin checks: an NVMe/TCP backend whose `data_nvme_tcp` LIF is down is
//! refused naming NVMe/TCP, even though the SVM's iSCSI LIF is up; an FC
//! backend needs no IP LIF, only the SVM's FC service.

use serde_json::{Value, json};
use sim::ontap::Topology;

use crate::lab::{Lab, PLUGIN, restore, to_vec};

const PV: &str = "pvc-7a1e2c44-5b9d-4f1e-8c3a-6d2b9e4f1a07";
const VOL: &str = "trident_pvc_7a1e2c44_5b9d_4f1e_8c3a_6d2b9e4f1a07";

/// One SVM with NVMe and iSCSI on, one LIF for each, and the PV's volume
/// with its LUN.
fn san_topology() -> Topology {
    Topology::from_yaml(&san_topology_yaml()).expect("test topology")
}

fn san_topology_yaml() -> String {
    format!(
        "network: {{ nfs_port: 0, iscsi_port: 0 }}
clusters:
  - key: dr
    name: ontap-b
    nodes: [ontap-b-01]
    accounts: [{{ username: admin, password: \"Netapp1!\", role: admin }}]
    svms:
      - name: svm1
        iscsi: true
        nvme: true
        lifs:
          - {{ name: svm1_iscsi_lif1, ip: 127.0.1.2, services: [data_iscsi], home_node: ontap-b-01 }}
          - {{ name: svm1_nvme_lif1, ip: 127.0.1.3, services: [data_nvme_tcp], home_node: ontap-b-01 }}
        volumes:
          - {{ name: svm1_root, size: 1GB, is_svm_root: true, junction_path: / }}
          - {{ name: {VOL}, size: 10GB, type: rw, state: online, luns: [{{ name: lun0 }}] }}
"
    )
}

/// Turns the lab's backend into `ontap-san` with `sanType: <san_type>`.
fn make_backend(lab: &Lab, san_type: &str) {
    let tbes = lab
        .kube
        .list("trident.netapp.io/v1", "TridentBackend", Some("trident"));
    assert_eq!(tbes.len(), 1, "one backend in the lab");
    let mut tbe = tbes.into_iter().next().unwrap_or(Value::Null);
    let cfg = &mut tbe["config"]["ontap_config"];
    cfg["storageDriverName"] = json!("ontap-san");
    cfg["sanType"] = json!(san_type);
    if let Some(o) = cfg.as_object_mut() {
        o.remove("dataLIF");
    }
    lab.kube.apply(tbe).expect("update TridentBackend");
}

fn block_pv(lab: &Lab) -> Value {
    let mut pv = lab.pv(0, PV, None);
    pv["spec"]["csi"]["volumeAttributes"]["protocol"] = json!("block");
    pv["spec"]["csi"]["fsType"] = json!("ext4");
    pv["spec"]["volumeMode"] = json!("Block");
    pv
}

#[tokio::test]
async fn nvme_backend_with_its_lif_down_is_refused_naming_nvme_tcp() {
    let lab = Lab::start(san_topology(), "Netapp1!", &[("tcpProbe", "false")]).await;
    make_backend(&lab, "nvme");
    lab.ontap
        .control()
        .set_lif_down("dr", "svm1_nvme_lif1", true);
    let pv = block_pv(&lab);
    let host = lab.plugin().await;
    let r = host
        .execute(PLUGIN, &to_vec(&pv), &restore("t1"), &to_vec(&pv))
        .await;
    host.shutdown().await.expect("plugin stops");
    let e = r.expect_err("the NVMe/TCP LIF is down");
    let msg = e.message().to_string();
    for want in [
        "every NVMe/TCP data LIF of SVM svm1",
        "svm1_nvme_lif1 (127.0.1.3, down)",
        PV,
    ] {
        assert!(msg.contains(want), "missing {want:?} in: {msg}");
    }
    assert!(
        !msg.contains("iSCSI"),
        "the iSCSI LIF is not the one: {msg}"
    );
}

#[tokio::test]
async fn nvme_disabled_on_the_svm_is_refused_naming_the_flag() {
    let mut topo = san_topology();
    topo.clusters[0].svms[0].nvme = false;
    let lab = Lab::start(topo, "Netapp1!", &[("tcpProbe", "false")]).await;
    make_backend(&lab, "nvme");
    let pv = block_pv(&lab);
    let host = lab.plugin().await;
    let r = host
        .execute(PLUGIN, &to_vec(&pv), &restore("t2"), &to_vec(&pv))
        .await;
    host.shutdown().await.expect("plugin stops");
    let msg = r.expect_err("NVMe is off").message().to_string();
    assert!(
        msg.contains("NVMe/TCP is disabled on SVM svm1") && msg.contains("nvme.enabled"),
        "{msg}"
    );
}

#[tokio::test]
async fn fc_backend_needs_no_ip_lif() {
    let mut topo = san_topology();
    let svm = &mut topo.clusters[0].svms[0];
    svm.fcp = true;
    // FC LIFs are not IP interfaces: the SVM has none the plugin could check.
    svm.lifs.clear();
    let lab = Lab::start(topo, "Netapp1!", &[]).await;
    make_backend(&lab, "fcp");
    let pv = block_pv(&lab);
    let host = lab.plugin().await;
    let r = host
        .execute(PLUGIN, &to_vec(&pv), &restore("t3"), &to_vec(&pv))
        .await;
    host.shutdown().await.expect("plugin stops");
    let r = r.expect("an FC volume is checked without IP LIFs");
    assert!(r.skip_restore, "a ready Trident CSI PV is skipped");
}

#[tokio::test]
async fn fc_disabled_on_the_svm_is_refused() {
    let mut topo = san_topology();
    topo.clusters[0].svms[0].lifs.clear();
    let lab = Lab::start(topo, "Netapp1!", &[]).await;
    make_backend(&lab, "fcp");
    let pv = block_pv(&lab);
    let host = lab.plugin().await;
    let r = host
        .execute(PLUGIN, &to_vec(&pv), &restore("t4"), &to_vec(&pv))
        .await;
    host.shutdown().await.expect("plugin stops");
    let msg = r.expect_err("FC is off").message().to_string();
    assert!(
        msg.contains("FC is disabled on SVM svm1") && msg.contains("fcp.enabled"),
        "{msg}"
    );
}

/// A block PVC of the backup (bound to PV, class `san`), as Velero hands it
/// to the plugin after `velero.io/pvc`, and its backup copy.
fn block_pvc(request: &str) -> (Value, Value) {
    let mut backed_up = sim::kube::fixtures::trident_pvc("shop", "data", PV, "san", request);
    backed_up.as_object_mut().map(|o| o.remove("status"));
    backed_up["spec"]["volumeMode"] = json!("Block");
    let mut item = backed_up.clone();
    item["metadata"]["annotations"] = json!({});
    (item, backed_up)
}

#[tokio::test]
async fn san_imports_check_the_lun_size_and_name_trident_uses() {
    // ontap_san.go GetVolumeForImport: the size is the LUN's, not the
    // FlexVol's; lunPath: an import that keeps names needs `lun0`.
    let yaml = san_topology_yaml().replace(
        "luns: [{ name: lun0 }]",
        "luns: [{ name: data, size: 5GB }]",
    );
    let lab = Lab::start(
        Topology::from_yaml(&yaml).expect("topology"),
        "Netapp1!",
        &[("tcpProbe", "false")],
    )
    .await;
    make_backend(&lab, "iscsi");
    lab.kube
        .apply(sim::kube::fixtures::storage_class("san", "ontap-san", ""))
        .expect("class");
    let run = |request: &'static str, uid: &'static str| {
        let lab = &lab;
        async move {
            let (item, backed_up) = block_pvc(request);
            let host = lab.plugin().await;
            let r = host
                .execute(PLUGIN, &to_vec(&item), &restore(uid), &to_vec(&backed_up))
                .await;
            host.shutdown().await.expect("plugin stops");
            r.map_err(|s| s.message().to_string())
        }
    };
    // 10Gi fits the 10 GB FlexVol but not its 5 GB LUN.
    let e = run("10Gi", "s1").await.unwrap_err();
    assert!(
        e.contains("requests 10Gi") && e.contains(&(5u64 << 30).to_string()),
        "{e}"
    );
    // 5Gi fits; the LUN is named `data`, and the default import keeps names
    // (managed with importNoRename on this Trident): Trident wants lun0.
    let e = run("5Gi", "s2").await.unwrap_err();
    assert!(e.contains("named data") && e.contains("lun0"), "{e}");
}
