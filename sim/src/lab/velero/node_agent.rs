//! What happens to volume data after the items are created, simulated:
//! - PodVolumeRestores (`pkg/podvolume/restorer.go` `RestorePodVolumes`,
//!   `newPodVolumeRestore`): one per backed-up volume of a restored pod,
//!   in Velero's namespace; the lab's node-agent waits for the pod's PVC
//!   to be Bound and then writes the backup's bytes into the ONTAP volume
//!   behind it ([`crate::ontap::Control::write`]), on top of whatever
//!   SVM-DR replicated there;
//! - DataDownloads (async operations of `velero.io/csi-pvc-restorer`): the
//!   lab has no data mover; it completes them and records that the PVC is
//!   left to the data mover, not to Trident's import;
//! - the Finalizing phase (`pkg/controller/restore_finalizer_controller.go`
//!   `patchDynamicPVWithVolumeInfo`): for each volume backed up with
//!   PodVolumeBackup or CSISnapshot whose PVC this restore created, wait
//!   (up to `--resource-timeout`) for the PVC and its new PV to bind, then
//!   put back the backed-up PV's reclaim policy and labels.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::action::DYNAMIC_PV_RESTORE_LABEL;
use super::backup::BackupContents;
use super::item_restore::PodVolume;
use super::rules::{self, get_valid_name};
use super::run_state::{RestoreResult, RunnerConfig};
use crate::kube::KubeHandle;
use crate::lab::controllers::ANN_IMPORT_ORIGINAL_NAME;
use crate::lab::fields::str_at as s;
use crate::lab::simulated::mark;

const POLL: Duration = Duration::from_millis(200);

