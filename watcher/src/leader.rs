//! Leader election between the watcher's replicas over a Lease on the DR
//! cluster (kube-lease-manager, server-side apply): only the leader
//! writes the status object and acts; every replica observes and serves
//! metrics, so a new leader decides from its own sustained history.

use kube_lease_manager::{LeaseManagerBuilder, LeaseParams};
use tokio::sync::watch;

/// The leader Lease's default name.
pub const LEADER_LEASE: &str = "svmdr-watcher-leader";

/// Starts the election as `identity` on `namespace/lease`; the channel
/// says whether this replica leads now. `duration` is the Lease's length
/// in seconds (a dead leader's Lease expires after it).
///
/// # Errors
/// The manager could not be built (bad parameters).
pub async fn elect(
    client: kube::Client,
    namespace: &str,
    lease: &str,
    identity: &str,
    duration: u64,
) -> anyhow::Result<(watch::Receiver<bool>, tokio::task::JoinHandle<()>)> {
    let manager = LeaseManagerBuilder::new(client, lease)
        .with_namespace(namespace)
        .with_parameters(LeaseParams::new(
            identity,
            duration,
            duration.div_ceil(3).max(1),
        ))
        .build()
        .await?;
    let (rx, task) = manager.watch().await;
    let handle = tokio::spawn(async move {
        match task.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "leader election ended"),
            Err(e) => tracing::warn!(error = %e, "leader election task failed"),
        }
    });
    Ok((rx, handle))
}
