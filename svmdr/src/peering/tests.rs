//! Unit tests of step planning over observed states (wire-format fixtures).

use serde_json::{Value, json};

use super::*;
use crate::ontap::models::{IdentityPreservation, Relationship};

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture parses")
}

fn view(name: &str, nodes: &[&str], ic_nodes: &[&str], svm: Option<Value>) -> ClusterView {
    ClusterView {
        cluster: from(json!({"name": name, "version": {"generation": 9, "major": 14, "minor": 1}})),
        nodes: from(json!(
            nodes.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()
        )),
        intercluster: from(json!(
            ic_nodes
                .iter()
                .enumerate()
                .map(|(i, n)| json!({
                    "name": format!("ic{i}"), "ip": {"address": format!("10.{}.0.{i}", name.len())},
                    "state": "up", "enabled": true, "services": ["intercluster_core"],
                    "location": {"home_node": {"name": n}}
                }))
                .collect::<Vec<_>>()
        )),
        peers: vec![],
        svm: svm.map(from),
        svm_peers: vec![],
    }
}

fn fresh() -> (PeerRequest, Observed) {
    let mut req = PeerRequest::new("svm1");
    req.dr_svm = "svm1_dr".into();
    let obs = Observed {
        primary: view(
            "ontap-a",
            &["a1", "a2"],
            &["a1", "a2"],
            Some(json!({"name": "svm1", "uuid": "s1", "state": "running", "subtype": "default"})),
        ),
        dr: view("ontap-b", &["b1", "b2"], &["b1", "b2"], None),
        relationship: None,
        policy: Some(from(json!({"name": "MirrorAllSnapshots", "type": "async"}))),
        schedule: Some(from(json!({"name": "hourly", "type": "cron"}))),
        ..Observed::default()
    };
    (req, obs)
}

fn checks(req: &PeerRequest, obs: &Observed) -> Vec<(Step, PeerCheck)> {
    ALL_STEPS
        .iter()
        .map(|s| (*s, steps::check(*s, req, obs)))
        .collect()
}

#[test]
fn fresh_pair_plans_every_step() {
    let (req, obs) = fresh();
    let c = checks(&req, &obs);
    assert!(matches!(c[0].1, PeerCheck::Done(_)), "source SVM exists");
    assert!(
        matches!(c[1].1, PeerCheck::Done(_)) && matches!(c[2].1, PeerCheck::Done(_)),
        "LIFs exist"
    );
    for (step, check) in &c[3..] {
        assert!(matches!(check, PeerCheck::Todo(_)), "{step:?}: {check:?}");
    }
}

#[test]
fn dry_run_calls_redact_the_passphrase() {
    let (req, obs) = fresh();
    let calls = steps::planned_calls(Step::ClusterPeer, &req, &obs);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].cluster, "ontap-a");
    assert_eq!(
        calls[0].body.as_ref().unwrap()["authentication"]["generate_passphrase"],
        json!(true)
    );
    assert_eq!(
        calls[1].body.as_ref().unwrap()["authentication"]["passphrase"],
        json!("<redacted>")
    );
    let rel = steps::planned_calls(Step::Relationship, &req, &obs);
    let body = rel[0].body.as_ref().unwrap();
    assert_eq!(body["source"]["path"], json!("svm1:"));
    assert_eq!(body["destination"]["path"], json!("svm1_dr:"));
    assert_eq!(body["source"]["cluster"]["name"], json!("ontap-a"));
    assert_eq!(body["identity_preservation"], json!("full"));
}

