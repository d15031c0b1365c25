//! Trident and Velero objects shaped as those tools create them (Trident:
//! `persistent_store/crd/apis/netapp/v1/types.go`; see `docs/trident.md`),
//! as `serde_json::Value`s to [`super::KubeSim::apply`], and
//! [`TridentSite`], which seeds a whole Trident install in one call.
//!
//! Optional string arguments take `""` for "not set": the field is then
//! left out, as Trident leaves it out.

use base64::Engine;
use serde_json::{Map, Value, json};

/// The CSI driver name Trident registers.
pub const TRIDENT_CSI_DRIVER: &str = "csi.trident.netapp.io";
/// The provisioner annotation value of pre-CSI Trident PVs.
pub const TRIDENT_LEGACY_PROVISIONER: &str = "netapp.io/trident";
/// The annotation naming a PV's provisioner.
pub const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn insert_if(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.to_string(), Value::String(value.to_string()));
    }
}

/// Bytes in a Kubernetes quantity such as `1Gi`, `500Mi`, `2G` or `1024`;
/// `None` if it does not parse.
pub fn quantity_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit {
        "" => 1,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Trident's ONTAP volume name for a volume: `<storagePrefix><name>` with
/// `-` and `.` turned into `_` and `__` collapsed as Trident ≥ 24.10 does
/// (`crate::lab::trident::internal_volume_name` has the rule by version).
pub fn internal_name(storage_prefix: &str, volume_name: &str) -> String {
    let raw = format!("{storage_prefix}{volume_name}").replace(['-', '.'], "_");
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out
}

/// A TridentBackendConfig as an admin applies it. `svm`, `data_lif` and
/// `storage_prefix` may be `""` (not set).
#[allow(clippy::too_many_arguments)]
pub fn trident_backend_config(
    name: &str,
    ns: &str,
    driver: &str,
    management_lif: &str,
    svm: &str,
    data_lif: &str,
    secret_name: &str,
    storage_prefix: &str,
) -> Value {
    let mut spec = Map::new();
    spec.insert("version".into(), json!(1));
    spec.insert("storageDriverName".into(), json!(driver));
    spec.insert("backendName".into(), json!(name));
    spec.insert("managementLIF".into(), json!(management_lif));
    insert_if(&mut spec, "dataLIF", data_lif);
    insert_if(&mut spec, "svm", svm);
    insert_if(&mut spec, "storagePrefix", storage_prefix);
    spec.insert(
        "credentials".into(),
        json!({"name": secret_name, "type": "secret"}),
    );
    json!({
        "apiVersion": "trident.netapp.io/v1",
        "kind": "TridentBackendConfig",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    })
}

/// The status Trident writes on a TBC once its backend exists.
pub fn bound_backend_config_status(backend_name: &str, backend_uuid: &str) -> Value {
    json!({
        "phase": "Bound",
        "backendInfo": {"backendName": backend_name, "backendUUID": backend_uuid},
        "lastOperationStatus": "Success",
        "message": format!("Backend '{backend_name}' created"),
        "deletionPolicy": "delete",
    })
}

/// The TridentBackend Trident makes for `tbc` (a TridentBackendConfig, as
/// stored, so its uid becomes `configRef`): top-level `config.ontap_config`,
/// `backendName`, `backendUUID`, `online`, `state`, `configRef`, `version`,
/// with credentials as `secret:<name>` references, never plaintext.
pub fn trident_backend(tbc: &Value, backend_uuid: &str, state: &str) -> Value {
    let spec = tbc.get("spec").cloned().unwrap_or_else(|| json!({}));
    let tbc_name = tbc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ns = tbc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("trident");
    let backend_name = spec
        .get("backendName")
        .and_then(Value::as_str)
        .unwrap_or(tbc_name)
        .to_string();
    let secret = spec
        .pointer("/credentials/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut ontap = spec.as_object().cloned().unwrap_or_default();
    ontap
        .entry("storagePrefix")
        .or_insert_with(|| json!("trident_"));
    let reference = format!("secret:{secret}");
    ontap.insert("username".into(), json!(reference));
    ontap.insert("password".into(), json!(reference));
    let suffix: String = backend_uuid
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(5)
        .collect::<String>()
        .to_ascii_lowercase();
    json!({
        "apiVersion": "trident.netapp.io/v1",
        "kind": "TridentBackend",
        "metadata": {
            "name": format!("tbe-{suffix}"),
            "namespace": ns,
            "finalizers": ["trident.netapp.io"],
        },
        "config": {"ontap_config": ontap},
        "backendName": backend_name,
        "backendUUID": backend_uuid,
        "version": "1",
        "online": state == "online",
        "state": state,
        "userState": "normal",
        "stateReason": "",
        "configRef": tbc.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or(""),
    })
}

/// The Secret a TBC's `credentials.name` points at.
pub fn ontap_credentials_secret(name: &str, ns: &str, username: &str, password: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns},
        "type": "Opaque",
        "data": {"username": b64(username), "password": b64(password)},
    })
}

