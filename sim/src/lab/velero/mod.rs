//! The lab's Velero: a restore controller that restores the way Velero's
//! does (Velero HEAD d30d389b; each rule cites its upstream file), with
//! the real `velero-plugin-svmdr` driven over go-plugin gRPC.
//!
//! - [`backup`]: the backup storage location ([`BackupStore`]) and the
//!   backup variants ([`BackupKind`]: plain, file-system backup, CSI
//!   snapshots, snapshot data mover);
//! - [`rules`]: pure per-item rules (order, filters, metadata reset,
//!   volume-binding reset, PVC fix-up, `GetValidName` labels);
//! - [`filters`]: which backup items a Restore selects;
//! - [`pv_decision`]: what happens to a PersistentVolume before any action;
//! - [`builtin_actions`]: Velero's own RestoreItemActions, run before the
//!   plugin's (`velero.io/change-storage-class`, `velero.io/pvc`,
//!   `velero.io/csi-pvc-restorer`, ...), the CSI and data mover ones in
//!   [`csi_actions`];
//! - [`item_restore`]: the item loop (`restoreItem`);
//! - [`node_agent`]: PodVolumeRestores writing backup data into ONTAP,
//!   DataDownloads, the Finalizing phase;
//! - [`runner`]: the Restore's phases; [`run_state`]: its configuration,
//!   results and status.

pub mod action;
pub mod backup;
pub mod builtin_actions;
pub mod csi_actions;
pub mod filters;
pub mod item_restore;
pub mod node_agent;
pub mod pv_decision;
pub mod rules;
pub mod run_state;
pub mod runner;

pub use backup::{BackupContents, BackupKind, BackupStore};
pub use run_state::{RestoreResult, RunnerConfig, StartHook};
pub use runner::{install, run};
