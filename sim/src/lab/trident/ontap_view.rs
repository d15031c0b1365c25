//! What the simulated Trident sees of ONTAP: one `Control::snapshot()` per
//! controller pass, and the few ONTAP writes Trident makes (volume rename,
//! export policy changes) through [`Control`].

use serde_json::Value;

use crate::ontap::{Control, SimError};

/// One read of the simulated ONTAP clusters.
#[derive(Debug, Clone)]
pub struct OntapView {
    snap: Value,
}

/// A data protocol a LIF serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataProtocol {
    /// NFS (`data_nfs`).
    Nfs,
    /// SMB (`data_cifs`).
    Cifs,
    /// iSCSI (`data_iscsi`).
    Iscsi,
    /// NVMe/TCP (`data_nvme_tcp`).
    NvmeTcp,
}

/// Whether a LIF with service policy `policy` serves `proto`, per ONTAP's
/// built-in service policies (a custom name counts if it names the protocol).
pub fn policy_serves(policy: &str, proto: DataProtocol) -> bool {
    let p = policy.to_ascii_lowercase();
    match proto {
        DataProtocol::Nfs => p.contains("files") || p.contains("nfs"),
        DataProtocol::Cifs => p.contains("files") || p.contains("cifs"),
        DataProtocol::Iscsi => p.contains("blocks") || p.contains("iscsi"),
        DataProtocol::NvmeTcp => p.contains("nvme"),
    }
}

fn arr<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

impl OntapView {
    /// Reads the simulator now.
    pub fn read(ontap: &Control) -> Self {
        Self {
            snap: ontap.snapshot(),
        }
    }

    /// A view over a given snapshot (tests).
    pub fn from_snapshot(snap: Value) -> Self {
        Self { snap }
    }

    /// The key of the cluster whose management port is that of
    /// `management_lif` (`host:port`), else of the first cluster with an
    /// SVM named `svm`.
    pub fn cluster_for(&self, management_lif: &str, svm: &str) -> Option<String> {
        let port = management_lif
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u64>().ok());
        let by_port = port.and_then(|p| {
            arr(&self.snap, "clusters")
                .find(|c| c["port"].as_u64() == Some(p))
                .and_then(|c| c["key"].as_str())
        });
        by_port
            .or_else(|| {
                arr(&self.snap, "svms")
                    .find(|s| s["name"] == svm)
                    .and_then(|s| s["cluster"].as_str())
            })
            .map(String::from)
    }

    /// Whether the cluster is down (unreachable).
    pub fn cluster_down(&self, cluster: &str) -> bool {
        arr(&self.snap, "clusters").any(|c| c["key"] == cluster && c["down"] == true)
    }

    /// The SVM record.
    pub fn svm(&self, cluster: &str, svm: &str) -> Option<&Value> {
        arr(&self.snap, "svms").find(|s| s["cluster"] == cluster && s["name"] == svm)
    }

    /// The SVM's aggregates: its `aggregates` list when the simulator
    /// reports one, else one aggregate named `<cluster>_aggr1` (the
    /// simulator does not model aggregates).
    pub fn aggregates(&self, cluster: &str, svm: &str) -> Vec<String> {
        match self.svm(cluster, svm).and_then(|s| s.get("aggregates")) {
            Some(Value::Array(a)) if !a.is_empty() || self.reports_aggregates() => a
                .iter()
                .filter_map(|x| x.as_str().or_else(|| x["name"].as_str()))
                .map(String::from)
                .collect(),
            _ => vec![format!("{cluster}_aggr1")],
        }
    }

    fn reports_aggregates(&self) -> bool {
        arr(&self.snap, "svms").any(|s| {
            s.get("aggregates")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        })
    }

    /// The SVM's data LIFs serving `proto` that are up, as IP addresses.
    pub fn up_data_lifs(&self, cluster: &str, svm: &str, proto: DataProtocol) -> Vec<String> {
        arr(&self.snap, "lifs")
            .filter(|l| l["cluster"] == cluster && l["svm"] == svm && l["up"] == true)
            .filter(|l| policy_serves(l["service_policy"].as_str().unwrap_or(""), proto))
            .filter_map(|l| l["ip"].as_str().map(String::from))
            .collect()
    }

    /// The volume record (`type`, `state`, `size`, `export_policy`...).
    pub fn volume(&self, cluster: &str, svm: &str, name: &str) -> Option<&Value> {
        arr(&self.snap, "volumes")
            .find(|v| v["cluster"] == cluster && v["svm"] == svm && v["name"] == name)
    }

    /// The rules of export policy `name` on the SVM; `None` if no such policy.
    pub fn export_rules(&self, cluster: &str, svm: &str, name: &str) -> Option<Vec<Value>> {
        arr(&self.snap, "export_policies")
            .find(|p| p["cluster"] == cluster && p["svm"] == svm && p["name"] == name)
            .map(|p| arr(p, "rules").cloned().collect())
    }

    /// Whether the simulator reports LUNs at all.
    pub fn has_luns(&self) -> bool {
        self.snap.get("luns").is_some()
    }

    /// The LUNs in a volume.
    pub fn luns_in(&self, cluster: &str, svm: &str, volume: &str) -> Vec<&Value> {
        arr(&self.snap, "luns")
            .filter(|l| l["cluster"] == cluster && l["svm"] == svm && l["volume"] == volume)
            .collect()
    }
}

