//! The metrics from hand-made looks and decisions: each sample, the
//! series that must disappear, and the counters.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use svmdr::watch::{
    Action, Decision, Freshness, History, Look, Mode, Observation, PeerView, Policy, Reach,
    Replication, Verdict, WitnessReading, WitnessView, decide,
};

use super::Metrics;

const PAIR: &str = r#"source_svm="svm1",destination_svm="svm1_dr",source_cluster="primary",destination_cluster="dr""#;

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
}

fn replication(state: &str, lag: Option<u64>) -> Replication {
    Replication {
        pair: "svm1 → svm1_dr".into(),
        source_svm: "svm1".into(),
        destination_svm: "svm1_dr".into(),
        source_cluster: "primary".into(),
        destination_cluster: "dr".into(),
        state: state.into(),
        healthy: state == "snapmirrored",
        lag_seconds: lag,
        rpo_seconds: Some(300),
        rpo_exceeded: lag.map(|l| l > 300),
        forward_live: state == "snapmirrored",
        dr_active: state == "broken_off",
    }
}

fn observation(at: i64, primary_up: bool) -> Observation {
    let reach = if primary_up {
        Reach::Up
    } else {
        Reach::Down("connection refused".into())
    };
    Observation {
        at: t(at),
        primary_ontap: reach.clone(),
        primary_kube: reach,
        dr_ontap: Reach::Up,
        peer_view: if primary_up {
            PeerView::Available
        } else {
            PeerView::Unavailable("primary is unavailable".into())
        },
        witness: WitnessView::Read(WitnessReading {
            holder: Some("heartbeat-0".into()),
            renew_marker: format!("renewal-{at}"),
        }),
        replication: vec![replication("snapmirrored", Some(42))],
        backup_age_seconds: Some(3600),
        backup_stale: Some(false),
        problems: Vec::new(),
    }
}

fn fresh(at: i64, age: u64) -> Freshness {
    Freshness::Fresh {
        age_seconds: age,
        changed_at: t(at),
    }
}

fn decision(verdict: Verdict, action: Action) -> Decision {
    Decision {
        verdict,
        action,
        message: "test".into(),
        evidence: Vec::new(),
        pair: Some("svm1 → svm1_dr".into()),
    }
}

/// The value of the sample `series` (name and labels as encoded).
fn sample(text: &str, series: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.rsplit_once(' '))
        .find(|(s, _)| *s == series)
        .map(|(_, v)| v.to_string())
}

