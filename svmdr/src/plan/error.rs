//! [`PlanError`]: why a workflow stopped, where, and what to do next.

use std::time::Duration;

use super::step_status::{StepEvent, StepStatus};
use super::storage::{StorageError, StorageErrorKind};

/// What to tell the user after a failure that a re-run can finish.
pub const RERUN: &str = "re-run the same command: it continues from the current state";

/// Why a workflow stopped. Every variant names the step and the cluster;
/// [`PlanError::hint`] says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Refused for safety (split-brain guard, declined confirmation). The CLI
    /// exits 3.
    #[error("refused: {reason}")]
    Refused {
        /// Why.
        reason: String,
        /// What to do instead.
        hint: String,
    },
    /// The state does not allow this workflow at all (checked before any change).
    #[error("preflight failed: {reason}")]
    Preflight {
        /// What is wrong.
        reason: String,
        /// What to do.
        hint: String,
    },
    /// A step cannot run in the observed state.
    #[error("step {step} cannot run on {cluster}: {reason}")]
    Blocked {
        /// Step id.
        step: String,
        /// Cluster label.
        cluster: String,
        /// Why.
        reason: String,
    },
    /// The step's ONTAP call failed.
    #[error("step {step} ({title}) failed: {source}")]
    Action {
        /// Step id.
        step: String,
        /// What the step does.
        title: String,
        /// The failed call (cluster, call, ONTAP code and message).
        #[source]
        source: Box<StorageError>,
    },
    /// Reading the state failed.
    #[error("step {step}: could not read the state: {source}")]
    Observe {
        /// Step id.
        step: String,
        /// The failed GET.
        #[source]
        source: Box<StorageError>,
    },
    /// ONTAP reports the change failed (e.g. the transfer failed).
    #[error("step {step} failed on {cluster}: {reason}")]
    StepFailed {
        /// Step id.
        step: String,
        /// Cluster label.
        cluster: String,
        /// ONTAP's report.
        reason: String,
    },
    /// The change did not complete in time.
    #[error("step {step} on {cluster} did not complete within {}: still waiting for {waiting_for}", humantime::format_duration(*waited))]
    Timeout {
        /// Step id.
        step: String,
        /// Cluster label.
        cluster: String,
        /// How long we waited.
        waited: Duration,
        /// What we were waiting for.
        waiting_for: String,
    },
    /// Trident backends stayed offline after the SVM started.
    #[error("step {step} on {cluster}: {detail}")]
    BackendsOffline {
        /// Step id.
        step: String,
        /// Cluster label.
        cluster: String,
        /// The SVM.
        svm: String,
        /// Each backend still offline (name, SVM, state, userState,
        /// stateReason), how long we waited, and what the prompt did.
        detail: String,
    },
    /// A bug: a step status change the state machine forbids.
    #[error("internal error: step {step} cannot go from {status:?} on {event:?}")]
    IllegalTransition {
        /// Step id.
        step: String,
        /// Status.
        status: StepStatus,
        /// Event.
        event: StepEvent,
    },
}

impl PlanError {
    /// Whether this is a safety refusal (exit 3).
    pub fn is_refusal(&self) -> bool {
        matches!(self, PlanError::Refused { .. })
    }

    /// The step that failed, if any.
    pub fn step(&self) -> Option<&str> {
        match self {
            PlanError::Blocked { step, .. }
            | PlanError::Action { step, .. }
            | PlanError::Observe { step, .. }
            | PlanError::StepFailed { step, .. }
            | PlanError::Timeout { step, .. }
            | PlanError::BackendsOffline { step, .. }
            | PlanError::IllegalTransition { step, .. } => Some(step),
            PlanError::Refused { .. } | PlanError::Preflight { .. } => None,
        }
    }

    /// ONTAP's error code, when ONTAP gave one.
    pub fn ontap_code(&self) -> Option<&str> {
        match self {
            PlanError::Action { source, .. } | PlanError::Observe { source, .. } => {
                source.code.as_deref()
            }
            _ => None,
        }
    }

    /// Whether running the same command again, unchanged, cannot help:
    /// refused credentials, a missing permission or an untrusted
    /// certificate need a fix first ([`PlanError::hint`] says which, and
    /// never says "re-run").
    pub fn needs_fix_first(&self) -> bool {
        match self {
            PlanError::Action { source, .. } | PlanError::Observe { source, .. } => matches!(
                source.kind,
                StorageErrorKind::Unauthorized
                    | StorageErrorKind::NotPermitted
                    | StorageErrorKind::Tls
            ),
            _ => false,
        }
    }

    /// What to do next.
    pub fn hint(&self) -> String {
        match self {
            PlanError::Refused { hint, .. } | PlanError::Preflight { hint, .. } => hint.clone(),
            PlanError::Blocked { reason, .. } => {
                if reason.contains("unreachable") {
                    format!("check the network path to that cluster (or its state), then {RERUN}")
                } else {
                    format!("fix the state described above, then {RERUN}")
                }
            }
            PlanError::Action { source, .. } | PlanError::Observe { source, .. } => {
                storage_hint(source)
            }
            PlanError::StepFailed { .. } => {
                format!(
                    "look at the relationship with `kubectl svmdr status`; once the cause is fixed, {RERUN}"
                )
            }
            PlanError::Timeout { .. } => format!(
                "ONTAP may still complete the change; wait, then {RERUN} (or raise --step-timeout)"
            ),
            PlanError::BackendsOffline { svm, .. } => format!(
                "the storage steps are done; Trident cannot use SVM {svm} yet: check that it runs with a data LIF up and aggregates assigned (`kubectl svmdr status`), read the backend's stateReason (`tridentctl get backend -o yaml`), fix the cause, then {RERUN} (failover and switchover also take --backend-timeout)"
            ),
            PlanError::IllegalTransition { .. } => {
                format!("please report this bug; {RERUN}")
            }
        }
    }
}

