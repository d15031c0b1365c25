//! What ONTAP answers an NFS client that mounts a volume: the SVM must
//! serve NFS, the volume must be online and mounted in the namespace, and
//! the export policies must admit the client, the SVM root volume's for
//! read (the mount walks through it) and the volume's for the access asked.
//!
//! Export rule semantics, from ONTAP's NFS documentation ("How export rules
//! work", nfs-admin/export-rules-concept.html; "How security types determine
//! client access levels", nfs-admin/security-types-client-access-levels-concept.html;
//! the KB "How are NFS export-policies evaluated in ONTAP 9?"): rules are
//! tried in index order; the first whose clientmatch and protocols both
//! match the client decides; no match refuses. The client's flavour (here
//! always AUTH_SYS, `sys`) in `ro_rule` (or `any`, or `none` as the
//! anonymous user) gives read access, and also in `rw_rule` read-write;
//! `never` refuses. The simulator has no DNS and no netgroups: a host name
//! matches the client's host name, a domain (`.dom`) its suffix, and a
//! netgroup never matches.

use std::net::IpAddr;

use super::world::{ExportRule, World};

/// An NFS client of the lab.
#[derive(Debug, Clone)]
pub struct NfsClient {
    /// The address the mount comes from.
    pub ip: IpAddr,
    /// The client's host name (for host name and domain rules).
    pub hostname: Option<String>,
}

fn norm(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_bits(mask: &str) -> Option<u32> {
    if let Ok(b) = mask.parse::<u32>() {
        return Some(b);
    }
    match mask.parse::<IpAddr>().ok()? {
        IpAddr::V4(m) => {
            let m = u32::from(m);
            (m.leading_ones() + m.trailing_zeros() == 32).then_some(m.leading_ones())
        }
        IpAddr::V6(_) => None,
    }
}

/// Does one clientmatch entry match the client?
fn client_matches(pattern: &str, c: &NfsClient) -> bool {
    let p = pattern.trim().to_ascii_lowercase();
    if p.starts_with('@') || p.is_empty() {
        return false;
    }
    if let Some((addr, mask)) = p.split_once('/') {
        let (Ok(net), Some(bits)) = (addr.parse::<IpAddr>(), prefix_bits(mask)) else {
            return false;
        };
        return match (norm(net), norm(c.ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
                let m = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(n) & m == u32::from(a) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
                let m = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        };
    }
    if let Ok(a) = p.parse::<IpAddr>() {
        return norm(a) == norm(c.ip);
    }
    let Some(host) = c.hostname.as_deref().map(str::to_ascii_lowercase) else {
        return false;
    };
    match p.strip_prefix('.') {
        Some(domain) => host.ends_with(&format!(".{domain}")),
        None => host == p,
    }
}

fn rule_applies(r: &ExportRule, c: &NfsClient) -> bool {
    let nfs = r
        .protocols
        .iter()
        .any(|p| matches!(p.as_str(), "any" | "nfs" | "nfs3" | "nfs4"));
    nfs && r
        .clients
        .iter()
        .flat_map(|m| m.matches.split(','))
        .any(|m| client_matches(m, c))
}

fn grants(list: &[String]) -> bool {
    list.iter().any(|f| matches!(f.as_str(), "sys" | "any"))
        || (list.iter().any(|f| f == "none") && !list.iter().any(|f| f == "never"))
}

/// Checks one policy; `Err` says why the client is refused.
fn check_policy(
    w: &World,
    svm: &str,
    policy: &str,
    c: &NfsClient,
    read_write: bool,
) -> Result<(), String> {
    let Some(p) = w.export_policy(svm, policy) else {
        return Err(format!("export policy {policy} does not exist"));
    };
    let Some(rule) = p.rules.iter().find(|r| rule_applies(r, c)) else {
        return Err(format!(
            "no rule of export policy {policy} matches client {}",
            c.ip
        ));
    };
    let at = format!(
        "export policy {policy} rule {} (clientmatch {})",
        rule.index,
        rule.clients
            .iter()
            .map(|m| m.matches.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    if !grants(&rule.ro_rule) {
        return Err(format!("{at} gives AUTH_SYS clients no access"));
    }
    if read_write && !grants(&rule.rw_rule) {
        return Err(format!("{at} gives AUTH_SYS clients read-only access"));
    }
    Ok(())
}

impl World {
    /// Would an NFS mount of `volume` (SVM uuid `svm`) by `client` succeed,
    /// read-write or read-only? `Err` is the reason ONTAP refuses.
    pub fn nfs_mount(
        &self,
        svm: &str,
        volume: &str,
        client: &NfsClient,
        read_write: bool,
    ) -> Result<(), String> {
        let s = self.svm(svm).ok_or("no such SVM")?;
        if !self.svm_serving(svm) || s.subtype == "dp_destination" || !s.nfs {
            return Err(format!("SVM {} does not serve NFS", s.name));
        }
        let v = self
            .volumes
            .iter()
            .find(|v| v.svm == svm && v.name == volume)
            .ok_or_else(|| format!("no volume {volume} in SVM {}", s.name))?;
        if v.state != "online" || v.junction.is_none() {
            return Err(format!(
                "volume {volume} is not mounted in the namespace (state {})",
                v.state
            ));
        }
        if let Some(root) = self.volumes.iter().find(|r| r.svm == svm && r.is_svm_root)
            && root.export_policy != v.export_policy
        {
            check_policy(self, svm, &root.export_policy, client, false)
                .map_err(|e| format!("SVM root volume {}: {e}", root.name))?;
        }
        check_policy(self, svm, &v.export_policy, client, read_write)
            .map_err(|e| format!("volume {volume}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontap::world::ClientMatch;

    fn rule(index: u64, m: &str) -> ExportRule {
        ExportRule {
            index,
            clients: vec![ClientMatch { matches: m.into() }],
            protocols: vec!["nfs".into()],
            ro_rule: vec!["sys".into()],
            rw_rule: vec!["sys".into()],
            superuser: vec!["sys".into()],
            anonymous_user: "65534".into(),
            allow_suid: true,
            allow_device_creation: true,
            ntfs_unix_security: "fail".into(),
            chown_mode: "restricted".into(),
        }
    }

    fn client(ip: &str, host: Option<&str>) -> NfsClient {
        NfsClient {
            ip: ip.parse().unwrap(),
            hostname: host.map(str::to_string),
        }
    }

    #[test]
    fn clientmatch_forms() {
        let c = client("198.51.100.21", Some("dr-node-1.dr.example.com"));
        for (m, want) in [
            ("198.51.100.21", true),
            ("198.51.100.22", false),
            ("198.51.100.0/24", true),
            ("198.51.100.0/255.255.255.0", true),
            ("192.0.2.0/24", false),
            ("0.0.0.0/0", true),
            ("dr-node-1.dr.example.com", true),
            (".example.com", true),
            (".other.com", false),
            ("@nodes", false),
            ("192.0.2.11,198.51.100.21", true),
            ("192.0.2.11, 198.51.100.21", true),
            ("DR-NODE-1.dr.example.com", true),
            ("::/0", false),
        ] {
            assert_eq!(rule_applies(&rule(1, m), &c), want, "{m}");
        }
    }

    #[test]
    fn access_levels() {
        assert!(grants(&["sys".into()]));
        assert!(grants(&["none".into()]));
        assert!(!grants(&["krb5".into()]));
        assert!(!grants(&["never".into()]));
        let mut cifs = rule(1, "0.0.0.0/0");
        cifs.protocols = vec!["cifs".into()];
        assert!(!rule_applies(&cifs, &client("198.51.100.21", None)));
    }
}
