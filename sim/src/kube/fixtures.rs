//! Trident and Velero objects shaped as those tools create them (see the
//! facts sheet, §1 and §3), as `serde_json::Value`s to [`KubeSim::apply`],
//! and [`TridentSite`], which seeds a whole Trident install in one call.
//!
//! Optional string arguments take `""` for "not set": the field is then
//! left out, as Trident leaves it out.

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::KubeSim;

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
/// `-` and `.` turned into `_` (facts sheet §1.2).
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

/// The lab's primary-site nodes: name and address (documentation range).
pub const PRIMARY_NODES: [(&str, &str); 2] = [
    ("primary-node-1", "192.0.2.11"),
    ("primary-node-2", "192.0.2.12"),
];
/// The lab's DR-site nodes: name and address (documentation range).
pub const DR_NODES: [(&str, &str); 2] = [
    ("dr-node-1", "198.51.100.21"),
    ("dr-node-2", "198.51.100.22"),
];

/// A Ready `v1` Node with `status.addresses` `InternalIP` = `ip` and
/// `Hostname` = `name`.
pub fn node(name: &str, ip: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
        "spec": {},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    })
}

/// The `TridentVersion` CR (schema: Trident
/// `persistent_store/crd/apis/netapp/v1/types.go` TridentVersion).
pub fn trident_version(ns: &str, version: &str) -> Value {
    json!({
        "apiVersion": "trident.netapp.io/v1",
        "kind": "TridentVersion",
        "metadata": {"name": "trident", "namespace": ns},
        "trident_version": version,
        "trident_store_version": "v1",
        "trident_api_version": "1",
        "publications_synced": true,
    })
}

/// A whole Trident install on one cluster, pointing at one ONTAP SVM:
/// namespace, credentials Secret, a bound TridentBackendConfig, its
/// TridentBackend, a StorageClass, the CSIDriver, a TridentVersion and the
/// cluster's Nodes.
#[derive(Clone)]
pub struct TridentSite {
    /// Trident's namespace (default `trident`).
    pub namespace: String,
    /// Backend (and TBC) name.
    pub backend_name: String,
    /// `backendUUID`.
    pub backend_uuid: String,
    /// Driver, default `ontap-nas`.
    pub driver: String,
    /// `managementLIF`: the ONTAP address as `host:port` (no scheme).
    pub management_lif: String,
    /// `dataLIF`, may be empty.
    pub data_lif: String,
    /// SVM name.
    pub svm: String,
    /// Credentials Secret name.
    pub secret_name: String,
    /// ONTAP user.
    pub username: String,
    /// ONTAP password (never printed by `Debug`).
    pub password: String,
    /// `storagePrefix`, default `trident_`.
    pub storage_prefix: String,
    /// StorageClass name, default `ontap-nas`.
    pub storage_class: String,
    /// Trident's version (the `TridentVersion` CR), default `26.06.0`.
    pub version: String,
    /// Nodes to seed: name and IP (default none).
    pub nodes: Vec<(String, String)>,
}

impl std::fmt::Debug for TridentSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TridentSite")
            .field("namespace", &self.namespace)
            .field("backend_name", &self.backend_name)
            .field("backend_uuid", &self.backend_uuid)
            .field("management_lif", &self.management_lif)
            .field("svm", &self.svm)
            .finish_non_exhaustive()
    }
}

/// `host:port` from an ONTAP URL such as `https://127.0.0.1:8443/`.
fn lif_from_url(url: &str) -> String {
    let s = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    s.split('/').next().unwrap_or(s).to_string()
}

impl TridentSite {
    /// A site with backend `backend_name` on SVM `svm` behind the ONTAP at
    /// `ontap_url` (a URL or `host:port`); other fields take Trident's
    /// defaults and a fresh backend UUID.
    pub fn new(backend_name: &str, ontap_url: &str, svm: &str) -> Self {
        Self {
            namespace: "trident".into(),
            backend_name: backend_name.into(),
            backend_uuid: uuid::Uuid::new_v4().to_string(),
            driver: "ontap-nas".into(),
            management_lif: lif_from_url(ontap_url),
            data_lif: String::new(),
            svm: svm.into(),
            secret_name: format!("{backend_name}-secret"),
            username: "admin".into(),
            password: "netapp1!".into(),
            storage_prefix: "trident_".into(),
            storage_class: "ontap-nas".into(),
            version: "26.06.0".into(),
            nodes: Vec::new(),
        }
    }

