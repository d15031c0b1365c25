//! The lab topology: what clusters, nodes, accounts, SVMs, LIFs and volumes
//! the simulator starts with, read from YAML.
//!
//! ```yaml
//! network: { nfs_port: 0, iscsi_port: 0 }   # 0 = one free port for the whole lab
//! clusters:
//!   - key: primary            # the name tests and `OntapSim::url` use
//!     name: ontap-a           # the ONTAP cluster name
//!     version: 9.14.1
//!     nodes: [ontap-a-01, ontap-a-02]
//!     intercluster_lifs: [{ name: ic1, ip: 192.0.2.11, node: ontap-a-01 }]
//!     accounts: [{ username: admin, password: secret, role: admin }]
//!     svms:
//!       - name: svm1
//!         nfs: true
//!         lifs: [{ name: svm1_nfs, ip: 127.0.0.1, services: [data_nfs], home_node: ontap-a-01 }]
//!         volumes: [{ name: svm1_root, size: 1GB, is_svm_root: true, junction_path: / }]
//! ```

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The shipped two-site example (`sim/examples/two-sites.yaml`).
const TWO_SITES: &str = include_str!("../../examples/two-sites.yaml");

/// A whole lab: clusters and the data-LIF probe ports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Lab network settings (data LIF probe ports).
    #[serde(default)]
    pub network: NetworkSpec,
    /// The clusters, each served on its own port.
    pub clusters: Vec<ClusterSpec>,
}

/// The TCP ports data LIFs listen on while they serve.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Port bound on NFS data LIFs (default 2049; 0 = pick a free one).
    #[serde(default = "default_nfs_port")]
    pub nfs_port: u16,
    /// Port bound on iSCSI data LIFs (default 3260; 0 = pick a free one).
    #[serde(default = "default_iscsi_port")]
    pub iscsi_port: u16,
}

fn default_nfs_port() -> u16 {
    2049
}
fn default_iscsi_port() -> u16 {
    3260
}

impl Default for NetworkSpec {
    fn default() -> Self {
        Self {
            nfs_port: default_nfs_port(),
            iscsi_port: default_iscsi_port(),
        }
    }
}

/// One ONTAP cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Lab key (`primary`, `dr`): how tests address the cluster.
    pub key: String,
    /// ONTAP cluster name (`ontap-a`).
    pub name: String,
    /// Cluster UUID; generated when absent.
    #[serde(default)]
    pub uuid: Option<String>,
    /// ONTAP version `generation.major.minor`, e.g. `9.14.1`.
    #[serde(default = "default_version")]
    pub version: String,
    /// Fixed management port on 127.0.0.1; ephemeral when absent.
    #[serde(default)]
    pub port: Option<u16>,
    /// Node names.
    pub nodes: Vec<String>,
    /// Intercluster LIFs (cluster-scoped, never bound to a socket).
    #[serde(default)]
    pub intercluster_lifs: Vec<IcLifSpec>,
    /// Login accounts.
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    /// Data SVMs.
    #[serde(default)]
    pub svms: Vec<SvmSpec>,
}

fn default_version() -> String {
    "9.14.1".to_string()
}

/// An intercluster LIF.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcLifSpec {
    /// LIF name.
    pub name: String,
    /// IPv4 or IPv6 address.
    pub ip: String,
    /// Home node.
    pub node: String,
    /// Netmask or prefix length (default 24).
    #[serde(default)]
    pub netmask: Option<String>,
}

/// Account role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleSpec {
    /// Cluster administrator.
    Admin,
    /// SVM administrator (needs `svm`).
    Vsadmin,
}

/// A login account. The password is never printed.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// User name (also the client-certificate CN).
    pub username: String,
    /// Password for basic auth; absent = certificate logins only.
    #[serde(default)]
    pub password: Option<String>,
    /// Role.
    pub role: RoleSpec,
    /// SVM an SVM-scoped account belongs to.
    #[serde(default)]
    pub svm: Option<String>,
}

impl std::fmt::Debug for AccountSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSpec")
            .field("username", &self.username)
            .field("role", &self.role)
            .field("svm", &self.svm)
            .finish_non_exhaustive()
    }
}

/// A data SVM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SvmSpec {
    /// SVM name.
    pub name: String,
    /// `running` (default) or `stopped`.
    #[serde(default = "default_svm_state")]
    pub state: String,
    /// `default` (default) or `dp_destination`.
    #[serde(default = "default_subtype")]
    pub subtype: String,
    /// SVM UUID; generated when absent.
    #[serde(default)]
    pub uuid: Option<String>,
    /// NFS service enabled.
    #[serde(default)]
    pub nfs: bool,
    /// iSCSI service enabled.
    #[serde(default)]
    pub iscsi: bool,
    /// SMB (`cifs`) service enabled.
    #[serde(default)]
    pub cifs: bool,
    /// NVMe service enabled (NVMe/TCP LIFs use `data_nvme_tcp`).
    #[serde(default)]
    pub nvme: bool,
    /// FC (`fcp`) service enabled.
    #[serde(default)]
    pub fcp: bool,
    /// Data LIFs.
    #[serde(default)]
    pub lifs: Vec<DataLifSpec>,
    /// Volumes.
    #[serde(default)]
    pub volumes: Vec<VolumeSpec>,
    /// NFS export policies besides (or filling) `default`, which every SVM
    /// has; rules in ONTAP's REST record shape
    /// (`{clients: [{match: 0.0.0.0/0}], ro_rule: [sys], rw_rule: [sys]}`).
    #[serde(default)]
    pub export_policies: Vec<ExportPolicySpec>,
}

