//! The controllers against the real ONTAP and Kubernetes simulators.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::kube::KubeSim;
use crate::kube::fixtures::{DR_NODES, TridentSite, trident_csi_pv, trident_pvc, trident_volume};
use crate::lab::simulated::SIMULATED_LABEL;
use crate::lab::trident::{ANN_IMPORT_NO_RENAME, TRIDENT_API};
use crate::lab::{Lab, LabOptions};
use crate::ontap::{OntapSim, Topology};

const VOL: &str = "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90";

fn import_pvc(name: &str, backend: &str, volume: &str) -> Value {
    let mut pvc = trident_pvc("shop", name, "pvc-old", "ontap-nas", "1Gi");
    pvc["spec"].as_object_mut().map(|s| s.remove("volumeName"));
    pvc.as_object_mut().map(|o| o.remove("status"));
    pvc["metadata"]["annotations"][ANN_IMPORT_ORIGINAL_NAME] = json!(volume);
    pvc["metadata"]["annotations"][ANN_IMPORT_BACKEND_UUID] = json!(backend);
    pvc["metadata"]["annotations"][ANN_IMPORT_NO_RENAME] = json!("true");
    pvc
}

async fn primary(poll: Duration) -> (OntapSim, KubeSim, TridentSite, ClusterControllers) {
    let ontap = OntapSim::start(Topology::two_sites()).await.expect("ontap");
    let kube = KubeSim::start("primary").await.expect("kube");
    let site = TridentSite::new("b", &ontap.url("primary"), "svm1").with_nodes(&DR_NODES);
    site.seed(&kube).expect("seed");
    let c =
        ClusterControllers::new(kube.handle(), ontap.control(), "trident").with_backend_poll(poll);
    (ontap, kube, site, c)
}

fn backend(kube: &KubeSim) -> Value {
    kube.list(TRIDENT_API, "TridentBackend", Some("trident"))
        .into_iter()
        .next()
        .expect("backend")
}

fn nfs_lif(ontap: &OntapSim) -> String {
    let snap = ontap.control().snapshot();
    snap["lifs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| {
            l["svm"] == "svm1"
                && l["service_policy"]
                    .as_str()
                    .is_some_and(|p| p.contains("files") || p.contains("nfs"))
        })
        .and_then(|l| l["name"].as_str())
        .expect("svm1 has an NFS LIF")
        .to_string()
}

#[tokio::test]
async fn annotated_pvcs_are_imported_only_when_trident_accepts_them() {
    let (ontap, kube, site, c) = primary(Duration::from_millis(1)).await;
    kube.apply(import_pvc("ok", &site.backend_uuid, VOL))
        .expect("pvc");
    kube.apply(import_pvc("missing", &site.backend_uuid, "no_such_volume"))
        .expect("pvc");
    let notes = c.reconcile();
    let ok = kube
        .get("v1", "PersistentVolumeClaim", Some("shop"), "ok")
        .expect("pvc");
    assert_eq!(ok["status"]["phase"], "Bound", "{notes:?}");
    let pv_name = ok["spec"]["volumeName"].as_str().expect("bound");
    assert_eq!(
        pv_name,
        format!("pvc-{}", ok["metadata"]["uid"].as_str().unwrap_or(""))
    );
    let pv = kube
        .get("v1", "PersistentVolume", None, pv_name)
        .expect("pv");
    let attrs = &pv["spec"]["csi"]["volumeAttributes"];
    assert_eq!(attrs["internalName"], VOL);
    assert_eq!(attrs["backendUUID"], site.backend_uuid.as_str());
    assert_eq!(attrs["name"], pv_name);
    assert_eq!(attrs["protocol"], "file");
    assert_eq!(pv["metadata"]["labels"][SIMULATED_LABEL], "true");
    let tv = kube
        .get(TRIDENT_API, "TridentVolume", Some("trident"), pv_name)
        .expect("a TridentVolume");
    assert_eq!(tv["config"]["internalName"], VOL);
    let missing = kube
        .get("v1", "PersistentVolumeClaim", Some("shop"), "missing")
        .expect("pvc");
    assert!(missing.pointer("/spec/volumeName").is_none());
    let ev = kube
        .get("v1", "Event", Some("shop"), "missing.provisioningfailed")
        .expect("event");
    assert_eq!(
        ev["message"],
        "failed to provision volume with StorageClass \"ontap-nas\": rpc error: code = NotFound desc = volume no_such_volume was not found"
    );
    assert_eq!(ev["type"], "Warning");

    // The ONTAP cluster down: the backend goes offline on the next poll.
    ontap.control().set_cluster_down("primary", true);
    c.reconcile();
    let b = backend(&kube);
    assert_eq!(b["state"], "offline");
    assert_eq!(b["online"], false);
    assert_eq!(b["stateReason"], "SVM is not reachable");
}

