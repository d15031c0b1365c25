//! Velero's own RestoreItemActions that touch what the lab restores, as
//! pure functions over `serde_json::Value`.
//!
//! Order: Velero's registry lists the Velero binary's own plugins first,
//! then the plugin binaries of its plugin dir
//! (`pkg/plugin/clientmgmt/process/registry.go` `DiscoverPlugins`). One
//! binary lists its RestoreItemActions (v1) before its
//! RestoreItemActionV2s (`pkg/plugin/framework/server.go` `Serve`), each
//! kind by sorted name (`pkg/plugin/framework/common/server_mux.go`
//! `Names`); v1 actions are also listed as v2
//! (`PluginKindsAdaptableTo`), and the restore keeps that order
//! (`pkg/controller/restore_controller.go` `GetRestoreItemActionsV2`,
//! `pkg/restore/restore.go` `getApplicableActions`). So for a PVC:
//! `velero.io/change-storage-class`, `velero.io/pvc`,
//! `velero.io/csi-pvc-restorer` (only with the `EnableCSI` feature,
//! `pkg/util/csi/util.go` `ShouldSkipAction`), then third-party plugins
//! such as `svmdr.netapp.io/trident-storage`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::rules::{self, Selector, get_valid_name};

/// `velero.io/volume-snapshot-name` (PVC annotation set at backup).
pub const ANN_VOLUME_SNAPSHOT_NAME: &str = "velero.io/volume-snapshot-name";
/// `velero.io/data-upload-name` (PVC annotation set at backup).
pub const ANN_DATA_UPLOAD_NAME: &str = "velero.io/data-upload-name";
/// `velero.io/dynamic-pv-restore` (selector label of a data-mover PVC).
pub const DYNAMIC_PV_RESTORE_LABEL: &str = "velero.io/dynamic-pv-restore";
/// The image of the lab's Velero server (the `restore-wait` init container).
pub const VELERO_IMAGE: &str = "velero/velero:v1.17.0";

/// Annotations `velero.io/pvc` removes (`pkg/restore/actions/pvc_action.go`).
pub const PVC_ACTION_REMOVED_ANNOTATIONS: &[&str] = &[
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
    ANN_VOLUME_SNAPSHOT_NAME,
    ANN_DATA_UPLOAD_NAME,
];

/// One of Velero's built-in RestoreItemActions the lab runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `velero.io/change-storage-class` (`change_storageclass_action.go`).
    ChangeStorageClass,
    /// `velero.io/dataupload` (`dataupload_retrieve_action.go`).
    DataUpload,
    /// `velero.io/pod-volume-restore` (`pod_volume_restore_action.go`).
    PodVolumeRestore,
    /// `velero.io/pvc` (`pvc_action.go`).
    Pvc,
    /// `velero.io/csi-pvc-restorer` (`csi/pvc_action.go`), v2.
    CsiPvc,
    /// `velero.io/csi-volumesnapshot-restorer` (`csi/volumesnapshot_action.go`), v2.
    CsiVolumeSnapshot,
}

