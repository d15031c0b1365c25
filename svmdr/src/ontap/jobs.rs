//! Waiting for ONTAP jobs: poll `GET /api/cluster/jobs/{uuid}` with
//! back-off (100 ms doubling to 2 s) until `success` or `failure`, within
//! [`crate::ontap::Timeouts::job`].

use std::time::Duration;

use super::error::{ErrorKind, OntapError};
use super::models::{Job, JobState};
use super::query::Query;
use super::transport::OntapClient;
use crate::poll::{Attempt, Pace, Poller, Tick};

/// First wait between polls.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// Longest wait between polls.
const MAX_DELAY: Duration = Duration::from_secs(2);
/// Fields read on every poll.
pub(crate) const JOB_FIELDS: &[&str] = &[
    "uuid",
    "state",
    "message",
    "code",
    "error",
    "description",
    "start_time",
    "end_time",
];

impl OntapClient {
    /// One job, as ONTAP reports it now.
    ///
    /// # Errors
    /// `NotFound` once ONTAP has deleted the job (about 5 minutes after it
    /// finished), or any transport error.
    pub async fn job(&self, uuid: &str) -> Result<Job, OntapError> {
        let path = format!("/api/cluster/jobs/{}", super::path_segment(uuid));
        self.get(&path, &Query::new().fields(JOB_FIELDS)).await
    }

    /// Polls job `uuid`, started by `call`, until it ends.
    ///
    /// # Errors
    /// `JobFailed` (ONTAP's code and message), `JobTimeout` at the
    /// deadline, `JobVanished` when the job record disappears.
    pub(crate) async fn wait_job(&self, call: &str, uuid: &str) -> Result<Job, OntapError> {
        // A loop over a `Poller`, not `poll_until`, so that every call that
        // waits for a job stays spawnable (see `poll_until`'s caveats).
        let mut poller = Poller::start(Pace::backoff(FIRST_DELAY, MAX_DELAY, self.timeouts().job));
        loop {
            let tick = poller.tick();
            let state = match self.job_attempt(call, uuid, tick).await? {
                Attempt::Done(job) => return Ok(job),
                Attempt::Pending(state) => state,
            };
            if let Err(e) = poller.pending(state).await {
                return Err(e.or_timeout(|waited, state| {
                    self.error(
                        call,
                        ErrorKind::JobTimeout {
                            job: uuid.to_string(),
                            waited,
                            last_state: state.as_str().to_string(),
                        },
                    )
                }));
            }
        }
    }

    /// One poll of [`OntapClient::wait_job`]: done, still running, or failed.
    async fn job_attempt(
        &self,
        call: &str,
        uuid: &str,
        tick: Tick,
    ) -> Result<Attempt<Job, JobState>, OntapError> {
        let job = match self.job(uuid).await {
            Ok(job) => job,
            Err(e) if e.is_not_found() => {
                return Err(self.error(
                    call,
                    ErrorKind::JobVanished {
                        job: uuid.to_string(),
                    },
                ));
            }
            Err(e) => return Err(e),
        };
        match job.state.unwrap_or(JobState::Unknown) {
            JobState::Success => {
                tracing::debug!(cluster = %self.name(), %call, job = %uuid, ms = tick.elapsed.as_millis() as u64, "job succeeded");
                Ok(Attempt::Done(job))
            }
            JobState::Failure => {
                let (code, message) = job.failure_reason();
                Err(self.error(
                    call,
                    ErrorKind::JobFailed {
                        job: uuid.to_string(),
                        code,
                        message,
                    },
                ))
            }
            state => Ok(Attempt::Pending(state)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_to_the_cap() {
        let pace = Pace::backoff(FIRST_DELAY, MAX_DELAY, Duration::from_secs(60));
        let mut d = pace.first;
        let mut seen = vec![d];
        for _ in 0..7 {
            d = pace.next(d);
            seen.push(d);
        }
        let ms: Vec<u128> = seen.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    }
}
