//! The DR drill's knowledge of the lab (`kubectl svmdr lab drill` runs the
//! commands; this says what to set up and what to verify):
//!
//! - [`scenario`]: the situations drilled, how each sets the lab up and how
//!   its restore must end;
//! - [`checks`]: what the drill verifies on the lab after a step, each a
//!   real look at the simulated clusters or storage;
//! - [`writes`]: the application's writes, and where they are;
//! - [`status`]: reading `status -o json` as the drill ran it;
//! - [`report`]: the drill's record and verdict ([`DrillReport`]).
//!
//! Everything here takes plain data (exit codes, JSON, annotation names):
//! the simulator never depends on `svmdr`.

pub mod checks;
pub mod report;
pub mod scenario;
pub mod status;
pub mod writes;

pub use report::{DrillCheck, DrillReport, Phase, RestoreOutcome, Rto};
pub use scenario::{DR_CLASS, DrillFault, Expect, Scenario};
