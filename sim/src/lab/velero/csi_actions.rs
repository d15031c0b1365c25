//! Velero's CSI and snapshot data mover RestoreItemActions
//! (`pkg/restore/actions/csi/pvc_action.go`,
//! `pkg/restore/actions/csi/volumesnapshot_action.go`,
//! `pkg/restore/actions/dataupload_retrieve_action.go`), as pure functions;
//! [`super::builtin_actions::Builtin`] dispatches to them.

use serde_json::{Value, json};

use super::action::{
    ANN_DATA_UPLOAD_NAME, ANN_VOLUME_SNAPSHOT_NAME, ActionEnv, ActionOutput, ActionResult,
    DYNAMIC_PV_RESTORE_LABEL, ItemRef, out,
};
use super::rules::{self, get_valid_name};
use crate::lab::fields::str_at as s;

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
pub(crate) fn csi_pvc(item: &Value, from_backup: &Value, env: &ActionEnv) -> ActionResult {
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
pub(crate) fn data_upload(from_backup: &Value, env: &ActionEnv) -> ActionResult {
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

/// `velero.io/csi-volumesnapshot-restorer`: the VolumeSnapshot gets the
/// restore's name for it and its content as source instead of the PVC.
pub(crate) fn csi_volume_snapshot(item: &Value, env: &ActionEnv) -> ActionOutput {
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
    use crate::lab::velero::builtin_actions::Builtin;
    use crate::lab::velero::builtin_actions::tests::{backed_up_pvc, env, item};

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
            .expect("the action runs");
        assert_eq!(o.item["kind"], "PersistentVolumeClaim");
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
}
