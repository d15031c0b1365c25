//! DR workflows against the simulated lab (`sim::ontap`): each workflow's
//! happy path and re-run, the split-brain guard, the no-data-loss proof of a
//! switchover, and the fault matrix (every step × every fault); peering on
//! the same engine.

#[path = "plan/lab.rs"]
mod lab;

#[path = "plan/faults.rs"]
mod faults;

#[path = "plan/backends.rs"]
mod backends;

#[path = "plan/spawnable.rs"]
mod spawnable;

#[path = "plan/peering.rs"]
mod peering;

use std::time::Duration;

use lab::{DR_SVM, Lab, PRIMARY_SVM, VOLUME, fast_timeouts};
use sim::ontap::Timing;
use svmdr::plan::driver::Command;
use svmdr::plan::engine::StepStatus;
use svmdr::plan::failover::FailoverOptions;
use svmdr::plan::storage::{PeerState, RelState, SvmState};
use svmdr::plan::{EngineOptions, Observed, PlanError, execute};
use svmdr::report::NoopReporter;

fn engine() -> EngineOptions {
    EngineOptions {
        poll_interval: Duration::from_millis(20),
        step_timeout: Duration::from_secs(10),
        before_step: None,
    }
}

async fn observe(lab: &Lab, with_primary: bool) -> Observed {
    lab.sites()
        .observe(&lab.pair(), true, with_primary)
        .await
        .expect("observe")
}

fn svm_state(obs: &Observed, primary: bool) -> Option<SvmState> {
    let s = if primary { &obs.primary } else { &obs.dr };
    s.svm.as_ref().map(|v| v.state.clone())
}

async fn failover(lab: &Lab, force: bool) -> Result<svmdr::plan::RunReport, PlanError> {
    let obs = observe(lab, true).await;
    let opts = FailoverOptions {
        force,
        ..FailoverOptions::default()
    };
    let plan = svmdr::plan::failover::plan(&obs, &lab.pair(), opts)?;
    let mut sites = lab.sites();
    if !plan.observe_primary {
        sites.primary = None;
    }
    execute(&plan, &sites, &engine(), &NoopReporter)
        .await
        .map_err(|f| f.error)
}

#[tokio::test]
async fn failover_with_the_primary_site_down() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let replicated = lab.write_primary();
    // Carry the write over before the disaster.
    let obs = observe(&lab, true).await;
    let plan = svmdr::plan::switchover::plan(&obs, &lab.pair()).expect("plan");
    let update = svmdr::plan::Plan {
        steps: plan.steps[..1].to_vec(),
        ..plan
    };
    execute(&update, &lab.sites(), &engine(), &NoopReporter)
        .await
        .expect("update");
    let lost = lab.write_primary();
    lab.sim.control().set_cluster_down("primary", true);

    let report = failover(&lab, false).await.expect("failover");
    let ids: Vec<(&str, StepStatus)> = report
        .timeline
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.status))
        .collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    // No Kubernetes API in this lab: the Trident backend step says so.
    let backends = report.timeline.steps.last().expect("steps");
    assert_eq!(backends.id, "backends-online");
    assert_eq!(backends.status, StepStatus::Skipped);
    assert!(
        backends
            .note
            .as_deref()
            .is_some_and(|n| n.contains("Kubernetes API is not configured")),
        "{backends:?}"
    );
    assert!(
        ids.iter()
            .any(|(id, st)| *id == "break" && *st == StepStatus::Succeeded)
    );
    let last = &report.last;
    assert_eq!(
        last.forward().map(|r| r.state.clone()),
        Some(RelState::BrokenOff)
    );
    assert_eq!(svm_state(last, false), Some(SvmState::Running));
    assert!(
        last.dr.serving_problems().is_empty(),
        "{:?}",
        last.dr.serving_problems()
    );
    let data = lab
        .sim
        .control()
        .volume_data("dr", DR_SVM, VOLUME)
        .expect("dr volume");
    assert!(data.contains(replicated), "the replicated write reached DR");
    assert!(
        !data.contains(lost),
        "a write after the last transfer cannot be on DR"
    );
    lab.sim
        .control()
        .write("dr", DR_SVM, VOLUME, 4096)
        .expect("DR volume is writable");

    // A re-run finds everything done.
    let again = failover(&lab, false).await.expect("re-run");
    assert!(
        again
            .timeline
            .steps
            .iter()
            .all(|s| s.status == StepStatus::Skipped),
        "{:?}",
        again.timeline.steps
    );
}

