//! `/api/svm/svms`, `/api/svm/peers` and `/api/svm/peer-permissions`.
//!
//! SVM create/start/stop/delete and SVM peer create/accept/delete run as
//! jobs: the change is applied when the job succeeds. Start and stop pass
//! through `starting`/`stopping` while the job runs.
//!
//! - `svms`: the SVMs, and the rule that two SVMs never serve one address;
//! - `peers`: SVM peers; `permissions`: SVM peer permissions.

mod peers;
mod permissions;
mod svms;

pub use peers::{peered_cluster, peers};
pub use permissions::permissions;
pub use svms::{check_can_serve, svms};
