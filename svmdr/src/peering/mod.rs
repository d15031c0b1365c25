//! Idempotent set-up of SVM-DR between two sites: intercluster LIFs, the
//! cluster peer (generated passphrase, TLS-PSK), the `dp_destination` SVM,
//! the SVM peer and its acceptance, the relationship, and its baseline
//! transfer.
//!
//! The set-up is a list of [`Step`]s, each described once by a
//! [`PeeringStep`] (in [`steps`], one file per group): a pure check over
//! the [`Observed`] state of both clusters (`Done`, `Todo`, `Blocked`,
//! `Unsafe` or `Skipped`), the ONTAP calls it would make (for `--dry-run`),
//! and its action with its wait. [`run`] observes, checks each step in
//! order, applies what is `Todo` and observes again, so a re-run after any
//! failure continues from where the clusters really are. The relationship
//! step converges: on an existing relationship it PATCHes the schedule,
//! policy, throttle or identity preservation the request names explicitly
//! ([`settings`]). Schedule and policy names are checked on the DR cluster
//! before any step runs, in dry runs too ([`PeeringError::Invalid`]).
//!
//! # Caveats
//! ONTAP shows a generated cluster peer passphrase once (in the POST
//! response). The passphrase is generated on the primary and used on the
//! DR cluster right away. If a run stops between the two POSTs, the offer
//! stays `pending` (or `problem` once it expired) with a passphrase nobody
//! knows; a re-run then PATCHes a new random passphrase (and a fresh
//! expiry) onto that unaccepted offer and POSTs the other side with it.
//! The same holds with the sides swapped. An explicit passphrase is used
//! because the facts sheet documents the generated one only in the create
//! response. A one-sided peer whose authentication is `ok` is not an
//! offer and is left alone (the step says how to remove it).

pub mod lif;
pub mod observe;
pub mod settings;
pub mod steps;
pub mod sync;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub use lif::LifSpec;
pub use observe::{ClusterView, Observed, observe};
pub use settings::{DEFAULT_SCHEDULE, Explicit, schedule_for_rpo};
pub use steps::{ALL_STEPS, Check, Clients, PeeringStep, Step, identity_from_flag};

use crate::ontap::models::IdentityPreservation;
use crate::ontap::{OntapClient, OntapError};
use crate::report::{Reporter, StepOutcome};

/// What to set up.
#[derive(Debug, Clone)]
pub struct PeerRequest {
    /// Source SVM on the primary cluster.
    pub svm: String,
    /// Destination SVM on the DR cluster.
    pub dr_svm: String,
    /// Identity preservation of the relationship.
    pub identity_preservation: IdentityPreservation,
    /// SnapMirror policy (async).
    pub policy: String,
    /// Transfer schedule (`None`: the policy's; [`DEFAULT_SCHEDULE`] by
    /// default, see [`settings`]).
    pub schedule: Option<String>,
    /// Transfer throttle in KB/s (`0`: unlimited; `None`: ONTAP's default).
    pub throttle: Option<u64>,
    /// Which settings were given explicitly (a re-run converges those).
    pub explicit: Explicit,
    /// Run the baseline transfer.
    pub initialize: bool,
    /// Intercluster LIFs to create on primary nodes that lack one.
    pub primary_lifs: Vec<LifSpec>,
    /// Intercluster LIFs to create on DR nodes that lack one.
    pub dr_lifs: Vec<LifSpec>,
    /// IPspace for new intercluster LIFs.
    pub ipspace: String,
    /// Bound on waits for peer state changes.
    pub wait_timeout: Duration,
    /// Bound on the baseline transfer.
    pub init_timeout: Duration,
    /// The SVM the Trident backend uses (for messages).
    pub backend_svm_hint: Option<String>,
}

impl PeerRequest {
    /// A request with the defaults of `kubectl svmdr peer`.
    pub fn new(svm: impl Into<String>) -> Self {
        let svm = svm.into();
        Self {
            dr_svm: svm.clone(),
            svm,
            identity_preservation: IdentityPreservation::Full,
            policy: "MirrorAllSnapshots".into(),
            schedule: Some(DEFAULT_SCHEDULE.into()),
            throttle: None,
            explicit: Explicit::default(),
            initialize: true,
            primary_lifs: Vec::new(),
            dr_lifs: Vec::new(),
            ipspace: "Default".into(),
            wait_timeout: Duration::from_secs(60),
            init_timeout: Duration::from_secs(3600),
            backend_svm_hint: None,
        }
    }
}

