//! A [`Reporter`] that forwards everything and remembers the plan steps, so
//! that a run cut short by Ctrl-C can still record how far it got.

use std::sync::Mutex;

use super::trail::AuditStep;
use crate::report::{Reporter, StepEnd, StepOutcome};

/// Forwards progress to `inner` and keeps the finished plan steps and the
/// one in progress.
pub struct StepLog<'a> {
    inner: &'a dyn Reporter,
    /// Finished steps, in order.
    done: Mutex<Vec<StepEnd>>,
    /// The step started and not finished.
    current: Mutex<Option<String>>,
}

impl<'a> StepLog<'a> {
    /// A log in front of `inner`.
    pub fn new(inner: &'a dyn Reporter) -> Self {
        Self {
            inner,
            done: Mutex::new(Vec::new()),
            current: Mutex::new(None),
        }
    }

    /// The finished steps.
    pub fn finished(&self) -> Vec<StepEnd> {
        self.done.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The step in progress, if any.
    pub fn in_progress(&self) -> Option<String> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    /// The audit steps of an interrupted run: the finished ones, then the one
    /// in progress as `interrupted`.
    pub fn interrupted_steps(&self) -> Vec<AuditStep> {
        let mut steps: Vec<AuditStep> = self
            .finished()
            .iter()
            .map(|s| AuditStep {
                id: s.id.clone(),
                status: s.status.clone(),
                duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
            })
            .collect();
        if let Some(id) = self.in_progress() {
            steps.push(AuditStep {
                id,
                status: "interrupted".into(),
                duration_ms: 0,
            });
        }
        steps
    }
}

impl Reporter for StepLog<'_> {
    fn note(&self, message: &str) {
        self.inner.note(message);
    }

    fn warning(&self, message: &str) {
        self.inner.warning(message);
    }

    fn step_started(&self, step: &str) {
        self.inner.step_started(step);
    }

    fn step_finished(&self, step: &str, outcome: &StepOutcome) {
        self.inner.step_finished(step, outcome);
    }

    fn progress(&self, task: &str, done: u64, total: Option<u64>, message: &str) {
        self.inner.progress(task, done, total, message);
    }

    fn progress_finished(&self, task: &str) {
        self.inner.progress_finished(task);
    }

    fn plan_step_started(&self, index: usize, total: usize, id: &str, title: &str) {
        if let Ok(mut c) = self.current.lock() {
            *c = Some(id.to_string());
        }
        self.inner.plan_step_started(index, total, id, title);
    }

    fn step_waiting(&self, id: &str, what: &str) {
        self.inner.step_waiting(id, what);
    }

    fn plan_step_finished(&self, step: &StepEnd) {
        if let Ok(mut c) = self.current.lock() {
            *c = None;
        }
        if let Ok(mut d) = self.done.lock() {
            d.push(step.clone());
        }
        self.inner.plan_step_finished(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RecordingReporter;
    use std::time::Duration;

    fn ended(id: &str, status: &str) -> StepEnd {
        StepEnd {
            id: id.into(),
            cluster: "dr".into(),
            status: status.into(),
            outcome: StepOutcome::Skipped("already done".into()),
            duration: Duration::from_millis(12),
        }
    }

    #[test]
    fn keeps_finished_steps_and_the_one_in_progress() {
        let inner = RecordingReporter::default();
        let log = StepLog::new(&inner);
        log.plan_step_started(0, 3, "abort-transfer", "abort");
        log.plan_step_finished(&ended("abort-transfer", "skipped"));
        log.plan_step_started(1, 3, "quiesce", "quiesce");
        let steps = log.interrupted_steps();
        let got: Vec<(&str, &str)> = steps
            .iter()
            .map(|s| (s.id.as_str(), s.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [("abort-transfer", "skipped"), ("quiesce", "interrupted")]
        );
        assert_eq!(steps[0].duration_ms, 12);
        assert_eq!(log.finished().len(), 1);
        assert_eq!(log.in_progress().as_deref(), Some("quiesce"));
        // Everything reached the reporter behind it.
        assert_eq!(
            inner.events(),
            [
                "start: [1/3] abort-transfer: abort",
                "progress done: abort-transfer",
                "finish: abort-transfer (12 ms): Skipped(\"already done\")",
                "start: [2/3] quiesce: quiesce",
            ]
        );
    }
}
