//! NFS export policy evaluation: would ONTAP let a Kubernetes node mount a
//! volume read-write over NFS with AUTH_SYS, as Trident's node plugin does?
//!
//! Pure functions over the rules [`collect_svm_facts`](super::collect_svm_facts)
//! read (`GET /api/protocols/nfs/export-policies?fields=name,rules`) and the
//! nodes' addresses (Kubernetes `Node.status.addresses`).
//!
//! ONTAP's rules, as documented (NFS administration, "Add a rule to an
//! export policy" <https://docs.netapp.com/us-en/ontap/nfs-config/add-rule-export-policy-task.html>,
//! "Manage the processing order of export rules"
//! <https://docs.netapp.com/us-en/ontap/nfs-config/set-export-rules-index-number-task.html>,
//! and the REST `export_clients.match` reference
//! <https://docs.netapp.com/us-en/ontap-restapi/post-protocols-nfs-export-policies-rules-clients.html>):
//! - a policy without rules admits nobody; rules are checked in index order
//!   and the first rule that matches the client decides, a rule matching
//!   when both its clientmatch and its `protocols` do (a client no rule
//!   matches is refused) ("How export rules work"
//!   <https://docs.netapp.com/us-en/ontap/nfs-admin/export-rules-concept.html>,
//!   and the KB "How are NFS export-policies evaluated in ONTAP 9?");
//! - a mount also traverses the SVM root volume, whose policy is evaluated
//!   first and must grant read access;
//! - clientmatch is a host name, an IPv4/IPv6 address, an address with a
//!   prefix length (`10.1.12.0/24`, `0.0.0.0/0`) or a netmask
//!   (`10.1.16.0/255.255.255.0`), a netgroup (`@ng`) or a domain
//!   (`.example.com`);
//! - `protocols` must include the client's protocol (`any`, `nfs` = every
//!   version, `nfs3`, `nfs4`);
//! - access by security flavour ("How security types determine client
//!   access levels"
//!   <https://docs.netapp.com/us-en/ontap/nfs-admin/security-types-client-access-levels-concept.html>):
//!   the client's flavour (`sys` for AUTH_SYS)
//!   listed in `ro_rule` (or `any`) gives read access, and in `rw_rule` too
//!   read-write; `none` admits any flavour mapped to the anonymous user;
//!   `never` refuses. Read-write needs read access as well;
//! - `superuser` not admitting `sys` (e.g. `none`) squashes root to the
//!   anonymous user: mounts work, but root in a pod loses its rights.
//!
//! What cannot be known from here is reported as [`Verdict::CannotVerify`]:
//! netgroup membership, and DNS (a host name rule is compared to the node's
//! `Hostname`/`InternalDNS` addresses; a domain rule to qualified names).

use serde_json::Value;
use std::net::IpAddr;

pub use super::export_rule::{ExportRule, export_policies_from_json};

/// A client as an export rule sees it: a Kubernetes node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeAddresses {
    /// Node name.
    pub name: String,
    /// Addresses the node's NFS traffic may come from (`InternalIP`, or
    /// `ExternalIP` when it has no internal one).
    pub ips: Vec<IpAddr>,
    /// DNS names (`Hostname`, `InternalDNS`, `ExternalDNS`).
    pub hostnames: Vec<String>,
}

impl NodeAddresses {
    /// Reads a Kubernetes `Node` object (`metadata.name`,
    /// `status.addresses[{type, address}]`).
    pub fn from_node(node: &Value) -> NodeAddresses {
        let name = node
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let addrs: Vec<(&str, &str)> = node
            .pointer("/status/addresses")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        Some((
                            x.get("type").and_then(Value::as_str)?,
                            x.get("address").and_then(Value::as_str)?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ips_of = |kind: &str| -> Vec<IpAddr> {
            addrs
                .iter()
                .filter(|(t, _)| *t == kind)
                .filter_map(|(_, a)| a.trim().parse().ok())
                .collect()
        };
        let mut ips = ips_of("InternalIP");
        if ips.is_empty() {
            ips = ips_of("ExternalIP");
        }
        let hostnames = addrs
            .iter()
            .filter(|(t, _)| matches!(*t, "Hostname" | "InternalDNS" | "ExternalDNS"))
            .map(|(_, a)| a.trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty() && a.parse::<IpAddr>().is_err())
            .collect();
        NodeAddresses {
            name,
            ips,
            hostnames,
        }
    }

    fn describe(&self) -> String {
        let ips: Vec<String> = self.ips.iter().map(IpAddr::to_string).collect();
        if ips.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, ips.join(", "))
        }
    }
}

/// The access a mount needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessWanted {
    /// NFS major version, when known (3 or 4); `None` = not known.
    pub nfs_version: Option<u8>,
    /// Read-write (else read-only).
    pub read_write: bool,
    /// Security flavour (`sys` for AUTH_SYS).
    pub flavor: String,
}

impl AccessWanted {
    /// What Trident's NFS mount needs: read-write, AUTH_SYS, any NFS version.
    pub fn trident_nfs() -> AccessWanted {
        AccessWanted {
            nfs_version: None,
            read_write: true,
            flavor: "sys".into(),
        }
    }
}

mod report;
mod rules;
#[cfg(test)]
mod tests;
mod verdict;

pub use report::{ExportReport, check_volume_exports};
pub use rules::evaluate_node;
pub use verdict::{NodeDecision, RuleRef, Verdict};
