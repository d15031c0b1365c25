//! The watcher's steady-state cost per interval, for 1 and for 20 SVM
//! pairs (`cargo bench -p watcher --bench cycle`), on an in-process lab
//! ([`lab`]):
//!
//! - requests per observation cycle to each ONTAP cluster and each
//!   Kubernetes API (DR, primary, witness): [`svmdr::watch::observe`] run
//!   in-process, after a warm-up, counters' deltas divided by the cycles;
//! - the real `svmdr-watcher run` (interval 1s, observe mode) for ~20 s:
//!   CPU per cycle (`/proc/<pid>/stat`), resident and peak RSS
//!   (`/proc/<pid>/status`), cycles from `/metrics`, and its requests per
//!   cycle (policy, status object and leader Lease included).
//!
//! Target (the issue): requests O(sites), not O(relationships); RSS under
//! 20 MiB. Exits non-zero, with a FAIL line, when N=20 costs more requests
//! per cycle than N=1 or the peak RSS is over the target.

#[path = "cycle/lab.rs"]
mod lab;

use std::process::Stdio;
use std::time::{Duration, Instant};

use lab::{BenchLab, Breakdown, Counters, totals};
use svmdr::watch::{Policy, Witness as _};

/// Observations before counting, and observations counted.
const WARMUP: usize = 3;
const CYCLES: usize = 10;
/// How long the binary is measured, after its warm-up.
const RUN_FOR: Duration = Duration::from_secs(20);
/// The RSS target.
const RSS_TARGET_MIB: f64 = 20.0;

/// `observe` in-process: requests per cycle after the warm-up, and how
/// many relationships the last observation saw.
async fn in_process(lab: &BenchLab) -> anyhow::Result<(Breakdown, usize)> {
    let sites = lab.sites().await?;
    let dr = sites
        .dr
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no DR site"))?;
    let timeout = Duration::from_secs(10);
    let witness = watcher::witness_client::lease_witness(&lab.witness_args(), timeout).await?;
    witness
        .renew("bench-heartbeat", Duration::from_secs(60))
        .await?;
    let velero = Policy::default().velero_namespace;
    let observe = || svmdr::watch::observe(dr, sites.primary_ref(), &witness, &velero, timeout);
    for _ in 0..WARMUP {
        observe().await;
    }
    let before = Counters::take(lab);
    let mut seen = 0;
    for _ in 0..CYCLES {
        let (o, _) = observe().await;
        anyhow::ensure!(
            o.primary_ontap.is_up() && o.dr_ontap.is_up() && o.primary_kube.is_up(),
            "a site did not answer: {:?}",
            (&o.primary_ontap, &o.dr_ontap, &o.primary_kube)
        );
        seen = o.replication.len();
    }
    Ok((Counters::take(lab).per_cycle(&before, CYCLES as f64), seen))
}

/// What the binary cost.
struct Process {
    cycles: u64,
    cpu_ms_per_cycle: f64,
    rss_mib: f64,
    hwm_mib: f64,
    requests: Breakdown,
    verdict: String,
}

/// `svmdr-watcher run` against the lab for [`RUN_FOR`] after its warm-up,
/// with a heartbeat renewing the witness every second.
async fn binary(lab: &BenchLab) -> anyhow::Result<Process> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = lab.path("watcher.log");
    let mut child = tokio::process::Command::new(watcher_bin())
        .args(lab.run_args(port))
        .env("KUBECONFIG", lab.path("kubeconfig"))
        .env_remove("RUST_LOG")
        .env_remove("POD_NAME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or_else(|| anyhow::anyhow!("no pid"))?;
    let witness =
        watcher::witness_client::lease_witness(&lab.witness_args(), Duration::from_secs(5)).await?;
    let heartbeat = tokio::spawn(async move {
        loop {
            let _ = witness
                .renew("bench-heartbeat", Duration::from_secs(10))
                .await;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let result = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while ok_cycles(port).await.unwrap_or(0.0) < WARMUP as f64 {
            anyhow::ensure!(
                Instant::now() < deadline,
                "no {WARMUP} observations within 60 s; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (ok0, cpu0, before) = (ok_cycles(port).await, cpu_ticks(pid)?, Counters::take(lab));
        tokio::time::sleep(RUN_FOR).await;
        let (ok1, cpu1, after) = (ok_cycles(port).await, cpu_ticks(pid)?, Counters::take(lab));
        let cycles = (ok1.unwrap_or(0.0) - ok0.unwrap_or(0.0)).max(0.0) as u64;
        anyhow::ensure!(cycles > 0, "no cycle counted; log:\n{}", tail(&log));
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = |key: &str| -> f64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(f64::NAN)
        };
        let verdict = lab
            .dr_kube
            .get(
                "v1",
                "ConfigMap",
                Some(lab::NAMESPACE),
                svmdr::watch::STATUS_CONFIGMAP,
            )
            .and_then(|c| c["data"]["verdict"].as_str().map(String::from))
            .unwrap_or_else(|| "(no status object)".into());
        Ok(Process {
            cycles,
            cpu_ms_per_cycle: (cpu1 - cpu0) as f64 * 1000.0 / clock_ticks() / cycles as f64,
            rss_mib: kib("VmRSS:") / 1024.0,
            hwm_mib: kib("VmHWM:") / 1024.0,
            requests: after.per_cycle(&before, cycles as f64),
            verdict,
        })
    }
    .await;
    heartbeat.abort();
    let _ = child.kill().await;
    result
}

/// The binary measured: `$SVMDR_WATCHER_BIN` (e.g. a copy of what
/// `cargo build --release -p watcher` makes, without the dev-dependencies'
/// features), else the one cargo built for this bench.
fn watcher_bin() -> std::path::PathBuf {
    std::env::var_os("SVMDR_WATCHER_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_svmdr-watcher").into(), Into::into)
}

/// The last lines of the watcher's log.
fn tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces): state is
    // field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| -> anyhow::Result<u64> {
        Ok(f.get(i)
            .ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?
            .parse()?)
    };
    Ok(n(11)? + n(12)?)
}

