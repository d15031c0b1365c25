//! Peering on the plan engine: observe both clusters, validate the
//! request, then run [`ALL_STEPS`] as a [`Runbook`] on
//! [`crate::plan::runbook::run`], the loop the workflows' plans run on
//! (state machine, timeline). A dry run only checks each step against the
//! one observation and lists its calls.

use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use super::observe::{Observed, observe};
use super::request::{PeerRequest, PeeringError, PlannedCall};
use super::settings;
use super::steps::{self, ALL_STEPS, Clients, PeerCheck, Step};
use crate::ontap::OntapClient;
use crate::plan::runbook::{
    self, Decision, Ending, Halted, Hook, Runbook, StepRecord, Timeline, Wait,
};
use crate::plan::step_status::{StepEvent, StepStatus};
use crate::poll::Pace;
use crate::report::{Reporter, StepOutcome};
use crate::site::SiteRole;

/// Pause between observations while a step's change is not visible yet
/// (most steps wait inside their action and are done at the first look).
const SETTLE_POLL: Duration = Duration::from_millis(250);

/// One step's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// Its title.
    pub title: &'static str,
    /// Done, already done, skipped, planned (dry run).
    pub outcome: StepOutcome,
    /// What the check found.
    pub detail: String,
    /// The calls it would make (dry run only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<PlannedCall>,
}

/// The result of [`run`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerReport {
    /// Whether nothing was changed on purpose.
    pub dry_run: bool,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
    /// Relationship state at the end (`snapmirrored`, ...), when it exists.
    pub relationship_state: Option<String>,
    /// Lag at the end, in seconds.
    pub lag_seconds: Option<u64>,
    /// The relationship's effective transfer schedule at the end (its own,
    /// else its policy's).
    pub schedule: Option<String>,
    /// What the engine did, step by step (status, timing, note); empty for
    /// a dry run.
    pub timeline: Timeline,
}

/// Observes both clusters, validates the request, then runs every step on
/// the engine: each is checked against the latest observation, skipped
/// when done, applied when to do, and observed again until its check says
/// done. With `dry_run`, only GETs are made and the report lists the calls
/// each pending step would make.
///
/// # Errors
/// The first step that is blocked, unsafe, or whose ONTAP call fails.
pub async fn run(
    primary: &OntapClient,
    dr: &OntapClient,
    req: &PeerRequest,
    dry_run: bool,
    reporter: &dyn Reporter,
) -> Result<PeerReport, PeeringError> {
    let obs = observe(primary, dr, req).await.map_err(observe_err)?;
    // Names are checked before any change, in dry runs too.
    settings::validate_names(req, &obs).map_err(|detail| PeeringError::Invalid { detail })?;
    // So is a change ONTAP would refuse on an existing relationship.
    if let Some(rel) = obs
        .relationship
        .as_ref()
        .filter(|r| r.source_path() == steps::source_path(&obs, req))
    {
        settings::relationship_change(req, &obs, rel)
            .map_err(|detail| PeeringError::Invalid { detail })?;
    }
    if dry_run {
        let steps = preview(req, &obs, reporter)?;
        return Ok(report(true, steps, &obs, Timeline::default()));
    }
    let book = PeeringBook {
        req,
        clients: Clients { primary, dr },
        primary_name: obs.primary.name().to_string(),
        dr_name: obs.dr.name().to_string(),
        reports: Mutex::new(Vec::new()),
    };
    let ran = runbook::run(&book, &ALL_STEPS, Some(obs), reporter)
        .await
        .map_err(|Halted { error, .. }| error)?;
    let last = match ran.last {
        Some(obs) => obs,
        None => observe(primary, dr, req).await.map_err(observe_err)?,
    };
    let steps = book.reports.into_inner().unwrap_or_default();
    Ok(report(false, steps, &last, ran.timeline))
}

fn observe_err(source: crate::ontap::OntapError) -> PeeringError {
    PeeringError::Ontap {
        step: "reading both clusters".into(),
        source: Box::new(source),
    }
}