/// A Trident StorageClass; `selector` (a Trident pool selector such as
/// `"dr=svm-dr"`) may be `""`.
pub fn storage_class(name: &str, backend_type: &str, selector: &str) -> Value {
    let mut params = Map::new();
    params.insert("backendType".into(), json!(backend_type));
    insert_if(&mut params, "selector", selector);
    json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": TRIDENT_CSI_DRIVER,
        "parameters": params,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": true,
    })
}

/// A bound Trident CSI PV: `spec.csi.volumeHandle` = PV name,
/// `volumeAttributes` {backendUUID, internalName, name, protocol}, the
/// provisioned-by annotation and a claimRef. `protocol` is `file` or
/// `block`; `storageClassName` is left unset (set it on the value if needed).
#[allow(clippy::too_many_arguments)]
pub fn trident_csi_pv(
    pv_name: &str,
    backend_uuid: &str,
    internal_name: &str,
    protocol: &str,
    size: &str,
    claim_ns: &str,
    claim_name: &str,
    reclaim_policy: &str,
) -> Value {
    let fs_type = if protocol == "file" { "nfs" } else { "ext4" };
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": pv_name,
            "annotations": {PROVISIONED_BY: TRIDENT_CSI_DRIVER},
            "finalizers": ["kubernetes.io/pv-protection"],
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": size},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": claim_ns,
                "name": claim_name,
            },
            "csi": {
                "driver": TRIDENT_CSI_DRIVER,
                "fsType": fs_type,
                "volumeHandle": pv_name,
                "volumeAttributes": {
                    "backendUUID": backend_uuid,
                    "internalName": internal_name,
                    "name": pv_name,
                    "protocol": protocol,
                    "storage.kubernetes.io/csiProvisionerIdentity": "1700000000000-8081-csi.trident.netapp.io",
                },
            },
            "persistentVolumeReclaimPolicy": reclaim_policy,
            "volumeMode": if protocol == "block" { "Block" } else { "Filesystem" },
        },
        "status": {"phase": "Bound"},
    })
}

/// A PVC bound to `pv_name`.
pub fn trident_pvc(ns: &str, name: &str, pv_name: &str, storage_class: &str, size: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": ns,
            "annotations": {
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": TRIDENT_CSI_DRIVER,
                "volume.kubernetes.io/storage-provisioner": TRIDENT_CSI_DRIVER,
            },
            "finalizers": ["kubernetes.io/pvc-protection"],
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class,
            "volumeMode": "Filesystem",
            "volumeName": pv_name,
        },
        "status": {
            "phase": "Bound",
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": size},
        },
    })
}

/// The TridentVolume for a PV, in Trident's namespace `ns`. `nfs_server_ip`
/// and `nfs_path` fill `config.accessInformation` and may be `""`.
#[allow(clippy::too_many_arguments)]
pub fn trident_volume(
    ns: &str,
    pv_name: &str,
    backend_uuid: &str,
    internal_name: &str,
    protocol: &str,
    size: &str,
    nfs_server_ip: &str,
    nfs_path: &str,
) -> Value {
    let mut access = Map::new();
    insert_if(&mut access, "nfsServerIp", nfs_server_ip);
    insert_if(&mut access, "nfsPath", nfs_path);
    let bytes = quantity_bytes(size)
        .map(|b| b.to_string())
        .unwrap_or_else(|| size.to_string());
    json!({
        "apiVersion": "trident.netapp.io/v1",
        "kind": "TridentVolume",
        "metadata": {
            "name": pv_name,
            "namespace": ns,
            "finalizers": ["trident.netapp.io"],
        },
        "config": {
            "version": "1",
            "name": pv_name,
            "internalName": internal_name,
            "size": bytes,
            "protocol": protocol,
            "accessInformation": access,
        },
        "backendUUID": backend_uuid,
        "pool": "",
        "orphaned": false,
        "state": "online",
    })
}

/// A pre-CSI Trident PV: `spec.nfs {server, path}` and the
/// `pv.kubernetes.io/provisioned-by: netapp.io/trident` annotation.
pub fn legacy_nfs_pv(
    pv_name: &str,
    server: &str,
    path: &str,
    size: &str,
    claim_ns: &str,
    claim_name: &str,
    reclaim_policy: &str,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": pv_name,
            "annotations": {PROVISIONED_BY: TRIDENT_LEGACY_PROVISIONER},
        },
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "capacity": {"storage": size},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": claim_ns, "name": claim_name},
            "nfs": {"server": server, "path": path},
            "persistentVolumeReclaimPolicy": reclaim_policy,
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    })
}

