//! ONTAP's rule evaluation: clientmatch, protocols, access by security
//! flavour, and the first matching rule deciding (see the module header).

use std::net::IpAddr;

use super::{AccessWanted, ExportRule, NodeAddresses, NodeDecision, RuleRef, Verdict};

/// Does a clientmatch match a client? `None`: cannot tell.
enum Match {
    Yes,
    No,
    Unknown(String),
}

fn norm(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_prefix(net: IpAddr, bits: u32, ip: IpAddr) -> bool {
    match (norm(net), norm(ip)) {
        (IpAddr::V4(n), IpAddr::V4(c)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(c) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(c)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(c) & mask
        }
        _ => false,
    }
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

fn client_matches(pattern: &str, ip: IpAddr, hostnames: &[String]) -> Match {
    let p = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    let lowered: Vec<String> = hostnames
        .iter()
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .collect();
    let hostnames = lowered.as_slice();
    if p.is_empty() {
        return Match::No;
    }
    if let Some(ng) = p.strip_prefix('@') {
        return Match::Unknown(format!(
            "netgroup @{ng}: its members are in NIS/LDAP or the SVM's netgroup file, not readable here"
        ));
    }
    if let Some((addr, mask)) = p.split_once('/') {
        let Ok(net) = addr.trim_matches(['[', ']']).parse::<IpAddr>() else {
            return Match::Unknown(format!("clientmatch {pattern} is not an address/prefix"));
        };
        let bits = match (mask.parse::<u32>(), mask.parse::<IpAddr>()) {
            (Ok(b), _) => b,
            (_, Ok(IpAddr::V4(m))) => {
                let m = u32::from(m);
                if m.leading_ones() + m.trailing_zeros() != 32 {
                    return Match::Unknown(format!("netmask in {pattern} is not contiguous"));
                }
                m.leading_ones()
            }
            _ => return Match::Unknown(format!("clientmatch {pattern} has a bad mask")),
        };
        return if in_prefix(net, bits, ip) {
            Match::Yes
        } else {
            Match::No
        };
    }
    if let Ok(a) = p.trim_matches(['[', ']']).parse::<IpAddr>() {
        return if norm(a) == norm(ip) {
            Match::Yes
        } else {
            Match::No
        };
    }
    if let Some(domain) = p.strip_prefix('.') {
        let suffix = format!(".{domain}");
        if hostnames.iter().any(|h| h.ends_with(&suffix)) {
            return Match::Yes;
        }
        if hostnames.iter().any(|h| h.contains('.')) {
            return Match::No;
        }
        return Match::Unknown(format!(
            "domain {p}: the node has no fully qualified name, ONTAP would look its address up in DNS"
        ));
    }
    // A host name: ONTAP resolves it; compare with the node's names (a
    // short name equals the first label of a qualified one).
    if hostnames.is_empty() {
        return Match::Unknown(format!(
            "host name {p}: the node reports no Hostname address to compare"
        ));
    }
    let hit = hostnames
        .iter()
        .any(|h| h == &p || ((!h.contains('.') || !p.contains('.')) && short(h) == short(&p)));
    if hit { Match::Yes } else { Match::No }
}

fn has(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(v))
}

/// What a matching rule grants: `Ok(warnings)` or `Err(reason)`.
/// Does a rule's `protocols` cover the client's NFS mount?
fn protocol_matches(rule: &ExportRule, want: &AccessWanted) -> Match {
    let protos = &rule.protocols;
    if protos.is_empty() || has(protos, "any") || has(protos, "nfs") {
        return Match::Yes;
    }
    let versions: Vec<u8> = [(3, "nfs3"), (4, "nfs4")]
        .iter()
        .filter(|(_, p)| has(protos, p))
        .map(|(v, _)| *v)
        .collect();
    match want.nfs_version {
        _ if versions.is_empty() => Match::No,
        Some(v) if versions.contains(&v) => Match::Yes,
        Some(_) => Match::No,
        None => Match::Unknown(format!(
            "the rule applies to {} only and the mount's NFS version is not known \
             (set nfsvers in the StorageClass mountOptions)",
            protos.join("/")
        )),
    }
}

fn access(rule: &ExportRule, want: &AccessWanted) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let anon = rule.anonymous_user.as_deref().unwrap_or("65534");
    let grant = |list: &[String]| -> Option<bool> {
        if has(list, &want.flavor) || has(list, "any") {
            Some(true)
        } else if has(list, "never") {
            None
        } else if has(list, "none") {
            Some(false)
        } else {
            None
        }
    };
    let flavor = &want.flavor;
    match grant(&rule.ro_rule) {
        None => {
            return Err(format!(
                "ro_rule [{}] gives no access to AUTH_{} clients",
                rule.ro_rule.join(", "),
                flavor.to_ascii_uppercase()
            ));
        }
        Some(false) => warnings.push(format!("reads run as anonymous user {anon} (ro_rule none)")),
        Some(true) => {}
    }
    if want.read_write {
        match grant(&rule.rw_rule) {
            None => {
                return Err(format!(
                    "read-only: rw_rule [{}] gives no write access to AUTH_{} clients",
                    rule.rw_rule.join(", "),
                    flavor.to_ascii_uppercase()
                ));
            }
            Some(false) => warnings.push(format!(
                "writes run as anonymous user {anon} (rw_rule none)"
            )),
            Some(true) => {}
        }
    }
    if !(has(&rule.superuser, flavor) || has(&rule.superuser, "any")) {
        warnings.push(format!(
            "root is squashed to anonymous user {anon} (superuser [{}])",
            rule.superuser.join(", ")
        ));
    }
    Ok(warnings)
}

