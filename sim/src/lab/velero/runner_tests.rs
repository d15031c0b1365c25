//! Whole restores through the runner on a lab without the plugin
//! (Velero's built-in actions only).

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::lab::app::{self, VOLUMES};
use crate::lab::velero::BackupKind;
use crate::lab::velero::item_restore::PodVolume;
use crate::lab::velero::node_agent;
use crate::lab::{Lab, LabOptions};

async fn lab() -> (Lab, RunnerConfig) {
    let lab = Lab::start(LabOptions::default())
        .await
        .unwrap_or_else(|e| panic!("lab: {e:#}"));
    register_types(&lab.dr_kube);
    let cfg = RunnerConfig {
        plugin: None,
        plugin_env: Vec::new(),
        velero_namespace: app::VELERO_NAMESPACE.into(),
        backups: lab.backups.clone(),
        controllers: lab.dr_controllers.clone(),
        ontap_cluster: "dr".into(),
        features: vec!["EnableCSI".into()],
        resource_timeout: Duration::from_millis(600),
        fs_backup_timeout: Duration::from_millis(600),
        safety_bound: Duration::from_secs(60),
        on_start: None,
    };
    (lab, cfg)
}

async fn restore(lab: &Lab, cfg: &RunnerConfig, name: &str, spec: Value) -> RestoreResult {
    let r = json!({"apiVersion": "velero.io/v1", "kind": "Restore",
        "metadata": {"name": name, "namespace": app::VELERO_NAMESPACE}, "spec": spec});
    let created = lab
        .dr_kube
        .apply(r)
        .unwrap_or_else(|e| panic!("restore: {e:#}"));
    run(&lab.dr_kube.handle(), cfg, created).await
}

fn get(lab: &Lab, kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
    lab.dr_kube.get("v1", kind, ns, name)
}

fn shop(backup: &str) -> Value {
    json!({"backupName": backup, "includedNamespaces": [app::NAMESPACE]})
}

#[tokio::test]
async fn plain_backup_restores_retain_pvs_as_is_and_reprovisions_delete_ones() {
    let (lab, cfg) = lab().await;
    let name = format!("svmdr-{}", "r".repeat(70));
    let res = restore(&lab, &cfg, &name, shop(app::BACKUP)).await;
    assert_eq!(res.phase, "Completed", "{res:#?}");
    assert_eq!(res.phases, ["InProgress", "Finalizing", "Completed"]);
    let [retain, delete] = VOLUMES;
    let pv = get(&lab, "PersistentVolume", None, retain.pv)
        .unwrap_or_else(|| panic!("as-is PV missing: {:#?}", res.log));
    assert_ne!(
        pv.pointer("/spec/claimRef/uid"),
        Some(&json!(format!("uid-{}", retain.claim))),
        "the backed-up claim uid is reset (the PV controller may bind it again)"
    );
    assert!(get(&lab, "PersistentVolume", None, delete.pv).is_none());
    let data = get(
        &lab,
        "PersistentVolumeClaim",
        Some(app::NAMESPACE),
        retain.claim,
    )
    .unwrap_or_default();
    assert_eq!(data["spec"]["volumeName"], retain.pv);
    let ann = data["metadata"]["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for k in super::super::builtin_actions::PVC_ACTION_REMOVED_ANNOTATIONS {
        assert!(!ann.contains_key(*k), "{k} still on the PVC");
    }
    assert_eq!(
        data["metadata"]["finalizers"],
        json!(["kubernetes.io/pvc-protection"])
    );
    assert_eq!(
        data["metadata"]["labels"]["velero.io/restore-name"],
        rules::get_valid_name(&name)
    );
    assert_eq!(
        data["metadata"]["labels"]["velero.io/backup-name"],
        app::BACKUP
    );
    let uploads = get(
        &lab,
        "PersistentVolumeClaim",
        Some(app::NAMESPACE),
        delete.claim,
    )
    .unwrap_or_default();
    assert!(uploads.pointer("/spec/volumeName").is_none(), "{uploads}");
    assert!(
        res.log
            .iter()
            .any(|l| l.contains("Adding PV") && l.contains(retain.pv))
    );
    assert!(
        res.log
            .iter()
            .any(|l| l.contains("reclaim policy is Delete"))
    );
    let obj = lab
        .dr_kube
        .get(
            "velero.io/v1",
            "Restore",
            Some(app::VELERO_NAMESPACE),
            &name,
        )
        .unwrap_or_default();
    assert_eq!(obj["status"]["phase"], "Completed");
    assert!(obj["status"]["completionTimestamp"].is_string());
    assert_eq!(
        obj["status"]["progress"]["itemsRestored"],
        res.items_restored
    );
}

