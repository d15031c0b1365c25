//! The one audit writer of a run: what it records, with which outcome, and
//! when a run is cut short by Ctrl-C.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::step_log::StepLog;
use super::trail::{AuditEntry, AuditOutcome, AuditStep, kube_user, record};
use crate::plan::{DrPair, StepRecord, Timeline};
use crate::report::Reporter;

/// The user name of `context` in the kubeconfig at `path` (or the default
/// kubeconfig), for the audit trail: `system:unknown` when there is none.
pub fn user_of(path: Option<&Path>, context: &str) -> String {
    let kc = match path {
        Some(p) => kube::config::Kubeconfig::read_from(p).ok(),
        None => kube::config::Kubeconfig::read().ok(),
    };
    kc.and_then(|k| kube_user(&k, Some(context)))
        .unwrap_or_else(|| "system:unknown".into())
}

/// `svm → dr_svm`, as an entry names the SVMs.
pub fn svms(pair: &DrPair) -> String {
    format!("{} → {}", pair.primary_svm, pair.dr_svm)
}

/// One audit step per timeline step.
pub fn steps(steps: &[StepRecord]) -> Vec<AuditStep> {
    steps.iter().map(AuditStep::from).collect()
}

impl From<&StepRecord> for AuditStep {
    fn from(s: &StepRecord) -> Self {
        AuditStep {
            id: s.id.clone(),
            status: format!("{:?}", s.status).to_lowercase(),
            duration_ms: u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// What the audit says about a run cut short by Ctrl-C.
pub fn interrupted_message(finished: usize, current: Option<&str>) -> String {
    let next = "re-run the same command to continue from where the storage is";
    match (current, finished) {
        (Some(id), 0) => format!("interrupted (Ctrl-C) during step {id}; {next}"),
        (Some(id), n) => {
            format!("interrupted (Ctrl-C) during step {id}, after {n} finished step(s); {next}")
        }
        (None, 0) => "interrupted (Ctrl-C) before any step ran".into(),
        (None, n) => format!("interrupted (Ctrl-C) after {n} finished step(s); {next}"),
    }
}

/// Records one run (a workflow or a restore) on the DR cluster, once its
/// outcome is known. A `--dry-run` records nothing; a failure to record is
/// a warning through the reporter, never the run's error.
pub struct Recorder<'a> {
    kube: kube::Client,
    namespace: String,
    dry_run: bool,
    user: String,
    workflow: String,
    started_at: DateTime<Utc>,
    /// The SVMs, once the pair is known.
    svms: Mutex<String>,
    /// What a watcher's run rested on.
    evidence: Vec<String>,
    reporter: &'a dyn Reporter,
}

impl<'a> Recorder<'a> {
    /// A recorder for `workflow` (`failover --force`, `restore`) started
    /// now by `user`, writing to `namespace` (Trident's) through `kube`.
    /// `svms` is what an entry says before the pair is known (`? → ?` for a
    /// workflow, empty for a restore).
    pub fn new(
        kube: kube::Client,
        namespace: impl Into<String>,
        workflow: impl Into<String>,
        user: impl Into<String>,
        svms: impl Into<String>,
        dry_run: bool,
        reporter: &'a dyn Reporter,
    ) -> Self {
        Self {
            kube,
            namespace: namespace.into(),
            dry_run,
            user: user.into(),
            workflow: workflow.into(),
            started_at: Utc::now(),
            svms: Mutex::new(svms.into()),
            evidence: Vec::new(),
            reporter,
        }
    }

    /// The evidence a run started by the watcher rests on (each view of
    /// the primary, with times): every entry carries it.
    #[must_use]
    pub fn with_evidence(mut self, evidence: Vec<String>) -> Self {
        self.evidence = evidence;
        self
    }

    /// The SVM pair, once found: every later entry names it.
    pub fn set_pair(&self, pair: &DrPair) {
        if let Ok(mut s) = self.svms.lock() {
            *s = svms(pair);
        }
    }

    /// Records the run with the steps of `timeline`.
    pub async fn record(&self, outcome: AuditOutcome, message: String, timeline: &Timeline) {
        self.record_steps(outcome, message, steps(&timeline.steps))
            .await;
    }

    /// Records the run with these steps.
    pub async fn record_steps(
        &self,
        outcome: AuditOutcome,
        message: String,
        steps: Vec<AuditStep>,
    ) {
        if self.dry_run {
            return;
        }
        let entry = AuditEntry {
            workflow: self.workflow.clone(),
            started_at: self.started_at,
            finished_at: Utc::now(),
            user: self.user.clone(),
            outcome,
            message,
            svms: self.svms.lock().map(|s| s.clone()).unwrap_or_default(),
            steps,
            evidence: self.evidence.clone(),
        };
        if let Err(e) = record(&self.kube, &self.namespace, &entry).await {
            self.reporter
                .note(&format!("warning: could not record the run: {e}"));
        }
    }

    /// Records a failed or refused workflow (`refused`: a safety refusal),
    /// with the steps it reached and what else it did (`done`).
    pub async fn fail(
        &self,
        error: &dyn std::fmt::Display,
        refused: bool,
        steps: &[StepRecord],
        done: Option<String>,
    ) {
        let outcome = if refused {
            AuditOutcome::Refused
        } else {
            AuditOutcome::Failed
        };
        let message = match done {
            Some(d) => format!("{error}; {d}"),
            None => error.to_string(),
        };
        self.record_steps(outcome, message, self::steps(steps))
            .await;
    }

    /// Records a run cut short by Ctrl-C with the steps `log` saw, within
    /// `bound` (Ctrl-C must not hang on an unresponsive DR cluster).
    pub async fn interrupted(&self, log: &StepLog<'_>, bound: Duration) {
        let message = interrupted_message(log.finished().len(), log.in_progress().as_deref());
        let record = self.record_steps(AuditOutcome::Interrupted, message, log.interrupted_steps());
        if tokio::time::timeout(bound, record).await.is_err() {
            self.reporter.note(&format!(
                "warning: could not record the interrupted run within {}",
                humantime::format_duration(bound)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupted_messages_say_where_and_what_next() {
        assert_eq!(
            interrupted_message(0, None),
            "interrupted (Ctrl-C) before any step ran"
        );
        let m = interrupted_message(2, Some("break"));
        assert!(m.contains("during step break, after 2 finished"), "{m}");
        assert!(m.contains("re-run the same command"), "{m}");
        assert!(interrupted_message(5, None).contains("after 5 finished"));
    }

    #[test]
    fn an_unreadable_kubeconfig_is_an_unknown_user() {
        let missing = Path::new("/nonexistent/kubeconfig");
        assert_eq!(user_of(Some(missing), "dr"), "system:unknown");
    }
}
