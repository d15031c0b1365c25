//! The executor: runs a [`Plan`] step by step as an explicit state machine,
//! and records a timeline.
//!
//! # Expected flow (per step)
//!
//! 1. **Observe** both sites (concurrently, bounded by the clients' timeouts).
//! 2. **Decide** (pure, [`Step::check`]): already done → `Skipped`; blocked →
//!    fail with the reason; otherwise act.
//! 3. **Act**: one ONTAP call (or none for verification).
//! 4. **Wait**: re-observe until [`StepKind::progress`](super::step::StepKind::progress) says done, or the step
//!    deadline passes.
//!
//! # Guarantees
//!
//! - Every step is idempotent and decided from what ONTAP reports, so a run
//!   interrupted anywhere (Ctrl-C, crash, lost connection: every `.await` is a
//!   cancellation point) is resumed by running the same plan again.
//! - Status changes go through one `match` ([`next_status`]) that rejects
//!   illegal moves.
//! - Nothing here prints: progress goes to a [`Reporter`].

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::PlanError;
use super::observe::{Depth, DrPair, Observed, observe};
use super::step::{ActToken, Check, Progress, Step};
pub use super::step_status::{StepEvent, StepStatus};
use super::storage::Storage;
use crate::poll::{Pace, Poller};
use crate::report::{Reporter, StepEnd, StepOutcome};
use crate::site::SiteRole;

/// How often a step waiting on Trident reads its backends.
const TRIDENT_POLL: Duration = Duration::from_secs(1);
/// Longest wait for a verification step.
pub const VERIFY_WAIT: Duration = Duration::from_secs(120);

/// The state machine: the only way a step's status changes.
///
/// # Errors
///
/// [`PlanError::IllegalTransition`] for any pair not listed.
pub fn next_status(
    step: &str,
    status: StepStatus,
    event: StepEvent,
) -> Result<StepStatus, PlanError> {
    use StepEvent as E;
    use StepStatus as S;
    match (status, event) {
        (S::Pending, E::Begin) => Ok(S::Checking),
        (S::Checking, E::AlreadyDone) => Ok(S::Skipped),
        (S::Checking, E::Act) => Ok(S::Acting),
        (S::Acting, E::Sent) => Ok(S::Waiting),
        (S::Waiting, E::Completed) => Ok(S::Succeeded),
        (S::Checking | S::Acting | S::Waiting, E::Fail) => Ok(S::Failed),
        (status, event) => Err(PlanError::IllegalTransition {
            step: step.to_string(),
            status,
            event,
        }),
    }
}

/// The workflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// Unplanned failover to the DR site.
    Failover,
    /// Planned switchover (no data loss) plus reverse resync.
    Switchover,
    /// Resync in the original direction (discards DR-side writes).
    ResyncForward,
    /// Reverse resync (DR → primary).
    ResyncReverse,
    /// Back to the primary site, original direction restored.
    Failback,
}

impl Workflow {
    /// The command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Failover => "failover",
            Workflow::Switchover => "switchover",
            Workflow::ResyncForward => "resync --direction forward",
            Workflow::ResyncReverse => "resync --direction reverse",
            Workflow::Failback => "failback",
        }
    }
}

impl std::fmt::Display for Workflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A plan: the steps of a workflow, computed from the observed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Which workflow.
    pub workflow: Workflow,
    /// The SVM pair.
    pub pair: DrPair,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Facts found while planning (e.g. the data-loss window), for the user.
    pub notes: Vec<String>,
    /// Whether the primary site is observed during the run (false when an
    /// unplanned failover found it unreachable: it is not waited for again).
    pub observe_primary: bool,
}

/// How a step would go, for `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPreview {
    /// Step id.
    pub id: String,
    /// What it does.
    pub title: String,
    /// The cluster it calls.
    pub cluster: String,
    /// Decision against the state observed now. Later steps are judged
    /// against the current state too, so they may show "to do" where the run
    /// will find them done (e.g. an SVM ONTAP starts by itself).
    pub check: Check,
    /// ONTAP calls it would make.
    pub calls: Vec<String>,
}

