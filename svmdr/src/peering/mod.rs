//! Idempotent set-up of SVM-DR between two sites: intercluster LIFs, the
//! cluster peer (generated passphrase, TLS-PSK), the `dp_destination` SVM,
//! the SVM peer and its acceptance, the relationship, and its baseline
//! transfer.
//!
//! The set-up is a list of [`Step`]s, each described once by a
//! [`PeeringStep`] (in [`steps`], one file per group): a pure check over
//! the [`Observed`] state of both clusters (`Done`, `Todo`, `Blocked`,
//! `Unsafe` or `Skipped`), the ONTAP calls it would make (for `--dry-run`),
//! and its action with its wait. [`run`](run::run) observes both clusters,
//! validates the request, then runs the steps on the plan engine
//! ([`crate::plan::runbook::run`], the loop failover, switchover, resync and
//! failback run on): each step is checked against the latest observation,
//! skipped when done, applied when `Todo` and done once a fresh
//! observation's check says so, its status moved by the engine's state
//! machine and recorded in the report's timeline. A re-run after any
//! failure continues from where the clusters really are. The relationship
//! step converges: on an existing relationship it PATCHes the schedule,
//! policy, throttle or identity preservation the request names explicitly
//! ([`settings`]). Schedule and policy names are checked on the DR cluster
//! before any step runs, in dry runs too ([`PeeringError::Invalid`]).
//!
//! # Caveats
//! ONTAP shows a generated cluster peer passphrase once (in the POST
//! response). The passphrase is generated on the primary and used on the
//! DR cluster right away. If a run stops between the two POSTs, the offer
//! stays `pending` (or `problem` once it expired) with a passphrase nobody
//! knows; a re-run then PATCHes a new random passphrase (and a fresh
//! expiry) onto that unaccepted offer and POSTs the other side with it.
//! The same holds with the sides swapped. An explicit passphrase is used
//! because ONTAP's REST reference (`POST /api/cluster/peers`) documents the
//! generated one only in the create response. A one-sided peer whose authentication is `ok` is not an
//! offer and is left alone (the step says how to remove it).
//!
//! Modules: [`request`] (what to set up, the planned calls, the errors),
//! [`observe`](mod@observe), [`steps`] (one description per step), [`run`](mod@run) (peering
//! as a runbook on the plan engine, and the dry run), [`settings`] (the relationship's settings), [`sync`].

pub mod lif;
pub mod observe;
pub mod request;
pub mod run;
pub mod settings;
pub mod steps;
pub mod sync;

pub use lif::LifSpec;
pub use observe::{ClusterView, Observed, observe};
pub use request::{DEFAULT_SCHEDULE, Explicit, PeerRequest, PeeringError, PlannedCall};
pub use run::{PeerReport, StepReport, run};
pub use settings::schedule_for_rpo;
pub use steps::{ALL_STEPS, Clients, PeerCheck, PeeringStep, Step, identity_from_flag};

#[cfg(test)]
mod tests;