#[tokio::test]
async fn failover_refuses_while_the_primary_runs() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let before = lab.sim.control().snapshot();
    let err = failover(&lab, false).await.expect_err("refused");
    assert!(err.is_refusal(), "{err}");
    assert!(err.hint().contains("switchover"));
    let obs = observe(&lab, true).await;
    assert_eq!(
        obs.forward().map(|r| r.state.clone()),
        Some(RelState::Snapmirrored)
    );
    let _ = before;
}

#[tokio::test]
async fn preflight_asks_the_dr_cluster_about_an_unconfigured_primary() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let mut sites = lab.sites();
    sites.primary = None;
    // The primary ONTAP is up, only we cannot reach it: the DR cluster's
    // peer record says so, and the guard refuses.
    let obs = sites.preflight(&lab.pair(), false).await.expect("observe");
    let pf = svmdr::plan::failover::preflight(&obs);
    assert_eq!(pf.primary_peer_state, Some(PeerState::Available), "{obs:?}");
    let err = svmdr::plan::failover::plan(&obs, &lab.pair(), FailoverOptions::default())
        .expect_err("refused");
    assert!(err.is_refusal(), "{err}");
    assert!(err.to_string().contains("cluster peer available"), "{err}");
    // Through the driver: only a failover reads the peer record.
    let obs = Command::Failover(FailoverOptions::default())
        .preflight(&sites, &lab.pair(), false)
        .await
        .expect("observe");
    assert_eq!(
        svmdr::plan::failover::preflight(&obs).primary_peer_state,
        Some(PeerState::Available)
    );
    let obs = Command::Switchover
        .preflight(&sites, &lab.pair(), false)
        .await
        .expect("observe");
    assert_eq!(obs.dr.peer, svmdr::plan::observe::PeerReport::NotObserved);
    // The primary ONTAP down too: the peer is unavailable, failover proceeds.
    lab.sim.control().set_cluster_down("primary", true);
    let obs = sites.preflight(&lab.pair(), false).await.expect("observe");
    assert_eq!(
        svmdr::plan::failover::preflight(&obs).primary_peer_state,
        Some(PeerState::Unavailable)
    );
    assert!(svmdr::plan::failover::plan(&obs, &lab.pair(), FailoverOptions::default()).is_ok());
    // A reachable primary is asked directly; the peer is not read.
    lab.sim.control().set_cluster_down("primary", false);
    let obs = lab
        .sites()
        .preflight(&lab.pair(), false)
        .await
        .expect("observe");
    assert_eq!(obs.dr.peer, svmdr::plan::observe::PeerReport::NotObserved);
}

#[tokio::test]
async fn forced_failover_stops_the_primary_first() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let report = failover(&lab, true).await.expect("forced failover");
    assert_eq!(svm_state(&report.last, true), Some(SvmState::Stopped));
    assert_eq!(svm_state(&report.last, false), Some(SvmState::Running));
}

#[tokio::test]
async fn switchover_loses_nothing_written_before_the_stop() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let w1 = lab.write_primary();
    let obs = observe(&lab, true).await;
    let plan = svmdr::plan::switchover::plan(&obs, &lab.pair()).expect("plan");
    let w2 = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (ctl, w2c) = (lab.sim.control(), w2.clone());
    let opts = EngineOptions {
        before_step: Some(std::sync::Arc::new(move |id: &str| {
            // The last write the primary accepts, just before it stops.
            if id == "stop-primary" {
                let w = ctl.write("primary", PRIMARY_SVM, VOLUME, 512).ok();
                if let Ok(mut g) = w2c.lock() {
                    *g = w;
                }
            }
        })),
        ..engine()
    };
    let report = execute(&plan, &lab.sites(), &opts, &NoopReporter)
        .await
        .expect("switchover");
    let proof = svmdr::plan::switchover::no_loss_proof(&report);
    assert!(proof.covered, "{proof:?}");
    let data = lab
        .sim
        .control()
        .volume_data("dr", DR_SVM, VOLUME)
        .expect("dr volume");
    let w2 = w2.lock().ok().and_then(|g| *g).expect("write before stop");
    assert!(
        data.contains(w1) && data.contains(w2),
        "every write before the stop is on DR"
    );
    assert_eq!(
        report.last.reverse().map(|r| r.state.clone()),
        Some(RelState::Snapmirrored)
    );
    assert_eq!(svm_state(&report.last, true), Some(SvmState::Stopped));
    assert_eq!(svm_state(&report.last, false), Some(SvmState::Running));
}

