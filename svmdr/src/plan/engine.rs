//! The executor of plans: runs a [`Plan`] step by step on the one engine
//! loop ([`super::runbook::run`], shared with peering), as an explicit state
//! machine, and records a timeline.
//!
//! # Expected flow (per step)
//!
//! 1. **Observe** both sites (concurrently, bounded by the clients' timeouts).
//! 2. **Decide** (pure, [`Step::check`]): already done → `Skipped`; blocked →
//!    fail with the reason; otherwise act.
//! 3. **Act**: one ONTAP call (or none for verification).
//! 4. **Wait**: re-observe until [`StepKind::progress`] says done, or the step
//!    deadline passes.
//!
//! # Guarantees
//!
//! - Every step is idempotent and decided from what ONTAP reports, so a run
//!   interrupted anywhere (Ctrl-C, crash, lost connection: every `.await` is a
//!   cancellation point) is resumed by running the same plan again.
//! - Status changes go through one `match` ([`StepStatus::after`], which
//!   [`next_status`] wraps) that rejects illegal moves.
//! - Nothing here prints: progress goes to a [`Reporter`].

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::PlanError;
use super::observe::{Depth, DrPair, Observed, observe};
use super::runbook::{self, Decision, Ending, Halted, Hook, Runbook, Wait};
pub use super::runbook::{StepRecord, Timeline};
use super::step::{ActToken, Check, Progress, Step, StepKind};
pub use super::step_status::{StepEvent, StepStatus};
use super::storage::Storage;
use crate::poll::{Pace, Tick};
use crate::report::Reporter;
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
    status
        .after(event)
        .ok_or_else(|| PlanError::IllegalTransition {
            step: step.to_string(),
            status,
            event,
        })
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

/// Runs `plan` against `sites`: the plan's [`Runbook`] on [`runbook::run`],
/// then one detailed observation of the end state.
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
    let book = PlanBook { plan, sites, opts };
    let mut timeline = match runbook::run(&book, &plan.steps, None, reporter).await {
        Ok(ran) => ran.timeline,
        Err(Halted { error, timeline }) => return Err(RunFailed { error, timeline }),
    };
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

/// A plan as a [`Runbook`]: each step observes both sites (plus Trident
/// where it needs it), is decided by [`Step::check`], makes one
/// [`StepKind::act`] call and waits on [`StepKind::progress`].
struct PlanBook<'a, S> {
    plan: &'a Plan,
    sites: &'a Sites<S>,
    opts: &'a EngineOptions,
}

/// What a plan step's action leaves for its wait.
struct PlanToken {
    /// The action's own token.
    act: ActToken,
    /// What was prompted of Trident (once, after the grace period).
    prompted: Option<Vec<String>>,
}

impl<S: Storage> PlanBook<'_, S> {
    /// The longest wait of `step` after its call. Serving problems (a LIF
    /// down, no data LIF when identity was not preserved) rarely fix
    /// themselves: do not hold a failover for long.
    fn wait(&self, step: &Step) -> Duration {
        match step.kind {
            StepKind::Verify { .. } => self.opts.step_timeout.min(VERIFY_WAIT),
            StepKind::BackendsOnline { limit, .. } => limit,
            _ => self.opts.step_timeout,
        }
    }

    async fn observe_step(&self, step: &Step) -> Result<Observed, PlanError> {
        let mut obs = self
            .sites
            .observe(
                &self.plan.pair,
                step.kind.needs_detail(),
                self.plan.observe_primary,
            )
            .await
            .map_err(|source| PlanError::Observe {
                step: step.id.clone(),
                source: Box::new(source),
            })?;
        if step.kind.needs_trident() {
            obs.trident = self.sites.observe_trident(step.kind.site()).await;
        }
        Ok(obs)
    }
}

