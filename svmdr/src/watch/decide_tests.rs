//! The decision table, one scenario each, on made-up observations.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::decide::{Action, Verdict, decide};
use super::history::History;
use super::policy::{Mode, Policy};
use super::view::{Observation, PeerView, Reach, Replication, WitnessReading, WitnessView};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
}

fn policy(mode: Mode) -> Policy {
    Policy {
        mode,
        interval: Duration::from_secs(10),
        grace_period: Duration::from_secs(60),
        witness_max_age: Duration::from_secs(30),
        max_data_loss: Duration::from_secs(600),
        ..Policy::default()
    }
}

fn replication(lag: Option<u64>) -> Replication {
    Replication {
        pair: "svm1 → svm1_dr".into(),
        source_svm: "svm1".into(),
        destination_svm: "svm1_dr".into(),
        source_cluster: "primary".into(),
        destination_cluster: "dr".into(),
        state: "snapmirrored".into(),
        healthy: true,
        lag_seconds: lag,
        rpo_seconds: Some(300),
        rpo_exceeded: Some(false),
        forward_live: true,
        dr_active: false,
    }
}

/// The world at one moment.
#[derive(Clone)]
struct World {
    primary_up: bool,
    witness: Option<u64>,
    lag: Option<u64>,
}

fn look(at: i64, w: &World) -> Observation {
    let down = |up: bool| {
        if up {
            Reach::Up
        } else {
            Reach::Down("connection refused".into())
        }
    };
    Observation {
        at: t(at),
        primary_ontap: down(w.primary_up),
        primary_kube: down(w.primary_up),
        dr_ontap: Reach::Up,
        peer_view: if w.primary_up {
            PeerView::Available
        } else {
            PeerView::Unavailable("unavailable".into())
        },
        witness: match w.witness {
            Some(n) => WitnessView::Read(WitnessReading {
                holder: Some("heartbeat".into()),
                renew_marker: format!("renewal-{n}"),
            }),
            None => WitnessView::Unreachable {
                error: "connection refused".into(),
            },
        },
        replication: vec![replication(w.lag)],
        backup_age_seconds: Some(60),
        backup_stale: Some(false),
        problems: Vec::new(),
    }
}

/// Runs `steps` (one world per 10 s) and returns each decision.
fn run(p: &Policy, armed: bool, steps: &[World]) -> Vec<(Verdict, Action)> {
    let mut h = History::new(Duration::from_secs(300));
    steps
        .iter()
        .enumerate()
        .map(|(i, w)| {
            h.push(look(i as i64 * 10, w), p.witness_max_age);
            let d = decide(&h, p, armed);
            (d.verdict, d.action)
        })
        .collect()
}

fn up(renewal: u64) -> World {
    World {
        primary_up: true,
        witness: Some(renewal),
        lag: Some(60),
    }
}

fn down(renewal: Option<u64>) -> World {
    World {
        primary_up: false,
        witness: renewal,
        lag: Some(60),
    }
}

#[test]
fn primary_lost_fails_over_once_the_grace_period_has_passed() {
    // Heartbeat stops with the primary at step 2 (renewal 2 forever).
    let mut steps = vec![up(0), up(1), up(2)];
    steps.extend((0..12).map(|_| down(Some(2))));
    let out = run(&policy(Mode::Automatic), true, &steps);
    assert_eq!(out[0].0, Verdict::Healthy);
    assert_eq!(out[3].0, Verdict::PrimaryUnreachable);
    let first_failover = out
        .iter()
        .position(|(_, a)| *a == Action::Failover)
        .unwrap();
    // Witness stale 30 s after its last renewal (t=20 → t=50), then 60 s
    // of agreement: t=110, step 11.
    assert_eq!(first_failover, 11, "{out:?}");
    assert!(out[..11].iter().all(|(_, a)| *a != Action::Failover));
    assert_eq!(out[11].0, Verdict::PrimaryLost);
}