async fn run(
    lab: &Lab,
    build: impl Fn(&Observed) -> Result<svmdr::plan::Plan, PlanError>,
    opts: &EngineOptions,
) -> Result<svmdr::plan::RunReport, PlanError> {
    let obs = observe(lab, true).await;
    let plan = build(&obs)?;
    execute(&plan, &lab.sites(), opts, &NoopReporter)
        .await
        .map_err(|f| f.error)
}

/// The seed scenario on the storage side: writes → failover (primary down)
/// → writes on DR → primary back → reverse resync → failback.
#[tokio::test]
async fn failover_reverse_resync_failback() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let ctl = lab.sim.control();
    let pair = lab.pair();
    lab.sim.control().set_cluster_down("primary", true);
    failover(&lab, false).await.expect("failover");
    let dr_write = ctl.write("dr", DR_SVM, VOLUME, 8192).expect("write on DR");
    lab.sim.control().set_cluster_down("primary", false);
    faults::wait_primary(&lab).await;

    let reverse = run(
        &lab,
        |o| svmdr::plan::resync::plan(o, &pair, svmdr::plan::resync::Direction::Reverse, false),
        &engine(),
    )
    .await
    .expect("reverse resync");
    assert_eq!(
        reverse.last.reverse().map(|r| r.state.clone()),
        Some(RelState::Snapmirrored)
    );
    assert_eq!(svm_state(&reverse.last, true), Some(SvmState::Stopped));
    assert_eq!(svm_state(&reverse.last, false), Some(SvmState::Running));
    let dr_write2 = ctl
        .write("dr", DR_SVM, VOLUME, 8192)
        .expect("DR still serves");

    let back = run(
        &lab,
        |o| svmdr::plan::failback::plan(o, &pair, false),
        &engine(),
    )
    .await
    .expect("failback");
    let last = &back.last;
    assert_eq!(
        last.forward().map(|r| r.state.clone()),
        Some(RelState::Snapmirrored)
    );
    assert!(
        last.reverse().is_none(),
        "the reverse relationship is deleted"
    );
    assert_eq!(svm_state(last, true), Some(SvmState::Running));
    assert_eq!(svm_state(last, false), Some(SvmState::Stopped));
    assert!(
        last.primary.serving_problems().is_empty(),
        "{:?}",
        last.primary.serving_problems()
    );
    let data = ctl
        .volume_data("primary", PRIMARY_SVM, VOLUME)
        .expect("volume");
    assert!(
        data.contains(dr_write) && data.contains(dr_write2),
        "writes made on DR came back to the primary"
    );
    let w = ctl
        .write("primary", PRIMARY_SVM, VOLUME, 4096)
        .expect("primary serves again");
    // And the original direction replicates again.
    let obs = observe(&lab, true).await;
    let sw = svmdr::plan::switchover::plan(&obs, &pair).expect("plan");
    let update = svmdr::plan::Plan {
        steps: sw.steps[..1].to_vec(),
        ..sw
    };
    execute(&update, &lab.sites(), &engine(), &NoopReporter)
        .await
        .expect("update");
    let dr = ctl.volume_data("dr", DR_SVM, VOLUME).expect("dr volume");
    assert!(
        dr.contains(w),
        "primary → DR replication works after failback"
    );

    // A re-run of failback has nothing left to do.
    let again = run(
        &lab,
        |o| svmdr::plan::failback::plan(o, &pair, false),
        &engine(),
    )
    .await
    .expect("failback re-run");
    assert!(
        again
            .timeline
            .steps
            .iter()
            .all(|s| s.status == StepStatus::Skipped),
        "{:?}",
        again.timeline.steps
    );
}