/// The ONTAP volume behind a bound PVC: (svm, volume), or why not yet.
fn ontap_volume(
    kube: &KubeHandle,
    cfg: &RunnerConfig,
    pvc: &Value,
) -> Result<(String, String), String> {
    let pv_name = s(pvc, "/spec/volumeName");
    if s(pvc, "/status/phase") != "Bound" || pv_name.is_empty() {
        return Err(format!("PVC {} is not bound yet", rules::resource_id(pvc)));
    }
    let pv = kube
        .get("v1", "PersistentVolume", None, pv_name)
        .ok_or_else(|| format!("PV {pv_name} not found"))?;
    let internal = s(&pv, "/spec/csi/volumeAttributes/internalName");
    let snap = cfg.controllers.ontap.snapshot();
    snap["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["cluster"] == cfg.ontap_cluster.as_str() && v["name"] == internal)
        .map(|v| (s(v, "/svm").to_string(), internal.to_string()))
        .ok_or_else(|| {
            format!(
                "PV {pv_name}: ONTAP volume {internal:?} not found on cluster {}",
                cfg.ontap_cluster
            )
        })
}

struct Pending {
    pvr: Value,
    pv: PodVolume,
    bytes: u64,
}

/// Creates the PodVolumeRestores of `volumes` and runs them to the end
/// (Completed or Failed, or Velero's timeout message after
/// `cfg.fs_backup_timeout`).
pub async fn restore_pod_volumes(
    kube: &KubeHandle,
    cfg: &RunnerConfig,
    restore: &Value,
    volumes: &[PodVolume],
    res: &mut RestoreResult,
) {
    if volumes.is_empty() {
        return;
    }
    let (rns, rname, ruid) = (
        rules::namespace(restore),
        rules::name(restore),
        s(restore, "/metadata/uid"),
    );
    let backup = s(restore, "/spec/backupName");
    let pvbs = kube.list("velero.io/v1", "PodVolumeBackup", Some(rns));
    let mut pending = Vec::new();
    for (i, v) in volumes.iter().enumerate() {
        let pod = kube.get("v1", "Pod", Some(&v.namespace), &v.pod);
        let pvb = pvbs
            .iter()
            .find(|b| s(b, "/status/snapshotID") == v.snapshot_id);
        let pvr = mark(json!({
            "apiVersion": "velero.io/v1", "kind": "PodVolumeRestore",
            "metadata": {
                "name": format!("{rname}-{i}{}", &v.snapshot_id.chars().rev().take(4).collect::<String>()),
                "namespace": rns,
                "ownerReferences": [{"apiVersion": "velero.io/v1", "kind": "Restore", "name": rname,
                                      "uid": ruid, "controller": true}],
                "labels": {"velero.io/restore-name": get_valid_name(rname),
                           "velero.io/restore-uid": ruid,
                           "velero.io/pod-uid": pod.as_ref().map(|p| s(p, "/metadata/uid")).unwrap_or("")},
            },
            "spec": {
                "pod": {"kind": "Pod", "namespace": v.namespace, "name": v.pod,
                        "uid": pod.as_ref().map(|p| s(p, "/metadata/uid")).unwrap_or("")},
                "volume": v.volume, "snapshotID": v.snapshot_id,
                "backupStorageLocation": pvb.map(|b| s(b, "/spec/backupStorageLocation")).unwrap_or(""),
                "repoIdentifier": "", "uploaderType": "kopia",
                "sourceNamespace": pvb.map(|b| s(b, "/spec/pod/namespace")).unwrap_or(""),
            },
            "status": {"phase": "New"},
        }));
        match kube.apply(pvr) {
            Ok(created) => pending.push(Pending {
                pvr: created,
                pv: v.clone(),
                bytes: pvb
                    .and_then(|b| b.pointer("/status/progress/totalBytes"))
                    .and_then(Value::as_u64)
                    .unwrap_or(4096),
            }),
            Err(e) => res
                .errors
                .push(format!("error creating PodVolumeRestore: {e:#}")),
        }
    }
    res.log.push(format!(
        "{} PodVolumeRestore(s) of backup {backup} created; the node-agent writes the backed-up files into the new volumes",
        pending.len()
    ));
    let deadline = Instant::now() + cfg.fs_backup_timeout;
    while !pending.is_empty() {
        cfg.controllers.reconcile();
        let mut still = Vec::new();
        for p in pending {
            match try_pod_volume(kube, cfg, &p) {
                None => still.push(p),
                Some(Ok(line)) => res.pod_volume_writes.push(line),
                Some(Err(msg)) => res.errors.push(format!("pod volume restore failed: {msg}")),
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            res.errors
                .push("timed out waiting for all PodVolumeRestores to complete".into());
            break;
        }
        tokio::time::sleep(POLL).await;
    }
}

fn set_pvr(kube: &KubeHandle, pvr: &Value, status: Value) {
    let mut obj = kube
        .get(
            "velero.io/v1",
            "PodVolumeRestore",
            Some(rules::namespace(pvr)),
            rules::name(pvr),
        )
        .unwrap_or_else(|| pvr.clone());
    obj["status"] = status;
    if let Err(e) = kube.apply(obj) {
        tracing::warn!(%e, "lab node-agent: cannot update PodVolumeRestore");
    }
}

/// One attempt: `None` while the volume is not ready.
fn try_pod_volume(
    kube: &KubeHandle,
    cfg: &RunnerConfig,
    p: &Pending,
) -> Option<Result<String, String>> {
    let pod = kube.get("v1", "Pod", Some(&p.pv.namespace), &p.pv.pod)?;
    let claim = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|v| s(v, "/name") == p.pv.volume)
        .map(|v| s(v, "/persistentVolumeClaim/claimName").to_string())
        .unwrap_or_default();
    let pvc = kube.get("v1", "PersistentVolumeClaim", Some(&p.pv.namespace), &claim)?;
    let (svm, volume) = match ontap_volume(kube, cfg, &pvc) {
        Ok(x) => x,
        Err(_) if s(&pvc, "/status/phase") != "Bound" => return None,
        Err(e) => {
            set_pvr(kube, &p.pvr, json!({"phase": "Failed", "message": e}));
            return Some(Err(e));
        }
    };
    let r = match cfg
        .controllers
        .ontap
        .write(&cfg.ontap_cluster, &svm, &volume, p.bytes)
    {
        Ok(id) => {
            set_pvr(
                kube,
                &p.pvr,
                json!({"phase": "Completed",
                "message": format!("(simulated) backup data of snapshot {} written into ONTAP volume {svm}/{volume} as write {}", p.pv.snapshot_id, id.0),
                "progress": {"totalBytes": p.bytes, "bytesDone": p.bytes}}),
            );
            Ok(format!(
                "{}/{} volume={} pvc={}/{claim} ontap={svm}/{volume} write={} bytes={}",
                p.pv.namespace, p.pv.pod, p.pv.volume, p.pv.namespace, id.0, p.bytes
            ))
        }
        Err(e) => {
            let msg = format!("writing the backup's data into ONTAP volume {svm}/{volume}: {e}");
            set_pvr(kube, &p.pvr, json!({"phase": "Failed", "message": msg}));
            Err(msg)
        }
    };
    Some(r)
}

/// Runs the DataDownloads the CSI PVC action created; (completed, failed).
pub fn run_data_downloads(
    kube: &KubeHandle,
    operations: &[(String, Value)],
    res: &mut RestoreResult,
) -> (usize, usize) {
    let mut done = 0;
    for (op, dd) in operations {
        let Some(mut obj) = kube.get(
            "velero.io/v2alpha1",
            "DataDownload",
            Some(rules::namespace(dd)),
            rules::name(dd),
        ) else {
            res.errors.push(format!(
                "error from restore item operation: operation {op}: DataDownload {} not found",
                rules::name(dd)
            ));
            continue;
        };
        obj["status"] = json!({"phase": "Completed",
            "message": "(simulated) the lab has no data mover; a real one restores the snapshot into a new volume and binds it to the PVC"});
        if let Err(e) = kube.apply(obj) {
            res.errors
                .push(format!("error from restore item operation: {e:#}"));
            continue;
        }
        res.log.push(format!(
            "operation {op}: DataDownload {} Completed (simulated)",
            rules::name(dd)
        ));
        done += 1;
    }
    (done, operations.len() - done)
}

/// The Finalizing phase, and the lab's note on PVCs whose import
/// annotations cannot take effect.
pub async fn finalize(
    kube: &KubeHandle,
    cfg: &RunnerConfig,
    restore: &Value,
    contents: &BackupContents,
    restored_pvcs: &BTreeSet<String>,
    operations: &[(String, Value)],
    res: &mut RestoreResult,
) {
    for key in restored_pvcs {
        let Some((ns, name)) = key.split_once('/') else {
            continue;
        };
        let Some(pvc) = kube.get("v1", "PersistentVolumeClaim", Some(ns), name) else {
            continue;
        };
        if rules::annotation(&pvc, ANN_IMPORT_ORIGINAL_NAME).is_empty() {
            continue;
        }
        if s(&pvc, "/spec/dataSource/kind") == "VolumeSnapshot" {
            res.ignored_imports.push(format!(
                "{key}: spec.dataSource is VolumeSnapshot {}: Trident clones the snapshot into a new volume; a content source wins over importOriginalName (Trident frontend/csi/controller_server.go CreateVolume)",
                s(&pvc, "/spec/dataSource/name")
            ));
        } else if pvc
            .pointer(&format!(
                "/spec/selector/matchLabels/{}",
                DYNAMIC_PV_RESTORE_LABEL.replace('/', "~1")
            ))
            .is_some()
        {
            res.ignored_imports.push(format!(
                "{key}: spec.selector {DYNAMIC_PV_RESTORE_LABEL}: the snapshot data mover binds it to the new volume it restores; no provisioner (so no Trident import) acts on a claim with a selector"
            ));
        }
    }
    patch_dynamic_pvs(kube, cfg, restore, contents, restored_pvcs, operations, res).await;
}

/// `patchDynamicPVWithVolumeInfo`.
async fn patch_dynamic_pvs(
    kube: &KubeHandle,
    cfg: &RunnerConfig,
    restore: &Value,
    contents: &BackupContents,
    restored_pvcs: &BTreeSet<String>,
    operations: &[(String, Value)],
    res: &mut RestoreResult,
) {
    let mapping = restore.pointer("/spec/namespaceMapping");
    let mut waiting: Vec<(String, String, Value)> = Vec::new();
    for info in &contents.volume_infos {
        let method = s(info, "/backupMethod");
        if !matches!(method, "PodVolumeBackup" | "CSISnapshot") || info.get("pvInfo").is_none() {
            continue;
        }
        let src_ns = s(info, "/pvcNamespace");
        let ns = mapping
            .and_then(|m| m.get(src_ns))
            .and_then(Value::as_str)
            .unwrap_or(src_ns);
        let claim = s(info, "/pvcName");
        if restored_pvcs.contains(&format!("{ns}/{claim}")) {
            waiting.push((ns.to_string(), claim.to_string(), info.clone()));
        }
    }
    if waiting.is_empty() {
        return;
    }
    res.log
        .push("patching newly dynamically provisioned PV starts".into());
    let deadline = Instant::now() + cfg.resource_timeout;
    loop {
        cfg.controllers.reconcile();
        let mut still = Vec::new();
        for (ns, claim, info) in waiting {
            // A DataDownload the lab cannot run leaves nothing to patch.
            let data_mover = operations.iter().any(|(_, dd)| {
                s(dd, "/spec/targetVolume/pvc") == claim
                    && s(dd, "/spec/targetVolume/namespace") == ns
            });
            if data_mover {
                res.log.push(format!(
                    "{ns}/{claim}: (simulated) not waiting for the data mover's volume"
                ));
                continue;
            }
            let Some(pvc) = kube.get("v1", "PersistentVolumeClaim", Some(&ns), &claim) else {
                still.push((ns, claim, info));
                continue;
            };
            let pv_name = s(&pvc, "/spec/volumeName").to_string();
            let pv = kube.get("v1", "PersistentVolume", None, &pv_name);
            let bound = s(&pvc, "/status/phase") == "Bound"
                && pv.as_ref().is_some_and(|p| {
                    s(p, "/status/phase") == "Bound" || s(p, "/spec/claimRef/name") == claim
                });
            let Some(mut pv) = pv.filter(|_| bound) else {
                still.push((ns, claim, info));
                continue;
            };
            let want_policy = s(&info, "/pvInfo/reclaimPolicy");
            let want_labels = info
                .pointer("/pvInfo/labels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let labels_ok = want_labels
                .iter()
                .all(|(k, v)| pv.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v));
            if s(&pv, "/spec/persistentVolumeReclaimPolicy") != want_policy || !labels_ok {
                pv["metadata"]["labels"] = Value::Object(want_labels);
                pv["spec"]["persistentVolumeReclaimPolicy"] = json!(want_policy);
                match kube.apply(pv) {
                    Ok(_) => res.log.push(format!(
                        "newly dynamically provisioned PV:{pv_name} has been patched using volume info"
                    )),
                    Err(e) => res.errors.push(format!(
                        "fail to patch dynamic PV, err: {e:#}, PVC: {claim}, PV: {}",
                        s(&info, "/pvName")
                    )),
                }
            }
        }
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for (_, claim, info) in &waiting {
                res.errors.push(format!(
                    "fail to patch dynamic PV, err: context deadline exceeded, PVC: {claim}, PV: {}",
                    s(info, "/pvName")
                ));
            }
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    res.log
        .push("patching newly dynamically provisioned PV ends".into());
}