impl Plan {
    /// The plan as it would run against `obs`, without changing anything.
    ///
    /// Once a step is to do, a later step blocked only by the current state
    /// is shown as to do: the steps before it change that state (e.g. stop
    /// the SVM a resync needs stopped).
    pub fn preview(&self, obs: &Observed) -> Vec<StepPreview> {
        let mut earlier_todo = false;
        self.steps
            .iter()
            .map(|s| {
                let check = match s.check(obs, &self.pair) {
                    Check::Blocked(_) if earlier_todo => Check::Todo,
                    c => c,
                };
                earlier_todo |= check == Check::Todo;
                StepPreview {
                    id: s.id.clone(),
                    title: s.kind.title(&self.pair),
                    cluster: obs.site(s.kind.site()).cluster.clone(),
                    check,
                    calls: s.kind.calls(obs, &self.pair),
                }
            })
            .collect()
    }
}

/// The two clusters a plan runs against.
pub struct Sites<S> {
    /// The primary cluster, `None` when unknown or deliberately not used.
    pub primary: Option<S>,
    /// The DR cluster.
    pub dr: S,
    /// Label of the primary site for messages when `primary` is `None`.
    pub primary_label: String,
    /// The DR cluster's Trident (Kubernetes API); `None` when not configured
    /// (steps on Trident backends are then skipped with a note).
    pub trident: Option<super::trident::TridentApi>,
    /// The primary cluster's Trident, for a failback's backends step.
    pub primary_trident: Option<super::trident::TridentApi>,
}

impl<S: Storage> Sites<S> {
    /// The storage of `site`.
    pub fn get(&self, site: SiteRole) -> Option<&S> {
        match site {
            SiteRole::Primary => self.primary.as_ref(),
            SiteRole::Dr => Some(&self.dr),
        }
    }

    /// Observes both sites.
    ///
    /// # Errors
    ///
    /// A GET refused by ONTAP (not an unreachable site, which is recorded).
    pub async fn observe(
        &self,
        pair: &DrPair,
        detail: bool,
        with_primary: bool,
    ) -> Result<Observed, super::storage::StorageError> {
        let p = if with_primary {
            self.primary.as_ref()
        } else {
            None
        };
        observe(p, &self.dr, pair, Depth { detail }, &self.primary_label).await
    }

    /// The Trident of `site`, when configured.
    pub fn trident(&self, site: SiteRole) -> Option<&super::trident::TridentApi> {
        match site {
            SiteRole::Primary => self.primary_trident.as_ref(),
            SiteRole::Dr => self.trident.as_ref(),
        }
    }

    /// The Trident backends of `site`'s cluster (one LIST), or
    /// [`TridentReport::NotConfigured`](super::trident::TridentReport::NotConfigured).
    pub async fn observe_trident(&self, site: SiteRole) -> super::trident::TridentReport {
        match self.trident(site) {
            Some(t) => t.observe().await,
            None => super::trident::TridentReport::NotConfigured,
        }
    }

    /// Observes both sites for a workflow's preflight: as
    /// [`Sites::observe`] with the primary, plus, when the primary did not
    /// answer (or is not configured), the DR cluster's cluster peer record
    /// of the primary cluster (see [`super::observe::observe_peer`]).
    ///
    /// # Errors
    ///
    /// As for [`Sites::observe`].
    pub async fn preflight(
        &self,
        pair: &DrPair,
        detail: bool,
    ) -> Result<Observed, super::storage::StorageError> {
        let mut obs = self.observe(pair, detail, true).await?;
        if !obs.primary.reachable() {
            super::observe::observe_peer(&self.dr, &mut obs).await;
        }
        Ok(obs)
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// Step id.
    pub id: String,
    /// What it does.
    pub title: String,
    /// The cluster it called.
    pub cluster: String,
    /// Final status.
    pub status: StepStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took (observe, act and wait).
    #[serde(with = "duration_ms")]
    pub duration: Duration,
    /// Why it was skipped, or what failed.
    pub note: Option<String>,
}

impl StepRecord {
    /// The step as [`Reporter::plan_step_finished`] reports it.
    pub fn end(&self) -> StepEnd {
        let outcome = match self.status {
            StepStatus::Succeeded => StepOutcome::Done,
            StepStatus::Skipped => {
                StepOutcome::Skipped(self.note.clone().unwrap_or_else(|| "already done".into()))
            }
            _ => StepOutcome::Failed(self.note.clone().unwrap_or_default()),
        };
        StepEnd {
            id: self.id.clone(),
            cluster: self.cluster.clone(),
            status: format!("{:?}", self.status).to_lowercase(),
            outcome,
            duration: self.duration,
        }
    }
}

/// What a run did, step by step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// The steps reached, in order.
    pub steps: Vec<StepRecord>,
    /// Wall time of the run: the RTO of the storage part.
    #[serde(with = "duration_ms")]
    pub total: Duration,
}