/// One ONTAP call a step would make (`--dry-run`), secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCall {
    /// Cluster name.
    pub cluster: String,
    /// HTTP method.
    pub method: String,
    /// Path (with query when it matters).
    pub path: String,
    /// JSON body, secrets replaced by `<redacted>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl fmt::Display for PlannedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.cluster, self.method, self.path)?;
        if let Some(b) = &self.body {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

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
}

/// Why peering stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeeringError {
    /// An ONTAP call failed.
    #[error("{step}: {source}")]
    Ontap {
        /// The step (and context).
        step: String,
        /// Cause.
        #[source]
        source: Box<OntapError>,
    },
    /// A step cannot proceed; the detail says what to do.
    #[error("{step}: {detail}")]
    Blocked {
        /// The step.
        step: String,
        /// What is missing and what to do.
        detail: String,
    },
    /// The request names something the DR cluster does not have (a
    /// schedule, a policy), or asks for a change ONTAP refuses (raising
    /// identity preservation); nothing was changed.
    #[error("{detail}")]
    Invalid {
        /// What is wrong, what exists and the fix.
        detail: String,
    },
    /// Proceeding could harm data.
    #[error("{step}: {detail}")]
    Unsafe {
        /// The step.
        step: String,
        /// Why, and what to do instead.
        detail: String,
    },
}

/// Observes both clusters, then checks and applies each step in order
/// (re-observing after each change). With `dry_run`, only GETs are made and
/// the report lists the calls each pending step would make.
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
    let observe_err = |source| PeeringError::Ontap {
        step: "reading both clusters".into(),
        source: Box::new(source),
    };
    let mut obs = observe(primary, dr, req).await.map_err(observe_err)?;
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
    let clients = Clients { primary, dr };
    let mut reports = Vec::new();
    let mut pending_before = false;
    for step in ALL_STEPS {
        let desc = step.describe();
        reporter.step_started(desc.title());
        let check = desc.check(req, &obs);
        let (outcome, detail, calls) = match check {
            Check::Done(d) => (StepOutcome::AlreadyDone, d, Vec::new()),
            Check::Skipped(d) => (StepOutcome::Skipped(d.clone()), d, Vec::new()),
            // In a dry run, later steps may look blocked only because an
            // earlier step has not really run: report them as planned.
            Check::Blocked(d) | Check::Unsafe(d) if dry_run && pending_before => {
                let calls = desc.calls(req, &obs);
                (StepOutcome::Planned(d.clone()), d, calls)
            }
            Check::Blocked(d) => {
                reporter.step_finished(desc.title(), &StepOutcome::Failed(d.clone()));
                return Err(PeeringError::Blocked {
                    step: desc.title().into(),
                    detail: d,
                });
            }
            Check::Unsafe(d) => {
                reporter.step_finished(desc.title(), &StepOutcome::Failed(d.clone()));
                return Err(PeeringError::Unsafe {
                    step: desc.title().into(),
                    detail: d,
                });
            }
            Check::Todo(d) if dry_run => {
                pending_before = true;
                let calls = desc.calls(req, &obs);
                (StepOutcome::Planned(d.clone()), d, calls)
            }
            Check::Todo(d) => {
                let cx = steps::Apply {
                    req,
                    obs: &obs,
                    clients: &clients,
                    reporter,
                };
                if let Err(e) = desc.apply(cx).await {
                    reporter.step_finished(desc.title(), &StepOutcome::Failed(e.to_string()));
                    return Err(e);
                }
                obs = observe(primary, dr, req).await.map_err(observe_err)?;
                (StepOutcome::Done, d, Vec::new())
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
    Ok(PeerReport {
        dry_run,
        steps: reports,
        relationship_state: obs
            .relationship
            .as_ref()
            .and_then(|r| r.state)
            .map(|s| s.to_string()),
        lag_seconds: obs
            .relationship
            .as_ref()
            .and_then(|r| r.lag_time)
            .map(|d| d.as_secs()),
        schedule: obs
            .relationship
            .as_ref()
            .and_then(|r| settings::effective_schedule(r, &obs)),
    })
}

#[cfg(test)]
mod tests;