#[test]
fn a_partition_never_fails_over() {
    let mut steps = vec![up(0), up(1)];
    steps.extend((2..20).map(|n| down(Some(n))));
    let out = run(&policy(Mode::Automatic), true, &steps);
    assert!(out.iter().all(|(_, a)| *a != Action::Failover), "{out:?}");
    assert_eq!(out[3].0, Verdict::Partition);
    assert!(matches!(out[19].1, Action::Alert(_)));
}

#[test]
fn a_flapping_primary_never_fails_over() {
    let steps: Vec<World> = (0..40)
        .map(|i| {
            if (i / 4) % 2 == 0 {
                down(Some(0))
            } else {
                up(0)
            }
        })
        .collect();
    let out = run(&policy(Mode::Automatic), true, &steps);
    assert!(out.iter().all(|(_, a)| *a != Action::Failover), "{out:?}");
}

#[test]
fn without_the_witness_there_is_no_quorum_and_a_human_is_paged() {
    let mut steps = vec![up(0)];
    steps.extend((0..20).map(|_| down(None)));
    let out = run(&policy(Mode::Automatic), true, &steps);
    assert!(out.iter().all(|(_, a)| *a != Action::Failover), "{out:?}");
    assert_eq!(out[20].0, Verdict::NoQuorum);
    assert!(matches!(out[20].1, Action::Page(_)));
}

#[test]
fn data_loss_above_the_limit_pages_a_human() {
    let mut steps = vec![up(0)];
    steps.extend((0..20).map(|_| World {
        lag: Some(3600),
        ..down(Some(0))
    }));
    let out = run(&policy(Mode::Automatic), true, &steps);
    assert!(out.iter().all(|(_, a)| *a != Action::Failover), "{out:?}");
    assert_eq!(out[20].0, Verdict::PrimaryLost);
    let Action::Page(why) = &out[20].1 else {
        panic!("{out:?}")
    };
    assert!(why.contains("over maxDataLoss"), "{why}");
    // An unknown lag is never taken for a small one.
    let mut steps = vec![up(0)];
    steps.extend((0..20).map(|_| World {
        lag: None,
        ..down(Some(0))
    }));
    let out = run(&policy(Mode::Automatic), true, &steps);
    assert!(matches!(&out[20].1, Action::Page(w) if w.contains("unknown")));
}

#[test]
fn observe_and_notify_never_act_and_disarmed_pages() {
    let mut steps = vec![up(0)];
    steps.extend((0..20).map(|_| down(Some(0))));
    let out = run(&policy(Mode::Observe), true, &steps);
    assert_eq!(out[20], (Verdict::PrimaryLost, Action::None));
    let out = run(&policy(Mode::Notify), true, &steps);
    assert!(matches!(&out[20].1, Action::Page(w) if w.contains("mode notify")));
    let out = run(&policy(Mode::Automatic), false, &steps);
    assert!(matches!(&out[20].1, Action::Page(w) if w.contains("disarmed")));
}

#[test]
fn a_restarted_watcher_waits_for_the_witness_to_go_stale_on_its_own_clock() {
    // The primary is already down and the witness long stale when the
    // watcher starts: it still needs witnessMaxAge + grace period.
    let steps: Vec<World> = (0..15).map(|_| down(Some(7))).collect();
    let out = run(&policy(Mode::Automatic), true, &steps);
    let first = out
        .iter()
        .position(|(_, a)| *a == Action::Failover)
        .unwrap();
    assert_eq!(first, 9, "{out:?}");
}

#[test]
fn a_failed_over_pair_is_left_alone() {
    let mut w = down(Some(0));
    w.lag = Some(60);
    let mut h = History::new(Duration::from_secs(300));
    let mut o = look(0, &w);
    o.replication[0].forward_live = false;
    o.replication[0].dr_active = true;
    o.replication[0].state = "broken_off".into();
    h.push(o, Duration::from_secs(30));
    let d = decide(&h, &policy(Mode::Automatic), true);
    assert_eq!((d.verdict, d.action), (Verdict::FailedOver, Action::None));
}