fn value(text: &str, series: &str) -> String {
    sample(text, series).unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

fn healthy_look() -> Look {
    Look {
        observation: observation(0, true),
        witness: fresh(0, 5),
    }
}

#[test]
fn a_healthy_look_sets_every_gauge() {
    let m = Metrics::new();
    let policy = Policy::default();
    m.record(
        &healthy_look(),
        &decision(Verdict::Healthy, Action::None),
        &policy,
        true,
    );
    let text = m.encode();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(
        value(&text, &format!("svmdr_relationship_healthy{{{PAIR}}}")),
        "1"
    );
    assert_eq!(
        value(
            &text,
            &format!("svmdr_relationship_state{{{PAIR},state=\"snapmirrored\"}}")
        ),
        "1"
    );
    assert_eq!(
        value(&text, &format!("svmdr_relationship_lag_seconds{{{PAIR}}}")),
        "42"
    );
    assert_eq!(
        value(&text, &format!("svmdr_relationship_rpo_seconds{{{PAIR}}}")),
        "300"
    );
    assert_eq!(
        value(&text, &format!("svmdr_relationship_rpo_exceeded{{{PAIR}}}")),
        "0"
    );
    assert!(
        text.contains("# UNIT svmdr_relationship_lag_seconds seconds\n"),
        "{text}"
    );
    assert_eq!(value(&text, "svmdr_backup_newest_age_seconds"), "3600");
    assert_eq!(value(&text, "svmdr_backup_stale"), "0");
    for (site, api) in [
        ("primary", "ontap"),
        ("primary", "kubernetes"),
        ("dr", "ontap"),
    ] {
        let s = format!("svmdr_site_reachable{{site=\"{site}\",api=\"{api}\"}}");
        assert_eq!(value(&text, &s), "1");
    }
    assert_eq!(value(&text, "svmdr_peer_view_available"), "1");
    assert_eq!(value(&text, "svmdr_witness_reachable"), "1");
    assert_eq!(value(&text, "svmdr_witness_renewal_age_seconds"), "5");
    assert_eq!(value(&text, "svmdr_witness_fresh"), "1");
    assert_eq!(value(&text, "svmdr_watcher_armed"), "1");
    assert_eq!(value(&text, "svmdr_watcher_mode{mode=\"observe\"}"), "1");
    assert_eq!(value(&text, "svmdr_watcher_mode{mode=\"automatic\"}"), "0");
    for v in Verdict::ALL {
        let expected = if v == Verdict::Healthy { "1" } else { "0" };
        let s = format!("svmdr_verdict{{verdict=\"{}\"}}", v.as_str());
        assert_eq!(value(&text, &s), expected, "{s}");
    }
    assert_eq!(value(&text, "svmdr_partition_suspected"), "0");
    assert_eq!(value(&text, "svmdr_page"), "0");
    assert_eq!(value(&text, "svmdr_leader"), "0");
    assert_eq!(
        value(
            &text,
            "svmdr_decisions_total{verdict=\"healthy\",action=\"none\"}"
        ),
        "1"
    );
}

#[test]
fn before_the_first_look_the_verdict_is_starting_and_views_are_absent() {
    let text = Metrics::new().encode();
    assert_eq!(value(&text, "svmdr_verdict{verdict=\"starting\"}"), "1");
    assert_eq!(value(&text, "svmdr_verdict{verdict=\"healthy\"}"), "0");
    for absent in [
        "svmdr_witness_reachable",
        "svmdr_watcher_armed",
        "svmdr_relationship_state",
    ] {
        assert!(!text.contains(absent), "{absent} before any look:\n{text}");
    }
    assert_eq!(
        value(&text, "svmdr_failovers_total{outcome=\"succeeded\"}"),
        "0"
    );
    assert_eq!(
        value(&text, "svmdr_observations_total{result=\"error\"}"),
        "0"
    );
}

#[test]
fn a_state_no_longer_current_is_dropped() {
    let m = Metrics::new();
    let policy = Policy::default();
    let d = decision(Verdict::Healthy, Action::None);
    m.record(&healthy_look(), &d, &policy, true);
    let mut look = healthy_look();
    look.observation.replication = vec![replication("broken_off", None)];
    m.record(
        &look,
        &decision(Verdict::FailedOver, Action::None),
        &policy,
        false,
    );
    let text = m.encode();
    let series = |state: &str| format!("svmdr_relationship_state{{{PAIR},state=\"{state}\"}}");
    assert_eq!(value(&text, &series("broken_off")), "1");
    assert_eq!(sample(&text, &series("snapmirrored")), None, "{text}");
    // Lag unknown now: the old 42 must not linger.
    assert_eq!(
        sample(&text, &format!("svmdr_relationship_lag_seconds{{{PAIR}}}")),
        None
    );
    assert_eq!(
        value(&text, &format!("svmdr_relationship_healthy{{{PAIR}}}")),
        "0"
    );
    assert_eq!(value(&text, "svmdr_verdict{verdict=\"failed-over\"}"), "1");
    assert_eq!(value(&text, "svmdr_verdict{verdict=\"healthy\"}"), "0");
    assert_eq!(value(&text, "svmdr_watcher_armed"), "0");
    // A relationship that disappears takes every series with it.
    look.observation.replication.clear();
    m.record(&look, &d, &policy, false);
    let text = m.encode();
    assert!(!text.contains("svmdr_relationship_"), "{text}");
}

#[test]
fn unknown_views_have_no_sample() {
    let m = Metrics::new();
    let mut look = healthy_look();
    look.observation.primary_kube = Reach::Unknown;
    look.observation.primary_ontap = Reach::Down("timeout".into());
    look.observation.peer_view = PeerView::Unknown("DR did not answer".into());
    look.observation.backup_age_seconds = None;
    look.observation.backup_stale = None;
    look.observation.witness = WitnessView::Unreachable {
        error: "refused".into(),
    };
    look.witness = Freshness::Unreachable {
        error: "refused".into(),
    };
    let policy = Policy::default();
    m.record(
        &look,
        &decision(Verdict::NoQuorum, Action::Alert("x".into())),
        &policy,
        true,
    );
    let text = m.encode();
    assert_eq!(
        value(
            &text,
            "svmdr_site_reachable{site=\"primary\",api=\"ontap\"}"
        ),
        "0"
    );
    assert_eq!(
        sample(
            &text,
            "svmdr_site_reachable{site=\"primary\",api=\"kubernetes\"}"
        ),
        None
    );
    assert_eq!(value(&text, "svmdr_witness_reachable"), "0");
    for absent in [
        "svmdr_witness_fresh",
        "svmdr_witness_renewal_age_seconds",
        "svmdr_peer_view_available",
        "svmdr_backup_stale",
        "svmdr_backup_newest_age_seconds",
    ] {
        assert_eq!(sample(&text, absent), None, "{absent}:\n{text}");
    }
    // A stale witness answered: reachable, not fresh, with its age.
    look.witness = Freshness::Stale {
        age_seconds: 120,
        changed_at: t(0),
    };
    m.record(
        &look,
        &decision(Verdict::Degraded, Action::None),
        &policy,
        true,
    );
    let text = m.encode();
    assert_eq!(value(&text, "svmdr_witness_reachable"), "1");
    assert_eq!(value(&text, "svmdr_witness_fresh"), "0");
    assert_eq!(value(&text, "svmdr_witness_renewal_age_seconds"), "120");
}

#[test]
fn partition_and_page_follow_the_decision() {
    let m = Metrics::new();
    let policy = Policy {
        mode: Mode::Notify,
        ..Policy::default()
    };
    let look = healthy_look();
    m.record(
        &look,
        &decision(Verdict::Partition, Action::Alert("p".into())),
        &policy,
        true,
    );
    let text = m.encode();
    assert_eq!(value(&text, "svmdr_partition_suspected"), "1");
    assert_eq!(value(&text, "svmdr_page"), "0");
    assert_eq!(value(&text, "svmdr_watcher_mode{mode=\"notify\"}"), "1");
    assert_eq!(value(&text, "svmdr_watcher_mode{mode=\"observe\"}"), "0");
    m.record(
        &look,
        &decision(Verdict::PrimaryLost, Action::Page("h".into())),
        &policy,
        true,
    );
    let text = m.encode();
    assert_eq!(value(&text, "svmdr_partition_suspected"), "0");
    assert_eq!(value(&text, "svmdr_page"), "1");
    assert_eq!(value(&text, "svmdr_verdict{verdict=\"primary-lost\"}"), "1");
    assert_eq!(value(&text, "svmdr_verdict{verdict=\"partition\"}"), "0");
}

#[test]
fn counters_increase() {
    let m = Metrics::new();
    let policy = Policy::default();
    let d = decision(Verdict::Healthy, Action::None);
    m.record(&healthy_look(), &d, &policy, true);
    m.record(&healthy_look(), &d, &policy, true);
    m.record(
        &healthy_look(),
        &decision(Verdict::Degraded, Action::Alert("x".into())),
        &policy,
        true,
    );
    m.failover_finished("succeeded");
    m.observation(true, 0.3);
    m.observation(true, 0.7);
    m.observation(false, 40.0);
    m.set_leader(true);
    let text = m.encode();
    assert_eq!(
        value(
            &text,
            "svmdr_decisions_total{verdict=\"healthy\",action=\"none\"}"
        ),
        "2"
    );
    assert_eq!(
        value(
            &text,
            "svmdr_decisions_total{verdict=\"degraded\",action=\"alert\"}"
        ),
        "1"
    );
    assert_eq!(
        value(&text, "svmdr_failovers_total{outcome=\"succeeded\"}"),
        "1"
    );
    assert_eq!(
        value(&text, "svmdr_failovers_total{outcome=\"failed\"}"),
        "0"
    );
    assert_eq!(value(&text, "svmdr_observations_total{result=\"ok\"}"), "2");
    assert_eq!(
        value(&text, "svmdr_observations_total{result=\"error\"}"),
        "1"
    );
    assert_eq!(
        value(&text, "svmdr_observation_duration_seconds_count"),
        "3"
    );
    assert_eq!(
        value(&text, "svmdr_observation_duration_seconds_sum"),
        "41.0"
    );
    assert_eq!(
        value(
            &text,
            "svmdr_observation_duration_seconds_bucket{le=\"0.5\"}"
        ),
        "1"
    );
    assert_eq!(value(&text, "svmdr_leader"), "1");
    m.set_leader(false);
    assert_eq!(value(&m.encode(), "svmdr_leader"), "0");
}

#[test]
fn a_real_decision_is_recorded() {
    // The quorum path end to end: the primary goes dark and the heartbeat
    // stops; after the grace period decide() says primary-lost and, in
    // automatic mode while armed, failover.
    let policy = Policy {
        mode: Mode::Automatic,
        interval: Duration::from_secs(10),
        grace_period: Duration::from_secs(30),
        witness_max_age: Duration::from_secs(20),
        ..Policy::default()
    };
    let mut h = History::new(Duration::from_secs(300));
    let m = Metrics::new();
    for i in 0..10 {
        let mut o = observation(i * 10, i < 2);
        o.witness = WitnessView::Read(WitnessReading {
            holder: Some("heartbeat-0".into()),
            renew_marker: format!("renewal-{}", i.min(1)),
        });
        let look = h.push(o, policy.witness_max_age).clone();
        m.record(&look, &decide(&h, &policy, true), &policy, true);
    }
    let text = m.encode();
    assert_eq!(value(&text, "svmdr_verdict{verdict=\"primary-lost\"}"), "1");
    // Dark from 20 s, stale from 30 s (renewal last seen at 10 s), lost
    // for the 30 s grace period at 60 s: looks at 60, 70, 80 and 90 s.
    assert_eq!(
        value(
            &text,
            "svmdr_decisions_total{verdict=\"primary-lost\",action=\"failover\"}"
        ),
        "4"
    );
    assert_eq!(value(&text, "svmdr_witness_fresh"), "0");
    assert_eq!(value(&text, "svmdr_peer_view_available"), "0");
    assert_eq!(value(&text, "svmdr_watcher_mode{mode=\"automatic\"}"), "1");
}
