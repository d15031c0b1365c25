//! Benchmarks of the binary (`cargo bench -p kubectl-svmdr`), printed as a
//! small table:
//!
//! - cold start of `--help`, `version` and the completion entry (process
//!   spawn to exit; no runtime, kube or TLS work happens for these);
//! - `status` wall time against the simulated lab with a delay injected on
//!   every ONTAP request of one site, the other, or both: both sites are
//!   queried at the same time, so the wall time follows the slowest site,
//!   not the sum;
//! - ONTAP calls per `status` run on each site.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Lab;
use sim::ontap::{Fault, FaultKind};

const DELAY: Duration = Duration::from_millis(400);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn spawn_time(bin: &Path, args: &[&str], runs: usize) -> Duration {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = std::process::Command::new(bin)
            .args(args)
            .output()
            .expect("spawn");
        times.push(t.elapsed());
        assert!(out.status.success(), "{args:?}");
    }
    median(times)
}

async fn status_time(lab: &Lab, runs: usize) -> Duration {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = lab.run(&["status", "-o", "json"]).await;
        times.push(t.elapsed());
        assert_eq!(r.code, 0, "{}", r.all());
    }
    median(times)
}

fn delay_all(lab: &Lab, cluster: &str) {
    lab.ontap.control().inject_fault(
        cluster,
        Fault {
            method: None,
            path_contains: String::new(),
            kind: FaultKind::Delay(DELAY),
            times: None,
        },
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-svmdr"));
    let complete = Path::new(env!("CARGO_BIN_EXE_kubectl_complete-svmdr"));
    println!("cold start (median of 50 runs, process spawn to exit)");
    println!(
        "  kubectl-svmdr --help            {:>8.2?}",
        spawn_time(bin, &["--help"], 50)
    );
    println!(
        "  kubectl-svmdr version           {:>8.2?}",
        spawn_time(bin, &["version"], 50)
    );
    println!(
        "  kubectl_complete-svmdr st       {:>8.2?}",
        spawn_time(complete, &["st"], 50)
    );

    let lab = Lab::start().await;
    lab.peer().await;
    let c = lab.ontap.control();
    let (p0, d0) = (c.request_count("primary"), c.request_count("dr"));
    lab.run(&["status"]).await;
    println!(
        "ONTAP calls per status run: primary {}, dr {} (independent of the number of relationships)",
        c.request_count("primary") - p0,
        c.request_count("dr") - d0
    );
    println!("status wall time (median of 5), {DELAY:?} delay on every ONTAP request of:");
    let base = status_time(&lab, 5).await;
    println!("  no site                         {base:>8.2?}");
    delay_all(&lab, "primary");
    let primary = status_time(&lab, 5).await;
    println!("  primary                         {primary:>8.2?}");
    c.clear_faults("primary");
    delay_all(&lab, "dr");
    let dr = status_time(&lab, 5).await;
    println!("  dr                              {dr:>8.2?}");
    delay_all(&lab, "primary");
    let both = status_time(&lab, 5).await;
    println!("  both                            {both:>8.2?}");
    println!(
        "  both - slowest single site      {:>8.2?}   (sequential sites would add ~{DELAY:?})",
        both.saturating_sub(primary.max(dr))
    );
}
