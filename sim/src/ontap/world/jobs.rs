//! Asynchronous ONTAP jobs, and the tick that advances jobs and transfers.
use std::time::Instant;

use chrono::Utc;

use crate::ontap::Timing;
use crate::ontap::error::ApiError;

use super::ids::new_uuid;
use super::model::{Job, JobAction, JobHook, JobState, World};

impl World {
    /// Creates a job on `cluster`.
    #[allow(clippy::too_many_arguments)] // one call site (Ctx::job); a struct would only rename them
    pub fn new_job(
        &mut self,
        cluster: &str,
        description: String,
        svm: Option<(String, String)>,
        forced_failure: Option<(String, String)>,
        on_running: Option<JobHook>,
        action: JobAction,
        on_fail: Option<JobHook>,
    ) -> String {
        let uuid = new_uuid();
        self.jobs.push(Job {
            uuid: uuid.clone(),
            cluster: cluster.to_string(),
            description,
            created: Instant::now(),
            start_time: Utc::now(),
            end_time: None,
            finished: None,
            state: JobState::Queued,
            message: "Queued".into(),
            code: 0,
            error: None,
            svm,
            on_running,
            action: Some(action),
            on_fail,
            forced_failure,
        });
        uuid
    }

    pub fn job(&self, uuid: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.uuid == uuid)
    }

    /// Advances jobs and transfers to `Instant::now()`.
    pub fn tick(&mut self) {
        let now = Instant::now();
        let Timing {
            job_queued,
            job_running,
            job_expiry,
            ..
        } = self.timing;
        for i in 0..self.jobs.len() {
            if self.jobs[i].state == JobState::Queued && now >= self.jobs[i].created + job_queued {
                self.jobs[i].state = JobState::Running;
                self.jobs[i].message = "Running".into();
                if let Some(hook) = self.jobs[i].on_running.take() {
                    hook(self);
                }
            }
            if self.jobs[i].state == JobState::Running
                && now >= self.jobs[i].created + job_queued + job_running
            {
                let result = match self.jobs[i].forced_failure.take() {
                    Some((code, message)) => Err(ApiError::bad(code, message)),
                    None => match self.jobs[i].action.take() {
                        Some(action) => action(self),
                        None => Ok(()),
                    },
                };
                let job = &mut self.jobs[i];
                job.end_time = Some(Utc::now());
                job.finished = Some(now);
                match result {
                    Ok(()) => {
                        job.state = JobState::Success;
                        job.message = "success".into();
                        job.on_fail = None;
                    }
                    Err(e) => {
                        job.state = JobState::Failure;
                        job.message = e.message.clone();
                        job.code = e.code.parse().unwrap_or(0);
                        job.error = Some((e.code.clone(), e.message.clone()));
                        if let Some(hook) = job.on_fail.take() {
                            hook(self);
                        }
                    }
                }
            }
        }
        self.jobs
            .retain(|j| j.finished.is_none_or(|f| now < f + job_expiry));
        for i in 0..self.relationships.len() {
            let due = self.relationships[i]
                .transfer
                .as_ref()
                .is_some_and(|t| t.active() && now >= t.ends);
            if due {
                self.complete_transfer(i);
            }
            if let Some(t) = self.relationships[i].transfer.as_mut()
                && t.state == "queued"
                && now >= t.started
            {
                t.state = "transferring".into();
            }
        }
    }
}