/// The ONTAP writes the simulated Trident makes (through the simulator's
/// [`Control`], as Trident would through ONTAP's REST API).
pub trait OntapWrites {
    /// The simulator's state (`Control::snapshot`).
    fn snapshot(&self) -> Value;
    /// Renames a FlexVol; `false` if it failed.
    fn rename_volume(&self, cluster: &str, svm: &str, old: &str, new: &str) -> bool;
    /// Points a volume at an export policy.
    fn set_volume_export_policy(&self, cluster: &str, svm: &str, volume: &str, policy: &str);
    /// Replaces an export policy's rules (creating the policy).
    fn set_export_rules(&self, cluster: &str, svm: &str, policy: &str, rules: Vec<Value>);
    /// Whether ONTAP lets the NFS client at `client_ip` (host name
    /// `hostname`) mount `volume`, read-write or read-only
    /// (`Control::nfs_mount_check`, the simulator's one export-rule
    /// evaluation); `Err` is ONTAP's reason, naming the policy and rule.
    fn nfs_mount(
        &self,
        cluster: &str,
        svm: &str,
        volume: &str,
        client_ip: &str,
        hostname: Option<&str>,
        read_write: bool,
    ) -> Result<(), String>;
}

impl OntapWrites for Control {
    fn snapshot(&self) -> Value {
        Control::snapshot(self)
    }
    fn rename_volume(&self, cluster: &str, svm: &str, old: &str, new: &str) -> bool {
        Control::rename_volume(self, cluster, svm, old, new)
    }
    fn set_volume_export_policy(&self, cluster: &str, svm: &str, volume: &str, policy: &str) {
        Control::set_volume_export_policy(self, cluster, svm, volume, policy);
    }
    fn set_export_rules(&self, cluster: &str, svm: &str, policy: &str, rules: Vec<Value>) {
        Control::set_export_rules(self, cluster, svm, policy, rules);
    }
    fn nfs_mount(
        &self,
        cluster: &str,
        svm: &str,
        volume: &str,
        client_ip: &str,
        hostname: Option<&str>,
        read_write: bool,
    ) -> Result<(), String> {
        Control::nfs_mount_check(self, cluster, svm, volume, client_ip, hostname, read_write)
            .map_err(|e| match e {
                // The attach message already names the volume and client.
                SimError::MountRefused { svm, reason, .. } => format!("SVM {svm}: {reason}"),
                other => other.to_string(),
            })
    }
}
