//! `OntapClient::wait_relationship` against a fake server: it returns the
//! reading that satisfied the predicate, reports every reading, and times
//! out with the last state it saw.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use serde_json::json;
use svmdr::ontap::ErrorKind;
use svmdr::ontap::models::RelationshipState;

use super::fake::{self, Fake};

/// A relationship that reads `uninitialized` for `pending` polls, then
/// `snapmirrored`; counts the polls.
fn relationship_router(pending: usize, polls: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/api/snapmirror/relationships/{uuid}",
        get(move || async move {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            let state = if n < pending {
                "uninitialized"
            } else {
                "snapmirrored"
            };
            fake::json(
                200,
                json!({"uuid": "r-1", "state": state, "healthy": true,
                       "source": {"path": "svm1:"}, "destination": {"path": "svm1_dr:"}}),
            )
        }),
    )
}

#[tokio::test]
async fn waits_until_the_predicate_holds_and_reports_each_reading() {
    let polls = Arc::new(AtomicUsize::new(0));
    let srv = Fake::start(relationship_router(2, polls.clone())).await;
    let mut seen = Vec::new();
    let rel = tokio::time::timeout(
        Duration::from_secs(30),
        srv.client().wait_relationship(
            "r-1",
            |r| r.state == Some(RelationshipState::Snapmirrored),
            Duration::from_secs(20),
            Duration::from_millis(10),
            |r| seen.push(r.state),
        ),
    )
    .await
    .expect("finished within 30 s")
    .expect("snapmirrored");
    assert_eq!(rel.state, Some(RelationshipState::Snapmirrored));
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    assert_eq!(
        seen,
        vec![
            Some(RelationshipState::Uninitialized),
            Some(RelationshipState::Uninitialized),
            Some(RelationshipState::Snapmirrored)
        ]
    );
}

#[tokio::test]
async fn times_out_with_the_last_state_seen() {
    let polls = Arc::new(AtomicUsize::new(0));
    let srv = Fake::start(relationship_router(usize::MAX, polls.clone())).await;
    let err = tokio::time::timeout(
        Duration::from_secs(30),
        srv.client().wait_relationship(
            "r-1",
            |r| r.state == Some(RelationshipState::Snapmirrored),
            Duration::from_millis(200),
            Duration::from_millis(50),
            |_| {},
        ),
    )
    .await
    .expect("finished within 30 s")
    .expect_err("never snapmirrored");
    match &err.kind {
        ErrorKind::WaitTimeout { what, waited, last } => {
            assert_eq!(what, "relationship r-1");
            assert!(*waited >= Duration::from_millis(200), "{waited:?}");
            assert!(last.contains("uninitialized"), "{last}");
        }
        other => panic!("expected a wait timeout, got {other:?}"),
    }
    // The first poll at once, one every 50 ms, one at the deadline.
    let n = polls.load(Ordering::SeqCst);
    assert!((2..=6).contains(&n), "{n} polls");
}