impl Builtin {
    /// Every modelled built-in, in Velero's order (v1 by name, then v2 by name).
    pub const ALL: [Builtin; 6] = [
        Builtin::ChangeStorageClass,
        Builtin::DataUpload,
        Builtin::PodVolumeRestore,
        Builtin::Pvc,
        Builtin::CsiPvc,
        Builtin::CsiVolumeSnapshot,
    ];

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ChangeStorageClass => "velero.io/change-storage-class",
            Self::DataUpload => "velero.io/dataupload",
            Self::PodVolumeRestore => "velero.io/pod-volume-restore",
            Self::Pvc => "velero.io/pvc",
            Self::CsiPvc => "velero.io/csi-pvc-restorer",
            Self::CsiVolumeSnapshot => "velero.io/csi-volumesnapshot-restorer",
        }
    }

    /// `AppliesTo`.
    pub fn applies_to(self) -> Selector {
        let res: &[&str] = match self {
            Self::ChangeStorageClass => &[
                "persistentvolumeclaims",
                "persistentvolumes",
                "statefulsets",
            ],
            Self::DataUpload => &["datauploads.velero.io"],
            Self::PodVolumeRestore => &["pods"],
            Self::Pvc | Self::CsiPvc => &["persistentvolumeclaims"],
            Self::CsiVolumeSnapshot => &["volumesnapshots.snapshot.storage.k8s.io"],
        };
        Selector {
            included_resources: res.iter().map(|r| (*r).to_string()).collect(),
            ..Default::default()
        }
    }

    /// Whether Velero skips it: a `velero.io/csi-` action without the
    /// `EnableCSI` feature (`pkg/util/csi/util.go` `ShouldSkipAction`).
    pub fn skipped(self, features: &[String]) -> bool {
        self.name().contains("velero.io/csi-") && !features.iter().any(|f| f == "EnableCSI")
    }

    /// `Execute`.
    ///
    /// # Errors
    /// The action's error (Velero records `error preparing <id>: <err>`).
    pub fn execute(self, item: &Value, from_backup: &Value, env: &ActionEnv) -> ActionResult {
        match self {
            Self::ChangeStorageClass => change_storage_class(item, env),
            Self::DataUpload => data_upload(from_backup, env),
            Self::PodVolumeRestore => pod_volume_restore(item, from_backup, env),
            Self::Pvc => Ok(pvc(item, from_backup)),
            Self::CsiPvc => csi_pvc(item, from_backup, env),
            Self::CsiVolumeSnapshot => Ok(csi_volume_snapshot(item, env)),
        }
    }
}

/// What the built-ins read from the cluster, gathered by the runner.
#[derive(Debug, Clone, Default)]
pub struct ActionEnv {
    /// The Restore (its `metadata.uid` and `spec`).
    pub restore: Value,
    /// The Backup object in Velero's namespace (`None` if missing).
    pub backup: Option<Value>,
    /// ConfigMaps in Velero's namespace (plugin configs, DataUpload results).
    pub configmaps: Vec<Value>,
    /// StorageClass names in the cluster.
    pub storage_classes: Vec<String>,
    /// PodVolumeBackups of the backup in Velero's namespace.
    pub pod_volume_backups: Vec<Value>,
    /// Whether the item (a PVC) already exists in its target namespace.
    pub pvc_exists: bool,
    /// A random suffix (Velero's `utilrand.String(5)` / generateName).
    pub random: String,
}

/// An item another item needs (Velero's `AdditionalItems`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    /// Group-resource (`persistentvolumes`).
    pub group_resource: String,
    /// Namespace (empty for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// `RestoreItemActionExecuteOutput`, plus the objects the action created
/// in the cluster itself (the runner creates them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionOutput {
    /// `UpdatedItem`.
    pub item: Value,
    /// `SkipRestore`.
    pub skip_restore: bool,
    /// `OperationID` of an async operation.
    pub operation_id: Option<String>,
    /// `AdditionalItems`.
    pub additional_items: Vec<ItemRef>,
    /// Objects the action creates (ConfigMaps, DataDownloads).
    pub creates: Vec<Value>,
    /// Log lines.
    pub log: Vec<String>,
}

/// An action's answer.
pub type ActionResult = Result<ActionOutput, String>;

fn out(item: Value) -> ActionOutput {
    ActionOutput {
        item,
        ..Default::default()
    }
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// `common.GetPluginConfig` (`pkg/plugin/framework/common/plugin_config.go`):
/// the one ConfigMap labelled `velero.io/plugin-config` and
/// `<name>: <kind>`.
///
/// # Errors
/// More than one matches (Velero's message).
pub fn plugin_config<'a>(
    configmaps: &'a [Value],
    kind: &str,
    name: &str,
) -> Result<Option<&'a Value>, String> {
    let found: Vec<&Value> = configmaps
        .iter()
        .filter(|c| {
            let l = c.pointer("/metadata/labels");
            l.and_then(|l| l.get("velero.io/plugin-config")).is_some()
                && l.and_then(|l| l.get(name)).and_then(Value::as_str) == Some(kind)
        })
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(format!(
            "found more than one ConfigMap matching label selector \"velero.io/plugin-config,{name}={kind}\": [{}]",
            many.iter()
                .map(|c| rules::name(c))
                .collect::<Vec<_>>()
                .join(" ")
        )),
    }
}

