//! The watcher's Prometheus metrics: one registry owned by [`Metrics`] (no
//! global state), set from the newest [`Look`] and [`Decision`] at every
//! cycle and served as OpenMetrics text by [`crate::http`].
//!
//! A value the watcher does not know (a view not configured, a lag ONTAP
//! does not report, a witness that did not answer) has no sample rather
//! than a made-up 0, so that an alert on `== 0` never fires on ignorance.
//! Series of relationships or states no longer seen are dropped at the
//! next [`Metrics::record`]: a stale state never stays at 1.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};
use svmdr::audit::AuditOutcome;
use svmdr::watch::{Action, Decision, Freshness, Look, Mode, PeerView, Policy, Reach, Verdict};

/// One SVM-DR relationship.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PairLabels {
    source_svm: String,
    destination_svm: String,
    source_cluster: String,
    destination_cluster: String,
}

/// A relationship and its ONTAP state.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PairStateLabels {
    #[prometheus(flatten)]
    pair: PairLabels,
    state: String,
}

/// One API of one site.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SiteLabels {
    site: &'static str,
    api: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    verdict: &'static str,
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// A gauge without labels that has no sample, and no family, while its
/// value is unknown.
#[derive(Debug, Default, Clone)]
struct Optional {
    value: Gauge,
    known: Arc<AtomicBool>,
}

impl Optional {
    fn set(&self, value: Option<i64>) {
        if let Some(v) = value {
            self.value.set(v);
        }
        self.known.store(value.is_some(), Ordering::Relaxed);
    }
}

impl TypedMetric for Optional {
    const TYPE: MetricType = MetricType::Gauge;
}

impl EncodeMetric for Optional {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.value.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }

    fn is_empty(&self) -> bool {
        !self.known.load(Ordering::Relaxed)
    }
}

/// Failover outcomes counted from the start at 0, so that the first
/// failover is an increase Prometheus can see (a series born at 1 is not).
const OUTCOMES: [AuditOutcome; 7] = [
    AuditOutcome::Succeeded,
    AuditOutcome::PartiallyFailed,
    AuditOutcome::Unhealthy,
    AuditOutcome::Failed,
    AuditOutcome::Refused,
    AuditOutcome::Interrupted,
    AuditOutcome::TimedOut,
];

const MODES: [Mode; 3] = [Mode::Observe, Mode::Notify, Mode::Automatic];

/// Seconds of an observation: up to the collection's own bound (twice the
/// timeout) and beyond.
const DURATION_BUCKETS: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0];

/// The registry and its families.
pub struct Metrics {
    registry: Registry,
    /// Held while a cycle's values are set and while they are encoded, so
    /// that a scrape never sees half a cycle (families cleared, not refilled).
    update: Mutex<()>,
    healthy: Family<PairLabels, Gauge>,
    state: Family<PairStateLabels, Gauge>,
    lag: Family<PairLabels, Gauge>,
    rpo: Family<PairLabels, Gauge>,
    rpo_exceeded: Family<PairLabels, Gauge>,
    backup_age: Optional,
    backup_stale: Optional,
    site_reachable: Family<SiteLabels, Gauge>,
    peer_view: Optional,
    witness_reachable: Optional,
    witness_age: Optional,
    witness_fresh: Optional,
    leader: Gauge,
    armed: Optional,
    mode: Family<ModeLabels, Gauge>,
    verdict: Family<VerdictLabels, Gauge>,
    partition: Gauge,
    page: Gauge,
    decisions: Family<DecisionLabels, Counter>,
    failovers: Family<OutcomeLabels, Counter>,
    observations: Family<ResultLabels, Counter>,
    observation_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every family registered under the `svmdr_` prefix; the verdict is
    /// `starting` until the first [`Metrics::record`].
    pub fn new() -> Self {
        let m = Self {
            registry: Registry::with_prefix("svmdr"),
            update: Mutex::new(()),
            healthy: Family::default(),
            state: Family::default(),
            lag: Family::default(),
            rpo: Family::default(),
            rpo_exceeded: Family::default(),
            backup_age: Optional::default(),
            backup_stale: Optional::default(),
            site_reachable: Family::default(),
            peer_view: Optional::default(),
            witness_reachable: Optional::default(),
            witness_age: Optional::default(),
            witness_fresh: Optional::default(),
            leader: Gauge::default(),
            armed: Optional::default(),
            mode: Family::default(),
            verdict: Family::default(),
            partition: Gauge::default(),
            page: Gauge::default(),
            decisions: Family::default(),
            failovers: Family::default(),
            observations: Family::default(),
            observation_seconds: Histogram::new(DURATION_BUCKETS),
        };
        m.set_verdict(Verdict::Starting);
        for o in OUTCOMES {
            let _ = m.failovers.get_or_create(&OutcomeLabels {
                outcome: o.as_str().into(),
            });
        }
        for result in ["ok", "error"] {
            let _ = m.observations.get_or_create(&ResultLabels { result });
        }
        m.register()
    }

