//! Peering runs on the plan engine: a run's report carries the engine's
//! timeline, every step moved through its state machine (applied steps
//! `succeeded`, steps already done `skipped`), and a re-run skips them all.

use std::time::Duration;

use sim::ontap::Timing;
use svmdr::peering::{ALL_STEPS, PeerReport, PeerRequest};
use svmdr::plan::StepStatus;
use svmdr::report::{NoopReporter, StepOutcome};

use super::lab::{DR_SVM, Lab, PRIMARY_SVM, fast_timeouts};

fn request() -> PeerRequest {
    let mut req = PeerRequest::new(PRIMARY_SVM);
    req.dr_svm = DR_SVM.into();
    req.wait_timeout = Duration::from_secs(20);
    req.init_timeout = Duration::from_secs(30);
    req
}

async fn peer(lab: &Lab, dry_run: bool) -> PeerReport {
    svmdr::peering::run(&lab.primary, &lab.dr, &request(), dry_run, &NoopReporter)
        .await
        .expect("peer")
}

/// Each step's timeline status agrees with the outcome the report gives it.
fn statuses_match_outcomes(r: &PeerReport) {
    let ids: Vec<&str> = r.timeline.steps.iter().map(|s| s.id.as_str()).collect();
    let want: Vec<&str> = ALL_STEPS.iter().map(|s| s.id()).collect();
    assert_eq!(ids, want, "every step, in order");
    assert_eq!(r.steps.len(), r.timeline.steps.len());
    for (rec, step) in r.timeline.steps.iter().zip(&r.steps) {
        assert_eq!(rec.title, step.title);
        let want = match step.outcome {
            StepOutcome::Done => StepStatus::Succeeded,
            StepOutcome::AlreadyDone | StepOutcome::Skipped(_) => StepStatus::Skipped,
            ref o => panic!("{}: unexpected outcome {o:?}", rec.id),
        };
        assert_eq!(rec.status, want, "{}: {:?}", rec.id, step.outcome);
    }
}

#[tokio::test]
async fn peering_runs_on_the_engine_with_a_timeline() {
    let lab = Lab::bare(Timing::fast(), fast_timeouts()).await;

    let dry = peer(&lab, true).await;
    assert!(dry.timeline.steps.is_empty(), "a dry run runs no step");

    let first = peer(&lab, false).await;
    statuses_match_outcomes(&first);
    let status = |r: &PeerReport, id: &str| {
        r.timeline
            .steps
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.status)
    };
    assert_eq!(status(&first, "source-svm"), Some(StepStatus::Skipped));
    for applied in [
        "cluster-peer",
        "destination-svm",
        "relationship",
        "initialize",
    ] {
        assert_eq!(
            status(&first, applied),
            Some(StepStatus::Succeeded),
            "{applied}"
        );
    }
    assert_eq!(first.relationship_state.as_deref(), Some("snapmirrored"));
    let json = serde_json::to_value(&first).expect("json");
    assert_eq!(json["timeline"]["steps"][0]["status"], "skipped");
    assert!(json["steps"][0]["outcome"].is_object(), "{json}");

    let again = peer(&lab, false).await;
    statuses_match_outcomes(&again);
    assert!(
        again
            .timeline
            .steps
            .iter()
            .all(|s| s.status == StepStatus::Skipped),
        "{:?}",
        again.timeline
    );
}
