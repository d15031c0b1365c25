//! The fault matrix: for failover, switchover and failback, every step ×
//! {HTTP 500, a response slower than the timeout, a dropped connection, a
//! failed job, the primary site going down}. Each combination must either
//! complete or stop with an error that names the step and says what to do,
//! and a re-run (faults cleared, primary back) must finish the workflow.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use sim::ontap::{Fault, FaultKind, Timing};
use svmdr::plan::engine::StepStatus;
use svmdr::plan::failover::FailoverOptions;
use svmdr::plan::step::StepKind;
use svmdr::plan::storage::{RelState, SvmState};
use svmdr::plan::{EngineOptions, Observed, Plan, PlanError, execute};
use svmdr::report::NoopReporter;
use svmdr::site::SiteRole;

use super::lab::{Lab, fast_timeouts};

/// The workflows in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Failover,
    Switchover,
    Failback,
}

/// The faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Http500,
    Slow,
    Drop,
    JobFailure,
    PrimaryDown,
}

pub const KINDS: [Kind; 5] = [
    Kind::Http500,
    Kind::Slow,
    Kind::Drop,
    Kind::JobFailure,
    Kind::PrimaryDown,
];

fn engine() -> EngineOptions {
    EngineOptions {
        poll_interval: Duration::from_millis(20),
        step_timeout: Duration::from_secs(5),
        before_step: None,
    }
}

/// A lab in the state the workflow starts from.
pub async fn prepared(flow: Flow) -> Lab {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    if flow == Flow::Failback {
        let ctl = lab.sim.control();
        ctl.set_cluster_down("primary", true);
        let obs = observe(&lab).await;
        let mut plan = svmdr::plan::failover::plan(&obs, &lab.pair(), FailoverOptions::default())
            .expect("failover plan");
        plan.observe_primary = false;
        let mut sites = lab.sites();
        sites.primary = None;
        execute(&plan, &sites, &engine(), &NoopReporter)
            .await
            .expect("failover before failback");
        ctl.write("dr", super::lab::DR_SVM, super::lab::VOLUME, 4096)
            .expect("write on DR");
        ctl.set_cluster_down("primary", false);
        wait_primary(&lab).await;
    }
    lab
}