fn storage_hint(e: &StorageError) -> String {
    match (e.kind, e.code.as_deref()) {
        (StorageErrorKind::Unreachable, _) => {
            format!("the cluster did not answer: check it is up and reachable, then {RERUN}")
        }
        (StorageErrorKind::Timeout, _) => {
            format!("the cluster did not answer in time; ONTAP may still apply the change: {RERUN}")
        }
        (StorageErrorKind::Unauthorized, _) => "the cluster refused the credentials: fix them \
             for this site (the config file's credentialsSecret, SVMDR_ONTAP_USERNAME and \
             SVMDR_ONTAP_PASSWORD, or the Trident backend's Secret, whichever the message names)"
            .into(),
        (StorageErrorKind::NotPermitted, _) => "the ONTAP account may not do this: use \
             cluster-admin credentials for this site (the config file's credentialsSecret, or \
             SVMDR_ONTAP_USERNAME and SVMDR_ONTAP_PASSWORD)"
            .into(),
        (StorageErrorKind::Tls, _) => "trust the cluster's CA with --ca-file (or `caFile` in the \
             config file), or, only for a lab, pass --insecure-skip-tls-verify"
            .into(),
        (StorageErrorKind::JobFailed, _) => format!(
            "ONTAP's job failed, so that change was not made; once the cause is fixed, {RERUN}"
        ),
        // ONTAP uses the same code when a full-identity break finds the
        // source SVM running (`docs/ontap-rest.md` §12.2).
        (_, Some("13303808"))
            if e.call.contains("snapmirror") && e.message.contains("source SVM") =>
        {
            format!(
                "the source SVM still runs on the primary cluster: stop it there (`vserver stop`), then {RERUN}"
            )
        }
        (_, Some("13303808" | "13303812")) if e.call.contains("snapmirror") => {
            format!("a transfer is in progress; {RERUN} (the plan stops it first)")
        }
        (_, Some("6619715" | "6619720")) => {
            format!("ONTAP is busy propagating a change; wait a minute, then {RERUN}")
        }
        (_, Some("6")) => {
            "the ONTAP account lacks permission: use cluster-admin credentials for this site".into()
        }
        _ => RERUN.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(kind: StorageErrorKind, code: Option<&str>) -> StorageError {
        StorageError {
            cluster: "dr (ontap-b)".into(),
            call: "PATCH /api/snapmirror/relationships/{uuid}".into(),
            code: code.map(String::from),
            message: "Another transfer is in progress.".into(),
            kind,
        }
    }

    #[test]
    fn action_error_names_step_cluster_code_and_next_move() {
        let e = PlanError::Action {
            step: "break".into(),
            title: "break the forward relationship".into(),
            source: Box::new(storage(StorageErrorKind::Api, Some("13303808"))),
        };
        let msg = e.to_string();
        assert!(msg.contains("step break"), "{msg}");
        assert!(msg.contains("dr (ontap-b)"), "{msg}");
        assert!(msg.contains("ONTAP error 13303808"), "{msg}");
        assert!(msg.contains("Another transfer"), "{msg}");
        assert!(e.hint().contains("re-run"), "{}", e.hint());
        assert_eq!(e.ontap_code(), Some("13303808"));
        assert_eq!(e.step(), Some("break"));
    }

    #[test]
    fn refused_credentials_and_untrusted_certificates_are_not_rerun() {
        for (kind, words) in [
            (StorageErrorKind::Unauthorized, "credentialsSecret"),
            (StorageErrorKind::NotPermitted, "cluster-admin"),
            (StorageErrorKind::Tls, "--insecure-skip-tls-verify"),
        ] {
            let e = PlanError::Observe {
                step: "preflight".into(),
                source: Box::new(storage(kind, None)),
            };
            assert!(e.needs_fix_first(), "{kind:?}");
            assert!(e.hint().contains(words), "{}", e.hint());
            assert!(!e.hint().contains("re-run"), "{}", e.hint());
        }
        let e = PlanError::Observe {
            step: "preflight".into(),
            source: Box::new(storage(StorageErrorKind::Unreachable, None)),
        };
        assert!(!e.needs_fix_first());
    }

    #[test]
    fn running_source_hint_says_stop_it() {
        let mut source = storage(StorageErrorKind::Api, Some("13303808"));
        source.message = "Transition to broken_off failed: the relationship preserves full identity and source SVM \"svm1\" on cluster \"a\" is running.".into();
        let e = PlanError::Action {
            step: "break".into(),
            title: "break".into(),
            source: Box::new(source),
        };
        assert!(e.hint().contains("vserver stop"), "{}", e.hint());
    }

    #[test]
    fn unreachable_hint_says_check_the_cluster() {
        let e = PlanError::Action {
            step: "stop-primary".into(),
            title: "stop".into(),
            source: Box::new(storage(StorageErrorKind::Unreachable, None)),
        };
        assert!(e.hint().contains("reachable"));
    }

    #[test]
    fn timeout_message_has_duration() {
        let e = PlanError::Timeout {
            step: "resync".into(),
            cluster: "primary".into(),
            waited: Duration::from_secs(90),
            waiting_for: "snapmirrored".into(),
        };
        assert!(e.to_string().contains("1m 30s"), "{e}");
    }
}
