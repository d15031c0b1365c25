//! The status of a step in a run and the events that move it, shared by
//! the engine (which moves it, [`super::engine::next_status`]) and the
//! errors (which name an illegal move). A leaf module.

use serde::{Deserialize, Serialize};

/// The status of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Not started.
    Pending,
    /// Observing and deciding.
    Checking,
    /// The ONTAP call is in flight.
    Acting,
    /// Waiting for ONTAP to report the change complete.
    Waiting,
    /// Done by this run.
    Succeeded,
    /// Already done before this run reached it.
    Skipped,
    /// Failed (the run stops here).
    Failed,
}

/// What happened to a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEvent {
    /// The engine began the step.
    Begin,
    /// The observed state shows it is already done.
    AlreadyDone,
    /// The decision is to act.
    Act,
    /// The call returned; wait for completion.
    Sent,
    /// ONTAP reports the change complete.
    Completed,
    /// Something failed.
    Fail,
}
