//! Tests of export policy evaluation.

use super::*;
use crate::readiness::SvmFacts;
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