    fn register(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "relationship_healthy",
            "1 if status finds no problem with the SVM-DR relationship, else 0",
            self.healthy.clone(),
        );
        r.register(
            "relationship_state",
            "1 for the relationship's current ONTAP state (snapmirrored, broken_off, ...)",
            self.state.clone(),
        );
        r.register_with_unit(
            "relationship_lag",
            "ONTAP's lag time: the data a failover now would lose",
            Unit::Seconds,
            self.lag.clone(),
        );
        r.register_with_unit(
            "relationship_rpo",
            "The recovery point objective from the relationship's schedule",
            Unit::Seconds,
            self.rpo.clone(),
        );
        r.register(
            "relationship_rpo_exceeded",
            "1 if the lag is over the RPO, else 0",
            self.rpo_exceeded.clone(),
        );
        r.register_with_unit(
            "backup_newest_age",
            "Age of the newest completed Velero backup",
            Unit::Seconds,
            self.backup_age.clone(),
        );
        r.register(
            "backup_stale",
            "1 if the newest Velero backup is older than its schedule allows, else 0",
            self.backup_stale.clone(),
        );
        r.register(
            "site_reachable",
            "1 if the site's API answered the watcher, 0 if not (no sample: not configured)",
            self.site_reachable.clone(),
        );
        r.register(
            "peer_view_available",
            "1 if the DR ONTAP cluster's peer record of the primary is available, 0 if not",
            self.peer_view.clone(),
        );
        r.register(
            "witness_reachable",
            "1 if the witness answered, else 0",
            self.witness_reachable.clone(),
        );
        r.register_with_unit(
            "witness_renewal_age",
            "Time since the watcher last saw the primary's heartbeat renew the witness (watcher's clock)",
            Unit::Seconds,
            self.witness_age.clone(),
        );
        r.register(
            "witness_fresh",
            "1 if the heartbeat renewed the witness within witnessMaxAge, else 0",
            self.witness_fresh.clone(),
        );
        r.register(
            "leader",
            "1 if this replica holds the leader Lease and may act, else 0",
            self.leader.clone(),
        );
        r.register(
            "watcher_armed",
            "1 if the status object's arm switch allows an automatic failover, else 0",
            self.armed.clone(),
        );
        r.register(
            "watcher_mode",
            "1 for the policy's current mode (observe, notify, automatic)",
            self.mode.clone(),
        );
        r.register(
            "verdict",
            "1 for the watcher's current verdict about the primary, 0 for the others",
            self.verdict.clone(),
        );
        r.register(
            "partition_suspected",
            "1 if the primary is unreachable from DR but alive behind a partition (its heartbeat renews the witness)",
            self.partition.clone(),
        );
        r.register(
            "page",
            "1 if the current decision pages a human, else 0",
            self.page.clone(),
        );
        r.register(
            "decisions",
            "Decisions taken, by verdict and action",
            self.decisions.clone(),
        );
        r.register(
            "failovers",
            "Automatic failovers finished, by audit outcome",
            self.failovers.clone(),
        );
        r.register(
            "observations",
            "Observations of both sites, by result",
            self.observations.clone(),
        );
        r.register_with_unit(
            "observation_duration",
            "Time one observation of both sites and the witness took",
            Unit::Seconds,
            self.observation_seconds.clone(),
        );
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.update.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets every gauge from the newest look and decision, and counts the
    /// decision.
    pub fn record(&self, look: &Look, decision: &Decision, policy: &Policy, armed: bool) {
        let _held = self.lock();
        let obs = &look.observation;
        for f in [&self.healthy, &self.lag, &self.rpo, &self.rpo_exceeded] {
            f.clear();
        }
        self.state.clear();
        let mut seen = HashSet::new();
        for r in &obs.replication {
            let pair = PairLabels {
                source_svm: r.source_svm.clone(),
                destination_svm: r.destination_svm.clone(),
                source_cluster: r.source_cluster.clone(),
                destination_cluster: r.destination_cluster.clone(),
            };
            // The same relationship listed twice (both sites report it):
            // the first, as status orders them, wins.
            if !seen.insert(pair.clone()) {
                continue;
            }
            self.healthy.get_or_create(&pair).set(r.healthy.into());
            set_opt_in(&self.lag, &pair, r.lag_seconds.map(clamp));
            set_opt_in(&self.rpo, &pair, r.rpo_seconds.map(clamp));
            set_opt_in(&self.rpo_exceeded, &pair, r.rpo_exceeded.map(i64::from));
            self.state
                .get_or_create(&PairStateLabels {
                    pair,
                    state: r.state.clone(),
                })
                .set(1);
        }
        self.backup_age.set(obs.backup_age_seconds.map(clamp));
        self.backup_stale.set(obs.backup_stale.map(i64::from));
        self.site_reachable.clear();
        for (site, api, reach) in [
            ("primary", "ontap", &obs.primary_ontap),
            ("primary", "kubernetes", &obs.primary_kube),
            ("dr", "ontap", &obs.dr_ontap),
        ] {
            let value = match reach {
                Reach::Up => 1,
                Reach::Down(_) => 0,
                Reach::Unknown => continue,
            };
            self.site_reachable
                .get_or_create(&SiteLabels { site, api })
                .set(value);
        }
        self.peer_view.set(match obs.peer_view {
            PeerView::Available => Some(1),
            PeerView::Unavailable(_) => Some(0),
            PeerView::Unknown(_) => None,
        });
        let (reachable, fresh) = match look.witness {
            Freshness::Fresh { .. } => (1, Some(1)),
            Freshness::Stale { .. } | Freshness::Missing => (1, Some(0)),
            Freshness::Unreachable { .. } => (0, None),
        };
        self.witness_reachable.set(Some(reachable));
        self.witness_fresh.set(fresh);
        self.witness_age.set(look.witness.age_seconds().map(clamp));
        self.armed.set(Some(armed.into()));
        for mode in MODES {
            self.mode
                .get_or_create(&ModeLabels {
                    mode: mode.as_str(),
                })
                .set((mode == policy.mode).into());
        }
        self.set_verdict(decision.verdict);
        self.partition
            .set((decision.verdict == Verdict::Partition).into());
        self.page
            .set(matches!(decision.action, Action::Page(_)).into());
        self.decisions
            .get_or_create(&DecisionLabels {
                verdict: decision.verdict.as_str(),
                action: decision.action.kind(),
            })
            .inc();
    }

