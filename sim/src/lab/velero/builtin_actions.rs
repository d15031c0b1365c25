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

use super::action::{
    ANN_DATA_UPLOAD_NAME, ANN_VOLUME_SNAPSHOT_NAME, ActionEnv, ActionOutput, ActionResult, ItemRef,
    out,
};
use super::csi_actions;
use super::rules::{self, Selector};
use crate::lab::fields::str_at as s;

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
    /// `velero.io/pod` (`pod_action.go`).
    Pod,
    /// `velero.io/pvc` (`pvc_action.go`).
    Pvc,
    /// `velero.io/csi-pvc-restorer` (`csi/pvc_action.go`), v2.
    CsiPvc,
    /// `velero.io/csi-volumesnapshot-restorer` (`csi/volumesnapshot_action.go`), v2.
    CsiVolumeSnapshot,
}

impl Builtin {
    /// Every modelled built-in, in Velero's order (v1 by name, then v2 by name).
    pub const ALL: [Builtin; 7] = [
        Builtin::ChangeStorageClass,
        Builtin::DataUpload,
        Builtin::Pod,
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
            Self::Pod => "velero.io/pod",
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
            Self::Pod | Self::PodVolumeRestore => &["pods"],
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
            Self::DataUpload => csi_actions::data_upload(from_backup, env),
            Self::Pod => Ok(pod(item)),
            Self::PodVolumeRestore => pod_volume_restore(item, from_backup, env),
            Self::Pvc => Ok(pvc(item, from_backup)),
            Self::CsiPvc => csi_actions::csi_pvc(item, from_backup, env),
            Self::CsiVolumeSnapshot => Ok(csi_actions::csi_volume_snapshot(item, env)),
        }
    }
}

/// `velero.io/pod` (`pkg/restore/actions/pod_action.go`): the Pod is
/// scheduled anew on the restore cluster (no `nodeName`, no `priority`), and
/// its service account token volumes and their mounts go (the restore
/// cluster mounts its own). (The PriorityClass as an additional item is not
/// modelled.)
fn pod(item: &Value) -> ActionOutput {
    let mut pod = item.clone();
    if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("nodeName");
        spec.remove("priority");
        let prefix = format!(
            "{}-token-",
            spec.get("serviceAccountName")
                .and_then(Value::as_str)
                .unwrap_or("")
        );
        let keep = |v: &Value| {
            !v.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with(&prefix))
        };
        if let Some(vols) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
            vols.retain(keep);
        }
        for key in ["containers", "initContainers"] {
            for c in spec
                .get_mut(key)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(m) = c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                    m.retain(keep);
                }
            }
        }
    }
    out(pod)
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kube::fixtures::trident_pvc;

    pub(crate) fn env() -> ActionEnv {
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

    pub(crate) fn backed_up_pvc() -> Value {
        let mut p = trident_pvc("shop", "data", "pvc-1", "ontap-nas", "1Gi");
        p["metadata"]["uid"] = json!("pvcuid");
        p["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] = json!("n1");
        p["metadata"]["annotations"]["keep.me/too"] = json!("x");
        p
    }

    pub(crate) fn item() -> Value {
        rules::reset_metadata_and_status(&backed_up_pvc()).unwrap_or_default()
    }

    #[test]
    fn order_is_v1_by_name_then_v2_by_name() {
        let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
        let mut v1 = names[..5].to_vec();
        v1.sort_unstable();
        assert_eq!(v1, names[..5]);
        assert_eq!(
            names[5..],
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
            .expect("the action runs");
        assert_eq!(o.item["kind"], "PersistentVolumeClaim");
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

    #[test]
    fn pods_are_scheduled_anew_without_their_token_volumes() {
        let pod = json!({"kind": "Pod", "spec": {"nodeName": "primary-node-1", "priority": 5,
            "serviceAccountName": "web",
            "volumes": [{"name": "data"}, {"name": "web-token-x7"}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "data"}, {"name": "web-token-x7"}]}]}});
        let o = Builtin::Pod
            .execute(&pod, &pod, &ActionEnv::default())
            .expect("the action runs");
        assert!(o.item.pointer("/spec/nodeName").is_none());
        assert!(o.item.pointer("/spec/priority").is_none());
        assert_eq!(o.item["spec"]["volumes"], json!([{"name": "data"}]));
        assert_eq!(
            o.item["spec"]["containers"][0]["volumeMounts"],
            json!([{"name": "data"}])
        );
    }
}