/// `getconf CLK_TCK` (100 when it cannot be asked).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `svmdr_observations_total{result="ok"}` from `/metrics`.
async fn ok_cycles(port: u16) -> Option<f64> {
    let text = sim::lab::local_http::get(port, "/metrics", Duration::from_secs(2)).await?;
    sim::lab::local_http::sample(&text, "svmdr_observations_total", "result=\"ok\"")
}

/// One row of the table.
struct Row {
    n: usize,
    relationships: usize,
    observe: Breakdown,
    process: Process,
}

fn fmt(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn print_table(rows: &[Row]) {
    println!();
    println!(
        "steady state per observation cycle: requests from in-process `observe` ({CYCLES} cycles \
         after {WARMUP}); CPU and peak RSS (VmHWM) of the binary"
    );
    println!(
        "{:>7} | {:>13} | {:>19} | {:>22} | {:>12} | {:>14}",
        "N pairs",
        "relationships",
        "ONTAP primary, dr",
        "kube dr, primary, wit.",
        "CPU ms/cycle",
        "peak RSS MiB"
    );
    for r in rows {
        let t = totals(&r.observe, false);
        println!(
            "{:>7} | {:>13} | {:>19} | {:>22} | {:>12.1} | {:>14.1}",
            r.n,
            r.relationships,
            format!("{}, {}", fmt(t[0]), fmt(t[1])),
            format!("{}, {}, {}", fmt(t[2]), fmt(t[3]), fmt(t[4])),
            r.process.cpu_ms_per_cycle,
            r.process.hwm_mib,
        );
    }
    println!();
    println!("the binary (`svmdr-watcher run`, interval 1s, {RUN_FOR:?}), per cycle:");
    for r in rows {
        let t = totals(&r.process.requests, true);
        println!(
            "  N={:<2}  {} cycles, verdict {}; ONTAP {}, {}; kube dr {} (policy, status, Lease), primary {}, witness GETs {}; RSS now {:.1} MiB",
            r.n,
            r.process.cycles,
            r.process.verdict,
            fmt(t[0]),
            fmt(t[1]),
            fmt(t[2]),
            fmt(t[3]),
            fmt(t[4]),
            r.process.rss_mib
        );
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let bin = watcher_bin();
    let size = std::fs::metadata(&bin).map_or(0, |m| m.len());
    println!(
        "binary: {} ({:.1} MiB)",
        bin.display(),
        size as f64 / 1048576.0
    );
    let mut rows = Vec::new();
    for n in [1, 20] {
        let t = Instant::now();
        let lab = BenchLab::start(n).await?;
        println!(
            "N={n}: lab up, {n} pair(s) peered and initialized in {:.1?}",
            t.elapsed()
        );
        let (observe, relationships) = in_process(&lab).await?;
        let process = binary(&lab).await?;
        rows.push(Row {
            n,
            relationships,
            observe,
            process,
        });
    }
    println!("\nper-endpoint requests per in-process cycle (N=1):");
    for (k, v) in &rows[0].observe {
        println!("  {:>4}  {k}", fmt(*v));
    }
    println!("\nthe binary's requests per cycle besides `observe`'s (N=1):");
    for (k, v) in &rows[0].process.requests {
        let extra = v - rows[0].observe.get(k).copied().unwrap_or(0.0);
        if extra.abs() > 1e-9 && !k.starts_with("kube-witness PATCH") {
            println!("  {:>4}  {k}", fmt(extra));
        }
    }
    print_table(&rows);

    let mut failed = false;
    let (one, many) = (&rows[0], &rows[1]);
    let keys: std::collections::BTreeSet<&String> =
        one.observe.keys().chain(many.observe.keys()).collect();
    for k in keys {
        let (a, b) = (one.observe.get(k), many.observe.get(k));
        if a != b {
            failed = true;
            println!("FAIL: {k}: {a:?} per cycle for N=1, {b:?} for N=20");
        }
    }
    if many.relationships != many.n {
        failed = true;
        println!(
            "FAIL: the observation saw {} relationships, not {}",
            many.relationships, many.n
        );
    }
    if !failed {
        println!("ok: requests per cycle are the same for 1 and 20 SVM pairs (O(sites))");
    }
    for r in &rows {
        if r.process.hwm_mib > RSS_TARGET_MIB {
            failed = true;
            println!(
                "FAIL: N={}: peak RSS {:.1} MiB is over the {RSS_TARGET_MIB} MiB target",
                r.n, r.process.hwm_mib
            );
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
