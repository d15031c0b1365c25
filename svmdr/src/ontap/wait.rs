//! Bounded waits on a relationship's state: a finished SnapMirror job only
//! means a transition started, so callers poll the relationship until a
//! predicate holds or a deadline passes.

use std::time::Duration;

use super::error::{ErrorKind, OntapError};
use super::models::Relationship;
use super::transport::OntapClient;
use crate::poll::{Attempt, Pace, poll_until};

impl OntapClient {
    /// Polls relationship `uuid` every `poll_interval` until `done` returns
    /// true for it, calling `on_progress` with each reading. Returns the
    /// reading that satisfied `done`.
    ///
    /// # Errors
    /// `WaitTimeout` (with the last state seen) once `deadline` has passed;
    /// any call error from a poll (transient GET failures are retried by the
    /// client first).
    ///
    /// # Caveats
    /// The deadline is checked between polls; one poll can add up to the
    /// request timeout.
    pub async fn wait_relationship(
        &self,
        uuid: &str,
        mut done: impl FnMut(&Relationship) -> bool,
        deadline: Duration,
        poll_interval: Duration,
        mut on_progress: impl FnMut(&Relationship),
    ) -> Result<Relationship, OntapError> {
        let pace = Pace::every(poll_interval, deadline);
        let outcome = poll_until(pace, async |_| {
            let rel = self.relationship(uuid).await?;
            on_progress(&rel);
            Ok(if done(&rel) {
                Attempt::Done(rel)
            } else {
                Attempt::Pending(rel)
            })
        })
        .await;
        outcome.map_err(|e| {
            e.or_timeout(|waited, rel| {
                self.error(
                    &format!("wait for /api/snapmirror/relationships/{uuid}"),
                    ErrorKind::WaitTimeout {
                        what: format!("relationship {uuid}"),
                        waited,
                        last: rel.summary(),
                    },
                )
            })
        })
    }
}