#[test]
fn missing_intercluster_lifs_name_the_nodes() {
    let (mut req, mut obs) = fresh();
    obs.dr = view("ontap-b", &["b1", "b2"], &["b1"], None);
    match steps::check(Step::DrInterclusterLifs, &req, &obs) {
        PeerCheck::Blocked(d) => assert!(
            d.contains("b2") && d.contains("--dr-intercluster-ip"),
            "{d}"
        ),
        other => panic!("{other:?}"),
    }
    req.dr_lifs = vec!["b2=10.9.0.2/24".parse().unwrap()];
    assert!(matches!(
        steps::check(Step::DrInterclusterLifs, &req, &obs),
        PeerCheck::Todo(_)
    ));
    let calls = steps::planned_calls(Step::DrInterclusterLifs, &req, &obs);
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].body.as_ref().unwrap()["location"]["home_node"]["name"],
        json!("b2")
    );
    req.dr_lifs = vec!["zz=10.9.0.2/24".parse().unwrap()];
    match steps::check(Step::DrInterclusterLifs, &req, &obs) {
        PeerCheck::Blocked(d) => assert!(d.contains("zz"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_source_svm_and_existing_default_dr_svm_are_blocked() {
    let (req, mut obs) = fresh();
    obs.primary.svm = None;
    assert!(
        matches!(steps::check(Step::SourceSvm, &req, &obs), PeerCheck::Blocked(d) if d.contains("does not exist"))
    );
    obs.dr.svm = Some(from(
        json!({"name": "svm1", "subtype": "default", "state": "running"}),
    ));
    assert!(
        matches!(steps::check(Step::DestinationSvm, &req, &obs), PeerCheck::Blocked(d) if d.contains("dp_destination"))
    );
}

fn offer(remote: &str, state: &str, expiry: &str) -> Value {
    json!([{"uuid": format!("offer-{remote}"), "name": remote,
        "remote": {"name": remote, "ip_addresses": ["10.7.0.0"]},
        "status": {"state": "pending"},
        "authentication": {"state": state, "in_use": "absent", "expiry_time": expiry},
        "encryption": {"proposed": "tls_psk", "state": "none"}}])
}

#[test]
fn pending_offer_on_primary_is_resumed_with_a_new_passphrase() {
    let (req, mut obs) = fresh();
    obs.primary.peers = from(offer("ontap-b", "pending", "2999-01-01T00:00:00Z"));
    match steps::check(Step::ClusterPeer, &req, &obs) {
        PeerCheck::Todo(d) => assert!(
            d.starts_with("resume:") && d.contains("new passphrase") && d.contains("pending"),
            "{d}"
        ),
        other => panic!("{other:?}"),
    }
    let calls = steps::planned_calls(Step::ClusterPeer, &req, &obs);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        (
            calls[0].cluster.as_str(),
            calls[0].method.as_str(),
            calls[0].path.as_str()
        ),
        ("ontap-a", "PATCH", "/api/cluster/peers/offer-ontap-b")
    );
    let patch = calls[0].body.as_ref().unwrap();
    assert_eq!(patch["authentication"]["passphrase"], json!("<redacted>"));
    assert_eq!(patch["authentication"]["expiry_time"], json!("PT1H"));
    assert_eq!(patch["authentication"].get("generate_passphrase"), None);
    // The offer names an old DR address: it is pointed at the current LIFs.
    assert_eq!(
        patch["remote"]["ip_addresses"],
        json!(obs.dr.intercluster_addresses())
    );
    assert_eq!(
        (calls[1].cluster.as_str(), calls[1].method.as_str()),
        ("ontap-b", "POST")
    );
    let post = calls[1].body.as_ref().unwrap();
    assert_eq!(post["authentication"]["passphrase"], json!("<redacted>"));
    assert_eq!(
        post["remote"]["ip_addresses"],
        json!(obs.primary.intercluster_addresses())
    );
    // Nothing printable carries a real passphrase.
    let shown = format!("{calls:?}");
    assert!(!shown.contains("generate_passphrase"), "{shown}");
}

#[test]
fn pending_offer_on_dr_is_resumed_the_other_way() {
    let (req, mut obs) = fresh();
    let mut o = offer("ontap-a", "pending", "2999-01-01T00:00:00Z");
    o[0]["remote"]["ip_addresses"] = json!(obs.primary.intercluster_addresses());
    obs.dr.peers = from(o);
    assert!(
        matches!(steps::check(Step::ClusterPeer, &req, &obs), PeerCheck::Todo(d) if d.contains("ontap-b holds an offer for ontap-a"))
    );
    let calls = steps::planned_calls(Step::ClusterPeer, &req, &obs);
    assert_eq!(calls[0].cluster, "ontap-b");
    assert_eq!(calls[0].method, "PATCH");
    // The offer already names the current addresses: they are not re-sent.
    assert_eq!(calls[0].body.as_ref().unwrap().get("remote"), None);
    assert_eq!(calls[1].cluster, "ontap-a");
    assert_eq!(calls[1].method, "POST");
}

#[test]
fn expired_offer_is_resumed_and_says_so() {
    let (req, mut obs) = fresh();
    obs.primary.peers = from(offer("ontap-b", "problem", "2020-01-01T00:00:00Z"));
    match steps::check(Step::ClusterPeer, &req, &obs) {
        PeerCheck::Todo(d) => assert!(d.contains("expired 2020-01-01"), "{d}"),
        other => panic!("{other:?}"),
    }
    let calls = steps::planned_calls(Step::ClusterPeer, &req, &obs);
    assert_eq!(
        calls[0].body.as_ref().unwrap()["authentication"]["expiry_time"],
        json!("PT1H")
    );
}

#[test]
fn accepted_one_sided_peer_is_not_touched() {
    let (req, mut obs) = fresh();
    obs.primary.peers = from(offer("ontap-b", "ok", "2999-01-01T00:00:00Z"));
    match steps::check(Step::ClusterPeer, &req, &obs) {
        PeerCheck::Blocked(d) => assert!(d.contains("cluster peer delete"), "{d}"),
        other => panic!("{other:?}"),
    }
    obs.primary.peers = from(json!([{"name": "ontap-b", "remote": {"name": "ontap-b"}}]));
    assert!(matches!(
        steps::check(Step::ClusterPeer, &req, &obs),
        PeerCheck::Blocked(_)
    ));
}

#[test]
fn resumed_passphrases_are_strong_and_fresh() {
    let a = steps::new_passphrase();
    let b = steps::new_passphrase();
    assert!(a.expose().chars().count() >= 20);
    assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(a.expose(), b.expose());
    assert!(!format!("{a:?} {a}").contains(a.expose()));
}

#[test]
fn broken_off_relationship_is_unsafe_and_policy_must_be_async() {
    let (req, mut obs) = fresh();
    obs.relationship = Some(from(json!({"uuid": "r", "source": {"path": "svm1:"},
        "destination": {"path": "svm1_dr:"}, "state": "broken_off"})));
    assert!(
        matches!(steps::check(Step::Initialize, &req, &obs), PeerCheck::Unsafe(d) if d.contains("resync"))
    );
    obs.relationship = None;
    obs.policy = Some(from(json!({"name": "MirrorAllSnapshots", "type": "sync"})));
    assert!(
        matches!(steps::check(Step::Relationship, &req, &obs), PeerCheck::Blocked(d) if d.contains("async"))
    );
    obs.policy = None;
    assert!(
        matches!(steps::check(Step::Relationship, &req, &obs), PeerCheck::Blocked(d) if d.contains("does not exist"))
    );
}

#[test]
fn alias_is_used_in_the_source_path() {
    let (req, mut obs) = fresh();
    obs.dr.svm_peers = from(
        json!([{"uuid": "p", "svm": {"name": "svm1_dr"}, "name": "svm1_alias",
        "peer": {"svm": {"name": "svm1"}, "cluster": {"name": "ontap-a"}}, "state": "peered"}]),
    );
    let rel = steps::planned_calls(Step::Relationship, &req, &obs);
    assert_eq!(
        rel[0].body.as_ref().unwrap()["source"]["path"],
        json!("svm1_alias:")
    );
    assert!(matches!(
        steps::check(Step::SvmPeerAccept, &req, &obs),
        PeerCheck::Done(_)
    ));
}

#[test]
fn no_initialize_skips() {
    let (mut req, obs) = fresh();
    req.initialize = false;
    assert!(matches!(
        steps::check(Step::Initialize, &req, &obs),
        PeerCheck::Skipped(_)
    ));
    assert!(matches!(
        steps::check(Step::StopDestinationSvm, &req, &obs),
        PeerCheck::Skipped(_)
    ));
}

#[test]
fn identity_flags() {
    assert_eq!(identity_from_flag("full"), Some(IdentityPreservation::Full));
    assert_eq!(
        identity_from_flag("exclude-network-and-protocol-config"),
        Some(IdentityPreservation::ExcludeNetworkAndProtocolConfig)
    );
    assert_eq!(identity_from_flag("none"), None);
}

#[test]
fn same_name_dr_svm_is_refused_before_anything_changes() {
    let (mut req, obs) = fresh();
    req.dr_svm = "svm1".into();
    match steps::check(Step::SourceSvm, &req, &obs) {
        PeerCheck::Blocked(d) => assert!(d.contains("--dr-svm svm1_dr"), "{d}"),
        other => panic!("{other:?}"),
    }
}

/// A snapmirrored relationship with `schedule` (its own) and throttle.
fn existing(schedule: Option<&str>, identity: &str) -> Relationship {
    let mut r = json!({"uuid": "r1", "source": {"path": "svm1:"},
        "destination": {"path": "svm1_dr:"}, "state": "snapmirrored",
        "policy": {"name": "MirrorAllSnapshots"}, "identity_preservation": identity,
        "throttle": 0});
    if let Some(s) = schedule {
        r["transfer_schedule"] = json!({"name": s});
    }
    from(r)
}

#[test]
fn default_peer_creates_the_relationship_with_the_default_schedule() {
    let (req, obs) = fresh();
    assert_eq!(req.schedule.as_deref(), Some(DEFAULT_SCHEDULE));
    let calls = steps::planned_calls(Step::Relationship, &req, &obs);
    assert_eq!(
        calls[0].body.as_ref().unwrap()["transfer_schedule"],
        json!({"name": "hourly"})
    );
}

#[test]
fn a_rerun_converges_explicit_settings_with_a_patch() {
    let (mut req, mut obs) = fresh();
    obs.relationship = Some(existing(Some("hourly"), "full"));
    assert!(matches!(
        steps::check(Step::Relationship, &req, &obs),
        PeerCheck::Done(d) if d.contains("schedule hourly")
    ));
    req.schedule = Some("5min".into());
    // Not explicit: the existing schedule stays.
    assert!(matches!(
        steps::check(Step::Relationship, &req, &obs),
        PeerCheck::Done(_)
    ));
    req.explicit.schedule = true;
    req.throttle = Some(2048);
    req.explicit.throttle = true;
    assert!(matches!(
        steps::check(Step::Relationship, &req, &obs),
        PeerCheck::Todo(d) if d.contains("transfer_schedule hourly → 5min")
            && d.contains("throttle unlimited → 2048 KB/s")
    ));
    let calls = steps::planned_calls(Step::Relationship, &req, &obs);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "PATCH");
    assert_eq!(calls[0].path, "/api/snapmirror/relationships/r1");
    assert_eq!(
        calls[0].body,
        Some(json!({"transfer_schedule": {"name": "5min"}, "throttle": 2048}))
    );
}

#[test]
fn a_relationship_without_any_schedule_gets_the_default() {
    let (req, mut obs) = fresh();
    obs.relationship = Some(existing(None, "full"));
    assert!(matches!(
        steps::check(Step::Relationship, &req, &obs),
        PeerCheck::Todo(d) if d.contains("transfer_schedule none → hourly")
    ));
    // The policy's schedule protects it: nothing to do.
    obs.relationship_policy = Some(from(
        json!({"name": "MirrorAllSnapshots", "type": "async", "transfer_schedule": {"name": "daily"}}),
    ));
    assert!(matches!(
        steps::check(Step::Relationship, &req, &obs),
        PeerCheck::Done(d) if d.contains("daily (the policy's)")
    ));
}

#[test]
fn identity_preservation_is_lowered_but_never_raised() {
    let (mut req, mut obs) = fresh();
    req.explicit.identity = true;
    obs.relationship = Some(existing(Some("hourly"), "exclude_network_config"));
    req.identity_preservation = IdentityPreservation::Full;
    assert!(matches!(
        steps::check(Step::Relationship, &req, &obs),
        PeerCheck::Blocked(d) if d.contains("only lower") && d.contains("exclude_network_config")
    ));
    assert!(steps::planned_calls(Step::Relationship, &req, &obs).is_empty());
    req.identity_preservation = IdentityPreservation::ExcludeNetworkAndProtocolConfig;
    assert!(matches!(
        steps::check(Step::Relationship, &req, &obs),
        PeerCheck::Todo(d) if d.contains("identity_preservation exclude_network_config → exclude_network_and_protocol_config")
    ));
}

#[test]
fn unknown_schedule_or_policy_names_the_cluster_and_what_exists() {
    let (req, mut obs) = fresh();
    assert_eq!(settings::validate_names(&req, &obs), Ok(()));
    obs.schedule = None;
    obs.schedule_names = vec!["5min".into(), "hourly".into()];
    let e = settings::validate_names(&req, &obs).unwrap_err();
    assert!(
        e.contains("schedule hourly does not exist on the DR cluster ontap-b")
            && e.contains("5min, hourly")
            && e.contains("--schedule"),
        "{e}"
    );
    obs.schedule = Some(from(json!({"name": "hourly", "type": "interval"})));
    let e = settings::validate_names(&req, &obs).unwrap_err();
    assert!(e.contains("cron"), "{e}");
    obs.schedule = Some(from(json!({"name": "hourly", "type": "cron"})));
    obs.policy = None;
    obs.policy_names = vec!["MirrorAllSnapshots".into()];
    let e = settings::validate_names(&req, &obs).unwrap_err();
    assert!(
        e.contains("policy MirrorAllSnapshots does not exist on the DR cluster ontap-b")
            && e.contains("async policies there: MirrorAllSnapshots"),
        "{e}"
    );
}
