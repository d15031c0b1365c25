//! Continuous protection (`svmdr-watcher`): observe both sites every
//! interval with the same code as `status`, remember a short history, and
//! decide from a quorum of independent views whether the primary is lost.
//!
//! - [`policy`]: the ConfigMap that says what the watcher may do;
//! - [`view`]: one observation (each view of the primary, the lag, the
//!   backup), made by [`observe`];
//! - [`history`]: the recent observations, with the witness judged on the
//!   watcher's own clock;
//! - [`decide`]: the pure decision (the safety argument is its doc);
//! - [`witness`]: the pluggable witness and the heartbeat that renews it;
//! - [`act`]: the failover, through the same workflow and audit as the CLI;
//! - [`state`]: the status object people and `kubectl svmdr watcher` read,
//!   with the arm switch.

pub mod act;
pub mod decide;
pub mod history;
pub mod observe;
pub mod policy;
pub mod state;
pub mod view;
pub mod witness;

pub use decide::{Action, Decision, Evidence, Verdict, decide};
pub use history::{Freshness, History, Look};
pub use observe::{PrimaryRef, observe};
pub use policy::{Mode, POLICY_CONFIGMAP, Policy, PolicyError};
pub use state::{FailoverRecord, STATUS_CONFIGMAP, StateError, StateStore, WatcherState};
pub use view::{Observation, PeerView, Reach, Replication, WitnessReading, WitnessView};
pub use witness::{DEFAULT_LEASE, LeaseWitness, Witness, WitnessError};

#[cfg(test)]
mod decide_tests;
