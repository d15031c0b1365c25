//! `sync`: a SnapMirror transfer now (`POST .../transfers` on the DR
//! cluster), optionally waited for with progress, then the new lag.

use std::time::Duration;

use serde::Serialize;

use super::request::{PeeringError, PlannedCall};
use crate::ontap::models::{Relationship, RelationshipState, TransferState};
use crate::ontap::{OntapClient, RelationshipQuery};
use crate::report::Reporter;
use crate::status::is_svm_dr;

/// What to sync.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// Source or destination SVM name; `None` when there is one relationship.
    pub svm: Option<String>,
    /// Wait for the transfer to end.
    pub wait: bool,
    /// Bound on the wait.
    pub timeout: Duration,
}

/// The result of [`sync`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Source path.
    pub source: String,
    /// Destination path.
    pub destination: String,
    /// The transfer started (absent when one was already running).
    pub transfer_uuid: Option<String>,
    /// Whether we waited for it.
    pub waited: bool,
    /// Transfer state at the end (`success`, `failed`, ...) when waited.
    pub transfer_state: Option<String>,
    /// Bytes transferred, when known.
    pub bytes: Option<u64>,
    /// Relationship state at the end.
    pub state: Option<String>,
    /// Lag at the end, seconds.
    pub lag_seconds: Option<u64>,
}

