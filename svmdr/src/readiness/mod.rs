//! Storage readiness: is the ONTAP storage behind a Trident volume reachable
//! and writable?
//!
//! "Collect, then decide":
//! - [`collect_svm_facts`] reads one SVM with five concurrent ONTAP calls
//!   (the SVM with its protocol flags, its volumes with export policy and
//!   size, its IP interfaces, its NFS export policies with their rules, its
//!   LUNs) into [`SvmFacts`]; the count does not grow with the volumes.
//! - [`check_volume`] and [`find_volume_by_junction`] are pure functions over
//!   those facts; they answer [`Ready`] or a typed [`NotReady`] whose message
//!   names the SVM, the volume, the LIF and what to do next.
//! - [`check_volume_exports`] / [`evaluate_node`] decide whether a
//!   volume's export policy lets the nodes mount it read-write over NFS
//!   (ONTAP's first-matching-rule semantics), naming the rule and the fix.
//! - [`probe_tcp`] checks that a data LIF accepts TCP on the protocol's port
//!   (NFS 2049, iSCSI 3260), with a timeout.
//!
//! Used by the Velero plugin before a PV is restored and by the CLI to verify
//! a failover.

mod check;
mod collect;
mod exports;
mod facts;
mod probe;

pub use check::{NotReady, Ready, check_volume, find_volume_by_junction, svm_serving_lif};
pub use collect::{collect_svm_facts, facts_from_json, luns_from_json};
pub use exports::{
    AccessWanted, ExportReport, ExportRule, NodeAddresses, NodeDecision, RuleRef, Verdict,
    check_volume_exports, evaluate_node, export_policies_from_json,
};
pub use facts::{LifFacts, LunFacts, ServiceFacts, SvmFacts, VolumeFacts, same_address};
pub use probe::{ISCSI_PORT, NFS_PORT, ProbeError, default_port, probe_tcp};
