//! Progress reporting from library workflows to whatever front end runs them.
//!
//! The library never draws progress bars or prints: it calls a [`Reporter`].
//! The CLI implements it with indicatif (hidden for non-terminals, `-v` and
//! `-o json`); tests and the Velero plugin use [`NoopReporter`] or a
//! recording implementation.

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

/// Receives progress from long-running library calls. Every method has a
/// no-op default, so implementations pick what they show.
pub trait Reporter: Send + Sync {
    /// A one-line note for the user (stderr in the CLI), e.g. which
    /// credentials were used.
    fn note(&self, message: &str) {
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
}
