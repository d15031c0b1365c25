//! The tool's own overhead in an unplanned failover: wall time of the plan
//! run minus the ONTAP operation times the simulator is configured with.
//!
//! Each iteration builds a fresh lab (peered, initialized; not timed), takes
//! the primary site down, then times `plan::execute` of the failover plan.
//! The simulator holds each asynchronous call for exactly
//! `job_queued + job_running` (the client's `return_timeout` covers it), so
//! the ONTAP time of a run is that figure times the number of job-backed
//! steps that acted (quiesce, break, SVM start or stop). Everything else
//! (observations, decisions, HTTP, TLS, JSON) is overhead. Target: < 0.5 s.
//!
//! Two scenarios: the primary cluster refuses connections (a disaster; the
//! ONTAP client retries a refused connection once, after 100 ms, so the
//! split-brain guard learns quickly that the primary is gone), and the primary
//! answers but its SVM is stopped (no retries: the engine's own overhead).
//!
//! Run: `cargo bench -p svmdr --bench failover`.

#[path = "../tests/plan/lab.rs"]
mod lab;

use std::time::{Duration, Instant};

use sim::ontap::Timing;
use svmdr::plan::engine::StepStatus;
use svmdr::plan::failover::FailoverOptions;
use svmdr::plan::step::StepKind;
use svmdr::plan::{EngineOptions, execute};
use svmdr::report::NoopReporter;

const ITERATIONS: usize = 7;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let timing = Timing {
        job_queued: Duration::from_millis(100),
        job_running: Duration::from_millis(200),
        transfer: Duration::from_millis(300),
        job_expiry: Duration::from_secs(300),
    };
    let per_job = timing.job_queued + timing.job_running;
    for primary_down in [true, false] {
        scenario(&rt, timing, per_job, primary_down);
    }
}

fn scenario(rt: &tokio::runtime::Runtime, timing: Timing, per_job: Duration, primary_down: bool) {
    let mut overheads = Vec::new();
    let mut walls = Vec::new();
    let name = if primary_down {
        "primary cluster down"
    } else {
        "primary up, SVM stopped"
    };
    for _ in 0..ITERATIONS {
        let (wall, jobs) = rt.block_on(async {
            let lab = lab::Lab::start(timing, svmdr::ontap::Timeouts::default()).await;
            if primary_down {
                lab.sim.control().set_cluster_down("primary", true);
            } else {
                let svm = lab
                    .primary
                    .svm_by_name(lab::PRIMARY_SVM)
                    .await
                    .expect("svm")
                    .and_then(|s| s.uuid)
                    .expect("uuid");
                lab.primary
                    .set_svm_state(&svm, svmdr::ontap::models::SvmState::Stopped)
                    .await
                    .expect("stop primary SVM");
            }
            let mut sites = lab.sites();
            let t0 = Instant::now();
            let obs = sites
                .observe(&lab.pair(), false, true)
                .await
                .expect("observe");
            let plan = svmdr::plan::failover::plan(&obs, &lab.pair(), FailoverOptions::default())
                .expect("plan");
            if !plan.observe_primary {
                sites.primary = None;
            }
            let opts = EngineOptions {
                poll_interval: Duration::from_millis(20),
                step_timeout: Duration::from_secs(30),
                before_step: None,
            };
            let report = execute(&plan, &sites, &opts, &NoopReporter)
                .await
                .expect("failover");
            let wall = t0.elapsed();
            if std::env::var_os("FAILOVER_BENCH_STEPS").is_some() {
                for r in &report.timeline.steps {
                    println!(
                        "  {:<16} {:?} {} ms",
                        r.id,
                        r.status,
                        r.duration.as_millis()
                    );
                }
            }
            let jobs = plan
                .steps
                .iter()
                .filter(|s| {
                    matches!(
                        s.kind,
                        StepKind::Quiesce { .. }
                            | StepKind::Break { .. }
                            | StepKind::StartSvm { .. }
                            | StepKind::StopSvm { .. }
                    ) && report
                        .timeline
                        .steps
                        .iter()
                        .any(|r| r.id == s.id && r.status == StepStatus::Succeeded)
                })
                .count();
            (wall, jobs)
        });
        let ontap = per_job * u32::try_from(jobs).unwrap_or(u32::MAX);
        overheads.push(wall.saturating_sub(ontap));
        walls.push(wall);
        println!(
            "failover ({name}): wall {:>4} ms, simulated ONTAP time {:>4} ms ({jobs} jobs × {} ms), overhead {:>4} ms",
            wall.as_millis(),
            ontap.as_millis(),
            per_job.as_millis(),
            wall.saturating_sub(ontap).as_millis()
        );
    }
    overheads.sort();
    walls.sort();
    let median = overheads[overheads.len() / 2];
    let max = overheads[overheads.len() - 1];
    println!(
        "failover overhead ({name}): median {} ms, max {} ms over {ITERATIONS} runs (median wall {} ms); target < 500 ms: {}",
        median.as_millis(),
        max.as_millis(),
        walls[walls.len() / 2].as_millis(),
        if max < Duration::from_millis(500) {
            "met"
        } else {
            "NOT met"
        }
    );
}
