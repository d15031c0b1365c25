//! Audit trail of DR workflows on the DR cluster.
//!
//! Each workflow run (never a `--dry-run`) is recorded twice in the Trident
//! namespace, with the outcome its exit code reports ([`AuditOutcome`]):
//!
//! - a core/v1 **Event** (reason `SvmdrFailover`, `SvmdrSwitchover`, ...;
//!   type `Warning` unless it succeeded) on the history ConfigMap, so
//!   `kubectl get events -n trident` shows it;
//! - an entry in the **ConfigMap `svmdr-history`** (key
//!   `<UTC timestamp>-<workflow>-<random>`, value: the [`AuditEntry`] as
//!   JSON), which `kubectl svmdr history` lists. The newest
//!   [`MAX_ENTRIES`] are kept.
//!
//! The user is the kubeconfig's user name for the context ([`kube_user`],
//! [`user_of`]), or `system:unknown`.
//!
//! [`Recorder`] is the one writer a run uses: it knows the workflow, the
//! user, the start and the SVMs, and records the outcome once it is known;
//! [`StepLog`] keeps the steps of a run Ctrl-C may cut short.

mod recorder;
mod step_log;
mod trail;

pub use recorder::{Recorder, interrupted_message, steps, svms, user_of};
pub use step_log::StepLog;
pub use trail::{
    AuditEntry, AuditError, AuditOutcome, AuditStep, HISTORY_CONFIGMAP, MAX_ENTRIES, history,
    kube_user, parse_history, record,
};