/// Evaluates a policy's rules for one client address (first match decides).
fn evaluate_ip(
    rules: &[ExportRule],
    ip: IpAddr,
    node: &NodeAddresses,
    want: &AccessWanted,
) -> Verdict {
    let mut sorted: Vec<&ExportRule> = rules.iter().collect();
    sorted.sort_by_key(|r| r.index);
    // A rule whose match cannot be decided, seen before the deciding one.
    let mut unknown: Option<(RuleRef, String, bool)> = None;
    for rule in sorted {
        let mut m = Match::No;
        for c in rule.clients.iter().flat_map(|c| c.split(',')) {
            match client_matches(c, ip, &node.hostnames) {
                Match::Yes => {
                    m = Match::Yes;
                    break;
                }
                Match::Unknown(why) if matches!(m, Match::No) => m = Match::Unknown(why),
                _ => {}
            }
        }
        // Every criterion of a rule must match for it to apply.
        m = match (m, protocol_matches(rule, want)) {
            (Match::No, _) | (_, Match::No) => Match::No,
            (Match::Yes, Match::Yes) => Match::Yes,
            (Match::Unknown(why), _) | (_, Match::Unknown(why)) => Match::Unknown(why),
        };
        let r = RuleRef {
            index: rule.index,
            clientmatch: rule.clientmatch(),
        };
        let verdict = |r: RuleRef| match access(rule, want) {
            Ok(warnings) => Verdict::Admitted { rule: r, warnings },
            Err(reason) => Verdict::Denied {
                rule: Some(r),
                reason,
            },
        };
        match m {
            Match::No => {}
            Match::Unknown(why) => {
                if unknown.is_none() {
                    unknown = Some((r, why, access(rule, want).is_ok()));
                }
            }
            Match::Yes => return settle(unknown, verdict(r)),
        }
    }
    let none = Verdict::Denied {
        rule: None,
        reason: if rules.is_empty() {
            "the policy has no rules, so it admits no client".into()
        } else {
            let listed: Vec<String> = rules
                .iter()
                .map(|r| format!("{}: {}", r.index, r.clientmatch()))
                .collect();
            format!("no rule matches {ip} (rules {})", listed.join("; "))
        },
    };
    settle(unknown, none)
}

/// An undecidable rule before the deciding one changes nothing when it
/// would give the same answer; otherwise the result cannot be verified.
fn settle(unknown: Option<(RuleRef, String, bool)>, decided: Verdict) -> Verdict {
    match unknown {
        Some((rule, why, admits)) if admits != decided.is_admitted() => Verdict::CannotVerify {
            rule: Some(rule),
            reason: why,
        },
        _ => decided,
    }
}

/// Evaluates export policy `policy` (its `rules`) for a node: every address
/// it may mount from is checked, and the worst outcome is the node's.
pub fn evaluate_node(
    policy: &str,
    rules: &[ExportRule],
    node: &NodeAddresses,
    want: &AccessWanted,
) -> NodeDecision {
    let verdict = if node.ips.is_empty() {
        Verdict::CannotVerify {
            rule: None,
            reason: format!(
                "node {} reports no InternalIP or ExternalIP address",
                node.name
            ),
        }
    } else {
        node.ips
            .iter()
            .map(|ip| evaluate_ip(rules, *ip, node, want))
            .max_by_key(Verdict::rank)
            .unwrap_or(Verdict::CannotVerify {
                rule: None,
                reason: "no address".into(),
            })
    };
    NodeDecision {
        policy: policy.to_string(),
        node: node.clone(),
        verdict,
    }
}
