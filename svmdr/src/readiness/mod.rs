//! Storage readiness: is the ONTAP storage behind a Trident volume reachable
//! and writable?
//!
//! "Collect, then decide":
//! - [`collect_svm_facts`] reads one SVM with three ONTAP calls (the SVM with
//!   its protocol flags, its volumes, its IP interfaces) into [`SvmFacts`].
//! - [`check_volume`] and [`find_volume_by_junction`] are pure functions over
//!   those facts; they answer [`Ready`] or a typed [`NotReady`] whose message
//!   names the SVM, the volume, the LIF and what to do next.
//! - [`probe_tcp`] checks that a data LIF accepts TCP on the protocol's port
//!   (NFS 2049, iSCSI 3260), with a timeout.
//!
//! Used by the Velero plugin before a PV is restored and by the CLI to verify
//! a failover.

mod check;
mod collect;
mod facts;
mod probe;

pub use check::{NotReady, Ready, check_volume, find_volume_by_junction, svm_serving_lif};
pub use collect::{collect_svm_facts, facts_from_json};
pub use facts::{LifFacts, ServiceFacts, SvmFacts, VolumeFacts, same_address};
pub use probe::{ISCSI_PORT, NFS_PORT, ProbeError, default_port, probe_tcp};
