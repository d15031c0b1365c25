//! `svmdr-watcher run`: every interval, observe both sites and the witness
//! (every replica), decide ([`svmdr::watch::decide`]), and, on the leader
//! only, publish the status object and its Events and act. A failover the
//! status object says is still running is finished by whichever replica
//! leads ([`svmdr::watch::act::resume_needed`]); the leader's action is
//! dropped the moment it loses the Lease, so two replicas never run a
//! plan at the same time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use svmdr::watch::{
    self, Action, Decision, History, POLICY_CONFIGMAP, Policy, StateStore, Verdict, Witness,
};
use tokio::sync::watch as channel;

use crate::http::Health;
use crate::log_reporter::LogReporter;
use crate::metrics::Metrics;
use crate::sites::Sites;

/// What one watcher replica needs.
pub struct Watcher {
    /// Both sites.
    pub sites: Sites,
    /// The DR cluster's client (the watcher's own cluster).
    pub kube: kube::Client,
    /// The watcher's namespace (policy, status, leader Lease).
    pub namespace: String,
    /// Its status object and Events, in that namespace.
    pub store: StateStore,
    /// This replica's name.
    pub identity: String,
    /// The witness.
    pub witness: Arc<dyn Witness>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Liveness and readiness.
    pub health: Arc<Health>,
    /// Whether this replica leads.
    pub leader: channel::Receiver<bool>,
    /// Bound on each call of an observation.
    pub request_timeout: Duration,
}

/// The policy and the last verdict published, carried between cycles.
struct Memory {
    history: History,
    policy: Policy,
    published: Option<(Verdict, String)>,
    since: chrono::DateTime<chrono::Utc>,
}

