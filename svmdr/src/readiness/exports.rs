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

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde_json::Value;

use super::check::NotReady;
use super::facts::SvmFacts;

/// One export rule, as ONTAP's REST API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportRule {
    /// `index` (evaluation order).
    pub index: u64,
    /// `clients[].match`.
    pub clients: Vec<String>,
    /// `protocols` (`any`, `nfs`, `nfs3`, `nfs4`, `cifs`, `flexcache`).
    pub protocols: Vec<String>,
    /// `ro_rule` security flavours.
    pub ro_rule: Vec<String>,
    /// `rw_rule` security flavours.
    pub rw_rule: Vec<String>,
    /// `superuser` security flavours.
    pub superuser: Vec<String>,
    /// `anonymous_user` (user id anonymous access maps to).
    pub anonymous_user: Option<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

impl ExportRule {
    /// Decodes one REST rule record (missing lists stay empty).
    pub fn from_json(v: &Value) -> ExportRule {
        ExportRule {
            index: v.get("index").and_then(Value::as_u64).unwrap_or(0),
            clients: v
                .get("clients")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.get("match").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            protocols: strings(v, "protocols"),
            ro_rule: strings(v, "ro_rule"),
            rw_rule: strings(v, "rw_rule"),
            superuser: strings(v, "superuser"),
            anonymous_user: v.get("anonymous_user").and_then(|a| match a {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
        }
    }

    /// The clientmatch text (`a,b`), for messages.
    pub fn clientmatch(&self) -> String {
        self.clients.join(",")
    }
}

/// Decodes `GET /api/protocols/nfs/export-policies?fields=name,rules`
/// records into policy name → rules sorted by index.
pub fn export_policies_from_json(records: &[Value]) -> BTreeMap<String, Vec<ExportRule>> {
    records
        .iter()
        .filter_map(|p| {
            let name = p.get("name").and_then(Value::as_str)?;
            let mut rules: Vec<ExportRule> = p
                .get("rules")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(ExportRule::from_json).collect())
                .unwrap_or_default();
            rules.sort_by_key(|r| r.index);
            Some((name.to_string(), rules))
        })
        .collect()
}

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

/// The rule a verdict names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    /// Rule index.
    pub index: u64,
    /// Its clientmatch text.
    pub clientmatch: String,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {} (clientmatch {})", self.index, self.clientmatch)
    }
}

/// The outcome for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The mount is allowed by `rule`; `warnings` note root squash,
    /// anonymous access or a version restriction.
    Admitted {
        /// The deciding rule.
        rule: RuleRef,
        /// Things that work but may surprise.
        warnings: Vec<String>,
    },
    /// The mount would be refused.
    Denied {
        /// The deciding rule (`None`: no rule matches).
        rule: Option<RuleRef>,
        /// Why.
        reason: String,
    },
    /// The answer depends on what cannot be checked from here.
    CannotVerify {
        /// The rule that cannot be decided (`None`: the policy itself is unknown).
        rule: Option<RuleRef>,
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// Admitted?
    pub fn is_admitted(&self) -> bool {
        matches!(self, Verdict::Admitted { .. })
    }
    /// Denied?
    pub fn is_denied(&self) -> bool {
        matches!(self, Verdict::Denied { .. })
    }
    fn rank(&self) -> u8 {
        match self {
            Verdict::Admitted { .. } => 0,
            Verdict::CannotVerify { .. } => 1,
            Verdict::Denied { .. } => 2,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Admitted { rule, warnings } if warnings.is_empty() => {
                write!(f, "admitted by {rule}")
            }
            Verdict::Admitted { rule, warnings } => {
                write!(f, "admitted by {rule} ({})", warnings.join("; "))
            }
            Verdict::Denied {
                rule: Some(rule),
                reason,
            } => write!(f, "refused by {rule}: {reason}"),
            Verdict::Denied { rule: None, reason } => write!(f, "refused: {reason}"),
            Verdict::CannotVerify {
                rule: Some(rule),
                reason,
            } => write!(f, "cannot verify {rule}: {reason}"),
            Verdict::CannotVerify { rule: None, reason } => write!(f, "cannot verify: {reason}"),
        }
    }
}

