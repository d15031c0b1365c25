//! `/api/cluster/jobs` records.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::{de, ontap_enum};

ontap_enum! {
    /// Job state; `success` and `failure` are terminal.
    pub enum JobState {
        /// Waiting to run.
        Queued => "queued",
        /// Running.
        Running => "running",
        /// Paused.
        Paused => "paused",
        /// Finished successfully.
        Success => "success",
        /// Finished with an error.
        Failure => "failure",
    }
}

impl JobState {
    /// `success` or `failure`.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Success | Self::Failure)
    }
}

/// One ONTAP job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Job UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Current state.
    #[serde(default)]
    pub state: Option<JobState>,
    /// Text of the current state, or the failure reason.
    #[serde(default)]
    pub message: Option<String>,
    /// Final error code on failure (an integer, unlike `error.code`).
    #[serde(default)]
    pub code: Option<i64>,
    /// Error details on failure.
    #[serde(default)]
    pub error: Option<JobError>,
    /// e.g. `PATCH /api/snapmirror/relationships/<uuid>`.
    #[serde(default)]
    pub description: Option<String>,
    /// When the job started.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub start_time: Option<DateTime<FixedOffset>>,
    /// When the job ended.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub end_time: Option<DateTime<FixedOffset>>,
}

/// A job's error (only on failure).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
    /// ONTAP code, a string of digits.
    #[serde(default, deserialize_with = "de::opt_code")]
    pub code: Option<String>,
    /// Message arguments.
    #[serde(default)]
    pub arguments: Vec<ErrorArgument>,
}

/// One argument of an ONTAP error message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorArgument {
    /// Argument code.
    #[serde(default, deserialize_with = "de::opt_code")]
    pub code: Option<String>,
    /// Argument text.
    #[serde(default)]
    pub message: Option<String>,
}

impl Job {
    /// ONTAP's code and message for a failed job: `error.code` else the
    /// integer `code` (0 means none); `error.message` else `message`.
    pub fn failure_reason(&self) -> (Option<String>, String) {
        let err = self.error.as_ref();
        let code = err
            .and_then(|e| e.code.clone())
            .or_else(|| self.code.filter(|c| *c != 0).map(|c| c.to_string()));
        let message = err
            .and_then(|e| e.message.clone())
            .filter(|m| !m.is_empty())
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| "ONTAP gave no message".to_string());
        (code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_failed_job() {
        let j: Job = serde_json::from_str(
            r#"{"uuid":"j","state":"failure","message":"Transfer in progress","code":13303812,
                "error":{"message":"Transfer in progress","code":"13303812","arguments":[{"code":"1","message":"x"}]},
                "start_time":"2026-01-01T10:00:00-05:00","end_time":"garbage"}"#,
        )
        .unwrap();
        assert_eq!(j.state, Some(JobState::Failure));
        assert!(j.state.unwrap().is_terminal());
        assert_eq!(
            j.failure_reason(),
            (Some("13303812".into()), "Transfer in progress".into())
        );
        assert!(j.start_time.is_some());
        assert!(j.end_time.is_none());
    }

    #[test]
    fn falls_back_to_integer_code_and_message() {
        let j: Job =
            serde_json::from_str(r#"{"state":"failure","message":"boom","code":42}"#).unwrap();
        assert_eq!(j.failure_reason(), (Some("42".into()), "boom".into()));
        let j: Job = serde_json::from_str(r#"{"state":"failure","code":0}"#).unwrap();
        assert_eq!(j.failure_reason().0, None);
    }

    #[test]
    fn unknown_state_does_not_break_parsing() {
        let j: Job = serde_json::from_str(r#"{"state":"teleporting"}"#).unwrap();
        assert_eq!(j.state, Some(JobState::Unknown));
    }
}
