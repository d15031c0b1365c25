//! Core of `kubectl-svmdr` and `velero-plugin-svmdr`.
//!
//! - [`ontap`]: an async ONTAP REST client for what SVM-DR needs.
//! - [`trident`]: Trident backends, their credentials, and the ONTAP volume
//!   behind a Trident PV or PVC.
//! - [`readiness`]: is the storage behind a volume reachable and writable?
//! - [`site`]: sites (a kube context, its Trident backends, the ONTAP cluster
//!   behind them), the config file and credential resolution.
//! - [`status`]: SVM-DR replication health, lag and peer health.
//! - [`peering`]: idempotent cluster/SVM peering and SVM-DR set-up.
//! - [`plan`]: DR workflows (failover, switchover, resync, failback) as plans
//!   of idempotent steps.
//! - [`restore`]: the Velero restore on the DR cluster after a failover.
//! - [`audit`]: the record of each workflow run on the DR cluster.
//! - [`report`]: progress reporting to whatever front end runs a workflow.
//! - [`poll`]: the one bounded poll loop every wait uses.
//! - [`error_chain`]: an error and its causes, each said once.
//! - [`workflow`]: the workflows as a front end runs them (prepare, then
//!   run; the chained Velero restore; the `restore` command), recorded
//!   through [`audit`].
//! - [`plugin_config`]: the Velero plugin's ConfigMap (read by the plugin
//!   and by the CLI's restore wait).
//! - [`secret`]: a string that never prints.
//!
//! The design and the facts the code relies on are in `docs/` (start with
//! `docs/architecture.md`).
//!
//! The binaries stay thin: they parse flags, call into this crate and render
//! what it returns.

pub mod audit;
pub mod error_chain;
pub mod ontap;
pub mod peering;
pub mod plan;
pub mod plugin_config;
pub mod poll;
pub mod readiness;
pub mod report;
pub mod restore;
pub mod secret;
pub mod site;
pub mod status;
pub mod trident;
pub mod watch;
pub mod workflow;

/// `apiVersion` of every document the tools print (`Status`, `BackendList`,
/// `Error`, ...).
pub const API_VERSION: &str = "svmdr.netapp.io/v1";

/// Version of the svmdr crates, shared by every binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
