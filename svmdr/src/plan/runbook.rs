//! The one step engine every workflow runs on: a [`Runbook`] says what its
//! steps are (how to observe, check, act and tell that an action took
//! effect), and [`run`] drives them, one after the other, through the same
//! per-step lifecycle and state machine ([`StepStatus::after`]), recording a
//! [`Timeline`].
//!
//! Two runbooks exist: the plans of failover, switchover, resync and
//! failback ([`super::engine::execute`]) and peering
//! ([`crate::peering::run()`]). A leaf: it knows neither.
//!
//! # Per step
//!
//! 1. **Begin**: [`Runbook::started`] reports it.
//! 2. **Observe** ([`Runbook::observe`]), or reuse the observation the
//!    previous step ended on when [`Runbook::reuses_observation`] says so.
//! 3. **Decide** (pure, [`Runbook::check`]): already done or deliberately
//!    not run → `Skipped`; stopped (blocked, unsafe) → `Failed`, the run
//!    stops; otherwise act.
//! 4. **Act** ([`Runbook::act`]): the step's call(s); a step may keep an
//!    inner wait where ONTAP needs two calls with a wait between them.
//! 5. **Wait** on a [`Poller`] paced by [`Runbook::pace`]: observe again
//!    ([`Runbook::watch`]) until [`Runbook::progress`] says done, fails, or
//!    the deadline passes ([`Runbook::timed_out`]).
//! 6. **End**: [`Runbook::finished`] reports it with its [`StepRecord`].
//!
//! Every status change goes through [`StepStatus::after`]; a move it
//! forbids is [`Runbook::illegal`], never ignored. The future of [`run`] is
//! `Send` when the runbook's are (each hook returns a boxed `Send` future;
//! waits drive a [`Poller`] in a loop, not `poll_until`).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::step_status::{StepEvent, StepStatus};
use crate::poll::{Pace, Poller, Tick};
use crate::report::{Reporter, StepEnd, StepOutcome};

/// The future of a runbook hook.
pub type Hook<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a step's check decided.
#[derive(Debug)]
pub enum Decision<E> {
    /// Already as wanted: the step is skipped, with why.
    AlreadyDone(String),
    /// Deliberately not run (e.g. `--no-initialize`): skipped, with why.
    Skipped(String),
    /// Must run, with what it will do when the runbook says.
    Todo(Option<String>),
    /// Cannot run (blocked, unsafe): the run stops with this error and
    /// nothing was changed by this step.
    Stop(E),
}

/// Where a step stands after acting, from a fresh observation.
#[derive(Debug)]
pub enum Wait<E> {
    /// It took effect.
    Done,
    /// Not yet: what for.
    Pending(String),
    /// It failed: the run stops with this error.
    Failed(E),
}