#[tokio::test]
async fn excluded_pvs_leave_the_pvcs_with_their_volume_names() {
    let (lab, cfg) = lab().await;
    let mut spec = shop(app::BACKUP);
    spec["excludedResources"] = json!(["persistentvolumes"]);
    let res = restore(&lab, &cfg, "no-pvs", spec).await;
    assert_eq!(res.phase, "Completed", "{res:#?}");
    for v in VOLUMES {
        assert!(get(&lab, "PersistentVolume", None, v.pv).is_none());
        let pvc =
            get(&lab, "PersistentVolumeClaim", Some(app::NAMESPACE), v.claim).unwrap_or_default();
        assert_eq!(pvc["spec"]["volumeName"], v.pv, "{}", v.claim);
    }
    assert!(res.log.iter().any(|l| l.contains("resource is excluded")));
    let mut spec = shop(app::BACKUP);
    spec["includeClusterResources"] = json!(false);
    let res = restore(&lab, &cfg, "no-cluster", spec).await;
    assert!(
        res.log.iter().any(|l| l.contains("it's cluster-scoped")),
        "{:#?}",
        res.log
    );
}

#[tokio::test]
async fn fs_backup_reprovisions_every_pv_and_creates_pod_volume_restores() {
    let (lab, cfg) = lab().await;
    let backup = lab
        .seed_backup(BackupKind::FsBackup)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let res = restore(&lab, &cfg, "fs", shop(&backup)).await;
    for v in VOLUMES {
        assert!(get(&lab, "PersistentVolume", None, v.pv).is_none());
        let pvc =
            get(&lab, "PersistentVolumeClaim", Some(app::NAMESPACE), v.claim).unwrap_or_default();
        assert!(pvc.pointer("/spec/volumeName").is_none(), "{pvc}");
    }
    assert!(
        res.log
            .iter()
            .any(|l| l.contains("it has a pod volume backup to be restored"))
    );
    let pvrs = lab.dr_kube.list(
        "velero.io/v1",
        "PodVolumeRestore",
        Some(app::VELERO_NAMESPACE),
    );
    assert_eq!(pvrs.len(), VOLUMES.len(), "{pvrs:#?}");
    let pod = lab
        .dr_kube
        .list("v1", "Pod", Some(app::NAMESPACE))
        .pop()
        .unwrap_or_default();
    assert_eq!(pod["spec"]["initContainers"][0]["name"], "restore-wait");
    // Nothing provisions the claims here: Velero's own waits expire.
    assert!(
        res.errors
            .iter()
            .any(|e| e == "timed out waiting for all PodVolumeRestores to complete"),
        "{:#?}",
        res.errors
    );
    assert!(
        res.errors
            .iter()
            .any(|e| e.starts_with("fail to patch dynamic PV"))
    );
    assert_eq!(res.phase, "PartiallyFailed");
    assert_eq!(
        res.phases,
        ["InProgress", "FinalizingPartiallyFailed", "PartiallyFailed"]
    );
}

#[tokio::test]
async fn pod_volume_restores_write_the_backup_into_the_bound_ontap_volume() {
    let (lab, mut cfg) = lab().await;
    cfg.ontap_cluster = "primary".into();
    let v = VOLUMES[0];
    let mut pv = crate::kube::fixtures::trident_csi_pv(
        v.pv, "u", v.volume, "file", v.size, "shop", v.claim, "Retain",
    );
    pv["status"] = json!({"phase": "Bound"});
    let mut pvc = crate::kube::fixtures::trident_pvc("shop", v.claim, v.pv, "ontap-nas", v.size);
    pvc["status"]["phase"] = json!("Bound");
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop"},
        "spec": {"containers": [{"name": "web"}],
                 "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": v.claim}}]}});
    for o in [pv, pvc, pod] {
        lab.dr_kube.apply(o).unwrap_or_else(|e| panic!("{e:#}"));
    }
    let before = lab
        .ontap
        .control()
        .volume_data("primary", crate::lab::PRIMARY_SVM, v.volume)
        .map(|d| d.writes.len())
        .unwrap_or(0);
    let r = json!({"metadata": {"name": "fs", "namespace": "velero", "uid": "ruid"},
                   "spec": {"backupName": "b"}});
    let mut res = RestoreResult::default();
    let vols = [PodVolume {
        namespace: "shop".into(),
        pod: "web-0".into(),
        volume: "d".into(),
        snapshot_id: "kopia-1".into(),
    }];
    node_agent::restore_pod_volumes(&lab.dr_kube.handle(), &cfg, &r, &vols, &mut res).await;
    assert!(res.errors.is_empty(), "{:#?}", res.errors);
    let after = lab
        .ontap
        .control()
        .volume_data("primary", crate::lab::PRIMARY_SVM, v.volume)
        .map(|d| d.writes.len())
        .unwrap_or(0);
    assert_eq!(after, before + 1);
    assert_eq!(res.pod_volume_writes.len(), 1);
    assert!(res.pod_volume_writes[0].contains(&format!(
        "ontap={}/{}",
        crate::lab::PRIMARY_SVM,
        v.volume
    )));
    let pvr = lab
        .dr_kube
        .list("velero.io/v1", "PodVolumeRestore", Some("velero"))
        .pop()
        .unwrap_or_default();
    assert_eq!(pvr["status"]["phase"], "Completed");
    assert_eq!(pvr["metadata"]["labels"]["velero.io/restore-uid"], "ruid");
}