impl Watcher {
    /// Runs until `shutdown`.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut memory = Memory {
            history: History::new(Policy::default().history_window()),
            policy: Policy::default(),
            published: None,
            since: chrono::Utc::now(),
        };
        loop {
            let started = Instant::now();
            self.cycle(&mut memory).await;
            let next = started + memory.policy.interval;
            while Instant::now() < next {
                let nap = next
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_secs(30));
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(nap) => self.health.mark_alive(),
                }
            }
        }
    }

    /// One observation, decision and (on the leader) publication and action.
    async fn cycle(&mut self, memory: &mut Memory) {
        self.read_policy(memory).await;
        memory.history.set_keep(memory.policy.history_window());
        self.sites.refresh(self.request_timeout).await;
        let state = self.store.read().await;
        let leading = *self.leader.borrow();
        self.metrics.set_leader(leading);
        if leading
            && let Ok(s) = &state
            && let Some(record) = watch::act::resume_needed(s)
        {
            tracing::warn!(pair = %record.pair, by = %record.by, "finishing the automatic failover a previous leader started");
            let leader = BTreeMap::from([("leader".to_string(), self.identity.clone())]);
            if let Err(e) = self.store.set(leader).await {
                tracing::warn!(error = %e, "status not published");
            }
            self.act(record, &memory.policy).await;
            return;
        }
        let Some(dr) = &self.sites.dr else {
            self.metrics.observation(false, 0.0);
            return;
        };
        let started = Instant::now();
        let (observation, _report) = watch::observe(
            dr,
            self.sites.primary_ref(),
            self.witness.as_ref(),
            &memory.policy.velero_namespace,
            self.request_timeout,
        )
        .await;
        self.metrics
            .observation(true, started.elapsed().as_secs_f64());
        self.health.mark_observed();
        let policy = memory.policy.clone();
        memory.history.push(observation, policy.witness_max_age);
        let armed = state.as_ref().map(|s| s.armed()).unwrap_or(false);
        let decision = watch::decide(&memory.history, &policy, armed);
        if let Some(look) = memory.history.latest() {
            self.metrics.record(look, &decision, &policy, armed);
        }
        if !leading {
            return;
        }
        self.publish(memory, &decision).await;
        if decision.action == Action::Failover {
            match watch::act::begin(&self.store, &decision, &self.identity).await {
                Ok(record) => self.act(record, &policy).await,
                Err(e) => {
                    tracing::error!(error = %e, "not failing over: the decision could not be recorded first")
                }
            }
        }
    }

    /// Runs (or finishes) the failover unless leadership is lost first.
    async fn act(&self, record: watch::FailoverRecord, policy: &Policy) {
        let Some(dr) = self.sites.dr.clone() else {
            tracing::error!("cannot fail over: the DR site is not resolved");
            return;
        };
        let primary = self.sites.primary_for_workflow();
        let mut leader = self.leader.clone();
        let run = watch::act::run(
            &dr,
            primary,
            policy,
            record,
            &self.identity,
            &self.store,
            &LogReporter,
        );
        tokio::pin!(run);
        let mut alive = tokio::time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                record = &mut run => {
                    tracing::warn!(outcome = %record.outcome, "{}", record.message);
                    self.metrics.failover_finished(&record.outcome);
                    return;
                }
                _ = leader.wait_for(|l| !*l) => {
                    tracing::warn!("lost the leader Lease during the failover: the new leader finishes it");
                    return;
                }
                _ = alive.tick() => self.health.mark_alive(),
            }
        }
    }

    /// Reads the policy ConfigMap; a bad one keeps the last good policy
    /// and says so in an Event.
    async fn read_policy(&self, memory: &mut Memory) {
        let api: Api<ConfigMap> = Api::namespaced(self.kube.clone(), &self.namespace);
        let data = match api.get_opt(POLICY_CONFIGMAP).await {
            Ok(cm) => cm.and_then(|c| c.data).unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "policy not read; keeping the last one");
                return;
            }
        };
        match Policy::from_data(&data) {
            Ok(p) => memory.policy = p,
            Err(e) => {
                tracing::error!(error = %e, "bad policy; keeping the last good one");
                if *self.leader.borrow() {
                    let _ = self
                        .store
                        .event(
                            true,
                            "BadPolicy",
                            &format!("{e}; keeping the last good policy"),
                            &self.identity,
                        )
                        .await;
                }
            }
        }
    }

    /// Writes the decision to the status object; an Event when the verdict
    /// or the action changes.
    async fn publish(&self, memory: &mut Memory, d: &Decision) {
        let key = (d.verdict, d.action.kind().to_string());
        let changed = memory.published.as_ref() != Some(&key);
        if changed {
            memory.since = chrono::Utc::now();
        }
        let latest = memory.history.latest();
        let mut keys = BTreeMap::from([
            ("leader".to_string(), self.identity.clone()),
            ("mode".to_string(), memory.policy.mode.as_str().to_string()),
            ("verdict".to_string(), d.verdict.as_str().to_string()),
            ("action".to_string(), d.action.kind().to_string()),
            ("message".to_string(), action_message(d)),
            ("since".to_string(), rfc3339(memory.since)),
            (
                "evidence".to_string(),
                serde_json::to_string(&d.evidence).unwrap_or_default(),
            ),
            (
                "policy".to_string(),
                serde_json::to_string(&memory.policy).unwrap_or_default(),
            ),
        ]);
        if let Some(look) = latest {
            keys.insert("observedAt".into(), rfc3339(look.observation.at));
            keys.insert(
                "observation".into(),
                serde_json::to_string(look).unwrap_or_default(),
            );
        }
        if let Err(e) = self.store.set(keys).await {
            tracing::warn!(error = %e, "status not published");
        }
        if changed {
            let warning = !matches!(d.verdict, Verdict::Healthy | Verdict::Starting);
            let reason = match &d.action {
                Action::Page(_) => "HumanNeeded".to_string(),
                _ => format!("Verdict{}", camel(d.verdict.as_str())),
            };
            let _ = self
                .store
                .event(warning, &reason, &action_message(d), &self.identity)
                .await;
            memory.published = Some(key);
        }
    }
}

/// The message people read: the action's reason when it has one.
fn action_message(d: &Decision) -> String {
    match &d.action {
        Action::Alert(why) | Action::Page(why) if *why != d.message => {
            format!("{}; {why}", d.message)
        }
        _ => d.message.clone(),
    }
}

fn camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