/// How a step ended, for [`Runbook::finished`].
#[derive(Debug)]
pub enum Ending<'a, E> {
    /// Skipped: it was already done (why).
    AlreadyDone(&'a str),
    /// Skipped on purpose (why).
    Skipped(&'a str),
    /// Done by this run (what the check said it would do).
    Done(Option<&'a str>),
    /// Stopped by its check (blocked, unsafe): nothing was changed.
    Stopped(&'a E),
    /// Failed after it began acting (the call, the wait, an observation).
    Failed(&'a E),
}

/// The steps of one workflow and how each is observed, decided, done and
/// waited for. See the module documentation for the order of the calls.
pub trait Runbook: Sync {
    /// One step.
    type Step: Sync;
    /// What an observation of the clusters holds.
    type Obs: Send + Sync;
    /// What acting leaves for the wait.
    type Token: Send + Sync;
    /// Why a run stops.
    type Error: Send + Sync + std::fmt::Display;

    /// The step's id in the timeline.
    fn id(&self, step: &Self::Step) -> String;

    /// What the step does.
    fn title(&self, step: &Self::Step) -> String;

    /// The cluster the step calls, for the timeline.
    fn cluster(&self, step: &Self::Step) -> String;

    /// Whether a step starts from the observation the previous one ended on
    /// (the first from the one given to [`run`]) instead of observing again.
    fn reuses_observation(&self) -> bool {
        false
    }

    /// Observes what `step` is decided on.
    fn observe<'a>(&'a self, step: &'a Self::Step) -> Hook<'a, Result<Self::Obs, Self::Error>>;

    /// Decides the step from `obs`. Pure.
    fn check(&self, step: &Self::Step, obs: &Self::Obs) -> Decision<Self::Error>;

    /// Does the step (its check said to do).
    fn act<'a>(
        &'a self,
        step: &'a Self::Step,
        obs: &'a Self::Obs,
        reporter: &'a dyn Reporter,
    ) -> Hook<'a, Result<Self::Token, Self::Error>>;

    /// How often and how long to wait for the step to take effect.
    fn pace(&self, step: &Self::Step) -> Pace;

    /// Observes again while waiting; `before` is what the step was decided
    /// on.
    fn watch<'a>(
        &'a self,
        step: &'a Self::Step,
        before: &'a Self::Obs,
    ) -> Hook<'a, Result<Self::Obs, Self::Error>>;

    /// Whether the action took effect in `obs`. Pure.
    fn progress(
        &self,
        step: &Self::Step,
        obs: &Self::Obs,
        token: &Self::Token,
    ) -> Wait<Self::Error>;

    /// The step is still pending after `tick`, waiting for `what`: report it
    /// (and nudge whatever it waits on). Default: [`Reporter::step_waiting`]
    /// unless the deadline is reached.
    fn waiting<'a>(
        &'a self,
        step: &'a Self::Step,
        tick: Tick,
        what: &'a str,
        obs: &'a Self::Obs,
        token: &'a mut Self::Token,
        reporter: &'a dyn Reporter,
    ) -> Hook<'a, ()> {
        let _ = (obs, token);
        Box::pin(async move {
            if !tick.left.is_zero() {
                reporter.step_waiting(&self.id(step), what);
            }
        })
    }

    /// The error of a step still pending (`what`) after `waited`.
    fn timed_out(
        &self,
        step: &Self::Step,
        waited: Duration,
        what: String,
        obs: &Self::Obs,
        token: Self::Token,
    ) -> Self::Error;

    /// The error of a status move the state machine forbids (a bug).
    fn illegal(&self, step: &Self::Step, status: StepStatus, event: StepEvent) -> Self::Error;

    /// The step begins (`index` from 0 of `total`).
    fn started(&self, step: &Self::Step, index: usize, total: usize, reporter: &dyn Reporter);

    /// The step ended: `record` is its line in the timeline.
    fn finished(
        &self,
        step: &Self::Step,
        record: &StepRecord,
        ending: Ending<'_, Self::Error>,
        reporter: &dyn Reporter,
    );
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

/// A run that went through every step.
#[derive(Debug)]
pub struct Ran<O> {
    /// Every step.
    pub timeline: Timeline,
    /// The last observation made (or the one given, when no step observed).
    pub last: Option<O>,
}

/// A run that stopped on a step's error; the timeline shows how far it got.
#[derive(Debug)]
pub struct Halted<E> {
    /// Why.
    pub error: E,
    /// The steps reached, the failed one last.
    pub timeline: Timeline,
}

/// Runs `steps` of `book` in order, starting from the observation `first`
/// when the runbook reuses observations.
///
/// # Errors
///
/// [`Halted`] with the first step's error (stopped by its check, or failed
/// acting or waiting) and the timeline so far.
///
/// # Caveats
///
/// Each wait is bounded by the step's [`Runbook::pace`]; each call by its
/// client's timeouts. Dropping the future stops between calls.
pub async fn run<R: Runbook>(
    book: &R,
    steps: &[R::Step],
    first: Option<R::Obs>,
    reporter: &dyn Reporter,
) -> Result<Ran<R::Obs>, Halted<R::Error>> {
    let start = Instant::now();
    let mut timeline = Timeline::default();
    let mut last = first;
    let total = steps.len();
    for (index, step) in steps.iter().enumerate() {
        book.started(step, index, total, reporter);
        let started_at = Utc::now();
        let t0 = Instant::now();
        let mut status = StepStatus::Pending;
        let carried = if book.reuses_observation() {
            last.take()
        } else {
            None
        };
        let result = run_step(book, step, carried, reporter, &mut status).await;
        let (note, outcome) = match result {
            Ok((obs, done)) => {
                last = Some(obs);
                (done.note().map(str::to_string), Ok(done))
            }
            Err((e, stopped)) => {
                status = status.after(StepEvent::Fail).unwrap_or(StepStatus::Failed);
                (Some(e.to_string()), Err((e, stopped)))
            }
        };
        let record = StepRecord {
            id: book.id(step),
            title: book.title(step),
            cluster: book.cluster(step),
            status,
            started_at,
            duration: t0.elapsed(),
            note,
        };
        let ending = match &outcome {
            Ok(Finish::AlreadyDone(why)) => Ending::AlreadyDone(why),
            Ok(Finish::Skipped(why)) => Ending::Skipped(why),
            Ok(Finish::Acted(what)) => Ending::Done(what.as_deref()),
            Err((e, true)) => Ending::Stopped(e),
            Err((e, false)) => Ending::Failed(e),
        };
        book.finished(step, &record, ending, reporter);
        timeline.steps.push(record);
        if let Err((error, _)) = outcome {
            timeline.total = start.elapsed();
            return Err(Halted { error, timeline });
        }
    }
    timeline.total = start.elapsed();
    Ok(Ran { timeline, last })
}

/// How a step that did not fail ended.
enum Finish {
    AlreadyDone(String),
    Skipped(String),
    Acted(Option<String>),
}

impl Finish {
    /// The timeline's note.
    fn note(&self) -> Option<&str> {
        match self {
            Finish::AlreadyDone(why) | Finish::Skipped(why) => Some(why),
            Finish::Acted(_) => None,
        }
    }
}

/// One step: its last observation and how it ended, or its error and
/// whether its check stopped it (nothing changed).
async fn run_step<R: Runbook>(
    book: &R,
    step: &R::Step,
    carried: Option<R::Obs>,
    reporter: &dyn Reporter,
    status: &mut StepStatus,
) -> Result<(R::Obs, Finish), (R::Error, bool)> {
    let mv = |status: &mut StepStatus, event: StepEvent| match status.after(event) {
        Some(next) => {
            *status = next;
            Ok(())
        }
        None => Err((book.illegal(step, *status, event), false)),
    };
    mv(status, StepEvent::Begin)?;
    let obs = match carried {
        Some(obs) => obs,
        None => book.observe(step).await.map_err(|e| (e, false))?,
    };
    let what = match book.check(step, &obs) {
        Decision::AlreadyDone(why) => {
            mv(status, StepEvent::AlreadyDone)?;
            return Ok((obs, Finish::AlreadyDone(why)));
        }
        Decision::Skipped(why) => {
            mv(status, StepEvent::AlreadyDone)?;
            return Ok((obs, Finish::Skipped(why)));
        }
        Decision::Stop(e) => return Err((e, true)),
        Decision::Todo(what) => what,
    };
    mv(status, StepEvent::Act)?;
    let mut token = book
        .act(step, &obs, reporter)
        .await
        .map_err(|e| (e, false))?;
    mv(status, StepEvent::Sent)?;
    let mut poller = Poller::start(book.pace(step));
    let last = loop {
        let tick = poller.tick();
        let now = book.watch(step, &obs).await.map_err(|e| (e, false))?;
        match book.progress(step, &now, &token) {
            Wait::Done => break now,
            Wait::Failed(e) => return Err((e, false)),
            Wait::Pending(pending) => {
                book.waiting(step, tick, &pending, &now, &mut token, reporter)
                    .await;
                if let Err(e) = poller.pending((pending, now)).await {
                    let timed_out = e.or_timeout(|waited, (pending, now)| {
                        book.timed_out(step, waited, pending, &now, token)
                    });
                    return Err((timed_out, false));
                }
            }
        }
    };
    mv(status, StepEvent::Completed)?;
    Ok((last, Finish::Acted(what)))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::report::NoopReporter;

    /// What a fake step does.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Fake {
        /// Already done.
        Done,
        /// Deliberately not run.
        Skip,
        /// To do; takes effect at the second look after acting.
        Todo,
        /// Its check stops the run.
        Stop,
        /// Acts, never takes effect.
        Never,
    }

    #[derive(Default)]
    struct Book {
        /// Observations made.
        looks: AtomicU32,
        reuse: bool,
        ends: Mutex<Vec<String>>,
    }

    impl Runbook for Book {
        type Step = Fake;
        type Obs = u32;
        type Token = u32;
        type Error = String;

        fn id(&self, step: &Fake) -> String {
            format!("{step:?}").to_lowercase()
        }
        fn title(&self, step: &Fake) -> String {
            format!("fake {step:?}")
        }
        fn cluster(&self, _: &Fake) -> String {
            "c".into()
        }
        fn reuses_observation(&self) -> bool {
            self.reuse
        }
        fn observe<'a>(&'a self, _: &'a Fake) -> Hook<'a, Result<u32, String>> {
            Box::pin(async move { Ok(self.looks.fetch_add(1, Ordering::SeqCst) + 1) })
        }
        fn check(&self, step: &Fake, _: &u32) -> Decision<String> {
            match step {
                Fake::Done => Decision::AlreadyDone("already".into()),
                Fake::Skip => Decision::Skipped("on purpose".into()),
                Fake::Todo | Fake::Never => Decision::Todo(Some("do it".into())),
                Fake::Stop => Decision::Stop("blocked".into()),
            }
        }
        fn act<'a>(
            &'a self,
            _: &'a Fake,
            obs: &'a u32,
            _: &'a dyn Reporter,
        ) -> Hook<'a, Result<u32, String>> {
            Box::pin(async move { Ok(*obs) })
        }
        fn pace(&self, _: &Fake) -> Pace {
            Pace::every(Duration::from_millis(10), Duration::from_millis(100))
        }
        fn watch<'a>(&'a self, step: &'a Fake, _: &'a u32) -> Hook<'a, Result<u32, String>> {
            self.observe(step)
        }
        fn progress(&self, step: &Fake, obs: &u32, acted_at: &u32) -> Wait<String> {
            match step {
                Fake::Todo if *obs >= acted_at + 2 => Wait::Done,
                _ => Wait::Pending("the change".into()),
            }
        }
        fn timed_out(&self, _: &Fake, _: Duration, what: String, _: &u32, _: u32) -> String {
            format!("timed out waiting for {what}")
        }
        fn illegal(&self, _: &Fake, status: StepStatus, event: StepEvent) -> String {
            format!("illegal {status:?} {event:?}")
        }
        fn started(&self, _: &Fake, _: usize, _: usize, _: &dyn Reporter) {}
        fn finished(
            &self,
            _: &Fake,
            record: &StepRecord,
            ending: Ending<'_, String>,
            _: &dyn Reporter,
        ) {
            let end = match ending {
                Ending::AlreadyDone(_) => "already done",
                Ending::Skipped(_) => "skipped",
                Ending::Done(_) => "done",
                Ending::Stopped(_) => "stopped",
                Ending::Failed(_) => "failed",
            };
            if let Ok(mut e) = self.ends.lock() {
                e.push(format!("{}: {end}", record.id));
            }
        }
    }

    fn statuses(t: &Timeline) -> Vec<StepStatus> {
        t.steps.iter().map(|s| s.status).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn every_step_goes_through_the_state_machine() {
        let book = Book::default();
        let steps = [Fake::Done, Fake::Skip, Fake::Todo];
        let ran = run(&book, &steps, None, &NoopReporter).await.expect("runs");
        assert_eq!(
            statuses(&ran.timeline),
            [
                StepStatus::Skipped,
                StepStatus::Skipped,
                StepStatus::Succeeded
            ]
        );
        assert_eq!(ran.timeline.steps[0].note.as_deref(), Some("already"));
        assert_eq!(ran.timeline.steps[2].note, None);
        // One look per step, two more while the third took effect.
        assert_eq!(book.looks.load(Ordering::SeqCst), 5);
        assert_eq!(ran.last, Some(5));
        assert_eq!(
            *book.ends.lock().unwrap(),
            ["done: already done", "skip: skipped", "todo: done"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_or_a_timeout_fails_the_step_and_ends_the_run() {
        let book = Book::default();
        let halted = run(
            &book,
            &[Fake::Todo, Fake::Stop, Fake::Todo],
            None,
            &NoopReporter,
        )
        .await
        .expect_err("stops");
        assert_eq!(halted.error, "blocked");
        assert_eq!(
            statuses(&halted.timeline),
            [StepStatus::Succeeded, StepStatus::Failed]
        );
        assert_eq!(halted.timeline.steps[1].note.as_deref(), Some("blocked"));
        assert_eq!(*book.ends.lock().unwrap(), ["todo: done", "stop: stopped"]);

        let book = Book::default();
        let halted = run(&book, &[Fake::Never], None, &NoopReporter)
            .await
            .expect_err("times out");
        assert_eq!(halted.error, "timed out waiting for the change");
        assert_eq!(statuses(&halted.timeline), [StepStatus::Failed]);
        assert_eq!(*book.ends.lock().unwrap(), ["never: failed"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_runbook_that_reuses_observations_looks_only_after_a_change() {
        let book = Book {
            reuse: true,
            ..Book::default()
        };
        let steps = [Fake::Done, Fake::Todo, Fake::Skip];
        let ran = run(&book, &steps, Some(0), &NoopReporter)
            .await
            .expect("runs");
        // The given observation decides the first two steps; the third
        // starts from the one the second ended on.
        assert_eq!(book.looks.load(Ordering::SeqCst), 2);
        assert_eq!(ran.last, Some(2));
        assert_eq!(
            statuses(&ran.timeline),
            [
                StepStatus::Skipped,
                StepStatus::Succeeded,
                StepStatus::Skipped
            ]
        );
    }
}