fn report(dry_run: bool, steps: Vec<StepReport>, obs: &Observed, timeline: Timeline) -> PeerReport {
    let rel = obs.relationship.as_ref();
    PeerReport {
        dry_run,
        steps,
        relationship_state: rel.and_then(|r| r.state).map(|s| s.to_string()),
        lag_seconds: rel.and_then(|r| r.lag_time).map(|d| d.as_secs()),
        schedule: rel.and_then(|r| settings::effective_schedule(r, obs)),
        timeline,
    }
}

/// The dry run: every step checked against `obs`, with the calls of those
/// to do. A later step blocked (or unsafe) only because an earlier step has
/// not really run is reported as planned.
///
/// # Errors
/// The first step blocked or unsafe with nothing to do before it.
fn preview(
    req: &PeerRequest,
    obs: &Observed,
    reporter: &dyn Reporter,
) -> Result<Vec<StepReport>, PeeringError> {
    let mut reports = Vec::new();
    let mut pending_before = false;
    for step in ALL_STEPS {
        let desc = step.describe();
        reporter.step_started(desc.title());
        let (outcome, detail, calls) = match desc.check(req, obs) {
            PeerCheck::Done(d) => (StepOutcome::AlreadyDone, d, Vec::new()),
            PeerCheck::Skipped(d) => (StepOutcome::Skipped(d.clone()), d, Vec::new()),
            PeerCheck::Blocked(d) | PeerCheck::Unsafe(d) if pending_before => {
                let calls = desc.calls(req, obs);
                (StepOutcome::Planned(d.clone()), d, calls)
            }
            PeerCheck::Todo(d) => {
                pending_before = true;
                let calls = desc.calls(req, obs);
                (StepOutcome::Planned(d.clone()), d, calls)
            }
            stop @ (PeerCheck::Blocked(_) | PeerCheck::Unsafe(_)) => {
                let error = stopped(step, stop);
                reporter.step_finished(desc.title(), &StepOutcome::Failed(detail_of(&error)));
                return Err(error);
            }
        };
        reporter.step_finished(&format!("{}: {detail}", desc.title()), &outcome);
        reports.push(StepReport {
            step,
            title: desc.title(),
            outcome,
            detail,
            calls,
        });
    }
    Ok(reports)
}

/// The error of a check that said `Blocked` or `Unsafe`.
fn stopped(step: Step, check: PeerCheck) -> PeeringError {
    let step = step.title().to_string();
    match check {
        PeerCheck::Unsafe(detail) => PeeringError::Unsafe { step, detail },
        PeerCheck::Blocked(detail) => PeeringError::Blocked { step, detail },
        other => PeeringError::Blocked {
            step,
            detail: format!("internal error: {other:?} is not a stop"),
        },
    }
}

/// What a step's stop says, without the step's name (as the reporter shows
/// a blocked or unsafe step).
fn detail_of(error: &PeeringError) -> String {
    match error {
        PeeringError::Blocked { detail, .. } | PeeringError::Unsafe { detail, .. } => {
            detail.clone()
        }
        other => other.to_string(),
    }
}

/// Peering as a [`Runbook`]: the steps start from the observation the
/// previous one ended on (both clusters, observed again only after a
/// change), are decided by their [`PeeringStep::check`](super::PeeringStep::check),
/// applied by [`PeeringStep::apply`](super::PeeringStep::apply) (which keeps
/// the waits ONTAP needs between two calls), and done once a fresh
/// observation's check says so.
struct PeeringBook<'a> {
    req: &'a PeerRequest,
    clients: Clients<'a>,
    primary_name: String,
    dr_name: String,
    /// The steps' results, as they end.
    reports: Mutex<Vec<StepReport>>,
}

impl PeeringBook<'_> {
    fn push(&self, report: StepReport) {
        if let Ok(mut r) = self.reports.lock() {
            r.push(report);
        }
    }
}