/// Durations serialized as milliseconds (`..._ms` in JSON would be nicer, but
/// the field names are part of the schema already).
mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// A hook called before each step with its id (used by tests to inject
/// faults at a given step).
pub type StepHook = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// Engine settings.
#[derive(Clone)]
pub struct EngineOptions {
    /// Pause between observations while waiting.
    pub poll_interval: Duration,
    /// Longest wait for one step to complete after its call.
    pub step_timeout: Duration,
    /// Called before each step.
    pub before_step: Option<StepHook>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            step_timeout: Duration::from_secs(600),
            before_step: None,
        }
    }
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("poll_interval", &self.poll_interval)
            .field("step_timeout", &self.step_timeout)
            .field("before_step", &self.before_step.is_some())
            .finish()
    }
}

/// A finished run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// The workflow.
    pub workflow: Workflow,
    /// Every step.
    pub timeline: Timeline,
    /// The state at the end (detailed).
    pub last: Observed,
}

/// A run that stopped on an error; the timeline shows how far it got.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RunFailed {
    /// What failed.
    #[source]
    pub error: PlanError,
    /// The steps reached.
    pub timeline: Timeline,
}

/// Runs `plan` against `sites`.
///
/// # Errors
///
/// [`RunFailed`] with the error of the failed step (which names the step,
/// the cluster, ONTAP's code and message and what to do) and the timeline.
///
/// # Caveats
///
/// Each wait is bounded by [`EngineOptions::step_timeout`]; each ONTAP call by
/// its client's timeouts. Dropping the future stops between calls; a re-run
/// continues from the state ONTAP reports.
pub async fn execute<S: Storage>(
    plan: &Plan,
    sites: &Sites<S>,
    opts: &EngineOptions,
    reporter: &dyn Reporter,
) -> Result<RunReport, RunFailed> {
    let start = Instant::now();
    let mut timeline = Timeline::default();
    let total = plan.steps.len();
    for (index, step) in plan.steps.iter().enumerate() {
        if let Some(hook) = &opts.before_step {
            hook(&step.id);
        }
        let title = step.kind.title(&plan.pair);
        reporter.plan_step_started(index, total, &step.id, &title);
        let started_at = Utc::now();
        let t0 = Instant::now();
        let mut status = StepStatus::Pending;
        let result = run_step(plan, step, sites, opts, reporter, &mut status).await;
        let (note, err) = match result {
            Ok(note) => (note, None),
            Err(e) => {
                status =
                    next_status(&step.id, status, StepEvent::Fail).unwrap_or(StepStatus::Failed);
                (Some(e.to_string()), Some(e))
            }
        };
        let cluster = match sites.get(step.kind.site()) {
            Some(s) => s.label(),
            None => sites.primary_label.clone(),
        };
        let record = StepRecord {
            id: step.id.clone(),
            title,
            cluster,
            status,
            started_at,
            duration: t0.elapsed(),
            note,
        };
        reporter.plan_step_finished(&record.end());
        timeline.steps.push(record);
        if let Some(error) = err {
            timeline.total = start.elapsed();
            return Err(RunFailed { error, timeline });
        }
    }
    let last = sites
        .observe(&plan.pair, true, plan.observe_primary)
        .await
        .map_err(|source| RunFailed {
            error: PlanError::Observe {
                step: "final check".into(),
                source: Box::new(source),
            },
            timeline: timeline.clone(),
        })?;
    timeline.total = start.elapsed();
    Ok(RunReport {
        workflow: plan.workflow,
        timeline,
        last,
    })
}

