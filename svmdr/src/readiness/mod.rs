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
//! - [`probe_tcp`] checks that a data LIF accepts TCP on the transport's port
//!   (NFS 2049, SMB 445, iSCSI 3260, NVMe/TCP 4420; FC has none), with a
//!   timeout.
//! - [`Transport`] is how a backend's volumes travel (its `nasType` /
//!   `sanType`): the SVM service flag, the LIF service and the port to check.
//!
//! Used by the Velero plugin before a PV is restored and by the CLI to verify
//! a failover.

mod check;
mod collect;
mod export_rule;
mod exports;
mod facts;
mod not_ready;
mod probe;
mod transport;
#[cfg(test)]
mod transport_checks;

pub use check::{
    NotReady, Ready, check_volume, check_volume_for, find_volume_by_junction, svm_serving_lif,
    svm_serving_lif_for,
};
pub use collect::{collect_svm_facts, facts_from_json, luns_from_json};
pub use exports::{
    AccessWanted, ExportReport, ExportRule, NodeAddresses, NodeDecision, RuleRef, Verdict,
    check_volume_exports, evaluate_node, export_policies_from_json,
};
pub use facts::{LifFacts, LunFacts, ServiceFacts, SvmFacts, VolumeFacts, same_address};
pub use probe::{ProbeError, default_port, probe_tcp};
pub use transport::{ISCSI_PORT, NFS_PORT, NVME_TCP_PORT, SMB_PORT, Transport};