/// One node's result against one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDecision {
    /// The policy evaluated.
    pub policy: String,
    /// The node.
    pub node: NodeAddresses,
    /// The outcome (the worst over the node's addresses).
    pub verdict: Verdict,
}

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

/// Every node's result for the export policy of one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Cluster label.
    pub cluster: String,
    /// SVM name.
    pub svm: String,
    /// The volume checked (`None`: a policy checked on its own).
    pub volume: Option<String>,
    /// Policy name.
    pub policy: String,
    /// One decision per node.
    pub decisions: Vec<NodeDecision>,
}

impl ExportReport {
    /// Every node is admitted.
    pub fn all_admitted(&self) -> bool {
        self.decisions.iter().all(|d| d.verdict.is_admitted())
    }

    /// Nodes that would be refused.
    pub fn denied(&self) -> Vec<&NodeDecision> {
        self.decisions
            .iter()
            .filter(|d| d.verdict.is_denied())
            .collect()
    }

    /// Nodes whose access cannot be verified.
    pub fn unverifiable(&self) -> Vec<&NodeDecision> {
        self.decisions
            .iter()
            .filter(|d| matches!(d.verdict, Verdict::CannotVerify { .. }))
            .collect()
    }

    /// Warnings of admitted nodes (`node: warning`), deduplicated.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in &self.decisions {
            if let Verdict::Admitted { rule, warnings } = &d.verdict {
                for w in warnings {
                    let line = format!("export policy {} {rule}: {w}", self.policy);
                    if !out.contains(&line) {
                        out.push(line);
                    }
                }
            }
        }
        out
    }

    /// The ONTAP CLI command that admits the refused (and unverifiable)
    /// nodes ahead of every other rule.
    pub fn fix_command(&self) -> String {
        // One command per policy that refuses (the volume's, or the SVM
        // root volume's, which only needs to grant read access).
        let mut per_policy: Vec<(String, Vec<String>)> = Vec::new();
        for d in self.decisions.iter().filter(|d| !d.verdict.is_admitted()) {
            let i = match per_policy.iter().position(|(p, _)| *p == d.policy) {
                Some(i) => i,
                None => {
                    per_policy.push((d.policy.clone(), vec![]));
                    per_policy.len() - 1
                }
            };
            for ip in &d.node.ips {
                let s = ip.to_string();
                if !per_policy[i].1.contains(&s) {
                    per_policy[i].1.push(s);
                }
            }
        }
        if per_policy.is_empty() {
            per_policy.push((self.policy.clone(), vec![]));
        }
        per_policy
            .iter()
            .map(|(policy, ips)| {
                let clients = if ips.is_empty() {
                    "<node addresses or CIDR>".to_string()
                } else {
                    ips.join(",")
                };
                let rw = if *policy == self.policy { "sys" } else { "never" };
                format!(
                    "vserver export-policy rule create -vserver {} -policyname {policy} -ruleindex 1 \
                     -clientmatch {clients} -protocol nfs -rorule sys -rwrule {rw} -superuser sys",
                    self.svm
                )
            })
            .collect::<Vec<_>>()
            .join("` and `")
    }

    /// `None` when every node is admitted; else
    /// [`NotReady::ExportNotAllowed`] carrying [`ExportReport::message`].
    pub fn not_ready(&self) -> Option<NotReady> {
        Some(NotReady::ExportNotAllowed {
            cluster: self.cluster.clone(),
            svm: self.svm.clone(),
            volume: self.volume.clone().unwrap_or_default(),
            policy: self.policy.clone(),
            detail: self.message()?,
        })
    }

    /// `None` when every node is admitted; else a message naming the
    /// policy, the volume, each refused or unverifiable node with the
    /// deciding rule, and the fix.
    pub fn message(&self) -> Option<String> {
        if self.all_admitted() {
            return None;
        }
        let bad: Vec<String> = self
            .decisions
            .iter()
            .filter(|d| !d.verdict.is_admitted())
            .map(|d| {
                let which = if d.policy == self.policy {
                    String::new()
                } else {
                    format!("SVM root volume policy {} ", d.policy)
                };
                format!("{}: {which}{}", d.node.describe(), d.verdict)
            })
            .collect();
        let of = match &self.volume {
            Some(v) => format!(" (used by volume {v})"),
            None => String::new(),
        };
        let what = if self.denied().is_empty() {
            "cannot be shown to allow"
        } else {
            "does not allow"
        };
        Some(format!(
            "export policy {} of SVM {} on {}{of} {what} NFS read-write mounts (AUTH_SYS) from {} of {} node(s): {}; \
             fix: `{}` (or let Trident manage the export policy: a backend with autoExportPolicy and a managed import)",
            self.policy,
            self.svm,
            self.cluster,
            bad.len(),
            self.decisions.len(),
            bad.join("; "),
            self.fix_command()
        ))
    }
}