/// The `old → new` storage class mapping of `velero.io/change-storage-class`
/// (`None`: no config or no data).
///
/// # Errors
/// As [`plugin_config`].
pub fn storage_class_mapping(
    configmaps: &[Value],
) -> Result<Option<BTreeMap<String, String>>, String> {
    let Some(cm) = plugin_config(
        configmaps,
        "RestoreItemAction",
        Builtin::ChangeStorageClass.name(),
    )?
    else {
        return Ok(None);
    };
    let map: BTreeMap<String, String> = cm
        .get("data")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    Ok((!map.is_empty()).then_some(map))
}

/// The ConfigMap that maps storage class `old` to `new` for
/// `velero.io/change-storage-class`, in Velero's namespace `ns`.
pub fn storage_class_mapping_configmap(ns: &str, map: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> = map
        .iter()
        .map(|(o, n)| ((*o).to_string(), json!(n)))
        .collect();
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "change-storage-class-config", "namespace": ns,
            "labels": {"velero.io/plugin-config": "",
                       "velero.io/change-storage-class": "RestoreItemAction"}},
        "data": data,
    })
}

/// `isStorageClassExist`: the new class for `old`, which must exist.
fn mapped_class(
    old: &str,
    map: &BTreeMap<String, String>,
    env: &ActionEnv,
) -> Result<Option<String>, String> {
    if old.is_empty() {
        return Ok(None);
    }
    let Some(new) = map.get(old) else {
        return Ok(None);
    };
    if !env.storage_classes.iter().any(|c| c == new) {
        return Err(format!(
            "error getting storage class {new} from API: storageclasses.storage.k8s.io \"{new}\" not found"
        ));
    }
    Ok(Some(new.clone()))
}

/// `velero.io/change-storage-class`: `spec.storageClassName` of PVs and
/// PVCs, and of each StatefulSet `volumeClaimTemplates` entry, mapped
/// old → new when the ConfigMap has the old class.
fn change_storage_class(item: &Value, env: &ActionEnv) -> ActionResult {
    let Some(map) = storage_class_mapping(&env.configmaps)? else {
        return Ok(out(item.clone()));
    };
    let mut obj = item.clone();
    let mut log = Vec::new();
    if s(item, "/kind") == "StatefulSet" {
        if let Some(templates) = obj
            .pointer_mut("/spec/volumeClaimTemplates")
            .and_then(Value::as_array_mut)
        {
            for t in templates {
                let old = s(t, "/spec/storageClassName").to_string();
                if let Some(new) = mapped_class(&old, &map, env)? {
                    log.push(format!("Updating item's storage class name to {new}"));
                    t["spec"]["storageClassName"] = json!(new);
                }
            }
        }
    } else {
        let old = s(item, "/spec/storageClassName").to_string();
        if let Some(new) = mapped_class(&old, &map, env)? {
            log.push(format!("Updating item's storage class name to {new}"));
            obj["spec"]["storageClassName"] = json!(new);
        }
    }
    Ok(ActionOutput {
        item: obj,
        log,
        ..Default::default()
    })
}

/// `velero.io/pvc`: removes the binding, provisioner, selected-node,
/// snapshot and data-upload annotations; leaves `spec.volumeName` alone;
/// names the backed-up PV as an additional item when the backed-up PVC
/// was Bound.
fn pvc(item: &Value, from_backup: &Value) -> ActionOutput {
    let mut obj = item.clone();
    rules::remove_annotations(&mut obj, PVC_ACTION_REMOVED_ANNOTATIONS);
    let mut o = out(obj);
    let vol = s(from_backup, "/spec/volumeName");
    if s(from_backup, "/status/phase") == "Bound" && !vol.is_empty() {
        o.log
            .push(format!("Adding PV {vol} as an additional item to restore"));
        o.additional_items.push(ItemRef {
            group_resource: "persistentvolumes".into(),
            namespace: String::new(),
            name: vol.into(),
        });
    } else {
        o.log
            .push("PVC is not bound or its volume name is empty".into());
    }
    o
}

