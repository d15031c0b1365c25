//! [`TridentSite`], a whole Trident install seeded in one call, and the
//! cluster objects around it (Nodes, the `TridentVersion` CR).

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::KubeSim;
use super::fixtures::{
    TRIDENT_CSI_DRIVER, bound_backend_config_status, internal_name, ontap_credentials_secret,
    storage_class, trident_backend, trident_backend_config, trident_csi_pv, trident_pvc,
    trident_volume,
};

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

    /// The same install against the ONTAP at `ontap_url` (a URL or
    /// `host:port`).
    #[must_use]
    pub fn pointed_at(mut self, ontap_url: &str) -> Self {
        self.management_lif = lif_from_url(ontap_url);
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
    fn urls_and_debug() {
        assert_eq!(lif_from_url("https://127.0.0.1:8443/api"), "127.0.0.1:8443");
        assert_eq!(lif_from_url("[::1]:443"), "[::1]:443");
        let site =
            TridentSite::new("b", "https://127.0.0.1:1", "svm0").credentials("u", "secret-pw");
        assert!(!format!("{site:?}").contains("secret-pw"));
        assert_eq!(site.version, "26.06.0");
        let n = node("dr-node-1", "198.51.100.21");
        assert_eq!(n["status"]["addresses"][0]["address"], "198.51.100.21");
        assert_eq!(n["status"]["addresses"][1]["type"], "Hostname");
    }
}