#[tokio::test]
async fn pods_wait_in_container_creating_until_trident_has_the_volume() {
    let (_ontap, kube, site, c) = primary(Duration::ZERO).await;
    let pv_name = "pvc-0b6f4a2e-6c1d-4f6b-9d3a-2f1e5c7a8b90";
    // A PV restored as-is: bound, but no TridentVolume behind it.
    kube.apply(trident_csi_pv(
        pv_name,
        &site.backend_uuid,
        VOL,
        "file",
        "1Gi",
        "shop",
        "data",
        "Retain",
    ))
    .expect("pv");
    kube.apply(trident_pvc("shop", "data", pv_name, "ontap-nas", "1Gi"))
        .expect("pvc");
    kube.apply(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "shop"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}))
        .expect("pod");
    c.reconcile();
    let pod = kube.get("v1", "Pod", Some("shop"), "web-0").expect("pod");
    assert_eq!(pod["status"]["phase"], "Pending");
    assert_eq!(pod["spec"]["nodeName"], "dr-node-1");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "ContainerCreating"
    );
    let ev = kube
        .get("v1", "Event", Some("shop"), "web-0.failedattachvolume")
        .expect("event");
    assert_eq!(
        ev["message"],
        format!(
            "AttachVolume.Attach failed for volume \"{pv_name}\" : rpc error: code = NotFound desc = volume {pv_name} was not found"
        )
    );
    assert_eq!(ev["involvedObject"]["kind"], "Pod");
    // Once Trident knows the volume (an import), the Pod starts.
    kube.apply(trident_volume(
        "trident",
        pv_name,
        &site.backend_uuid,
        VOL,
        "file",
        "1Gi",
        "127.0.0.1",
        &format!("/{VOL}"),
    ))
    .expect("tv");
    c.reconcile();
    let pod = kube.get("v1", "Pod", Some("shop"), "web-0").expect("pod");
    assert_eq!(pod["status"]["phase"], "Running", "{pod}");
    assert_eq!(pod["spec"]["nodeName"], "dr-node-1");
}

#[tokio::test]
async fn backend_state_follows_the_data_lif_on_the_poll_and_on_a_tbc_update() {
    // No periodic poll: only creation and TBC updates re-evaluate.
    let (ontap, kube, _site, c) = primary(Duration::ZERO).await;
    let lif = nfs_lif(&ontap);
    ontap.control().set_lif_down("primary", &lif, true);
    c.reconcile();
    let b = backend(&kube);
    assert_eq!(b["state"], "offline", "evaluated at first sight");
    assert_eq!(
        b["stateReason"],
        "No data LIFs present or all of them are 'down'"
    );
    ontap.control().set_lif_down("primary", &lif, false);
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "offline", "no poll, no update");
    // A TBC annotation does not move the generation: nothing happens.
    let mut tbc = kube
        .get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
        .expect("tbc");
    tbc["metadata"]["annotations"] = json!({"touched": "1"});
    kube.apply(tbc).expect("tbc");
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "offline");
    // A spec change does: Trident re-creates the backend.
    let mut tbc = kube
        .get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
        .expect("tbc");
    assert_eq!(tbc["metadata"]["finalizers"], json!(["trident.netapp.io"]));
    tbc["spec"]["limitVolumeSize"] = json!("100Gi");
    kube.apply(tbc).expect("tbc");
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "online");
    let tbc = kube
        .get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
        .expect("tbc");
    assert_eq!(tbc["status"]["message"], "Backend 'b' updated");
    assert_eq!(tbc["status"]["lastOperationStatus"], "Success");
    // With the LIF down again, an update fails and leaves the backend as it was.
    ontap.control().set_lif_down("primary", &lif, true);
    let mut tbc = tbc;
    tbc["spec"]["limitVolumeSize"] = json!("200Gi");
    kube.apply(tbc).expect("tbc");
    c.reconcile();
    let tbc = kube
        .get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
        .expect("tbc");
    assert_eq!(
        tbc["status"]["message"],
        "Failed to apply the backend update; no NAS data LIFs found on SVM svm1"
    );
    assert_eq!(backend(&kube)["state"], "online");
    // The periodic poll notices.
    let c = c.with_backend_poll(Duration::from_millis(1));
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "offline");
    ontap.control().set_lif_down("primary", &lif, false);
    std::thread::sleep(Duration::from_millis(5));
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "online");
    assert_eq!(backend(&kube)["online"], true);
}

