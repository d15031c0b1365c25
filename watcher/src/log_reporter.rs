//! Workflow progress as log lines (the watcher has no terminal).

use svmdr::report::{Reporter, StepOutcome};

/// Sends every note, warning and step to `tracing`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogReporter;

impl Reporter for LogReporter {
    fn note(&self, message: &str) {
        tracing::info!("{message}");
    }

    fn warning(&self, message: &str) {
        tracing::warn!("{message}");
    }

    fn step_started(&self, step: &str) {
        tracing::info!(step, "step started");
    }

    fn step_finished(&self, step: &str, outcome: &StepOutcome) {
        tracing::info!(step, outcome = ?outcome, "step finished");
    }
}
