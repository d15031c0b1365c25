//! Progress reporting from library workflows to whatever front end runs them.
//!
//! The library never draws progress bars or prints: it calls the one
//! [`Reporter`] trait, from every workflow (the plan engine, peering, the
//! Velero restore, site resolution). The CLI implements it with indicatif
//! (hidden for non-terminals, `-v` and `-o json`); tests and the Velero
//! plugin use [`NoopReporter`] or [`RecordingReporter`].
//!
//! The engine ([`crate::plan::runbook::run`]) reports a plan's steps as
//! structured step events ([`Reporter::plan_step_started`],
//! [`Reporter::step_waiting`], [`Reporter::plan_step_finished`]) and
//! peering's as the plain ones with the check's detail (its front end
//! prints those lines); by default the structured events become the plain ones
//! ([`Reporter::step_started`], [`Reporter::progress`],
//! [`Reporter::step_finished`]), so a front end that only shows lines
//! implements those.

use std::time::Duration;

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "result", content = "detail")]
pub enum StepOutcome {
    /// The step changed something and succeeded.
    Done,
    /// Nothing to do: the state was already as wanted.
    AlreadyDone,
    /// Deliberately not run (e.g. `--no-initialize`), with the reason.
    Skipped(String),
    /// The step would run (dry run), with what it would do.
    Planned(String),
    /// The step failed, with the reason.
    Failed(String),
}

/// A plan step that ended, as the engine reports it: what a front end shows
/// and what the audit of a run cut short keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepEnd {
    /// Step id (`break`, `start-dr-svm`).
    pub id: String,
    /// The cluster it ran against.
    pub cluster: String,
    /// The status as the timeline writes it: `succeeded`, `skipped`, `failed`.
    pub status: String,
    /// How it ended, with the engine's note.
    pub outcome: StepOutcome,
    /// How long it took.
    pub duration: Duration,
}

/// Receives progress from long-running library calls. Every method has a
/// default (a no-op, or for the structured events the plain event they
/// amount to), so implementations pick what they show.
pub trait Reporter: Send + Sync {
    /// A one-line note for the user (stderr in the CLI), e.g. which
    /// credentials were used.
    fn note(&self, message: &str) {
        let _ = message;
    }
    /// Something the user must know before trusting the result (a forced
    /// restore's findings, a wait shorter than the plugin's, an export policy
    /// that refuses the DR nodes).
    fn warning(&self, message: &str) {
        let _ = message;
    }
    /// A step started.
    fn step_started(&self, step: &str) {
        let _ = step;
    }
    /// A step ended.
    fn step_finished(&self, step: &str, outcome: &StepOutcome) {
        let _ = (step, outcome);
    }
    /// Progress of a long operation (e.g. a SnapMirror transfer), in bytes
    /// when `total` is known, or just a count of bytes so far.
    fn progress(&self, task: &str, done: u64, total: Option<u64>, message: &str) {
        let _ = (task, done, total, message);
    }
    /// The long operation ended (remove its bar).
    fn progress_finished(&self, task: &str) {
        let _ = task;
    }
    /// A plan step begins (`index` from 0 of `total`). Default:
    /// [`Reporter::step_started`] with `[i/n] id: title`.
    fn plan_step_started(&self, index: usize, total: usize, id: &str, title: &str) {
        self.step_started(&format!("[{}/{total}] {id}: {title}", index + 1));
    }
    /// A plan step waits on ONTAP or Trident: what for. Default: a
    /// [`Reporter::progress`] spinner named after the step.
    fn step_waiting(&self, id: &str, what: &str) {
        self.progress(id, 0, None, &format!("waiting for {what}"));
    }
    /// A plan step ended (succeeded, skipped or failed). Default: ends the
    /// step's spinner, then [`Reporter::step_finished`] with `id (N ms)`.
    fn plan_step_finished(&self, step: &StepEnd) {
        self.progress_finished(&step.id);
        let label = format!("{} ({} ms)", step.id, step.duration.as_millis());
        self.step_finished(&label, &step.outcome);
    }
}

/// A reporter that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopReporter;

impl Reporter for NoopReporter {}

/// A reporter that records every event, for tests.
#[derive(Debug, Default)]
pub struct RecordingReporter {
    events: std::sync::Mutex<Vec<String>>,
}

impl RecordingReporter {
    /// The events so far, one line each (`note: ...`, `start: step`,
    /// `finish: step: Done`, `progress: task 10/100`).
    pub fn events(&self) -> Vec<String> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    fn push(&self, line: String) {
        if let Ok(mut e) = self.events.lock() {
            e.push(line);
        }
    }
}

impl Reporter for RecordingReporter {
    fn note(&self, message: &str) {
        self.push(format!("note: {message}"));
    }
    fn warning(&self, message: &str) {
        self.push(format!("warning: {message}"));
    }
    fn step_started(&self, step: &str) {
        self.push(format!("start: {step}"));
    }
    fn step_finished(&self, step: &str, outcome: &StepOutcome) {
        self.push(format!("finish: {step}: {outcome:?}"));
    }
    fn progress(&self, task: &str, done: u64, total: Option<u64>, _message: &str) {
        match total {
            Some(t) => self.push(format!("progress: {task} {done}/{t}")),
            None => self.push(format!("progress: {task} {done}")),
        }
    }
    fn progress_finished(&self, task: &str) {
        self.push(format!("progress done: {task}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_reporter_records_in_order() {
        let r = RecordingReporter::default();
        r.note("using credentials from SVMDR_ONTAP_USERNAME");
        r.step_started("cluster peer");
        r.step_finished("cluster peer", &StepOutcome::AlreadyDone);
        r.progress("initialize", 5, Some(10), "");
        assert_eq!(
            r.events(),
            vec![
                "note: using credentials from SVMDR_ONTAP_USERNAME",
                "start: cluster peer",
                "finish: cluster peer: AlreadyDone",
                "progress: initialize 5/10",
            ]
        );
        NoopReporter.note("ignored");
    }

    #[test]
    fn plan_step_events_become_plain_ones_by_default() {
        let r = RecordingReporter::default();
        r.plan_step_started(0, 2, "break", "Break the relationship");
        r.step_waiting("break", "the relationship to be broken-off");
        r.plan_step_finished(&StepEnd {
            id: "break".into(),
            cluster: "dr".into(),
            status: "skipped".into(),
            outcome: StepOutcome::Skipped("already done: broken-off".into()),
            duration: Duration::from_millis(12),
        });
        r.warning("a short wait");
        assert_eq!(
            r.events(),
            vec![
                "start: [1/2] break: Break the relationship",
                "progress: break 0",
                "progress done: break",
                "finish: break (12 ms): Skipped(\"already done: broken-off\")",
                "warning: a short wait",
            ]
        );
    }
}
