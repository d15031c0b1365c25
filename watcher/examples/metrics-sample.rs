//! Prints what `/metrics` serves after a few cycles of a realistic run:
//! a healthy pair in automatic mode, then the primary lost for the grace
//! period and one automatic failover. No network; the looks go through
//! the real history and decision.
//!
//! ```text
//! cargo run -q -p watcher --example metrics-sample > metrics.txt
//! watcher/check-metrics.sh metrics.txt
//! ```

use std::time::Duration;

use chrono::{TimeZone, Utc};
use svmdr::watch::{
    History, Mode, Observation, PeerView, Policy, Reach, Replication, WitnessReading, WitnessView,
    decide,
};
use watcher::metrics::Metrics;

fn observation(step: i64, primary_up: bool) -> Observation {
    let reach = if primary_up {
        Reach::Up
    } else {
        Reach::Down("tcp connect: no route to host".into())
    };
    Observation {
        at: Utc.timestamp_opt(1_800_000_000 + step * 10, 0).unwrap(),
        primary_ontap: reach.clone(),
        primary_kube: reach,
        dr_ontap: Reach::Up,
        peer_view: if primary_up {
            PeerView::Available
        } else {
            PeerView::Unavailable("cluster-a is unavailable".into())
        },
        witness: WitnessView::Read(WitnessReading {
            holder: Some("svmdr-heartbeat-7d9c5".into()),
            // The heartbeat renews every look while the primary is up.
            renew_marker: format!("2027-01-15T08:00:{:02}Z", step.min(2)),
        }),
        replication: vec![Replication {
            pair: "svm1 → svm1_dr".into(),
            source_svm: "svm1".into(),
            destination_svm: "svm1_dr".into(),
            source_cluster: "cluster-a".into(),
            destination_cluster: "cluster-b".into(),
            state: "snapmirrored".into(),
            healthy: primary_up,
            lag_seconds: Some(240 + 10 * u64::try_from(step).unwrap_or(0)),
            rpo_seconds: Some(300),
            rpo_exceeded: Some(step > 6),
            forward_live: true,
            dr_active: false,
        }],
        backup_age_seconds: Some(1800),
        backup_stale: Some(false),
        problems: Vec::new(),
    }
}

fn main() {
    let policy = Policy {
        mode: Mode::Automatic,
        interval: Duration::from_secs(10),
        grace_period: Duration::from_secs(30),
        witness_max_age: Duration::from_secs(20),
        ..Policy::default()
    };
    let metrics = Metrics::new();
    metrics.set_leader(true);
    let mut history = History::new(Duration::from_secs(300));
    for step in 0..9 {
        metrics.observation(true, 0.4 + 0.1 * f64::from(u8::try_from(step).unwrap_or(0)));
        let look = history
            .push(observation(step, step < 3), policy.witness_max_age)
            .clone();
        let decision = decide(&history, &policy, true);
        metrics.record(&look, &decision, &policy, true);
    }
    metrics.observation(false, 20.0);
    metrics.failover_finished("succeeded");
    print!("{}", metrics.encode());
}