#[tokio::test]
async fn csi_snapshot_backups_give_the_pvcs_a_volume_snapshot_data_source() {
    let (lab, cfg) = lab().await;
    let backup = lab
        .seed_backup(BackupKind::CsiSnapshot)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let res = restore(&lab, &cfg, "csi", shop(&backup)).await;
    let restore_uid = lab
        .dr_kube
        .get("velero.io/v1", "Restore", Some("velero"), "csi")
        .map(|r| r["metadata"]["uid"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    for v in VOLUMES {
        assert!(get(&lab, "PersistentVolume", None, v.pv).is_none());
        let pvc =
            get(&lab, "PersistentVolumeClaim", Some(app::NAMESPACE), v.claim).unwrap_or_default();
        assert!(pvc.pointer("/spec/volumeName").is_none(), "{pvc}");
        assert_eq!(pvc["spec"]["dataSource"]["kind"], "VolumeSnapshot");
        let vs = pvc["spec"]["dataSource"]["name"].as_str().unwrap_or("");
        let backed_up = lab
            .backups
            .contents(&backup)
            .and_then(|c| {
                c.items
                    .into_iter()
                    .find(|i| i["kind"] == "PersistentVolumeClaim" && rules::name(i) == v.claim)
            })
            .unwrap_or_default();
        let original = rules::annotation(&backed_up, "velero.io/volume-snapshot-name");
        assert_eq!(
            vs,
            super::super::csi_actions::vs_name_for_restore(&restore_uid, original)
        );
        assert!(
            lab.dr_kube
                .get(
                    "snapshot.storage.k8s.io/v1",
                    "VolumeSnapshot",
                    Some(app::NAMESPACE),
                    vs
                )
                .is_some(),
            "VolumeSnapshot {vs} restored under the restore's name"
        );
    }
    assert!(res.log.iter().any(|l| l.contains("CSI VolumeSnapshot")));
    let mut no_csi = cfg.clone();
    no_csi.features.clear();
    let r2 = restore(&lab, &no_csi, "csi-off", shop(&backup)).await;
    assert!(
        r2.log
            .iter()
            .any(|l| l.contains("CSI feature is not enabled"))
    );
}

#[tokio::test]
async fn data_mover_backups_wait_for_plugin_operations_then_complete() {
    let (lab, cfg) = lab().await;
    let backup = lab
        .seed_backup(BackupKind::DataMover)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let res = restore(&lab, &cfg, "dm", shop(&backup)).await;
    assert_eq!(res.phase, "Completed", "{res:#?}");
    assert_eq!(
        res.phases,
        [
            "InProgress",
            "WaitingForPluginOperations",
            "Finalizing",
            "Completed"
        ]
    );
    assert_eq!(res.operations, (VOLUMES.len(), VOLUMES.len(), 0));
    let dds = lab.dr_kube.list(
        "velero.io/v2alpha1",
        "DataDownload",
        Some(app::VELERO_NAMESPACE),
    );
    assert_eq!(dds.len(), VOLUMES.len());
    for v in VOLUMES {
        let pvc =
            get(&lab, "PersistentVolumeClaim", Some(app::NAMESPACE), v.claim).unwrap_or_default();
        assert!(pvc.pointer("/spec/volumeName").is_none());
        assert!(
            pvc.pointer("/spec/selector/matchLabels/velero.io~1dynamic-pv-restore")
                .is_some()
        );
    }
    let obj = lab
        .dr_kube
        .get("velero.io/v1", "Restore", Some(app::VELERO_NAMESPACE), "dm")
        .unwrap_or_default();
    assert_eq!(
        obj["status"]["restoreItemOperationsAttempted"],
        VOLUMES.len()
    );
    assert_eq!(
        obj["status"]["restoreItemOperationsCompleted"],
        VOLUMES.len()
    );
}

#[tokio::test]
async fn a_storage_class_mapping_changes_the_pvc_and_the_as_is_pv() {
    let (lab, cfg) = lab().await;
    lab.dr_kube
        .apply(
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "gold"}, "provisioner": "csi.trident.netapp.io"}),
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    let old = lab.primary_trident.storage_class.clone();
    lab.map_storage_class(&old, "gold")
        .unwrap_or_else(|e| panic!("{e:#}"));
    let res = restore(&lab, &cfg, "sc", shop(app::BACKUP)).await;
    assert_eq!(res.phase, "Completed", "{res:#?}");
    for v in VOLUMES {
        let pvc =
            get(&lab, "PersistentVolumeClaim", Some(app::NAMESPACE), v.claim).unwrap_or_default();
        assert_eq!(pvc["spec"]["storageClassName"], "gold", "{}", v.claim);
    }
    let pv = get(&lab, "PersistentVolume", None, VOLUMES[0].pv).unwrap_or_default();
    assert_eq!(pv["spec"]["storageClassName"], "gold");
}