impl<S: Storage> Runbook for PlanBook<'_, S> {
    type Step = Step;
    type Obs = Observed;
    type Token = PlanToken;
    type Error = PlanError;

    fn id(&self, step: &Step) -> String {
        step.id.clone()
    }

    fn title(&self, step: &Step) -> String {
        step.kind.title(&self.plan.pair)
    }

    fn cluster(&self, step: &Step) -> String {
        match self.sites.get(step.kind.site()) {
            Some(s) => s.label(),
            None => self.sites.primary_label.clone(),
        }
    }

    fn observe<'a>(&'a self, step: &'a Step) -> Hook<'a, Result<Observed, PlanError>> {
        Box::pin(self.observe_step(step))
    }

    fn check(&self, step: &Step, obs: &Observed) -> Decision<PlanError> {
        match step.check(obs, &self.plan.pair) {
            Check::Done(reason) => Decision::AlreadyDone(format!("already done: {reason}")),
            Check::Blocked(reason) => Decision::Stop(PlanError::Blocked {
                step: step.id.clone(),
                cluster: obs.site(step.kind.site()).cluster.clone(),
                reason,
            }),
            Check::Todo => Decision::Todo(None),
        }
    }

    fn act<'a>(
        &'a self,
        step: &'a Step,
        obs: &'a Observed,
        _reporter: &'a dyn Reporter,
    ) -> Hook<'a, Result<PlanToken, PlanError>> {
        Box::pin(async move {
            let site = step.kind.site();
            let storage = self.sites.get(site).ok_or_else(|| PlanError::Blocked {
                step: step.id.clone(),
                cluster: obs.site(site).cluster.clone(),
                reason: format!("the {site} cluster is not configured"),
            })?;
            let other = if self.plan.observe_primary || site == SiteRole::Primary {
                self.sites.get(site.other())
            } else {
                None
            };
            let act = step
                .kind
                .act(storage, other, obs, &self.plan.pair)
                .await
                .map_err(|source| PlanError::Action {
                    step: step.id.clone(),
                    title: step.kind.title(&self.plan.pair),
                    source: Box::new(source),
                })?;
            Ok(PlanToken {
                act,
                prompted: None,
            })
        })
    }

    fn pace(&self, step: &Step) -> Pace {
        // Waiting on Trident changes nothing in ONTAP: only its backends are
        // read again (one LIST per poll, no ONTAP call), every second at most.
        let poll = if step.kind.needs_trident() {
            self.opts.poll_interval.max(TRIDENT_POLL)
        } else {
            self.opts.poll_interval
        };
        Pace::every(poll, self.wait(step))
    }

    fn watch<'a>(
        &'a self,
        step: &'a Step,
        before: &'a Observed,
    ) -> Hook<'a, Result<Observed, PlanError>> {
        Box::pin(async move {
            if step.kind.needs_trident() {
                let mut o = before.clone();
                o.trident = self.sites.observe_trident(step.kind.site()).await;
                Ok(o)
            } else {
                self.observe_step(step).await
            }
        })
    }

    fn progress(&self, step: &Step, obs: &Observed, token: &PlanToken) -> Wait<PlanError> {
        match step.kind.progress(obs, &token.act) {
            Progress::Done => Wait::Done,
            Progress::Pending(what) => Wait::Pending(what),
            Progress::Failed(reason) => Wait::Failed(PlanError::StepFailed {
                step: step.id.clone(),
                cluster: obs.site(step.kind.site()).cluster.clone(),
                reason,
            }),
        }
    }

    fn waiting<'a>(
        &'a self,
        step: &'a Step,
        tick: Tick,
        what: &'a str,
        obs: &'a Observed,
        token: &'a mut PlanToken,
        reporter: &'a dyn Reporter,
    ) -> Hook<'a, ()> {
        Box::pin(async move {
            if let StepKind::BackendsOnline { site, grace, .. } = step.kind
                && token.prompted.is_none()
                && tick.elapsed >= grace
            {
                token.prompted =
                    Some(prompt_offline(self.sites, site, grace, &step.id, obs, reporter).await);
            }
            if !tick.left.is_zero() {
                reporter.step_waiting(&step.id, what);
            }
        })
    }

    fn timed_out(
        &self,
        step: &Step,
        _waited: Duration,
        what: String,
        obs: &Observed,
        token: PlanToken,
    ) -> PlanError {
        let cluster = obs.site(step.kind.site()).cluster.clone();
        timed_out(
            self.plan,
            step,
            &cluster,
            self.wait(step),
            what,
            obs,
            token.prompted,
        )
    }

    fn illegal(&self, step: &Step, status: StepStatus, event: StepEvent) -> PlanError {
        PlanError::IllegalTransition {
            step: step.id.clone(),
            status,
            event,
        }
    }

    fn started(&self, step: &Step, index: usize, total: usize, reporter: &dyn Reporter) {
        if let Some(hook) = &self.opts.before_step {
            hook(&step.id);
        }
        reporter.plan_step_started(index, total, &step.id, &self.title(step));
    }

    fn finished(
        &self,
        _step: &Step,
        record: &StepRecord,
        _ending: Ending<'_, PlanError>,
        reporter: &dyn Reporter,
    ) {
        reporter.plan_step_finished(&record.end());
    }
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
    let StepKind::BackendsOnline { site, .. } = step.kind else {
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
