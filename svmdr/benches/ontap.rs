//! ONTAP client benchmarks against the simulator:
//!
//! - `relationship_get`: one `GET /api/snapmirror/relationships/{uuid}`
//!   round trip over TLS with connection reuse (criterion).
//! - job-polling overhead: wall time of a job-backed PATCH (SVM stop/start)
//!   minus the job duration the simulator is configured with. Printed as
//!   median and p90; the target is a median under 150 ms.
//!
//! Run: `cargo bench -p svmdr --bench ontap`.

use std::time::{Duration, Instant};

use criterion::Criterion;
use sim::ontap::{OntapSim, Timing, Topology};
use svmdr::ontap::models::{SvmPeerApplication, SvmState};
use svmdr::ontap::{
    Auth, CreateClusterPeer, CreateRelationship, OntapClient, OntapConfig, Timeouts, TlsOptions,
};
use svmdr::secret::Secret;

/// The simulator's job timing: 100 ms queued + 400 ms running.
const JOB_QUEUED: Duration = Duration::from_millis(100);
const JOB_RUNNING: Duration = Duration::from_millis(400);

fn client(lab: &OntapSim, cluster: &str) -> OntapClient {
    OntapClient::new(OntapConfig {
        name: format!("{cluster} (bench)"),
        endpoint: lab.url(cluster),
        auth: Auth::Basic {
            username: "admin".into(),
            password: Secret::new("Netapp1!"),
        },
        tls: TlsOptions {
            ca_pem: Some(lab.ca_pem().to_string()),
            insecure_skip_verify: false,
        },
        timeouts: Timeouts::default(),
    })
    .expect("client")
}

/// Peers the lab and creates an (uninitialized) SVM-DR relationship on dr.
async fn relationship(a: &OntapClient, b: &OntapClient) -> String {
    let ips = |l: Vec<svmdr::ontap::models::IpInterface>| -> Vec<String> {
        l.iter()
            .filter_map(|x| x.address().map(str::to_string))
            .collect()
    };
    let a_ips = ips(a.intercluster_interfaces().await.expect("lifs"));
    let b_ips = ips(b.intercluster_interfaces().await.expect("lifs"));
    let offer = a
        .create_cluster_peer(&CreateClusterPeer {
            remote_ips: b_ips,
            ..Default::default()
        })
        .await
        .expect("offer");
    b.create_cluster_peer(&CreateClusterPeer {
        remote_ips: a_ips,
        passphrase: offer.passphrase,
        ..Default::default()
    })
    .await
    .expect("accept");
    a.create_svm_peer_permission("ontap-b", "svm1", &[SvmPeerApplication::Snapmirror])
        .await
        .expect("permission");
    b.create_dp_destination_svm("svm1_dr")
        .await
        .expect("dr svm");
    b.create_svm_peer(
        "svm1_dr",
        "ontap-a",
        "svm1",
        &[SvmPeerApplication::Snapmirror],
    )
    .await
    .expect("svm peer");
    let rel = b
        .create_relationship(&CreateRelationship {
            source_path: "svm1:".into(),
            source_cluster: Some("ontap-a".into()),
            destination_path: "svm1_dr:".into(),
            policy: Some("MirrorAllSnapshots".into()),
            ..Default::default()
        })
        .await
        .expect("relationship");
    rel.uuid.expect("uuid")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let timing = Timing {
        job_queued: JOB_QUEUED,
        job_running: JOB_RUNNING,
        transfer: Duration::from_millis(100),
        job_expiry: Duration::from_secs(300),
    };
    let lab = rt
        .block_on(OntapSim::start_with(Topology::two_sites(), timing))
        .expect("lab");
    let (a, b) = (client(&lab, "primary"), client(&lab, "dr"));
    let rel = rt.block_on(relationship(&a, &b));

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("relationship_get", |bench| {
        bench.iter(|| rt.block_on(b.relationship(&rel)).expect("GET"));
    });

    // Job-polling overhead.
    let svm = rt
        .block_on(a.svm_by_name("svm1"))
        .expect("svm")
        .and_then(|s| s.uuid)
        .expect("svm1 uuid");
    let job = JOB_QUEUED + JOB_RUNNING;
    let rounds = if bench_mode { 20 } else { 2 };
    let mut overheads = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let target = if i % 2 == 0 {
            SvmState::Stopped
        } else {
            SvmState::Running
        };
        let started = Instant::now();
        rt.block_on(a.set_svm_state(&svm, target)).expect("job");
        overheads.push(started.elapsed().saturating_sub(job));
    }
    overheads.sort();
    let median = percentile(&overheads, 0.5);
    println!(
        "job_polling_overhead: job {} ms, rounds {rounds}, median {:.1} ms, p90 {:.1} ms, max {:.1} ms (target: median < 150 ms)",
        job.as_millis(),
        median.as_secs_f64() * 1e3,
        percentile(&overheads, 0.9).as_secs_f64() * 1e3,
        overheads.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );

    // For information: the 202 path, where ONTAP answers before the job ends
    // and the client polls with back-off (100 ms doubling to 2 s). A 1 s
    // request timeout makes the client send return_timeout=0.
    let polling = OntapClient::new(OntapConfig {
        name: "primary (bench, polling)".into(),
        endpoint: lab.url("primary"),
        auth: Auth::Basic {
            username: "admin".into(),
            password: Secret::new("Netapp1!"),
        },
        tls: TlsOptions {
            ca_pem: Some(lab.ca_pem().to_string()),
            insecure_skip_verify: false,
        },
        timeouts: Timeouts {
            request: Duration::from_secs(1),
            ..Timeouts::default()
        },
    })
    .expect("client");
    let mut polled = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let target = if i % 2 == 0 {
            SvmState::Stopped
        } else {
            SvmState::Running
        };
        let started = Instant::now();
        rt.block_on(polling.set_svm_state(&svm, target))
            .expect("job");
        polled.push(started.elapsed().saturating_sub(job));
    }
    polled.sort();
    println!(
        "job_polling_overhead_202_path (return_timeout=0, info only): median {:.1} ms, p90 {:.1} ms",
        percentile(&polled, 0.5).as_secs_f64() * 1e3,
        percentile(&polled, 0.9).as_secs_f64() * 1e3,
    );
    if median >= Duration::from_millis(150) {
        eprintln!("job_polling_overhead median is over the 150 ms budget");
        std::process::exit(1);
    }
    c.final_summary();
}