/// A Velero Backup in `phase` (e.g. `Completed`), with its completion time
/// (RFC 3339) when `Some`.
pub fn velero_backup(
    name: &str,
    ns: &str,
    phase: &str,
    completion_time: Option<&str>,
    included_namespaces: &[&str],
) -> Value {
    let mut status = Map::new();
    status.insert("phase".into(), json!(phase));
    status.insert("version".into(), json!(1));
    status.insert("formatVersion".into(), json!("1.1.0"));
    if let Some(t) = completion_time {
        status.insert("startTimestamp".into(), json!(t));
        status.insert("completionTimestamp".into(), json!(t));
    }
    json!({
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"velero.io/storage-location": "default"},
        },
        "spec": {
            "includedNamespaces": included_namespaces,
            "storageLocation": "default",
            "ttl": "720h0m0s",
            "snapshotVolumes": true,
            "defaultVolumesToFsBackup": false,
        },
        "status": status,
    })
}

/// A Velero Restore of `backup_name` as `velero restore create` makes it
/// (no status yet).
pub fn velero_restore(name: &str, ns: &str, backup_name: &str) -> Value {
    json!({
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "backupName": backup_name,
            "includedNamespaces": ["*"],
            "excludedResources": ["nodes", "events", "events.events.k8s.io", "backups.velero.io", "restores.velero.io", "resticrepositories.velero.io"],
            "restorePVs": true,
        },
    })
}

pub use super::trident_site::{DR_NODES, PRIMARY_NODES, TridentSite, node, trident_version};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(
            internal_name("trident_", "pvc-3bedd23c-46a8-4d0a"),
            "trident_pvc_3bedd23c_46a8_4d0a"
        );
        assert_eq!(internal_name("a-", "b.c"), "a_b_c");
        assert_eq!(quantity_bytes("1Gi"), Some(1 << 30));
        assert_eq!(quantity_bytes("2G"), Some(2_000_000_000));
        assert_eq!(quantity_bytes("x"), None);
    }

    #[test]
    fn backend_hides_credentials() {
        let mut tbc = trident_backend_config(
            "b1",
            "trident",
            "ontap-nas",
            "10.0.0.1",
            "svm0",
            "",
            "creds",
            "",
        );
        tbc["metadata"]["uid"] = json!("tbc-uid");
        assert!(tbc["spec"].get("dataLIF").is_none());
        let tbe = trident_backend(&tbc, "uuid-1", "online");
        assert_eq!(tbe["config"]["ontap_config"]["svm"], "svm0");
        assert_eq!(tbe["config"]["ontap_config"]["password"], "secret:creds");
        assert_eq!(tbe["config"]["ontap_config"]["storagePrefix"], "trident_");
        assert_eq!(tbe["configRef"], "tbc-uid");
        assert_eq!(tbe["online"], true);
        let s = ontap_credentials_secret("creds", "trident", "admin", "pw");
        assert_eq!(s["data"]["password"], "cHc=");
    }

    #[test]
    fn velero_and_legacy_shapes() {
        let b = velero_backup(
            "nightly",
            "velero",
            "Completed",
            Some("2026-01-01T00:00:00Z"),
            &["app"],
        );
        assert_eq!(b["status"]["phase"], "Completed");
        assert_eq!(b["status"]["completionTimestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(b["spec"]["includedNamespaces"], json!(["app"]));
        let pending = velero_backup("n2", "velero", "InProgress", None, &[]);
        assert!(pending["status"].get("completionTimestamp").is_none());
        let r = velero_restore("r", "velero", "nightly");
        assert_eq!(r["spec"]["backupName"], "nightly");
        assert!(r.get("status").is_none());
        let pv = legacy_nfs_pv(
            "pv1",
            "10.0.0.2",
            "/trident_pv1",
            "1Gi",
            "app",
            "data",
            "Retain",
        );
        assert_eq!(
            pv["metadata"]["annotations"][PROVISIONED_BY],
            TRIDENT_LEGACY_PROVISIONER
        );
        assert_eq!(pv["spec"]["nfs"]["path"], "/trident_pv1");
        let tv = trident_volume(
            "trident",
            "pvc-1",
            "u",
            "trident_pvc_1",
            "file",
            "1Gi",
            "10.0.0.2",
            "/trident_pvc_1",
        );
        assert_eq!(tv["config"]["size"], "1073741824");
        assert_eq!(tv["config"]["accessInformation"]["nfsServerIp"], "10.0.0.2");
        let site =
            TridentSite::new("b", "https://127.0.0.1:1", "svm0").credentials("u", "secret-pw");
        assert!(!format!("{site:?}").contains("secret-pw"));
    }
}