/// Checks the export policy of `volume` (from `facts`) for every node.
/// A volume or policy the facts do not have gives `CannotVerify` for each
/// node, saying why.
pub fn check_volume_exports(
    facts: &SvmFacts,
    volume: &str,
    nodes: &[NodeAddresses],
    want: &AccessWanted,
) -> ExportReport {
    let policy = facts
        .volumes
        .get(volume)
        .and_then(|v| v.export_policy.clone());
    let (policy_name, problem) = match (&policy, &facts.export_policies_error) {
        (_, Some(err)) => (
            policy.clone().unwrap_or_else(|| "?".into()),
            Some(format!(
                "the SVM's export policies could not be read: {err}"
            )),
        ),
        (None, None) => (
            "?".into(),
            Some(format!(
                "volume {volume} has no export policy in the facts (not found, or nas.export_policy not reported)"
            )),
        ),
        (Some(p), None) if !facts.export_policies.contains_key(p) => (
            p.clone(),
            Some(format!("export policy {p} does not exist on the SVM")),
        ),
        (Some(p), None) => (p.clone(), None),
    };
    let decisions = nodes
        .iter()
        .map(|n| match &problem {
            Some(reason) => NodeDecision {
                policy: policy_name.clone(),
                node: n.clone(),
                verdict: Verdict::CannotVerify {
                    rule: None,
                    reason: reason.clone(),
                },
            },
            None => {
                let rules = |p: &str| {
                    facts
                        .export_policies
                        .get(p)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                };
                let vol = evaluate_node(&policy_name, rules(&policy_name), n, want);
                // The mount traverses the root volume: its policy must
                // grant read access (checked first by ONTAP).
                let root = facts
                    .root_export_policy
                    .as_deref()
                    .filter(|r| *r != policy_name && facts.export_policies.contains_key(*r))
                    .map(|r| {
                        let read = AccessWanted {
                            read_write: false,
                            ..want.clone()
                        };
                        evaluate_node(r, rules(r), n, &read)
                    });
                match root {
                    Some(r) if r.verdict.rank() > vol.verdict.rank() => r,
                    _ => vol,
                }
            }
        })
        .collect();
    ExportReport {
        cluster: facts.cluster.clone(),
        svm: facts.svm.clone(),
        volume: Some(volume.to_string()),
        policy: policy_name,
        decisions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(index: u64, clients: &[&str]) -> ExportRule {
        ExportRule {
            index,
            clients: clients.iter().map(|c| c.to_string()).collect(),
            protocols: vec!["nfs".into()],
            ro_rule: vec!["sys".into()],
            rw_rule: vec!["sys".into()],
            superuser: vec!["sys".into()],
            anonymous_user: Some("65534".into()),
        }
    }

    fn node(name: &str, ips: &[&str], hostname: Option<&str>) -> NodeAddresses {
        NodeAddresses {
            name: name.into(),
            ips: ips.iter().map(|i| i.parse().unwrap()).collect(),
            hostnames: hostname.map(|h| vec![h.to_string()]).unwrap_or_default(),
        }
    }

    fn dr1() -> NodeAddresses {
        node("dr-node-1", &["198.51.100.21"], Some("dr-node-1"))
    }

    fn verdict(rules: &[ExportRule], n: &NodeAddresses) -> Verdict {
        evaluate_node("p", rules, n, &AccessWanted::trident_nfs()).verdict
    }

    fn admitted_by(v: &Verdict) -> Option<u64> {
        match v {
            Verdict::Admitted { rule, .. } => Some(rule.index),
            _ => None,
        }
    }

    #[test]
    fn single_ipv4_and_ipv6_addresses() {
        assert_eq!(
            admitted_by(&verdict(&[rule(1, &["198.51.100.21"])], &dr1())),
            Some(1)
        );
        assert!(verdict(&[rule(1, &["198.51.100.22"])], &dr1()).is_denied());
        let v6 = node("n", &["2001:db8::5"], None);
        assert_eq!(
            admitted_by(&verdict(&[rule(1, &["2001:db8:0::5"])], &v6)),
            Some(1)
        );
        assert!(verdict(&[rule(1, &["2001:db8::6"])], &v6).is_denied());
        // An IPv4-mapped IPv6 client is its IPv4 address.
        let mapped = node("n", &["::ffff:198.51.100.21"], None);
        assert!(verdict(&[rule(1, &["198.51.100.21"])], &mapped).is_admitted());
    }

    #[test]
    fn cidr_netmask_and_everyone() {
        assert!(verdict(&[rule(1, &["198.51.100.0/24"])], &dr1()).is_admitted());
        assert!(verdict(&[rule(1, &["198.51.100.16/29"])], &dr1()).is_admitted());
        assert!(verdict(&[rule(1, &["198.51.100.0/255.255.255.0"])], &dr1()).is_admitted());
        assert!(verdict(&[rule(1, &["198.51.100.16/30"])], &dr1()).is_denied());
        assert!(verdict(&[rule(1, &["192.0.2.0/24"])], &dr1()).is_denied());
        assert!(verdict(&[rule(1, &["0.0.0.0/0"])], &dr1()).is_admitted());
        let v6 = node("n", &["2001:db8:1::7"], None);
        assert!(verdict(&[rule(1, &["2001:db8::/32"])], &v6).is_admitted());
        assert!(verdict(&[rule(1, &["::/0"])], &v6).is_admitted());
        // An IPv4 prefix never matches an IPv6 client.
        assert!(verdict(&[rule(1, &["0.0.0.0/0"])], &v6).is_denied());
        // A non-contiguous netmask cannot be evaluated.
        assert!(matches!(
            verdict(&[rule(1, &["198.51.100.0/255.0.255.0"])], &dr1()),
            Verdict::CannotVerify { .. }
        ));
    }

    #[test]
    fn host_names_and_domains() {
        assert!(verdict(&[rule(1, &["DR-NODE-1"])], &dr1()).is_admitted());
        assert!(verdict(&[rule(1, &["dr-node-1.example.com"])], &dr1()).is_admitted());
        assert!(verdict(&[rule(1, &["dr-node-2"])], &dr1()).is_denied());
        let fq = node("n", &["198.51.100.21"], Some("DR-Node-1.dr.Example.com."));
        assert!(verdict(&[rule(1, &[".example.com"])], &fq).is_admitted());
        assert!(verdict(&[rule(1, &[".other.com"])], &fq).is_denied());
        assert!(verdict(&[rule(1, &["dr-node-1.other.com"])], &fq).is_denied());
        // A short hostname cannot be placed in a domain without DNS.
        assert!(matches!(
            verdict(&[rule(1, &[".example.com"])], &dr1()),
            Verdict::CannotVerify {
                rule: Some(RuleRef { index: 1, .. }),
                ..
            }
        ));
        // No Hostname address at all: a host name rule cannot be checked.
        let bare = node("n", &["198.51.100.21"], None);
        assert!(matches!(
            verdict(&[rule(1, &["dr-node-1"])], &bare),
            Verdict::CannotVerify { .. }
        ));
    }

    #[test]
    fn netgroups_cannot_be_verified_unless_it_does_not_matter() {
        let v = verdict(&[rule(1, &["@k8s-nodes"])], &dr1());
        assert!(
            matches!(&v, Verdict::CannotVerify { rule: Some(r), reason } if r.index == 1 && reason.contains("netgroup")),
            "{v:?}"
        );
        // A netgroup rule that would admit, before a rule that admits anyway.
        let rules = [rule(1, &["@k8s-nodes"]), rule(2, &["0.0.0.0/0"])];
        assert_eq!(admitted_by(&verdict(&rules, &dr1())), Some(2));
        // ... but before a denial it decides the answer.
        let mut deny = rule(2, &["0.0.0.0/0"]);
        deny.rw_rule = vec!["never".into()];
        let rules = [rule(1, &["@k8s-nodes"]), deny];
        assert!(matches!(
            verdict(&rules, &dr1()),
            Verdict::CannotVerify { .. }
        ));
    }

    #[test]
    fn first_matching_rule_decides() {
        let mut ro = rule(1, &["198.51.100.0/24"]);
        ro.rw_rule = vec!["never".into()];
        let rules = [rule(2, &["0.0.0.0/0"]), ro];
        // Index order, not list order: rule 1 (read-only) matches first.
        let v = verdict(&rules, &dr1());
        assert!(
            matches!(&v, Verdict::Denied { rule: Some(r), reason } if r.index == 1 && reason.contains("read-only")),
            "{v:?}"
        );
        // A rule for other clients is skipped.
        let rules = [
            rule(1, &["192.0.2.11", "192.0.2.12"]),
            rule(2, &["198.51.100.21"]),
        ];
        assert_eq!(admitted_by(&verdict(&rules, &dr1())), Some(2));
        // No rule matches: refused, naming nobody.
        let v = verdict(&[rule(1, &["192.0.2.11"])], &dr1());
        assert!(
            matches!(&v, Verdict::Denied { rule: None, reason } if reason.contains("no rule matches"))
        );
        // An empty policy admits nobody.
        assert!(verdict(&[], &dr1()).is_denied());
    }

    #[test]
    fn protocols_and_flavours() {
        let mut r = rule(1, &["0.0.0.0/0"]);
        r.protocols = vec!["cifs".into()];
        assert!(verdict(&[r.clone()], &dr1()).is_denied());
        r.protocols = vec!["any".into()];
        assert!(verdict(&[r.clone()], &dr1()).is_admitted());
        // A protocol that does not match skips the rule, like a clientmatch.
        let mut cifs = rule(1, &["0.0.0.0/0"]);
        cifs.protocols = vec!["cifs".into()];
        let rules = [cifs, rule(2, &["198.51.100.0/24"])];
        assert_eq!(admitted_by(&verdict(&rules, &dr1())), Some(2));
        r.protocols = vec!["nfs3".into()];
        let v = verdict(&[r.clone()], &dr1());
        assert!(
            matches!(&v, Verdict::CannotVerify { reason, .. } if reason.contains("nfs3")),
            "{v:?}"
        );
        let with = |v: u8| AccessWanted {
            nfs_version: Some(v),
            ..AccessWanted::trident_nfs()
        };
        let on = |v: u8| evaluate_node("p", &[r.clone()], &dr1(), &with(v)).verdict;
        assert!(on(4).is_denied());
        assert!(on(3).is_admitted());

        let mut r = rule(1, &["0.0.0.0/0"]);
        r.ro_rule = vec!["krb5".into()];
        assert!(verdict(&[r.clone()], &dr1()).is_denied());
        r.ro_rule = vec!["any".into()];
        r.rw_rule = vec!["krb5".into(), "never".into()];
        assert!(verdict(&[r.clone()], &dr1()).is_denied());
        r.rw_rule = vec!["none".into()];
        assert!(
            matches!(verdict(&[r.clone()], &dr1()), Verdict::Admitted { warnings, .. } if warnings.iter().any(|w| w.contains("anonymous")))
        );
        // Root squash is a warning, not a denial.
        let mut r = rule(1, &["0.0.0.0/0"]);
        r.superuser = vec!["none".into()];
        let v = verdict(&[r], &dr1());
        assert!(
            matches!(&v, Verdict::Admitted { warnings, .. } if warnings.iter().any(|w| w.contains("root is squashed"))),
            "{v:?}"
        );
    }

    #[test]
    fn a_node_is_only_as_good_as_its_worst_address() {
        let n = node("n", &["198.51.100.21", "203.0.113.9"], None);
        assert!(verdict(&[rule(1, &["198.51.100.0/24"])], &n).is_denied());
        let none = node("n", &[], Some("n"));
        assert!(matches!(
            verdict(&[rule(1, &["0.0.0.0/0"])], &none),
            Verdict::CannotVerify { .. }
        ));
    }

    #[test]
    fn node_addresses_from_a_kubernetes_node() {
        let n = NodeAddresses::from_node(&json!({
            "metadata": {"name": "dr-node-1"},
            "status": {"addresses": [
                {"type": "InternalIP", "address": "198.51.100.21"},
                {"type": "ExternalIP", "address": "203.0.113.9"},
                {"type": "Hostname", "address": "DR-Node-1"},
            ]}
        }));
        assert_eq!(n.name, "dr-node-1");
        assert_eq!(n.ips, vec!["198.51.100.21".parse::<IpAddr>().unwrap()]);
        assert_eq!(n.hostnames, vec!["dr-node-1"]);
        let ext = NodeAddresses::from_node(&json!({"metadata": {"name": "x"},
            "status": {"addresses": [{"type": "ExternalIP", "address": "203.0.113.9"}]}}));
        assert_eq!(ext.ips.len(), 1);
    }

    #[test]
    fn rules_decode_from_rest_records() {
        let p = export_policies_from_json(&[
            json!({"name": "default", "id": 1, "rules": [
                {"index": 2, "clients": [{"match": "0.0.0.0/0"}], "protocols": ["any"], "ro_rule": ["sys"], "rw_rule": ["never"], "superuser": ["none"], "anonymous_user": "65534"},
                {"index": 1, "clients": [{"match": "192.0.2.11"}, {"match": "192.0.2.12"}], "protocols": ["nfs"], "ro_rule": ["sys"], "rw_rule": ["sys"], "superuser": ["sys"]},
            ]}),
            json!({"name": "empty", "id": 2}),
            json!({"id": 3}),
        ]);
        assert_eq!(p.len(), 2);
        assert_eq!(p["default"][0].index, 1);
        assert_eq!(p["default"][0].clientmatch(), "192.0.2.11,192.0.2.12");
        assert_eq!(p["default"][1].rw_rule, vec!["never"]);
        assert!(p["empty"].is_empty());
    }

    fn facts(rules: Vec<ExportRule>) -> SvmFacts {
        let mut f = SvmFacts {
            cluster: "dr (ontap-b)".into(),
            svm: "svm1".into(),
            ..Default::default()
        };
        f.volumes.insert(
            "vol1".into(),
            crate::readiness::VolumeFacts {
                name: "vol1".into(),
                export_policy: Some("default".into()),
                ..Default::default()
            },
        );
        f.export_policies.insert("default".into(), rules);
        f
    }

    #[test]
    fn report_names_policy_rule_nodes_and_fix() {
        let nodes = [
            dr1(),
            node("dr-node-2", &["198.51.100.22"], Some("dr-node-2")),
        ];
        let f = facts(vec![rule(1, &["192.0.2.11", "192.0.2.12"])]);
        let r = check_volume_exports(&f, "vol1", &nodes, &AccessWanted::trident_nfs());
        assert!(!r.all_admitted());
        assert_eq!(r.denied().len(), 2);
        let m = r.message().unwrap();
        for want in [
            "export policy default of SVM svm1 on dr (ontap-b)",
            "volume vol1",
            "dr-node-1 (198.51.100.21)",
            "dr-node-2 (198.51.100.22)",
            "no rule matches",
            "-clientmatch 198.51.100.21,198.51.100.22",
            "-vserver svm1 -policyname default -ruleindex 1",
        ] {
            assert!(m.contains(want), "{want:?} missing from {m}");
        }
        let ok = check_volume_exports(
            &facts(vec![rule(1, &["198.51.100.0/24"])]),
            "vol1",
            &nodes,
            &AccessWanted::trident_nfs(),
        );
        assert!(ok.all_admitted());
        assert_eq!(ok.message(), None);
        assert!(ok.not_ready().is_none());
        let e = r.not_ready().unwrap();
        assert_eq!(e.reason(), "ExportNotAllowed");
        assert!(!e.is_transient());
        assert_eq!(e.to_string(), m);
    }

    #[test]
    fn the_root_volume_policy_must_grant_read_access() {
        let nodes = [dr1()];
        let mut f = facts(vec![rule(1, &["0.0.0.0/0"])]);
        f.volumes.get_mut("vol1").unwrap().export_policy = Some("k8s".into());
        let k8s = f.export_policies["default"].clone();
        f.export_policies.insert("k8s".into(), k8s);
        f.root_export_policy = Some("default".into());
        // A read-only root policy is enough.
        let mut ro = rule(1, &["0.0.0.0/0"]);
        ro.rw_rule = vec!["never".into()];
        f.export_policies.insert("default".into(), vec![ro]);
        let want = AccessWanted::trident_nfs();
        assert!(check_volume_exports(&f, "vol1", &nodes, &want).all_admitted());
        // A root policy for the primary only refuses the DR node.
        f.export_policies
            .insert("default".into(), vec![rule(1, &["192.0.2.0/24"])]);
        let r = check_volume_exports(&f, "vol1", &nodes, &want);
        assert_eq!(r.policy, "k8s");
        assert_eq!(r.decisions[0].policy, "default");
        let m = r.message().unwrap();
        assert!(m.contains("SVM root volume policy default"), "{m}");
        assert!(m.contains("-policyname default -ruleindex 1 -clientmatch 198.51.100.21 -protocol nfs -rorule sys -rwrule never"), "{m}");
    }

    #[test]
    fn report_without_facts_cannot_verify() {
        let nodes = [dr1()];
        let mut f = facts(vec![]);
        f.export_policies.clear();
        let r = check_volume_exports(&f, "vol1", &nodes, &AccessWanted::trident_nfs());
        assert!(r.unverifiable().len() == 1 && r.message().unwrap().contains("does not exist"));
        let r = check_volume_exports(&f, "nope", &nodes, &AccessWanted::trident_nfs());
        assert!(r.message().unwrap().contains("cannot be shown"));
        f.export_policies_error = Some("HTTP 403".into());
        let r = check_volume_exports(&f, "vol1", &nodes, &AccessWanted::trident_nfs());
        assert!(r.message().unwrap().contains("HTTP 403"));
        // Root squash shows up as a warning of an admitted report.
        let mut squash = rule(1, &["0.0.0.0/0"]);
        squash.superuser = vec!["none".into()];
        let r = check_volume_exports(
            &facts(vec![squash]),
            "vol1",
            &nodes,
            &AccessWanted::trident_nfs(),
        );
        assert!(r.all_admitted());
        assert!(
            r.warnings()[0].contains("rule 1 (clientmatch 0.0.0.0/0)"),
            "{:?}",
            r.warnings()
        );
    }
}
