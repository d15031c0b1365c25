//! Waiting for ONTAP jobs: poll `GET /api/cluster/jobs/{uuid}` with
//! back-off (100 ms doubling to 2 s) until `success` or `failure`, within
//! [`crate::ontap::Timeouts::job`].

use std::time::{Duration, Instant};

use super::error::{ErrorKind, OntapError};
use super::models::{Job, JobState};
use super::query::Query;
use super::transport::OntapClient;

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

/// The next poll delay: doubles, capped at [`MAX_DELAY`].
pub(crate) fn next_delay(current: Duration) -> Duration {
    (current * 2).min(MAX_DELAY)
}

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
        let started = Instant::now();
        let deadline = started + self.timeouts().job;
        let mut delay = FIRST_DELAY;
        loop {
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
            let state = job.state.unwrap_or(JobState::Unknown);
            match state {
                JobState::Success => {
                    tracing::debug!(cluster = %self.name(), %call, job = %uuid, ms = started.elapsed().as_millis() as u64, "job succeeded");
                    return Ok(job);
                }
                JobState::Failure => {
                    let (code, message) = job.failure_reason();
                    return Err(self.error(
                        call,
                        ErrorKind::JobFailed {
                            job: uuid.to_string(),
                            code,
                            message,
                        },
                    ));
                }
                _ => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.error(
                    call,
                    ErrorKind::JobTimeout {
                        job: uuid.to_string(),
                        waited: now - started,
                        last_state: state.as_str().to_string(),
                    },
                ));
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = next_delay(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_to_the_cap() {
        let mut d = FIRST_DELAY;
        let mut seen = vec![d];
        for _ in 0..7 {
            d = next_delay(d);
            seen.push(d);
        }
        let ms: Vec<u128> = seen.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    }
}