impl Runbook for PeeringBook<'_> {
    type Step = Step;
    type Obs = Observed;
    type Token = ();
    type Error = PeeringError;

    fn id(&self, step: &Step) -> String {
        step.id().to_string()
    }

    fn title(&self, step: &Step) -> String {
        step.title().to_string()
    }

    fn cluster(&self, step: &Step) -> String {
        match step.site() {
            Some(SiteRole::Primary) => self.primary_name.clone(),
            Some(SiteRole::Dr) => self.dr_name.clone(),
            None => format!("{} and {}", self.primary_name, self.dr_name),
        }
    }

    fn reuses_observation(&self) -> bool {
        true
    }

    fn observe<'a>(&'a self, _step: &'a Step) -> Hook<'a, Result<Observed, PeeringError>> {
        Box::pin(async move {
            observe(self.clients.primary, self.clients.dr, self.req)
                .await
                .map_err(observe_err)
        })
    }

    fn check(&self, step: &Step, obs: &Observed) -> Decision<PeeringError> {
        match step.describe().check(self.req, obs) {
            PeerCheck::Done(d) => Decision::AlreadyDone(d),
            PeerCheck::Skipped(d) => Decision::Skipped(d),
            PeerCheck::Todo(d) => Decision::Todo(Some(d)),
            stop => Decision::Stop(stopped(*step, stop)),
        }
    }

    fn act<'a>(
        &'a self,
        step: &'a Step,
        obs: &'a Observed,
        reporter: &'a dyn Reporter,
    ) -> Hook<'a, Result<(), PeeringError>> {
        step.describe().apply(steps::Apply {
            req: self.req,
            obs,
            clients: &self.clients,
            reporter,
        })
    }

    fn pace(&self, _step: &Step) -> Pace {
        Pace::every(SETTLE_POLL, self.req.wait_timeout)
    }

    fn watch<'a>(
        &'a self,
        step: &'a Step,
        _before: &'a Observed,
    ) -> Hook<'a, Result<Observed, PeeringError>> {
        self.observe(step)
    }

    /// Done once the step's own check says so; still to do or blocked for
    /// now means ONTAP does not show the change yet; unsafe stops the run.
    fn progress(&self, step: &Step, obs: &Observed, _token: &()) -> Wait<PeeringError> {
        match step.describe().check(self.req, obs) {
            PeerCheck::Done(_) | PeerCheck::Skipped(_) => Wait::Done,
            PeerCheck::Todo(d) | PeerCheck::Blocked(d) => Wait::Pending(d),
            unsafe_ @ PeerCheck::Unsafe(_) => Wait::Failed(stopped(*step, unsafe_)),
        }
    }

    fn timed_out(
        &self,
        step: &Step,
        waited: Duration,
        what: String,
        _obs: &Observed,
        _token: (),
    ) -> PeeringError {
        PeeringError::Blocked {
            step: step.title().into(),
            detail: format!(
                "ONTAP did not show the step done within {}: {what}; re-run to continue",
                humantime::format_duration(Duration::from_secs(waited.as_secs()))
            ),
        }
    }

    fn illegal(&self, step: &Step, status: StepStatus, event: StepEvent) -> PeeringError {
        PeeringError::Blocked {
            step: step.title().into(),
            detail: format!("internal error: cannot go from {status:?} on {event:?}"),
        }
    }

    fn started(&self, step: &Step, _index: usize, _total: usize, reporter: &dyn Reporter) {
        reporter.step_started(step.title());
    }

    fn finished(
        &self,
        step: &Step,
        record: &StepRecord,
        ending: Ending<'_, PeeringError>,
        reporter: &dyn Reporter,
    ) {
        let title = step.title();
        let (outcome, detail) = match ending {
            Ending::AlreadyDone(d) => (StepOutcome::AlreadyDone, d.to_string()),
            Ending::Skipped(d) => (StepOutcome::Skipped(d.to_string()), d.to_string()),
            Ending::Done(d) => {
                reporter.progress_finished(&record.id);
                (StepOutcome::Done, d.unwrap_or_default().to_string())
            }
            Ending::Stopped(e) => {
                reporter.step_finished(title, &StepOutcome::Failed(detail_of(e)));
                return;
            }
            Ending::Failed(e) => {
                reporter.progress_finished(&record.id);
                reporter.step_finished(title, &StepOutcome::Failed(e.to_string()));
                return;
            }
        };
        reporter.step_finished(&format!("{title}: {detail}"), &outcome);
        self.push(StepReport {
            step: *step,
            title,
            outcome,
            detail,
            calls: Vec::new(),
        });
    }
}
