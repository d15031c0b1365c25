//! The status of a step in a run and the events that move it, shared by
//! the engine (which moves it, [`StepStatus::after`] through
//! [`super::runbook::run`]) and the errors (which name an illegal move). A
//! leaf module.

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

impl StepStatus {
    /// The state machine: the status after `event`, or `None` for a move it
    /// forbids. The only place a step's status changes (plans through
    /// [`super::engine::next_status`], every runbook through
    /// [`super::runbook::run`]).
    pub fn after(self, event: StepEvent) -> Option<StepStatus> {
        use StepEvent as E;
        use StepStatus as S;
        match (self, event) {
            (S::Pending, E::Begin) => Some(S::Checking),
            (S::Checking, E::AlreadyDone) => Some(S::Skipped),
            (S::Checking, E::Act) => Some(S::Acting),
            (S::Acting, E::Sent) => Some(S::Waiting),
            (S::Waiting, E::Completed) => Some(S::Succeeded),
            (S::Checking | S::Acting | S::Waiting, E::Fail) => Some(S::Failed),
            _ => None,
        }
    }
}