#[tokio::test]
async fn forward_resync_discards_dr_writes() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let ctl = lab.sim.control();
    let pair = lab.pair();
    lab.sim.control().set_cluster_down("primary", true);
    failover(&lab, false).await.expect("failover");
    let dr_only = ctl.write("dr", DR_SVM, VOLUME, 100).expect("write on DR");
    lab.sim.control().set_cluster_down("primary", false);
    faults::wait_primary(&lab).await;
    let report = run(
        &lab,
        |o| svmdr::plan::resync::plan(o, &pair, svmdr::plan::resync::Direction::Forward, false),
        &engine(),
    )
    .await
    .expect("forward resync");
    assert_eq!(
        report.last.forward().map(|r| r.state.clone()),
        Some(RelState::Snapmirrored)
    );
    assert_eq!(svm_state(&report.last, false), Some(SvmState::Stopped));
    assert_eq!(svm_state(&report.last, true), Some(SvmState::Running));
    let data = ctl.volume_data("dr", DR_SVM, VOLUME).expect("volume");
    assert!(!data.contains(dr_only), "DR-side writes are discarded");
}

/// Every step of failover, switchover and failback × every fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_matrix() {
    use faults::{Flow, KINDS, combination, profile};
    use futures::StreamExt;
    let mut combos = Vec::new();
    for flow in [Flow::Failover, Flow::Switchover, Flow::Failback] {
        for (id, kind, acts) in profile(flow).await {
            for k in KINDS {
                combos.push((flow, id.clone(), kind.clone(), acts, k));
            }
        }
    }
    let total = combos.len();
    let outcomes: Vec<faults::Outcome> = futures::stream::iter(combos)
        .map(|(f, id, kind, acts, k)| combination(f, id, kind, acts, k))
        .buffer_unordered(16)
        .collect()
        .await;
    let failed: Vec<&faults::Outcome> = outcomes.iter().filter(|o| o.problem.is_some()).collect();
    let stopped = outcomes.iter().filter(|o| o.error.is_some()).count();
    for o in &outcomes {
        println!(
            "{:?} / {} / {:?}: {}{}",
            o.flow,
            o.step,
            o.kind,
            o.error.as_deref().unwrap_or("completed despite the fault"),
            o.problem
                .as_deref()
                .map(|p| format!(" — PROBLEM: {p}"))
                .unwrap_or_default()
        );
    }
    println!(
        "fault matrix: {} passed, {} failed ({} combinations; {} stopped with an error and were finished by a re-run, {} completed despite the fault)",
        total - failed.len(),
        failed.len(),
        total,
        stopped,
        total - stopped
    );
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test]
async fn failover_stops_a_transfer_in_flight() {
    let timing = Timing {
        transfer: Duration::from_secs(5),
        ..Timing::fast()
    };
    let lab = Lab::start(timing, fast_timeouts()).await;
    // A planned outage: the primary answers, its SVM is stopped.
    let svm = lab
        .primary
        .svm_by_name(PRIMARY_SVM)
        .await
        .expect("svm")
        .and_then(|s| s.uuid)
        .expect("uuid");
    lab.primary
        .set_svm_state(&svm, svmdr::ontap::models::SvmState::Stopped)
        .await
        .expect("stop");
    let obs = observe(&lab, true).await;
    let rel = obs.forward().expect("forward").uuid.clone();
    lab.dr.start_transfer(&rel).await.expect("transfer");
    let report = failover(&lab, false).await.expect("failover");
    let abort = report
        .timeline
        .steps
        .iter()
        .find(|s| s.id == "abort-transfer")
        .expect("step");
    assert_eq!(abort.status, StepStatus::Succeeded, "{abort:?}");
    assert_eq!(
        report.last.forward().map(|r| r.state.clone()),
        Some(RelState::BrokenOff)
    );
}