/// An NFS export policy of an SVM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportPolicySpec {
    /// Policy name (`default` adds rules to the SVM's default policy).
    pub name: String,
    /// Rules in order, as ONTAP's REST API takes them.
    #[serde(default)]
    pub rules: Vec<serde_json::Value>,
}

/// A LUN inside a volume.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LunSpec {
    /// LUN name inside the volume (Trident's is `lun0`).
    pub name: String,
    /// Size; the volume's size when absent.
    #[serde(default)]
    pub size: Option<SizeSpec>,
}

fn default_svm_state() -> String {
    "running".to_string()
}
fn default_subtype() -> String {
    "default".to_string()
}

/// A data LIF; the simulator listens on (ip, probe port) while it serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataLifSpec {
    /// LIF name.
    pub name: String,
    /// Address in 127.0.0.0/8 or ::1.
    pub ip: String,
    /// `data_nfs` and/or `data_iscsi`, or `data_cifs`, or `data_nvme_tcp`
    /// (ONTAP's IP LIF service names; FC LIFs are not IP interfaces).
    pub services: Vec<String>,
    /// Home node.
    pub home_node: String,
    /// Netmask or prefix length.
    #[serde(default)]
    pub netmask: Option<String>,
}

/// A FlexVol volume.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeSpec {
    /// Volume name.
    pub name: String,
    /// Size in bytes or with a KB/MB/GB/TB suffix.
    pub size: SizeSpec,
    /// `rw` (default) or `dp`.
    #[serde(default = "default_vol_type", rename = "type")]
    pub vtype: String,
    /// `online` (default), `offline`, `restricted`.
    #[serde(default = "default_vol_state")]
    pub state: String,
    /// Junction path; unmounted when absent.
    #[serde(default)]
    pub junction_path: Option<String>,
    /// The SVM root volume.
    #[serde(default)]
    pub is_svm_root: bool,
    /// NFS export policy (default `default`).
    #[serde(default = "default_export_policy")]
    pub export_policy: String,
    /// LUNs in the volume.
    #[serde(default)]
    pub luns: Vec<LunSpec>,
}

fn default_export_policy() -> String {
    "default".to_string()
}

fn default_vol_type() -> String {
    "rw".to_string()
}
fn default_vol_state() -> String {
    "online".to_string()
}

/// A size: bytes or a string such as `10GB`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SizeSpec {
    /// Bytes.
    Bytes(u64),
    /// With a unit suffix.
    Text(String),
}

impl SizeSpec {
    /// The size in bytes.
    pub fn bytes(&self) -> Result<u64> {
        match self {
            SizeSpec::Bytes(b) => Ok(*b),
            SizeSpec::Text(t) => parse_size(t),
        }
    }
}

/// Parses `1024`, `10GB`, `1.5TB` (binary units, as ONTAP uses).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num
        .parse()
        .with_context(|| format!("invalid size {text:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "K" => 1 << 10,
        "MB" | "M" => 1 << 20,
        "GB" | "G" => 1 << 30,
        "TB" | "T" => 1 << 40,
        "PB" | "P" => 1 << 50,
        other => bail!("invalid size unit {other:?} in {text:?}"),
    };
    Ok((num * mult as f64) as u64)
}

/// The Trident-named NFS volume of svm1 in [`Topology::two_sites`].
pub const TWO_SITES_VOLUME: &str = "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90";

impl Topology {
    /// Parses and checks a topology.
    ///
    /// # Errors
    /// YAML errors, duplicate cluster keys, unknown node names, bad versions
    /// or sizes.
    pub fn from_yaml(text: &str) -> Result<Topology> {
        let topo: Topology = serde_yaml::from_str(text).context("parsing the topology YAML")?;
        topo.validate()?;
        Ok(topo)
    }

    /// The shipped two-site example: `primary` (ontap-a, SVM svm1 with NFS
    /// and iSCSI) and `dr` (ontap-b, empty), not yet peered.
    pub fn two_sites() -> Topology {
        match Topology::from_yaml(TWO_SITES) {
            Ok(t) => t,
            // The example is embedded and covered by a unit test.
            Err(err) => panic!("the embedded two-sites example is invalid: {err:#}"),
        }
    }

