//! DR workflows as plans of idempotent, resumable steps.
//!
//! The model, steno-style (oxidecomputer/steno: `src/saga_log.rs`):
//!
//! - [`storage`]: the ONTAP operations a plan needs ([`Storage`]), with
//!   [`ontap_storage`] implementing them on [`crate::ontap::OntapClient`].
//! - [`observe`]: the observed state of both sites ([`Observed`]).
//! - [`step`]: steps: a pure `check` (done / to do / blocked) against an
//!   observation, one ONTAP call to act, and a pure completion test.
//! - [`runbook`]: the one step engine (observe → decide → act → wait, per
//!   step) with an explicit state machine ([`StepStatus::after`]), a
//!   [`Timeline`] and a [`crate::report::Reporter`] for progress, for any
//!   [`runbook::Runbook`]: plans and peering ([`crate::peering::run()`]).
//! - [`engine`]: plans on that engine ([`execute`], [`engine::next_status`]);
//!   [`Plan::preview`] is `--dry-run`.
//! - [`trident`]: the DR cluster's Trident backends (state, and the prompt
//!   that makes Trident re-evaluate one) for the step that waits for them.
//! - The workflows build plans from an observation (pure functions):
//!   [`failover`], [`switchover`], [`resync`], [`failback`].
//!
//! A re-run of the same command after any interruption re-observes and
//! skips what ONTAP shows as done, so it continues from where the storage
//! really is.
//!
//! # ONTAP version assumptions
//!
//! - Break, quiesce, resync and transfers use `PATCH state=...` and
//!   `POST /transfers`, available with the REST API since ONTAP 9.6.
//! - Reverse resync follows `docs/ontap-rest.md` §12.5 (the CLI-equivalent
//!   procedure): create the reverse relationship on the original source
//!   cluster and resync it, after stopping the SVM that becomes destination.
//!   It does not use `PATCH ?failback=true` (9.12.1+ bindings, release
//!   unverified) nor the PATCH that swaps paths (9.9.1+, not confirmed for
//!   SVM-DR). On a release where ONTAP refuses the POST because the original
//!   source is `default` rather than `dp_destination` (the REST model's
//!   caveat in §12.5), the `create-reverse` step fails with ONTAP's code and
//!   message; the System Manager "Reactivate source storage VM" action is the
//!   fallback there.
//! - `quick_resync` is only sent when asked for (9.11.1+).
//! - `identity_preservation` is copied to the reverse relationship from the
//!   forward one; at relationship level this needs 9.11.1+ (older releases
//!   take it from the policy, which is copied too).

pub mod backends;
pub mod driver;
pub mod engine;
pub mod error;
pub mod failback;
pub mod failover;
pub mod observe;
pub mod ontap_storage;
pub mod preflight;
pub mod resync;
pub mod runbook;
pub mod step;
pub mod step_status;
pub mod storage;
pub mod switchover;
pub mod trident;
mod trident_report;
pub mod workloads;

#[cfg(test)]
mod testutil;

pub use engine::{
    EngineOptions, Plan, RunFailed, RunReport, Sites, StepRecord, StepStatus, Timeline, Workflow,
    execute,
};
pub use error::PlanError;
pub use observe::{DrPair, Observed};
pub use storage::{Storage, StorageError};