/// Waits (bounded) until the primary cluster answers again after it was
/// brought back: its listener re-opens asynchronously.
pub async fn wait_primary(lab: &Lab) {
    // Generous: on a loaded 2-core CI machine the listener task can lag.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match lab.primary.cluster().await {
            Ok(_) => return,
            Err(e) if std::time::Instant::now() > deadline => {
                panic!("the primary cluster did not come back within 20 s: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn observe(lab: &Lab) -> Observed {
    lab.sites()
        .observe(&lab.pair(), true, true)
        .await
        .expect("observe")
}

pub fn build(flow: Flow, lab: &Lab, obs: &Observed) -> Result<Plan, PlanError> {
    match flow {
        // Forced, with the primary up: the matrix also covers stop-primary.
        Flow::Failover => svmdr::plan::failover::plan(
            obs,
            &lab.pair(),
            FailoverOptions {
                force: true,
                ..FailoverOptions::default()
            },
        ),
        Flow::Switchover => svmdr::plan::switchover::plan(obs, &lab.pair()),
        Flow::Failback => svmdr::plan::failback::plan(obs, &lab.pair(), false),
    }
}

/// Runs `flow` once, with an optional hook.
pub async fn run_once(
    flow: Flow,
    lab: &Lab,
    hook: Option<svmdr::plan::engine::StepHook>,
) -> Result<svmdr::plan::RunReport, PlanError> {
    let obs = observe(lab).await;
    let plan = build(flow, lab, &obs)?;
    let opts = EngineOptions {
        before_step: hook,
        ..engine()
    };
    execute(&plan, &lab.sites(), &opts, &NoopReporter)
        .await
        .map_err(|f| f.error)
}

/// Whether the final state is what the workflow promises.
pub fn finished(flow: Flow, obs: &Observed) -> Result<(), String> {
    let svm = |primary: bool| {
        let s = if primary { &obs.primary } else { &obs.dr };
        s.svm.as_ref().map(|v| v.state.clone())
    };
    let fwd = obs.forward().map(|r| r.state.clone());
    let ok = match flow {
        Flow::Failover => {
            fwd == Some(RelState::BrokenOff)
                && svm(false) == Some(SvmState::Running)
                && svm(true) == Some(SvmState::Stopped)
        }
        Flow::Switchover => {
            obs.reverse().map(|r| r.state.clone()) == Some(RelState::Snapmirrored)
                && svm(false) == Some(SvmState::Running)
                && svm(true) == Some(SvmState::Stopped)
        }
        Flow::Failback => {
            fwd == Some(RelState::Snapmirrored)
                && obs.reverse().is_none()
                && svm(true) == Some(SvmState::Running)
                && svm(false) == Some(SvmState::Stopped)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "unexpected end state: forward {:?}, reverse {:?}, primary SVM {:?}, DR SVM {:?}",
            fwd,
            obs.reverse().map(|r| r.state.clone()),
            svm(true),
            svm(false)
        ))
    }
}

/// The steps of `flow` and whether each makes an ONTAP call (from a clean run).
pub async fn profile(flow: Flow) -> Vec<(String, StepKind, bool)> {
    let lab = prepared(flow).await;
    let obs = observe(&lab).await;
    let plan = build(flow, &lab, &obs).expect("plan");
    let report = execute(&plan, &lab.sites(), &engine(), &NoopReporter)
        .await
        .expect("clean run");
    plan.steps
        .iter()
        .map(|s| {
            let acted = report.timeline.steps.iter().any(|r| {
                r.id == s.id
                    && r.status == StepStatus::Succeeded
                    && !matches!(s.kind, StepKind::Verify { .. })
            });
            (s.id.clone(), s.kind.clone(), acted)
        })
        .collect()
}

/// The request a fault at this step targets: the step's own call when it
/// makes one, else the GET it decides on.
fn target(kind: &StepKind, acts: bool) -> (Option<Method>, &'static str) {
    let rels = "/api/snapmirror/relationships";
    if !acts {
        return match kind {
            StepKind::Verify { .. } => (Some(Method::GET), "/api/storage/volumes"),
            StepKind::StopSvm { .. } | StepKind::StartSvm { .. } => {
                (Some(Method::GET), "/api/svm/svms")
            }
            _ => (Some(Method::GET), rels),
        };
    }
    match kind {
        StepKind::Update { .. } => (Some(Method::POST), "/transfers"),
        StepKind::AbortTransfer { .. } => (Some(Method::PATCH), "/transfers/"),
        StepKind::Quiesce { .. } | StepKind::Break { .. } | StepKind::Resync { .. } => {
            (Some(Method::PATCH), rels)
        }
        StepKind::StopSvm { .. } | StepKind::StartSvm { .. } => {
            (Some(Method::PATCH), "/api/svm/svms")
        }
        StepKind::CreateRelationship { .. } => (Some(Method::POST), rels),
        StepKind::DeleteRelationship { .. } => (Some(Method::DELETE), rels),
        StepKind::Verify { .. } => (Some(Method::GET), "/api/storage/volumes"),
        // Decided on the SVM's state (the backends are in Kubernetes).
        StepKind::BackendsOnline { .. } => (Some(Method::GET), "/api/svm/svms"),
    }
}

/// What happened in one combination.
#[derive(Debug)]
pub struct Outcome {
    pub flow: Flow,
    pub step: String,
    pub kind: Kind,
    /// The first run's error, if it stopped.
    pub error: Option<String>,
    /// Why the combination failed the requirements, if it did.
    pub problem: Option<String>,
}

/// Runs one combination.
pub async fn combination(
    flow: Flow,
    step: String,
    skind: StepKind,
    acts: bool,
    kind: Kind,
) -> Outcome {
    let lab = prepared(flow).await;
    let ctl = lab.sim.control();
    let cluster = match skind.site() {
        SiteRole::Primary => "primary",
        SiteRole::Dr => "dr",
    };
    let (method, path) = target(&skind, acts);
    let fault_kind = match kind {
        Kind::Http500 => Some(FaultKind::Http500),
        Kind::Slow => Some(FaultKind::Delay(
            fast_timeouts().request + Duration::from_millis(300),
        )),
        Kind::Drop => Some(FaultKind::DropConnection),
        Kind::JobFailure => Some(FaultKind::JobFailure {
            code: 13303812,
            message: "simulated job failure".into(),
        }),
        Kind::PrimaryDown => None,
    };
    let fired = Arc::new(Mutex::new(false));
    let (hook_ctl, hook_step, hook_fired) = (ctl.clone(), step.clone(), fired.clone());
    let hook: svmdr::plan::engine::StepHook = Arc::new(move |id: &str| {
        if id != hook_step {
            return;
        }
        if let Ok(mut f) = hook_fired.lock() {
            *f = true;
        }
        match &fault_kind {
            Some(k) => hook_ctl.inject_fault(
                cluster,
                Fault {
                    method: method.clone(),
                    path_contains: path.to_string(),
                    kind: k.clone(),
                    // Slow answers hit once (each costs a whole timeout);
                    // the others stay until cleared.
                    times: if matches!(k, FaultKind::Delay(_)) {
                        Some(1)
                    } else {
                        None
                    },
                },
            ),
            None => hook_ctl.set_cluster_down("primary", true),
        }
    });
    let first =
        tokio::time::timeout(Duration::from_secs(60), run_once(flow, &lab, Some(hook))).await;
    let mut out = Outcome {
        flow,
        step: step.clone(),
        kind,
        error: None,
        problem: None,
    };
    match first {
        Err(_) => out.problem = Some("the first run hung".into()),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            let msg = e.to_string();
            let hint = e.hint();
            if e.step().is_none() || !msg.contains("step ") {
                out.problem = Some(format!("error does not name the step: {msg}"));
            } else if hint.is_empty() {
                out.problem = Some(format!("error says nothing about what to do: {msg}"));
            }
            out.error = Some(format!("{msg} — {hint}"));
        }
    }
    if !fired.lock().map(|f| *f).unwrap_or(false) && out.problem.is_none() {
        out.problem = Some("the run never reached the step".into());
    }
    ctl.clear_faults("primary");
    ctl.clear_faults("dr");
    ctl.set_cluster_down("primary", false);
    wait_primary(&lab).await;
    // Let a slow (already accepted) request land before re-running.
    tokio::time::sleep(Duration::from_millis(400)).await;
    match tokio::time::timeout(Duration::from_secs(60), run_once(flow, &lab, None)).await {
        Err(_) => out.problem = out.problem.or(Some("the re-run hung".into())),
        Ok(Err(e)) => {
            out.problem = out
                .problem
                .or(Some(format!("the re-run failed: {e} — {}", e.hint())))
        }
        Ok(Ok(report)) => {
            if let Err(p) = finished(flow, &report.last) {
                out.problem = out.problem.or(Some(p));
            }
        }
    }
    out
}
