//! `svmdr-watcher heartbeat`: on the primary site, renews the witness
//! Lease every `--every` so that the DR watcher can tell a partition (the
//! primary alive, the witness renewed) from a lost primary (no renewal).
//! A failed renewal is logged and retried at the next tick; it never ends
//! the process (the pod's restart would only add delay).

use std::time::Duration;

use svmdr::watch::Witness;

/// Renews `witness` as `identity` every `every` until `shutdown`; the
/// Lease's duration is three periods.
pub async fn run(
    witness: &dyn Witness,
    identity: &str,
    every: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        let renew = witness.renew(identity, every * 3);
        match tokio::time::timeout(every, renew).await {
            Ok(Ok(())) => tracing::debug!(witness = %witness.describe(), "renewed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "heartbeat not renewed"),
            Err(_) => tracing::warn!(
                witness = %witness.describe(),
                "heartbeat not renewed: no answer within {}",
                humantime::format_duration(every)
            ),
        }
    }
}
