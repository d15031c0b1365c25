//! ONTAP's NFS export-rule evaluation, as the simulated ONTAP applies it
//! when a node mounts a volume: the policy's rules are taken in `index`
//! order and the first rule whose `clients` match the node and whose
//! `protocols` include NFS decides; `ro_rule` must grant the node's
//! security flavour (AUTH_SYS: `any`, `sys` or `none`) for the mount, and
//! `rw_rule` for writes. No matching rule, or an empty policy, denies.
//!
//! Client matches: `0.0.0.0/0`, `::/0`, an IP, a CIDR (`a.b.c.d/n` or
//! `a.b.c.d/255.255.255.0`), a host name, a `.domain` suffix, or a
//! comma-separated list of those. Netgroups (`@name`) cannot be resolved
//! in the lab and match nothing.

use std::net::IpAddr;

use serde_json::Value;

/// A client that mounts: its addresses and host name.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// IP addresses (Node `InternalIP`/`ExternalIP`).
    pub ips: Vec<IpAddr>,
    /// Host names (Node `Hostname`).
    pub hostnames: Vec<String>,
}

/// How a policy treats a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Read-write, by the rule with this index.
    ReadWrite(u64),
    /// Mount allowed but read-only, by the rule with this index.
    ReadOnly(u64),
    /// Denied: by the rule with this index, or (`None`) no rule matched.
    Denied(Option<u64>),
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect(),
        Value::String(s) => vec![s.to_ascii_lowercase()],
        _ => Vec::new(),
    }
}

fn prefix_len(mask: &str) -> Option<u32> {
    if let Ok(n) = mask.parse::<u32>() {
        return Some(n);
    }
    match mask.parse::<IpAddr>().ok()? {
        IpAddr::V4(m) => Some(u32::from(m).count_ones()),
        IpAddr::V6(m) => Some(u128::from(m).count_ones()),
    }
}

fn in_cidr(ip: &IpAddr, net: &str, mask: &str) -> bool {
    let (Ok(net), Some(len)) = (net.parse::<IpAddr>(), prefix_len(mask)) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if len <= 32 => {
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(*a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if len <= 128 => {
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(*a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

/// Whether one `clients[].match` value covers the client.
pub fn client_matches(matcher: &str, c: &Client) -> bool {
    matcher.split(',').map(str::trim).any(|m| {
        if m.is_empty() || m.starts_with('@') {
            return false;
        }
        if let Some((net, mask)) = m.split_once('/') {
            return c.ips.iter().any(|ip| in_cidr(ip, net, mask));
        }
        if let Ok(ip) = m.parse::<IpAddr>() {
            return c.ips.contains(&ip);
        }
        let m = m.to_ascii_lowercase();
        c.hostnames.iter().any(|h| {
            let h = h.to_ascii_lowercase();
            if m.starts_with('.') {
                h.ends_with(&m)
            } else {
                h == m
            }
        })
    })
}

fn grants_sys(flavours: &[String]) -> bool {
    flavours
        .iter()
        .any(|f| f == "any" || f == "sys" || f == "none")
}

/// How the policy with `rules` (ONTAP REST export-rule records) treats an
/// NFS mount from `client`.
pub fn evaluate(rules: &[Value], client: &Client) -> Access {
    let mut sorted: Vec<&Value> = rules.iter().collect();
    sorted.sort_by_key(|r| r["index"].as_u64().unwrap_or(u64::MAX));
    for r in sorted {
        let index = r["index"].as_u64().unwrap_or(0);
        let protocols = strings(&r["protocols"]);
        let nfs =
            protocols.is_empty() || protocols.iter().any(|p| p == "any" || p.starts_with("nfs"));
        let clients_match = r["clients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["match"].as_str())
            .any(|m| client_matches(m, client));
        if !(nfs && clients_match) {
            continue;
        }
        return if !grants_sys(&strings(&r["ro_rule"])) {
            Access::Denied(Some(index))
        } else if grants_sys(&strings(&r["rw_rule"])) {
            Access::ReadWrite(index)
        } else {
            Access::ReadOnly(index)
        };
    }
    Access::Denied(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(ip: &str, host: &str) -> Client {
        Client {
            ips: vec![ip.parse().expect("ip")],
            hostnames: vec![host.into()],
        }
    }

    fn rule(index: u64, m: &str, ro: &str, rw: &str) -> Value {
        json!({"index": index, "clients": [{"match": m}], "protocols": ["nfs"],
               "ro_rule": [ro], "rw_rule": [rw], "superuser": ["any"]})
    }

    #[test]
    fn clientmatch_forms() {
        let n = node("198.51.100.21", "dr-node-1.example.com");
        assert!(client_matches("0.0.0.0/0", &n));
        assert!(client_matches("198.51.100.0/24", &n));
        assert!(client_matches("198.51.100.0/255.255.255.0", &n));
        assert!(client_matches("192.0.2.11, 198.51.100.21", &n));
        assert!(!client_matches("192.0.2.0/24", &n));
        assert!(client_matches("DR-NODE-1.example.com", &n));
        assert!(client_matches(".example.com", &n));
        assert!(!client_matches("@k8s-nodes", &n));
        assert!(!client_matches("::/0", &n));
    }

    #[test]
    fn first_matching_rule_by_index_decides() {
        let n = node("198.51.100.21", "dr-node-1");
        // Rule 1 (listed last) denies the DR subnet before rule 2 allows all.
        let rules = vec![
            rule(2, "0.0.0.0/0", "any", "any"),
            rule(1, "198.51.100.0/24", "never", "never"),
        ];
        assert_eq!(evaluate(&rules, &n), Access::Denied(Some(1)));
        let rules = vec![rule(1, "192.0.2.0/24", "sys", "sys")];
        assert_eq!(evaluate(&rules, &n), Access::Denied(None));
        let rules = vec![rule(1, "198.51.100.21", "sys", "never")];
        assert_eq!(evaluate(&rules, &n), Access::ReadOnly(1));
        let mut cifs = rule(1, "0.0.0.0/0", "any", "never");
        cifs["protocols"] = json!(["cifs"]);
        let rules = vec![cifs, rule(2, "0.0.0.0/0", "any", "any")];
        assert_eq!(evaluate(&rules, &n), Access::ReadWrite(2));
        assert_eq!(evaluate(&[], &n), Access::Denied(None));
    }
}
