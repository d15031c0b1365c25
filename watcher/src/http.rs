//! The watcher's HTTP endpoints: `/metrics` (OpenMetrics text),
//! `/healthz` (liveness: the observation loop still turns) and `/readyz`
//! (readiness: it has observed at least once and still turns).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::Metrics;

/// The content type of the OpenMetrics text exposition.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether the observation loop is alive and has observed: cheap atomics
/// the loop sets and the probes read.
#[derive(Debug)]
pub struct Health {
    started: Instant,
    /// Milliseconds from `started` to the end of the last observation, plus
    /// one; 0 before the first.
    last: AtomicU64,
    /// The same for the last sign of life without an observation
    /// ([`Health::mark_alive`]).
    alive: AtomicU64,
    ready: AtomicBool,
    stale_after: Duration,
    startup: Duration,
}

impl Health {
    /// Alive while an observation ended within `stale_after` (e.g. three
    /// intervals plus the timeout); before the first one, for `startup`.
    /// The ready switch starts on: readiness waits only for the first
    /// observation unless the loop turns it off ([`Health::set_ready`]).
    pub fn new(stale_after: Duration, startup: Duration) -> Self {
        Self {
            started: Instant::now(),
            last: AtomicU64::new(0),
            alive: AtomicU64::new(0),
            ready: AtomicBool::new(true),
            stale_after,
            startup,
        }
    }

    /// An observation finished (whatever it found).
    pub fn mark_observed(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last.store(ms + 1, Ordering::Relaxed);
    }

    /// The loop is alive without having observed (it sleeps between
    /// observations, or runs a failover): liveness only, not readiness.
    pub fn mark_alive(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.alive.store(ms + 1, Ordering::Relaxed);
    }

    /// Takes the replica out of (`false`) or back into service, e.g. while
    /// it shuts down.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Time since the last observation ended, if any did.
    fn since_last(&self) -> Option<Duration> {
        self.since(self.last.load(Ordering::Relaxed))
    }

    /// Time since the last observation or sign of life.
    fn since_alive(&self) -> Option<Duration> {
        let newest = self
            .last
            .load(Ordering::Relaxed)
            .max(self.alive.load(Ordering::Relaxed));
        self.since(newest)
    }

    fn since(&self, stamp: u64) -> Option<Duration> {
        match stamp {
            0 => None,
            ms => Some(
                self.started
                    .elapsed()
                    .saturating_sub(Duration::from_millis(ms - 1)),
            ),
        }
    }

    /// `Ok` while alive, else why not (one line).
    pub fn live(&self) -> Result<(), String> {
        match self.since_alive() {
            Some(age) if age <= self.stale_after => Ok(()),
            Some(age) => Err(format!(
                "no observation finished for {} (limit {})",
                secs(age),
                secs(self.stale_after)
            )),
            None if self.started.elapsed() <= self.startup => Ok(()),
            None => Err(format!(
                "no observation finished in the {} since start",
                secs(self.startup)
            )),
        }
    }

    /// `Ok` once an observation finished while alive and not switched
    /// off, else why not (one line).
    pub fn ready(&self) -> Result<(), String> {
        if self.since_last().is_none() {
            return Err("no observation finished yet".into());
        }
        self.live()?;
        if !self.ready.load(Ordering::Relaxed) {
            return Err("taken out of service by the watcher".into());
        }
        Ok(())
    }
}

/// `d` to the millisecond, for people.
fn secs(d: Duration) -> humantime::FormattedDuration {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    humantime::format_duration(Duration::from_millis(ms))
}

#[derive(Clone)]
struct Shared {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

/// The router, for [`serve`] and tests.
pub fn router(metrics: Arc<Metrics>, health: Arc<Health>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Shared { metrics, health })
}

/// Serves the endpoints on `listener` until `shutdown` completes.
///
/// # Errors
/// The listener failed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(metrics, health))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics_text(State(s): State<Shared>) -> Response {
    ([(header::CONTENT_TYPE, OPENMETRICS)], s.metrics.encode()).into_response()
}

async fn healthz(State(s): State<Shared>) -> Response {
    probe(s.health.live())
}

async fn readyz(State(s): State<Shared>) -> Response {
    probe(s.health.ready())
}

fn probe(result: Result<(), String>) -> Response {
    match result {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