async fn run_step<S: Storage>(
    plan: &Plan,
    step: &Step,
    sites: &Sites<S>,
    opts: &EngineOptions,
    reporter: &dyn Reporter,
    status: &mut StepStatus,
) -> Result<Option<String>, PlanError> {
    let id = step.id.as_str();
    let detail = step.kind.needs_detail();
    let observe = || async {
        let mut obs = sites
            .observe(&plan.pair, detail, plan.observe_primary)
            .await
            .map_err(|source| PlanError::Observe {
                step: id.to_string(),
                source: Box::new(source),
            })?;
        if step.kind.needs_trident() {
            obs.trident = sites.observe_trident(step.kind.site()).await;
        }
        Ok::<_, PlanError>(obs)
    };
    *status = next_status(id, *status, StepEvent::Begin)?;
    let obs = observe().await?;
    let site = step.kind.site();
    let cluster = obs.site(site).cluster.clone();
    match step.check(&obs, &plan.pair) {
        Check::Done(reason) => {
            *status = next_status(id, *status, StepEvent::AlreadyDone)?;
            return Ok(Some(format!("already done: {reason}")));
        }
        Check::Blocked(reason) => {
            return Err(PlanError::Blocked {
                step: id.to_string(),
                cluster,
                reason,
            });
        }
        Check::Todo => {}
    }
    *status = next_status(id, *status, StepEvent::Act)?;
    let storage = sites.get(site).ok_or_else(|| PlanError::Blocked {
        step: id.to_string(),
        cluster: cluster.clone(),
        reason: format!("the {site} cluster is not configured"),
    })?;
    let other = if plan.observe_primary || site == SiteRole::Primary {
        sites.get(site.other())
    } else {
        None
    };
    let token: ActToken = step
        .kind
        .act(storage, other, &obs, &plan.pair)
        .await
        .map_err(|source| PlanError::Action {
            step: id.to_string(),
            title: step.kind.title(&plan.pair),
            source: Box::new(source),
        })?;
    *status = next_status(id, *status, StepEvent::Sent)?;
    // Serving problems (a LIF down, no data LIF when identity was not
    // preserved) rarely fix themselves: do not hold a failover for long.
    let wait = match step.kind {
        super::step::StepKind::Verify { .. } => opts.step_timeout.min(VERIFY_WAIT),
        super::step::StepKind::BackendsOnline { limit, .. } => limit,
        _ => opts.step_timeout,
    };
    // Waiting on Trident changes nothing in ONTAP: only its backends are
    // read again (one LIST per poll, no ONTAP call), every second at most.
    let (first, poll) = if step.kind.needs_trident() {
        (Some(obs), opts.poll_interval.max(TRIDENT_POLL))
    } else {
        (None, opts.poll_interval)
    };
    let mut prompted: Option<Vec<String>> = None;
    // A loop over a `Poller`, not `poll_until`, so that a run can be
    // spawned (see `poll_until`'s caveats).
    let mut poller = Poller::start(Pace::every(poll, wait));
    loop {
        let tick = poller.tick();
        let obs = match &first {
            Some(o) => {
                let mut o = o.clone();
                o.trident = sites.observe_trident(site).await;
                o
            }
            None => observe().await?,
        };
        if let super::step::StepKind::BackendsOnline { site, grace, .. } = step.kind
            && prompted.is_none()
            && tick.elapsed >= grace
            && step.kind.progress(&obs, &token) != Progress::Done
        {
            prompted = Some(prompt_offline(sites, site, grace, id, &obs, reporter).await);
        }
        match step.kind.progress(&obs, &token) {
            Progress::Done => break,
            Progress::Failed(reason) => {
                return Err(PlanError::StepFailed {
                    step: id.to_string(),
                    cluster,
                    reason,
                });
            }
            Progress::Pending(what) => {
                if !tick.left.is_zero() {
                    reporter.step_waiting(id, &what);
                }
                if let Err(e) = poller.pending((what, obs)).await {
                    return Err(e.or_timeout(|_, (what, obs)| {
                        timed_out(plan, step, &cluster, wait, what, &obs, prompted)
                    }));
                }
            }
        }
    }
    *status = next_status(id, *status, StepEvent::Completed)?;
    Ok(None)
}