#[tokio::test]
async fn a_change_to_the_credentials_secret_updates_the_backend() {
    // Trident: frontend/crd/controller/secret.go (Secrets have no
    // generation, so any new resourceVersion queues an update of the TBCs
    // that use the Secret).
    let (ontap, kube, site, c) = primary(Duration::ZERO).await;
    let lif = nfs_lif(&ontap);
    ontap.control().set_lif_down("primary", &lif, true);
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "offline");
    ontap.control().set_lif_down("primary", &lif, false);
    c.reconcile();
    assert_eq!(
        backend(&kube)["state"],
        "offline",
        "nothing re-evaluates it yet"
    );
    let mut secret = kube
        .get("v1", "Secret", Some("trident"), &site.secret_name)
        .expect("secret");
    secret["metadata"]["annotations"] = json!({"svmdr.netapp.io/reconcile": "1"});
    kube.apply(secret).expect("secret");
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "online");
}

#[tokio::test]
async fn trident_removes_its_finalizers_on_delete() {
    let (_ontap, kube, site, c) = primary(Duration::ZERO).await;
    let (pv, _) = site
        .add_volume(&kube, "shop", "data", "1Gi", "Delete")
        .expect("volume");
    c.reconcile();
    // The TBC cannot go while its backend has a volume: the backend is deleting.
    assert!(kube.delete(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b"));
    c.reconcile();
    assert_eq!(backend(&kube)["state"], "deleting");
    let tbc = kube
        .get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
        .expect("still there");
    assert_eq!(tbc["status"]["phase"], "Deleting");
    // A deleted TridentVolume loses Trident's finalizer and goes...
    assert!(kube.delete(TRIDENT_API, "TridentVolume", Some("trident"), &pv));
    c.reconcile();
    assert!(
        kube.get(TRIDENT_API, "TridentVolume", Some("trident"), &pv)
            .is_none()
    );
    // ...then the backend and the TBC go.
    c.reconcile();
    assert!(
        kube.list(TRIDENT_API, "TridentBackend", Some("trident"))
            .is_empty()
    );
    assert!(
        kube.get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
            .is_none()
    );
}

#[tokio::test]
async fn the_lab_seeds_nodes_the_version_and_an_offline_dr_backend() {
    let lab = Lab::start(LabOptions {
        trident_version: Some("25.06.0".into()),
        ..LabOptions::default()
    })
    .await
    .expect("lab");
    let tbe = |k: &KubeSim| backend(k);
    let dr = tbe(&lab.dr_kube);
    assert_eq!(dr["state"], "offline", "svm1_dr does not exist yet");
    assert_eq!(dr["stateReason"], "SVM is not reachable");
    assert_eq!(tbe(&lab.primary_kube)["state"], "online");
    let nodes: Vec<String> = lab
        .dr_kube
        .list("v1", "Node", None)
        .iter()
        .map(|n| {
            n["status"]["addresses"][0]["address"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(nodes, ["198.51.100.21", "198.51.100.22"]);
    let v = lab
        .primary_kube
        .get(TRIDENT_API, "TridentVersion", Some("trident"), "trident")
        .expect("version");
    assert_eq!(v["trident_version"], "25.06.0");
    assert_eq!(v["publications_synced"], true);
}

fn pod(name: &str, claim: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]}})
}

#[tokio::test]
async fn managed_import_renames_in_ontap_and_mounts_go_through_the_export_policy() {
    let (ontap, kube, site, c) = primary(Duration::ZERO).await;
    let mut pvc = import_pvc("data", &site.backend_uuid, VOL);
    pvc["metadata"]["annotations"]
        .as_object_mut()
        .map(|a| a.remove(ANN_IMPORT_NO_RENAME));
    kube.apply(pvc).expect("pvc");
    kube.apply(pod("web-0", "data")).expect("pod");
    c.reconcile();
    let pvc = kube
        .get("v1", "PersistentVolumeClaim", Some("shop"), "data")
        .expect("pvc");
    let uid = pvc["metadata"]["uid"].as_str().unwrap_or("");
    let renamed = format!("trident_pvc_{}", uid.replace('-', "_"));
    let pv = kube
        .get("v1", "PersistentVolume", None, &format!("pvc-{uid}"))
        .expect("pv");
    assert_eq!(
        pv["spec"]["csi"]["volumeAttributes"]["internalName"],
        renamed
    );
    let snap = ontap.control().snapshot();
    let names: Vec<&str> = snap["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["svm"] == "svm1")
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert!(names.contains(&renamed.as_str()), "{names:?}");
    assert!(!names.contains(&VOL), "{names:?}");
    // The default policy admits everyone: the Pod runs on a DR node.
    let p = kube.get("v1", "Pod", Some("shop"), "web-0").expect("pod");
    assert_eq!(p["status"]["phase"], "Running", "{p}");
    // A policy replicated from the primary that admits only its nodes.
    ontap.control().set_export_rules(
        "primary",
        "svm1",
        "default",
        vec![
            json!({"index": 1, "clients": [{"match": "192.0.2.11,192.0.2.12"}],
            "protocols": ["nfs"], "ro_rule": ["sys"], "rw_rule": ["sys"], "superuser": ["sys"]}),
        ],
    );
    kube.apply(pod("web-1", "data")).expect("pod");
    c.reconcile();
    let p = kube.get("v1", "Pod", Some("shop"), "web-1").expect("pod");
    assert_eq!(p["status"]["phase"], "Pending");
    let ev = kube
        .get("v1", "Event", Some("shop"), "web-1.failedmount")
        .expect("event");
    let m = ev["message"].as_str().unwrap_or("");
    assert!(
        m.starts_with(&format!(
            "MountVolume.SetUp failed for volume \"pvc-{uid}\""
        )),
        "{m}"
    );
    // ONTAP's own mount check (`Control::nfs_mount_check`) gives the reason.
    assert!(
        m.contains(&format!("(simulated ONTAP: node dr-node-1 (198.51.100.21): SVM svm1: volume {renamed}: no rule of export policy default matches client 198.51.100.21)")),
        "{m}"
    );
}

#[tokio::test]
async fn a_retained_backend_outlives_its_tbc() {
    let (_ontap, kube, _site, c) = primary(Duration::ZERO).await;
    c.reconcile();
    let mut tbc = kube
        .get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
        .expect("tbc");
    tbc["spec"]["deletionPolicy"] = json!("retain");
    kube.apply(tbc).expect("tbc");
    assert!(kube.delete(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b"));
    c.reconcile();
    assert!(
        kube.get(TRIDENT_API, "TridentBackendConfig", Some("trident"), "b")
            .is_none()
    );
    let b = backend(&kube);
    assert_eq!(b["configRef"], "");
    assert_eq!(b["state"], "online");
}

#[tokio::test]
async fn a_deployment_scaled_to_zero_loses_its_pods_and_reports_none_ready() {
    let (_ontap, kube, _site, c) = primary(Duration::from_secs(60)).await;
    let labels = json!({"app": "web"});
    kube.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
        .expect("namespace");
    kube.apply(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": []}}},
    }))
    .expect("deployment");
    kube.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "labels": labels},
        "spec": {"containers": []},
        "status": {"phase": "Running"},
    }))
    .expect("pod");
    c.reconcile();
    let d = kube
        .get("apps/v1", "Deployment", Some("shop"), "web")
        .expect("deployment");
    assert_eq!(d["status"]["readyReplicas"], 1);
    let mut scaled = d.clone();
    scaled["spec"]["replicas"] = json!(0);
    kube.apply(scaled).expect("scale to 0");
    c.reconcile();
    let d = kube
        .get("apps/v1", "Deployment", Some("shop"), "web")
        .expect("deployment");
    assert_eq!(d["status"]["readyReplicas"], 0, "{d}");
    assert_eq!(d["status"]["replicas"], 0, "{d}");
    assert!(kube.list("v1", "Pod", Some("shop")).is_empty());
}
