//! `svmdr-watcher`: watches an SVM-DR pair from the DR site, exports
//! Prometheus metrics, and fails over on its own only when a witness's
//! quorum says the primary is lost (the decision is
//! [`svmdr::watch::decide`]). Thin over `svmdr`:
//!
//! - [`cli`]: flags; [`start`] wires a replica together;
//! - [`run`]: the loop (observe, decide, publish, act);
//! - [`sites`]: the two sites, resolved as far as they answer;
//! - [`leader`]: leader election over a Lease;
//! - [`heartbeat`]: the primary's renewal of the witness;
//! - [`metrics`]: the Prometheus registry and its families;
//! - [`http`]: `/metrics`, `/healthz` and `/readyz`.

pub mod cli;
pub mod heartbeat;
pub mod http;
pub mod leader;
pub mod log_reporter;
pub mod metrics;
pub mod run;
pub mod sites;
pub mod witness_client;

use std::sync::Arc;

use cli::RunArgs;

/// Sets up logging to stderr (`RUST_LOG`; default: the watcher's own
/// lines at `info`, the libraries' warnings, and none of kube's client
/// errors, which every observation already reports with its site).
pub fn logging(json: bool) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,watcher=info,svmdr=info,kube_client=off")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Starts one replica: the HTTP endpoints, the leader election and the
/// loop, until `shutdown`.
///
/// # Errors
/// Bad flags or files, the listen address taken, the DR cluster's
/// kubeconfig unusable.
pub async fn start(
    args: RunArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (dr_spec, primary_spec) = sites::specs(&args.config)?;
    let (kube, _context) = svmdr::site::kube_client(&dr_spec).await?;
    let witness = witness_client::lease_witness(&args.witness, args.request_timeout).await?;
    let identity = cli::identity(args.identity.as_deref());
    let metrics = Arc::new(metrics::Metrics::new());
    // The loop marks itself alive after each cycle, every 30 s while it
    // sleeps and every 10 s while a failover runs; each cycle's calls are
    // bounded by --request-timeout. Five minutes without a mark is a hang.
    let health = Arc::new(http::Health::new(
        std::time::Duration::from_secs(300),
        args.request_timeout * 6 + std::time::Duration::from_secs(60),
    ));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {}: {e}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, identity, "svmdr-watcher started");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let http = {
        let (metrics, health) = (metrics.clone(), health.clone());
        let mut rx = stop_rx.clone();
        tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = http::serve(listener, metrics, health, stop).await {
                tracing::error!(error = %e, "metrics endpoint stopped");
            }
        })
    };
    let leader_secs = args.leader_lease.as_secs().max(3);
    let (leader, election) = leader::elect(
        kube.clone(),
        &args.namespace,
        leader::LEADER_LEASE,
        &identity,
        leader_secs,
    )
    .await?;
    let replica = run::Watcher {
        sites: sites::Sites::new(dr_spec, primary_spec),
        store: svmdr::watch::StateStore::new(kube.clone(), &args.namespace),
        kube,
        namespace: args.namespace,
        identity,
        witness: Arc::new(witness),
        metrics,
        health: health.clone(),
        leader,
        request_timeout: args.request_timeout,
    };
    replica.run(shutdown).await;
    // Out of service first, so that no scrape or probe sees a half-stopped
    // replica as ready.
    health.set_ready(false);
    let _ = stop_tx.send(true);
    election.abort();
    let _ = http.await;
    Ok(())
}