/// `util.GenerateSha256FromRestoreUIDAndVsName` (`pkg/util/util.go`).
pub fn vs_name_for_restore(restore_uid: &str, vs_name: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("{restore_uid}/{vs_name}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `velero.io/csi-pvc-restorer`: nothing for a PVC that already exists;
/// with `restorePVs: false`, clears `volumeName`, `dataSource` and
/// `dataSourceRef`; for a data-mover backup (`snapshotMoveData`) with a
/// `velero.io/data-upload-name` annotation, clears `volumeName`, adds the
/// `velero.io/dynamic-pv-restore` selector and creates a DataDownload (an
/// async operation); for a PVC backed up with
/// `velero.io/volume-snapshot-name`, clears `volumeName` and sets the
/// restored VolumeSnapshot as `dataSource`.
fn csi_pvc(item: &Value, from_backup: &Value, env: &ActionEnv) -> ActionResult {
    if env.pvc_exists {
        return Ok(ActionOutput {
            item: item.clone(),
            log: vec!["PVC already exists. Skip restore this PVC.".into()],
            ..Default::default()
        });
    }
    let mut pvc = item.clone();
    let ns = s(item, "/metadata/namespace").to_string();
    let new_ns = env
        .restore
        .pointer(&format!("/spec/namespaceMapping/{ns}"))
        .and_then(Value::as_str)
        .unwrap_or(&ns)
        .to_string();
    let restore_uid = s(&env.restore, "/metadata/uid").to_string();
    let mut o = ActionOutput::default();
    let clear = |pvc: &mut Value, keys: &[&str]| {
        if let Some(spec) = pvc.get_mut("spec").and_then(Value::as_object_mut) {
            for k in keys {
                spec.remove(*k);
            }
        }
    };
    if env.restore.pointer("/spec/restorePVs") == Some(&json!(false)) {
        o.log
            .push("Restore did not request for PVs to be restored from snapshot".into());
        clear(&mut pvc, &["volumeName", "dataSource", "dataSourceRef"]);
    } else {
        let Some(backup) = &env.backup else {
            return Err(format!(
                "fail to get backup for restore: backups.velero.io \"{}\" not found",
                s(&env.restore, "/spec/backupName")
            ));
        };
        if backup.pointer("/spec/snapshotMoveData") == Some(&json!(true)) {
            if rules::annotation(from_backup, ANN_DATA_UPLOAD_NAME).is_empty() {
                o.log
                    .push("PVC doesn't have a DataUpload for data mover. Return.".into());
                o.item = item.clone();
                return Ok(o);
            }
            let op = get_valid_name(&format!(
                "dd-{restore_uid}.{}",
                s(from_backup, "/metadata/uid")
            ));
            let result = data_upload_result(env, &ns, rules::name(item))?;
            clear(&mut pvc, &["volumeName"]);
            let sel = pvc["spec"]
                .as_object_mut()
                .map(|sp| sp.entry("selector").or_insert_with(|| json!({})));
            if let Some(sel) = sel {
                if sel.get("matchLabels").is_none_or(|m| !m.is_object()) {
                    sel["matchLabels"] = json!({});
                }
                sel["matchLabels"][DYNAMIC_PV_RESTORE_LABEL] = json!(get_valid_name(&format!(
                    "{new_ns}.{}.{}",
                    rules::name(item),
                    env.random
                )));
            }
            o.creates.push(data_download(
                env,
                backup,
                &result,
                rules::name(item),
                &new_ns,
                &op,
            ));
            o.log.push(format!(
                "DataDownload for PVC {new_ns}/{} is created",
                rules::name(item)
            ));
            o.operation_id = Some(op);
        } else {
            let vs = rules::annotation(from_backup, ANN_VOLUME_SNAPSHOT_NAME);
            if vs.is_empty() {
                o.log.push(
                    "Skipping PVCRestoreItemAction for PVC, PVC does not have a CSI VolumeSnapshot."
                        .into(),
                );
                o.item = item.clone();
                return Ok(o);
            }
            let new_vs = vs_name_for_restore(&restore_uid, vs);
            clear(&mut pvc, &["volumeName", "dataSourceRef"]);
            pvc["spec"]["dataSource"] = json!({"apiGroup": "snapshot.storage.k8s.io",
                "kind": "VolumeSnapshot", "name": new_vs});
            o.additional_items.push(ItemRef {
                group_resource: "volumesnapshots.snapshot.storage.k8s.io".into(),
                namespace: ns.clone(),
                name: vs.into(),
            });
        }
    }
    o.item = pvc;
    Ok(o)
}

/// `getDataUploadResult`: the DataUpload result ConfigMap of this restore
/// for `ns/name`, and its JSON under the restore's UID.
fn data_upload_result(env: &ActionEnv, ns: &str, name: &str) -> Result<Value, String> {
    let uid = s(&env.restore, "/metadata/uid");
    let want = [
        (
            "velero.io/pvc-namespace-name",
            get_valid_name(&format!("{ns}.{name}")),
        ),
        ("velero.io/restore-uid", get_valid_name(uid)),
        ("velero.io/resource-usage", get_valid_name("DataUpload")),
    ];
    let found: Vec<&Value> = env
        .configmaps
        .iter()
        .filter(|c| {
            want.iter().all(|(k, v)| {
                c.pointer("/metadata/labels")
                    .and_then(|l| l.get(*k))
                    .and_then(Value::as_str)
                    == Some(v.as_str())
            })
        })
        .collect();
    let sel = want
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let cm = match found.as_slice() {
        [] => {
            return Err(format!(
                "fail get DataUploadResult for restore: {}: no DataUpload result cm found with labels {sel}",
                s(&env.restore, "/metadata/name")
            ));
        }
        [one] => *one,
        _ => {
            return Err(format!(
                "fail get DataUploadResult for restore: {}: multiple DataUpload result cms found with labels {sel}",
                s(&env.restore, "/metadata/name")
            ));
        }
    };
    let raw = cm
        .pointer(&format!("/data/{uid}"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no DataUpload result found with restore key {uid}"))?;
    serde_json::from_str(raw).map_err(|e| format!("error to unmarshal DataUploadResult: {e}"))
}

/// `newDataDownload` (`csi/pvc_action.go`).
fn data_download(
    env: &ActionEnv,
    backup: &Value,
    result: &Value,
    pvc: &str,
    new_ns: &str,
    op: &str,
) -> Value {
    let restore = &env.restore;
    let rname = s(restore, "/metadata/name");
    json!({
        "apiVersion": "velero.io/v2alpha1", "kind": "DataDownload",
        "metadata": {
            "name": format!("{rname}-{}", env.random),
            "namespace": s(restore, "/metadata/namespace"),
            "ownerReferences": [{"apiVersion": "velero.io/v1", "kind": "Restore", "name": rname,
                                  "uid": s(restore, "/metadata/uid"), "controller": true}],
            "labels": {
                "velero.io/restore-name": get_valid_name(rname),
                "velero.io/restore-uid": s(restore, "/metadata/uid"),
                "velero.io/async-operation-id": op,
            },
        },
        "spec": {
            "targetVolume": {"pvc": pvc, "namespace": new_ns},
            "backupStorageLocation": result["backupStorageLocation"],
            "dataMover": result["datamover"],
            "snapshotID": result["snapshotID"],
            "snapshotSize": result["snapshotSize"],
            "sourceNamespace": result["sourceNamespace"],
            "operationTimeout": backup.pointer("/spec/csiSnapshotTimeout").cloned().unwrap_or(json!("10m0s")),
        },
    })
}

/// `velero.io/dataupload`: turns a backed-up DataUpload into a DataUpload
/// result ConfigMap for this restore and skips the item.
fn data_upload(from_backup: &Value, env: &ActionEnv) -> ActionResult {
    let Some(backup) = &env.backup else {
        return Err(format!(
            "error to get backup for restore {}",
            s(&env.restore, "/metadata/name")
        ));
    };
    let uid = s(&env.restore, "/metadata/uid");
    let result = json!({
        "backupStorageLocation": s(backup, "/spec/storageLocation"),
        "datamover": s(from_backup, "/spec/datamover"),
        "snapshotID": s(from_backup, "/status/snapshotID"),
        "snapshotSize": from_backup.pointer("/status/progress/totalBytes").cloned().unwrap_or(json!(0)),
        "sourceNamespace": s(from_backup, "/spec/sourceNamespace"),
    });
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {
            "name": format!("{}-{}", rules::name(from_backup), env.random),
            "namespace": s(&env.restore, "/metadata/namespace"),
            "labels": {
                "velero.io/restore-uid": get_valid_name(uid),
                "velero.io/pvc-namespace-name": get_valid_name(&format!("{}.{}",
                    s(from_backup, "/spec/sourceNamespace"), s(from_backup, "/spec/sourcePVC"))),
                "velero.io/resource-usage": get_valid_name("DataUpload"),
            },
        },
        "data": {uid: result.to_string()},
    });
    Ok(ActionOutput {
        skip_restore: true,
        creates: vec![cm],
        ..Default::default()
    })
}

/// The PodVolumeBackups of a pod (`pkg/podvolume/util.go`
/// `GetVolumeBackupsForPod`, `isPVBMatchPod`): volume name → snapshot ID.
pub fn volume_backups_for_pod(
    pvbs: &[Value],
    pod: &str,
    source_ns: &str,
) -> BTreeMap<String, String> {
    pvbs.iter()
        .filter(|b| s(b, "/spec/pod/name") == pod && s(b, "/spec/pod/namespace") == source_ns)
        .filter(|b| !s(b, "/status/snapshotID").is_empty())
        .map(|b| {
            (
                s(b, "/spec/volume").to_string(),
                s(b, "/status/snapshotID").to_string(),
            )
        })
        .collect()
}

/// `velero.io/pod-volume-restore`: a pod with PodVolumeBackups gets the
/// `restore-wait` init container first, mounting each backed-up volume
/// under `/restores/<volume>` (older `restore-wait`/`restic-wait`
/// containers are removed first).
fn pod_volume_restore(item: &Value, from_backup: &Value, env: &ActionEnv) -> ActionResult {
    let mut pod = item.clone();
    if let Some(inits) = pod
        .pointer_mut("/spec/initContainers")
        .and_then(Value::as_array_mut)
    {
        inits.retain(|c| !matches!(s(c, "/name"), "restore-wait" | "restic-wait"));
    }
    let vols = volume_backups_for_pod(
        &env.pod_volume_backups,
        rules::name(item),
        s(from_backup, "/metadata/namespace"),
    );
    if vols.is_empty() {
        return Ok(out(pod));
    }
    let mounts: Vec<Value> = vols
        .keys()
        .map(|v| json!({"name": v, "mountPath": format!("/restores/{v}")}))
        .collect();
    let init = json!({
        "name": "restore-wait", "image": VELERO_IMAGE,
        "command": ["/velero-restore-helper"],
        "args": [s(&env.restore, "/metadata/uid")],
        "volumeMounts": mounts,
    });
    if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        let inits = spec.entry("initContainers").or_insert_with(|| json!([]));
        if let Some(a) = inits.as_array_mut() {
            a.insert(0, init);
        }
    }
    Ok(ActionOutput {
        item: pod,
        log: vec!["Pod volume backups for pod found".into()],
        ..Default::default()
    })
}

/// `velero.io/csi-volumesnapshot-restorer`: the VolumeSnapshot gets the
/// restore's name for it and its content as source instead of the PVC.
fn csi_volume_snapshot(item: &Value, env: &ActionEnv) -> ActionOutput {
    let mut vs = item.clone();
    let restore_uid = s(&env.restore, "/metadata/uid");
    let new = vs_name_for_restore(restore_uid, rules::name(item));
    vs["metadata"]["name"] = json!(new);
    vs["spec"]["source"] = json!({"volumeSnapshotContentName": new});
    out(vs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::fixtures::trident_pvc;

    fn env() -> ActionEnv {
        ActionEnv {
            restore: json!({"metadata": {"name": "r1", "namespace": "velero", "uid": "ruid"},
                            "spec": {"backupName": "b1"}}),
            backup: Some(
                json!({"metadata": {"name": "b1"}, "spec": {"storageLocation": "default"}}),
            ),
            storage_classes: vec!["gold".into(), "ontap-nas".into()],
            random: "abcde".into(),
            ..Default::default()
        }
    }

    fn backed_up_pvc() -> Value {
        let mut p = trident_pvc("shop", "data", "pvc-1", "ontap-nas", "1Gi");
        p["metadata"]["uid"] = json!("pvcuid");
        p["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] = json!("n1");
        p["metadata"]["annotations"]["keep.me/too"] = json!("x");
        p
    }

    fn item() -> Value {
        rules::reset_metadata_and_status(&backed_up_pvc()).unwrap_or_default()
    }

    #[test]
    fn order_is_v1_by_name_then_v2_by_name() {
        let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
        let mut v1 = names[..4].to_vec();
        v1.sort_unstable();
        assert_eq!(v1, names[..4]);
        assert_eq!(
            names[4..],
            [
                "velero.io/csi-pvc-restorer",
                "velero.io/csi-volumesnapshot-restorer"
            ]
        );
        let pvc_actions: Vec<&str> = Builtin::ALL
            .iter()
            .filter(|b| b.applies_to().applies(&item()))
            .map(|b| b.name())
            .collect();
        assert_eq!(
            pvc_actions,
            [
                "velero.io/change-storage-class",
                "velero.io/pvc",
                "velero.io/csi-pvc-restorer"
            ]
        );
        assert!(Builtin::CsiPvc.skipped(&[]));
        assert!(!Builtin::CsiPvc.skipped(&["EnableCSI".into()]));
        assert!(!Builtin::Pvc.skipped(&[]));
    }

    #[test]
    fn pvc_action_strips_binding_provisioner_and_node_annotations_and_keeps_volume_name() {
        let o = Builtin::Pvc
            .execute(&item(), &backed_up_pvc(), &env())
            .unwrap_or_default();
        let ann = o.item["metadata"]["annotations"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for k in PVC_ACTION_REMOVED_ANNOTATIONS {
            assert!(!ann.contains_key(*k), "{k}");
        }
        assert_eq!(ann.get("keep.me/too"), Some(&json!("x")));
        assert_eq!(o.item["spec"]["volumeName"], "pvc-1");
        assert_eq!(
            o.additional_items,
            [ItemRef {
                group_resource: "persistentvolumes".into(),
                namespace: String::new(),
                name: "pvc-1".into()
            }]
        );
        let mut pending = backed_up_pvc();
        pending["status"]["phase"] = json!("Pending");
        let o = Builtin::Pvc
            .execute(&item(), &pending, &env())
            .unwrap_or_default();
        assert!(o.additional_items.is_empty());
    }

    #[test]
    fn change_storage_class_maps_pvcs_pvs_and_statefulset_templates() {
        let mut e = env();
        let o = Builtin::ChangeStorageClass
            .execute(&item(), &item(), &e)
            .unwrap_or_default();
        assert_eq!(
            o.item["spec"]["storageClassName"], "ontap-nas",
            "no config: unchanged"
        );
        e.configmaps = vec![storage_class_mapping_configmap(
            "velero",
            &[("ontap-nas", "gold")],
        )];
        let o = Builtin::ChangeStorageClass
            .execute(&item(), &item(), &e)
            .unwrap_or_default();
        assert_eq!(o.item["spec"]["storageClassName"], "gold");
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"volumeClaimTemplates": [
                {"metadata": {"name": "a"}, "spec": {"storageClassName": "ontap-nas"}},
                {"metadata": {"name": "b"}, "spec": {"storageClassName": "other"}}]}});
        let o = Builtin::ChangeStorageClass
            .execute(&sts, &sts, &e)
            .unwrap_or_default();
        assert_eq!(
            o.item["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"],
            "gold"
        );
        assert_eq!(
            o.item["spec"]["volumeClaimTemplates"][1]["spec"]["storageClassName"],
            "other"
        );
        e.configmaps = vec![storage_class_mapping_configmap(
            "velero",
            &[("ontap-nas", "missing")],
        )];
        let err = Builtin::ChangeStorageClass.execute(&item(), &item(), &e);
        assert!(err.is_err_and(|m| m.contains("storage class missing")));
        let mut other = storage_class_mapping_configmap("velero", &[("a", "b")]);
        other["metadata"]["name"] = json!("second");
        e.configmaps.push(other);
        assert!(
            Builtin::ChangeStorageClass
                .execute(&item(), &item(), &e)
                .is_err_and(|m| m.contains("more than one ConfigMap"))
        );
    }

    #[test]
    fn csi_pvc_action_sets_the_snapshot_data_source_and_clears_the_volume_name() {
        let mut from = backed_up_pvc();
        let o = Builtin::CsiPvc
            .execute(&item(), &from, &env())
            .unwrap_or_default();
        assert_eq!(
            o.item["spec"]["volumeName"], "pvc-1",
            "no snapshot: unchanged"
        );
        from["metadata"]["annotations"][ANN_VOLUME_SNAPSHOT_NAME] = json!("velero-data-x");
        let o = Builtin::CsiPvc
            .execute(&item(), &from, &env())
            .unwrap_or_default();
        assert!(o.item.pointer("/spec/volumeName").is_none());
        let want = vs_name_for_restore("ruid", "velero-data-x");
        assert_eq!(want.len(), 64);
        assert_eq!(
            o.item["spec"]["dataSource"],
            json!({"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": want})
        );
        assert_eq!(o.additional_items[0].name, "velero-data-x");
        let existing = ActionEnv {
            pvc_exists: true,
            ..env()
        };
        let o = Builtin::CsiPvc
            .execute(&item(), &from, &existing)
            .unwrap_or_default();
        assert_eq!(o.item["spec"]["volumeName"], "pvc-1");
        let mut no_pvs = env();
        no_pvs.restore["spec"]["restorePVs"] = json!(false);
        let mut with_source = item();
        with_source["spec"]["dataSource"] = json!({"kind": "VolumeSnapshot", "name": "x"});
        let o = Builtin::CsiPvc
            .execute(&with_source, &from, &no_pvs)
            .unwrap_or_default();
        assert!(o.item.pointer("/spec/volumeName").is_none());
        assert!(o.item.pointer("/spec/dataSource").is_none());
    }

    #[test]
    fn data_mover_path_creates_a_data_download_through_the_upload_result() {
        let du = json!({"apiVersion": "velero.io/v2alpha1", "kind": "DataUpload",
            "metadata": {"name": "b1-x", "namespace": "velero"},
            "spec": {"sourceNamespace": "shop", "sourcePVC": "data", "datamover": "velero"},
            "status": {"snapshotID": "snap-1", "progress": {"totalBytes": 42}}});
        let mut e = env();
        if let Some(b) = e.backup.as_mut() {
            b["spec"]["snapshotMoveData"] = json!(true);
        }
        let o = Builtin::DataUpload
            .execute(&du, &du, &e)
            .unwrap_or_default();
        assert!(o.skip_restore);
        e.configmaps = o.creates.clone();
        let mut from = backed_up_pvc();
        let o = Builtin::CsiPvc
            .execute(&item(), &from, &e)
            .unwrap_or_default();
        assert!(
            o.operation_id.is_none(),
            "no data-upload annotation: fall back"
        );
        from["metadata"]["annotations"][ANN_DATA_UPLOAD_NAME] = json!("b1-x");
        let o = Builtin::CsiPvc
            .execute(&item(), &from, &e)
            .unwrap_or_default();
        assert_eq!(o.operation_id.as_deref(), Some("dd-ruid.pvcuid"));
        assert!(o.item.pointer("/spec/volumeName").is_none());
        assert_eq!(
            o.item["spec"]["selector"]["matchLabels"][DYNAMIC_PV_RESTORE_LABEL],
            "shop.data.abcde"
        );
        assert_eq!(o.creates[0]["kind"], "DataDownload");
        assert_eq!(o.creates[0]["spec"]["snapshotID"], "snap-1");
        assert_eq!(o.creates[0]["spec"]["targetVolume"]["pvc"], "data");
        e.configmaps.clear();
        assert!(Builtin::CsiPvc.execute(&item(), &from, &e).is_err());
    }

    #[test]
    fn pod_volume_restore_action_adds_restore_wait_for_backed_up_volumes() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "shop"},
            "spec": {"initContainers": [{"name": "restic-wait"}, {"name": "mine"}],
                     "containers": [{"name": "web"}]}});
        let mut e = env();
        let o = Builtin::PodVolumeRestore
            .execute(&pod, &pod, &e)
            .unwrap_or_default();
        assert_eq!(o.item["spec"]["initContainers"], json!([{"name": "mine"}]));
        e.pod_volume_backups = vec![
            json!({"spec": {"pod": {"name": "web-0", "namespace": "shop"},
            "volume": "data"}, "status": {"snapshotID": "s1"}}),
        ];
        let o = Builtin::PodVolumeRestore
            .execute(&pod, &pod, &e)
            .unwrap_or_default();
        let inits = o.item["spec"]["initContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(inits.len(), 2);
        assert_eq!(inits[0]["name"], "restore-wait");
        assert_eq!(inits[0]["args"], json!(["ruid"]));
        assert_eq!(inits[0]["volumeMounts"][0]["mountPath"], "/restores/data");
    }
}