/// The error of a step still pending at its deadline: for Trident's
/// backends, which are offline and what was prompted.
fn timed_out(
    plan: &Plan,
    step: &Step,
    cluster: &str,
    wait: Duration,
    what: String,
    obs: &Observed,
    prompted: Option<Vec<String>>,
) -> PlanError {
    let super::step::StepKind::BackendsOnline { site, .. } = step.kind else {
        return PlanError::Timeout {
            step: step.id.clone(),
            cluster: cluster.to_string(),
            waited: wait,
            waiting_for: what,
        };
    };
    let offline: Vec<String> = super::trident::offline_backends(obs, site)
        .iter()
        .map(|b| b.describe())
        .collect();
    let prompted = prompted.unwrap_or_default();
    PlanError::BackendsOffline {
        step: step.id.clone(),
        cluster: cluster.to_string(),
        svm: plan.pair.svm(site).to_string(),
        detail: format!(
            "{} still not online after {}{}",
            if offline.is_empty() {
                what
            } else {
                offline.join("; ")
            },
            humantime::format_duration(wait),
            if prompted.is_empty() {
                String::new()
            } else {
                format!(" (prompted Trident: {})", prompted.join("; "))
            }
        ),
    }
}

/// Prompts `site`'s Trident to re-check each backend still offline after
/// `grace`, reporting each prompt; returns what was done, for the timeout
/// message.
async fn prompt_offline<S: Storage>(
    sites: &Sites<S>,
    site: SiteRole,
    grace: Duration,
    id: &str,
    obs: &Observed,
    reporter: &dyn Reporter,
) -> Vec<String> {
    let mut done = Vec::new();
    let Some(trident) = sites.trident(site) else {
        return done;
    };
    for b in super::trident::offline_backends(obs, site) {
        let line = trident
            .prompt(b)
            .await
            .unwrap_or_else(|e| format!("could not prompt: {e}"));
        reporter.step_waiting(
            id,
            &format!(
                "{} after {}: {line}",
                b.describe(),
                humantime::format_duration(grace)
            ),
        );
        done.push(line);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_paths() {
        use StepEvent as E;
        use StepStatus as S;
        let run = |events: &[E]| {
            events
                .iter()
                .try_fold(S::Pending, |s, e| next_status("x", s, *e))
        };
        assert_eq!(run(&[E::Begin, E::AlreadyDone]).ok(), Some(S::Skipped));
        assert_eq!(
            run(&[E::Begin, E::Act, E::Sent, E::Completed]).ok(),
            Some(S::Succeeded)
        );
        assert_eq!(run(&[E::Begin, E::Act, E::Fail]).ok(), Some(S::Failed));
        assert_eq!(
            run(&[E::Begin, E::Act, E::Sent, E::Fail]).ok(),
            Some(S::Failed)
        );
    }

    #[test]
    fn illegal_moves_are_rejected() {
        use StepEvent as E;
        use StepStatus as S;
        for (s, e) in [
            (S::Pending, E::Completed),
            (S::Checking, E::Completed),
            (S::Skipped, E::Act),
            (S::Succeeded, E::Fail),
            (S::Failed, E::Begin),
            (S::Acting, E::Completed),
            (S::Pending, E::Fail),
        ] {
            let err = next_status("break", s, e).err();
            assert!(
                matches!(err, Some(PlanError::IllegalTransition { .. })),
                "{s:?} + {e:?} was allowed"
            );
        }
    }
}