/// Picks the SVM-DR relationship named by `svm` (source alias or
/// destination SVM), or the only one.
///
/// # Errors
/// `Blocked` when none or several match.
pub fn pick<'a>(
    all: &'a [Relationship],
    svm: Option<&str>,
    cluster: &str,
) -> Result<&'a Relationship, PeeringError> {
    let svm_dr: Vec<&Relationship> = all.iter().filter(|r| is_svm_dr(r)).collect();
    let name_of = |p: &str| p.split(':').next().unwrap_or("").to_string();
    let matching: Vec<&Relationship> = svm_dr
        .iter()
        .copied()
        .filter(|r| {
            svm.is_none_or(|s| name_of(r.source_path()) == s || name_of(r.destination_path()) == s)
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(PeeringError::Blocked {
            step: "find the relationship".into(),
            detail: match svm {
                Some(s) => format!(
                    "no SVM-DR relationship for SVM {s} on {cluster}; run `kubectl svmdr peer --svm {s}` first"
                ),
                None => {
                    format!("no SVM-DR relationship on {cluster}; run `kubectl svmdr peer` first")
                }
            },
        }),
        many => Err(PeeringError::Blocked {
            step: "find the relationship".into(),
            detail: format!(
                "several SVM-DR relationships on {cluster} ({}); pick one with --svm",
                many.iter()
                    .map(|r| format!("{} -> {}", r.source_path(), r.destination_path()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The call [`sync`] would make (`--dry-run`): reads the relationships only.
///
/// # Errors
/// As [`sync`] before it starts the transfer.
pub async fn plan(dr: &OntapClient, req: &SyncRequest) -> Result<PlannedCall, PeeringError> {
    let all = dr
        .relationships(&RelationshipQuery::default())
        .await
        .map_err(|source| PeeringError::Ontap {
            step: "list relationships".into(),
            source: Box::new(source),
        })?;
    let rel = pick(&all, req.svm.as_deref(), dr.name())?;
    Ok(PlannedCall {
        cluster: dr.name().to_string(),
        method: "POST".into(),
        path: format!(
            "/api/snapmirror/relationships/{}/transfers",
            rel.uuid.as_deref().unwrap_or("?")
        ),
        body: Some(serde_json::json!({})),
    })
}

/// Starts a transfer on the DR cluster and optionally waits for it.
///
/// # Errors
/// `Blocked` when the relationship cannot take a transfer (broken off,
/// quiesced) or none/several match; `Ontap` for failed calls or a wait
/// that ran out.
pub async fn sync(
    dr: &OntapClient,
    req: &SyncRequest,
    reporter: &dyn Reporter,
) -> Result<SyncReport, PeeringError> {
    let ontap = |step: &str| {
        let step = step.to_string();
        move |source| PeeringError::Ontap {
            step,
            source: Box::new(source),
        }
    };
    let all = dr
        .relationships(&RelationshipQuery::default())
        .await
        .map_err(ontap("list relationships"))?;
    let rel = pick(&all, req.svm.as_deref(), dr.name())?.clone();
    let uuid = rel.uuid.clone().unwrap_or_default();
    let (source, destination) = (
        rel.source_path().to_string(),
        rel.destination_path().to_string(),
    );
    match rel.state {
        Some(RelationshipState::BrokenOff) => {
            return Err(PeeringError::Blocked {
                step: "transfer".into(),
                detail: format!(
                    "{source} -> {destination} is broken off (failed over): a transfer would need \
                     a resync first (`kubectl svmdr resync`)"
                ),
            });
        }
        Some(RelationshipState::Paused) => {
            return Err(PeeringError::Blocked {
                step: "transfer".into(),
                detail: format!(
                    "{source} -> {destination} is quiesced (paused): resume it before a transfer"
                ),
            });
        }
        _ => {}
    }
    let transfer_uuid = if rel.is_transferring() {
        reporter.note(&format!(
            "a transfer of {destination} is already running; not starting another"
        ));
        None
    } else {
        Some(
            dr.start_transfer(&uuid)
                .await
                .map_err(ontap("start transfer"))?,
        )
    };
    if !req.wait {
        return Ok(SyncReport {
            source,
            destination,
            transfer_uuid,
            waited: false,
            transfer_state: None,
            bytes: None,
            state: rel.state.map(|s| s.to_string()),
            lag_seconds: rel.lag_time.map(|d| d.as_secs()),
        });
    }
    let task = format!("transfer {destination}");
    let done = dr
        .wait_relationship(
            &uuid,
            |r| !r.is_transferring(),
            req.timeout,
            Duration::from_millis(250),
            |r| {
                let bytes = r
                    .transfer
                    .as_ref()
                    .and_then(|t| t.bytes_transferred)
                    .unwrap_or(0);
                reporter.progress(
                    &task,
                    bytes,
                    None,
                    r.transfer_state().map_or("", |s| s.as_str()),
                );
            },
        )
        .await;
    reporter.progress_finished(&task);
    let done = done.map_err(ontap("wait for the transfer"))?;
    let state = done.transfer_state();
    if matches!(
        state,
        Some(TransferState::Failed | TransferState::Aborted | TransferState::HardAborted)
    ) {
        return Err(PeeringError::Blocked {
            step: "transfer".into(),
            detail: format!(
                "the transfer of {destination} ended {}: {}",
                state.map_or("?", |s| s.as_str()),
                done.summary()
            ),
        });
    }
    Ok(SyncReport {
        source,
        destination,
        transfer_uuid,
        waited: true,
        transfer_state: state.map(|s| s.to_string()),
        bytes: done.transfer.as_ref().and_then(|t| t.bytes_transferred),
        state: done.state.map(|s| s.to_string()),
        lag_seconds: done.lag_time.map(|d| d.as_secs()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rels() -> Vec<Relationship> {
        serde_json::from_value(json!([
            {"uuid": "1", "source": {"path": "svm1:"}, "destination": {"path": "svm1_dr:"}, "group_type": "svm_dr"},
            {"uuid": "2", "source": {"path": "svm2:"}, "destination": {"path": "svm2_dr:"}, "group_type": "svm_dr"},
            {"uuid": "3", "source": {"path": "svm1:vol"}, "destination": {"path": "svm1_dr:vol"}, "group_type": "none"}
        ]))
        .unwrap()
    }

    #[test]
    fn picks_by_svm_and_explains_ambiguity() {
        let all = rels();
        assert_eq!(
            pick(&all, Some("svm1"), "b").unwrap().uuid.as_deref(),
            Some("1")
        );
        assert_eq!(
            pick(&all, Some("svm2_dr"), "b").unwrap().uuid.as_deref(),
            Some("2")
        );
        let e = pick(&all, None, "ontap-b").unwrap_err().to_string();
        assert!(
            e.contains("--svm") && e.contains("svm1: -> svm1_dr:"),
            "{e}"
        );
        let e = pick(&all, Some("nope"), "ontap-b").unwrap_err().to_string();
        assert!(e.contains("kubectl svmdr peer --svm nope"), "{e}");
        assert!(pick(&all[..1], None, "b").is_ok());
    }
}
