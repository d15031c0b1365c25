//! The watcher's lab scenarios (`lab drill --scenario watcher-…`): the
//! real `svmdr-watcher` (two replicas and the primary's heartbeat) on the
//! lab with its witness; each asserts the decision, the metrics and the
//! audit through the drill's checks. They run in parallel (each is mostly
//! waiting for the grace period).

mod drill_support;

use drill_support::{assert_passed, checks_pass, scenario, sibling};

/// The scenario's report, with the watcher binary in place.
async fn watcher_scenario(name: &str) -> serde_json::Value {
    sibling("watcher", "svmdr-watcher");
    let (r, j) = scenario(name).await;
    assert_passed(&r, &j);
    checks_pass(&j, &["one-leader"]);
    j
}

#[tokio::test]
async fn primary_lost_fails_over_once_and_the_app_runs_on_dr() {
    let j = watcher_scenario("watcher-primary-lost").await;
    checks_pass(
        &j,
        &[
            "one-failover-audited",
            "disarmed",
            "metrics-failover",
            "pvcs-bound-on-dr",
            "volumes-imported-by-trident",
            "app-running-on-dr",
        ],
    );
    let rto = j["rto"]["storageSeconds"].as_f64().expect("an RTO");
    assert!(rto >= 7.0, "faster than witness max age + grace: {rto}");
}

#[tokio::test]
async fn a_partition_alerts_and_never_fails_over() {
    let j = watcher_scenario("watcher-partition").await;
    checks_pass(
        &j,
        &[
            "partition-seen",
            "no-failover",
            "metrics-partition",
            "event-VerdictPartition",
        ],
    );
}

#[tokio::test]
async fn a_flapping_primary_never_fails_over() {
    let j = watcher_scenario("watcher-flapping").await;
    checks_pass(&j, &["no-failover"]);
}

#[tokio::test]
async fn without_the_witness_a_human_is_paged() {
    let j = watcher_scenario("watcher-witness-down").await;
    checks_pass(
        &j,
        &[
            "no-quorum",
            "no-failover",
            "metrics-no-quorum",
            "event-HumanNeeded",
        ],
    );
}

#[tokio::test]
async fn too_much_data_at_risk_pages_a_human() {
    let j = watcher_scenario("watcher-data-loss").await;
    checks_pass(&j, &["data-loss-paged", "no-failover", "event-HumanNeeded"]);
}

#[tokio::test]
async fn a_leader_killed_mid_failover_is_finished_by_the_other_once() {
    let j = watcher_scenario("watcher-leader-lost").await;
    checks_pass(
        &j,
        &[
            "leader-killed",
            "other-replica-finished",
            "one-failover-audited",
        ],
    );
}

#[tokio::test]
async fn observe_and_notify_change_nothing() {
    let j = watcher_scenario("watcher-observe-notify").await;
    checks_pass(
        &j,
        &[
            "observe-does-nothing",
            "notify-pages",
            "no-failover",
            "event-HumanNeeded",
        ],
    );
}
