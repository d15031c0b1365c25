//! The peering runner: observe both clusters, then check each step in
//! order and apply what is to do (or, in a dry run, list its calls).

use serde::Serialize;

use super::observe::observe;
use super::request::{PeerRequest, PeeringError, PlannedCall};
use super::settings;
use super::steps::{self, ALL_STEPS, Clients, PeerCheck, Step};
use crate::ontap::OntapClient;
use crate::report::{Reporter, StepOutcome};

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
            PeerCheck::Done(d) => (StepOutcome::AlreadyDone, d, Vec::new()),
            PeerCheck::Skipped(d) => (StepOutcome::Skipped(d.clone()), d, Vec::new()),
            // In a dry run, later steps may look blocked only because an
            // earlier step has not really run: report them as planned.
            PeerCheck::Blocked(d) | PeerCheck::Unsafe(d) if dry_run && pending_before => {
                let calls = desc.calls(req, &obs);
                (StepOutcome::Planned(d.clone()), d, calls)
            }
            PeerCheck::Blocked(d) => {
                reporter.step_finished(desc.title(), &StepOutcome::Failed(d.clone()));
                return Err(PeeringError::Blocked {
                    step: desc.title().into(),
                    detail: d,
                });
            }
            PeerCheck::Unsafe(d) => {
                reporter.step_finished(desc.title(), &StepOutcome::Failed(d.clone()));
                return Err(PeeringError::Unsafe {
                    step: desc.title().into(),
                    detail: d,
                });
            }
            PeerCheck::Todo(d) if dry_run => {
                pending_before = true;
                let calls = desc.calls(req, &obs);
                (StepOutcome::Planned(d.clone()), d, calls)
            }
            PeerCheck::Todo(d) => {
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