    fn validate(&self) -> Result<()> {
        let mut keys = std::collections::BTreeSet::new();
        let mut names = std::collections::BTreeSet::new();
        if self.clusters.is_empty() {
            bail!("the topology has no clusters");
        }
        for c in &self.clusters {
            if !keys.insert(c.key.as_str()) {
                bail!("duplicate cluster key {:?}", c.key);
            }
            if !names.insert(c.name.as_str()) {
                bail!("duplicate cluster name {:?}", c.name);
            }
            parse_version(&c.version)
                .with_context(|| format!("cluster {:?}: bad version", c.key))?;
            if c.nodes.is_empty() {
                bail!("cluster {:?} has no nodes", c.key);
            }
            let node_ok = |n: &str| c.nodes.iter().any(|x| x == n);
            for lif in &c.intercluster_lifs {
                if !node_ok(&lif.node) {
                    bail!(
                        "cluster {:?}: IC LIF {:?} names unknown node {:?}",
                        c.key,
                        lif.name,
                        lif.node
                    );
                }
                lif.ip.parse::<std::net::IpAddr>().with_context(|| {
                    format!("cluster {:?}: IC LIF {:?} has a bad ip", c.key, lif.name)
                })?;
            }
            for a in &c.accounts {
                if a.role == RoleSpec::Vsadmin {
                    let Some(svm) = &a.svm else {
                        bail!(
                            "cluster {:?}: vsadmin account {:?} needs an svm",
                            c.key,
                            a.username
                        );
                    };
                    if !c.svms.iter().any(|s| &s.name == svm) {
                        bail!(
                            "cluster {:?}: account {:?} names unknown SVM {:?}",
                            c.key,
                            a.username,
                            svm
                        );
                    }
                }
            }
            for s in &c.svms {
                if !matches!(s.state.as_str(), "running" | "stopped") {
                    bail!("SVM {:?}: state must be running or stopped", s.name);
                }
                if !matches!(s.subtype.as_str(), "default" | "dp_destination") {
                    bail!(
                        "SVM {:?}: subtype must be default or dp_destination",
                        s.name
                    );
                }
                for l in &s.lifs {
                    let ip: std::net::IpAddr = l.ip.parse().with_context(|| {
                        format!("SVM {:?}: LIF {:?} has a bad ip", s.name, l.name)
                    })?;
                    if !ip.is_loopback() {
                        bail!(
                            "SVM {:?}: data LIF {:?} must use a loopback address (127.0.0.0/8 or ::1), the simulator binds it",
                            s.name,
                            l.name
                        );
                    }
                    if !node_ok(&l.home_node) {
                        bail!(
                            "SVM {:?}: LIF {:?} names unknown node {:?}",
                            s.name,
                            l.name,
                            l.home_node
                        );
                    }
                    for svc in &l.services {
                        if !matches!(
                            svc.as_str(),
                            "data_nfs" | "data_iscsi" | "data_cifs" | "data_nvme_tcp"
                        ) {
                            bail!(
                                "LIF {:?}: service {svc:?} is not data_nfs, data_iscsi, data_cifs \
                                 or data_nvme_tcp",
                                l.name
                            );
                        }
                    }
                }
                for v in &s.volumes {
                    v.size.bytes()?;
                    for l in &v.luns {
                        if let Some(size) = &l.size {
                            size.bytes()?;
                        }
                    }
                    if v.export_policy != "default"
                        && !s.export_policies.iter().any(|p| p.name == v.export_policy)
                    {
                        bail!(
                            "SVM {:?}: volume {:?} names unknown export policy {:?}",
                            s.name,
                            v.name,
                            v.export_policy
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parses `9.14.1` into (generation, major, minor).
pub fn parse_version(v: &str) -> Result<(u32, u32, u32)> {
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() != 3 {
        bail!("version {v:?} is not generation.major.minor");
    }
    let n = |s: &str| s.parse::<u32>().with_context(|| format!("version {v:?}"));
    Ok((n(parts[0])?, n(parts[1])?, n(parts[2])?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses() {
        let t = Topology::two_sites();
        assert_eq!(t.clusters.len(), 2);
        assert_eq!(t.clusters[0].key, "primary");
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("10GB").unwrap(), 10 << 30);
        assert_eq!(parse_size("512").unwrap(), 512);
        assert!(parse_size("10XB").is_err());
    }

    #[test]
    fn rejects_unknown_nodes_and_non_loopback_lifs() {
        let bad = "clusters:\n- key: a\n  name: a\n  nodes: [n1]\n  svms:\n  - name: s\n    lifs: [{name: l, ip: 10.0.0.1, services: [data_nfs], home_node: n1}]\n";
        assert!(Topology::from_yaml(bad).is_err());
        let bad = "clusters:\n- key: a\n  name: a\n  nodes: [n1]\n  intercluster_lifs: [{name: l, ip: 10.0.0.1, node: n9}]\n";
        assert!(Topology::from_yaml(bad).is_err());
    }

    #[test]
    fn account_debug_hides_password() {
        let a = AccountSpec {
            username: "admin".into(),
            password: Some("hunter2".into()),
            role: RoleSpec::Admin,
            svm: None,
        };
        assert!(!format!("{a:?}").contains("hunter2"));
    }
}