    /// Sets the Nodes to seed.
    pub fn with_nodes(mut self, nodes: &[(&str, &str)]) -> Self {
        self.nodes = nodes
            .iter()
            .map(|(n, ip)| (n.to_string(), ip.to_string()))
            .collect();
        self
    }

    /// Sets Trident's version.
    pub fn with_version(mut self, version: &str) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the ONTAP credentials.
    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.username = username.into();
        self.password = password.into();
        self
    }

    /// Applies the install to `sim`; returns the stored TridentBackend.
    ///
    /// # Errors
    /// When the cluster rejects an object.
    pub fn seed(&self, sim: &KubeSim) -> Result<Value> {
        let ns = &self.namespace;
        sim.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))?;
        sim.apply(ontap_credentials_secret(
            &self.secret_name,
            ns,
            &self.username,
            &self.password,
        ))?;
        let mut tbc = trident_backend_config(
            &self.backend_name,
            ns,
            &self.driver,
            &self.management_lif,
            &self.svm,
            &self.data_lif,
            &self.secret_name,
            &self.storage_prefix,
        );
        tbc["status"] = bound_backend_config_status(&self.backend_name, &self.backend_uuid);
        let tbc = sim.apply(tbc)?;
        let tbe = sim.apply(trident_backend(&tbc, &self.backend_uuid, "online"))?;
        sim.apply(storage_class(&self.storage_class, &self.driver, ""))?;
        sim.apply(json!({
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": TRIDENT_CSI_DRIVER},
            "spec": {"attachRequired": true, "podInfoOnMount": false, "volumeLifecycleModes": ["Persistent"]},
        }))?;
        sim.apply(trident_version(ns, &self.version))?;
        for (name, ip) in &self.nodes {
            sim.apply(node(name, ip))?;
        }
        Ok(tbe)
    }

    /// Adds a bound volume (PV + PVC + TridentVolume) on this backend for
    /// claim `claim_ns/claim_name`, under a fresh `pvc-<uuid>` name; returns
    /// `(pv_name, internal_name)`. The claim's namespace is created if missing.
    ///
    /// # Errors
    /// When the cluster rejects an object.
    pub fn add_volume(
        &self,
        sim: &KubeSim,
        claim_ns: &str,
        claim_name: &str,
        size: &str,
        reclaim_policy: &str,
    ) -> Result<(String, String)> {
        let pv_name = format!("pvc-{}", uuid::Uuid::new_v4());
        self.add_volume_named(sim, &pv_name, claim_ns, claim_name, size, reclaim_policy)
    }

    /// [`TridentSite::add_volume`] with a given PV name (e.g. to match a
    /// volume that already exists in the ONTAP simulator).
    ///
    /// # Errors
    /// When the cluster rejects an object.
    pub fn add_volume_named(
        &self,
        sim: &KubeSim,
        pv_name: &str,
        claim_ns: &str,
        claim_name: &str,
        size: &str,
        reclaim_policy: &str,
    ) -> Result<(String, String)> {
        let pv_name = pv_name.to_string();
        let internal = internal_name(&self.storage_prefix, &pv_name);
        let protocol = if self.driver.starts_with("ontap-san") {
            "block"
        } else {
            "file"
        };
        let mut pv = trident_csi_pv(
            &pv_name,
            &self.backend_uuid,
            &internal,
            protocol,
            size,
            claim_ns,
            claim_name,
            reclaim_policy,
        );
        pv["spec"]["storageClassName"] = json!(self.storage_class);
        sim.apply(pv)
            .with_context(|| format!("seeding PV {pv_name}"))?;
        sim.apply(trident_pvc(
            claim_ns,
            claim_name,
            &pv_name,
            &self.storage_class,
            size,
        ))?;
        let data_ip = self
            .data_lif
            .rsplit_once(':')
            .map(|(h, _)| h.to_string())
            .unwrap_or_else(|| self.data_lif.clone());
        let nfs_path = if protocol == "file" {
            format!("/{internal}")
        } else {
            String::new()
        };
        sim.apply(trident_volume(
            &self.namespace,
            &pv_name,
            &self.backend_uuid,
            &internal,
            protocol,
            size,
            if protocol == "file" { &data_ip } else { "" },
            &nfs_path,
        ))?;
        Ok((pv_name, internal))
    }
}

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
        assert_eq!(lif_from_url("https://127.0.0.1:8443/api"), "127.0.0.1:8443");
        assert_eq!(lif_from_url("[::1]:443"), "[::1]:443");
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