    fn set_verdict(&self, current: Verdict) {
        for v in Verdict::ALL {
            self.verdict
                .get_or_create(&VerdictLabels {
                    verdict: v.as_str(),
                })
                .set((v == current).into());
        }
    }

    /// This replica became (`true`) or stopped being the leader.
    pub fn set_leader(&self, leader: bool) {
        self.leader.set(leader.into());
    }

    /// An automatic failover ended with `outcome` (the audit's outcome,
    /// e.g. `succeeded`).
    pub fn failover_finished(&self, outcome: &str) {
        self.failovers
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// An observation finished (`ok`: it produced a look) after `seconds`.
    pub fn observation(&self, ok: bool, seconds: f64) {
        let result = if ok { "ok" } else { "error" };
        self.observations
            .get_or_create(&ResultLabels { result })
            .inc();
        self.observation_seconds.observe(seconds);
    }

    /// The OpenMetrics text exposition, ending in `# EOF`.
    pub fn encode(&self) -> String {
        let _held = self.lock();
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("encoding into a String cannot fail");
        out
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Sets the series `labels` of `f` to `value`, or removes it when unknown.
fn set_opt_in<S>(f: &Family<S, Gauge>, labels: &S, value: Option<i64>)
where
    S: Clone + std::hash::Hash + Eq,
{
    match value {
        Some(v) => {
            f.get_or_create(labels).set(v);
        }
        None => {
            f.remove(labels);
        }
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
