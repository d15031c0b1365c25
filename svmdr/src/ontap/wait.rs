//! Bounded waits on a relationship's state: a finished SnapMirror job only
//! means a transition started, so callers poll the relationship until a
//! predicate holds or a deadline passes.

use std::time::Duration;

use super::error::{ErrorKind, OntapError};
use super::models::Relationship;
use super::transport::OntapClient;
use crate::poll::{Pace, Poller};

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
        // A loop over a `Poller`, not `poll_until`, so that the wait can be
        // spawned (see `poll_until`'s caveats).
        let mut poller = Poller::start(Pace::every(poll_interval, deadline));
        loop {
            poller.tick();
            let rel = self.relationship(uuid).await?;
            on_progress(&rel);
            if done(&rel) {
                return Ok(rel);
            }
            if let Err(e) = poller.pending(rel).await {
                return Err(e.or_timeout(|waited, rel| {
                    self.error(
                        &format!("wait for /api/snapmirror/relationships/{uuid}"),
                        ErrorKind::WaitTimeout {
                            what: format!("relationship {uuid}"),
                            waited,
                            last: rel.summary(),
                        },
                    )
                }));
            }
        }
    }
}