#[tokio::test]
async fn a_missing_backup_fails_validation() {
    let (lab, cfg) = lab().await;
    let res = restore(&lab, &cfg, "nope", shop("no-such-backup")).await;
    assert_eq!(res.phase, "FailedValidation");
    let obj = lab
        .dr_kube
        .get(
            "velero.io/v1",
            "Restore",
            Some(app::VELERO_NAMESPACE),
            "nope",
        )
        .unwrap_or_default();
    assert_eq!(obj["status"]["phase"], "FailedValidation");
    assert!(
        obj["status"]["validationErrors"][0]
            .as_str()
            .is_some_and(|e| e.contains("can't find backup velero/no-such-backup"))
    );
}

#[tokio::test]
async fn finalizing_notes_ignored_imports_and_patches_the_new_pv_from_volume_info() {
    let (lab, cfg) = lab().await;
    let ann = json!({"trident.netapp.io/importOriginalName": "vol1"});
    let mut snap = crate::kube::fixtures::trident_pvc("shop", "snap", "", "ontap-nas", "1Gi");
    snap["metadata"]["annotations"] = ann.clone();
    snap["spec"]["dataSource"] = json!({"kind": "VolumeSnapshot", "name": "vs1",
                                        "apiGroup": "snapshot.storage.k8s.io"});
    let mut moved = crate::kube::fixtures::trident_pvc("shop", "moved", "", "ontap-nas", "1Gi");
    moved["metadata"]["annotations"] = ann;
    moved["spec"]["selector"] = json!({"matchLabels": {"velero.io/dynamic-pv-restore": "x"}});
    // A re-provisioned claim, bound to its new PV with the default policy.
    let mut pv = crate::kube::fixtures::trident_csi_pv(
        "pvc-new", "u", "v_new", "file", "1Gi", "shop", "fresh", "Delete",
    );
    pv["status"] = json!({"phase": "Bound"});
    let mut fresh =
        crate::kube::fixtures::trident_pvc("shop", "fresh", "pvc-new", "ontap-nas", "1Gi");
    fresh["status"]["phase"] = json!("Bound");
    for o in [snap, moved, pv, fresh] {
        lab.dr_kube.apply(o).unwrap_or_else(|e| panic!("{e:#}"));
    }
    let contents = super::super::BackupContents {
        volume_infos: vec![
            json!({"pvcName": "fresh", "pvcNamespace": "shop", "pvName": "pvc-old",
            "backupMethod": "PodVolumeBackup",
            "pvInfo": {"reclaimPolicy": "Retain", "labels": {"tier": "gold"}}}),
        ],
        ..Default::default()
    };
    let restored = ["shop/snap", "shop/moved", "shop/fresh"]
        .map(String::from)
        .into_iter()
        .collect();
    let r = json!({"metadata": {"name": "f", "namespace": "velero"}, "spec": {}});
    let mut res = RestoreResult::default();
    node_agent::finalize(
        &lab.dr_kube.handle(),
        &cfg,
        &r,
        &contents,
        &restored,
        &[],
        &mut res,
    )
    .await;
    assert_eq!(res.ignored_imports.len(), 2, "{:#?}", res.ignored_imports);
    assert!(res.ignored_imports[0].starts_with("shop/moved: spec.selector"));
    assert!(res.ignored_imports[1].starts_with("shop/snap: spec.dataSource is VolumeSnapshot vs1"));
    assert!(res.errors.is_empty(), "{:#?}", res.errors);
    let pv = get(&lab, "PersistentVolume", None, "pvc-new").unwrap_or_default();
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(pv["metadata"]["labels"]["tier"], "gold");
}
