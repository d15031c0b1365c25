//! [`NotReady`]: why storage is not ready, with a message that names the
//! cluster, SVM, volume and LIF and says what to do next.

use super::facts::LifFacts;
use super::transport::Transport;

/// Why storage is not ready. Every variant names where (cluster, SVM,
/// volume, LIF) and its `Display` says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotReady {
    /// The ONTAP management LIF did not answer (connect failure, timeout).
    #[error(
        "ONTAP cluster {cluster} (SVM {svm}) is unreachable: {error}; check the backend's \
         managementLIF and the network path from this cluster, or wait until the site is back"
    )]
    OntapUnreachable {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// The client's error.
        error: String,
    },
    /// ONTAP refused the credentials.
    #[error(
        "ONTAP cluster {cluster} (SVM {svm}) refused the login: {error}; fix the credentials \
         Secret of the Trident backend"
    )]
    OntapAuth {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// The client's error.
        error: String,
    },
    /// Any other ONTAP failure while collecting facts.
    #[error("ONTAP cluster {cluster} (SVM {svm}): {error}")]
    OntapFailed {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// The client's error (it carries ONTAP's code and message).
        error: String,
    },
    /// The SVM does not exist on that cluster.
    #[error(
        "SVM {svm} does not exist on ONTAP cluster {cluster}; check the Trident backend's svm, \
         or that SVM-DR created it on this site"
    )]
    SvmMissing {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
    },
    /// The SVM is not `running`.
    #[error(
        "SVM {svm} on {cluster} is {state}, not running; {}",
        svm_hint(subtype)
    )]
    SvmNotRunning {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Its state.
        state: String,
        /// Its subtype (`dp_destination` means SVM-DR has not been broken).
        subtype: String,
    },
    /// The volume is not on the SVM.
    #[error(
        "volume {volume} not found on SVM {svm} ({cluster}); the replicated volume is missing: \
         check that SVM-DR replicates it (`kubectl svmdr status`)"
    )]
    VolumeMissing {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
    },
    /// The volume is not online.
    #[error(
        "volume {volume} on SVM {svm} ({cluster}) is {state}, not online; bring it online \
         (`volume online -vserver {svm} -volume {volume}`)"
    )]
    VolumeOffline {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
        /// Its state.
        state: String,
    },
    /// The volume is not read-write.
    #[error(
        "volume {volume} on SVM {svm} ({cluster}) is type {vol_type}, not rw; {}",
        type_hint(vol_type)
    )]
    VolumeNotWritable {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
        /// Its type (`dp` while SVM-DR is not broken, `ls`).
        vol_type: String,
    },
    /// A NAS volume without a junction path cannot be mounted (NFS) or
    /// shared (SMB).
    #[error(
        "volume {volume} on SVM {svm} ({cluster}) has no junction path, so {transport} clients \
         cannot mount it; mount it (`volume mount -vserver {svm} -volume {volume} -junction-path /{volume}`)"
    )]
    VolumeNotMounted {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
        /// The NAS transport (NFS or SMB).
        transport: Transport,
    },
    /// The SVM's service for the transport is disabled.
    #[error(
        "{transport} is disabled on SVM {svm} ({cluster}) ({} is false); enable the {transport} \
         service on the SVM",
        transport.svm_service_field()
    )]
    ProtocolDisabled {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// The transport.
        transport: Transport,
    },
    /// No LIF of the SVM serves the transport.
    #[error(
        "SVM {svm} ({cluster}) has no {transport} data LIF; with SVM-DR identity preservation \
         off, create the data LIFs on this site (a service policy with the {} service)",
        transport.lif_service().unwrap_or("FC")
    )]
    NoDataLif {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// The transport.
        transport: Transport,
    },
    /// Every LIF serving the transport is down or disabled.
    #[error(
        "every {transport} data LIF of SVM {svm} ({cluster}) is down: {}; bring a LIF up \
         (check the home port and `network interface revert`)",
        describe_lifs(lifs)
    )]
    LifDown {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// The transport.
        transport: Transport,
        /// The LIFs that serve it, all down.
        lifs: Vec<LifFacts>,
    },
    /// A LIF reported up did not accept TCP on the transport's port.
    #[error(
        "{transport} data LIF {lif} ({ip}:{port}) of SVM {svm} ({cluster}) is not reachable: \
         {error}; check routing and firewalls between this cluster's nodes and the LIF"
    )]
    ProbeFailed {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// The transport.
        transport: Transport,
        /// LIF name.
        lif: String,
        /// LIF address.
        ip: String,
        /// Port probed.
        port: u16,
        /// What the probe saw (refused, timed out, ...).
        error: String,
    },
    /// The volume's NFS export policy would refuse (or cannot be shown to
    /// allow) the nodes' read-write mounts; `detail` is
    /// [`ExportReport::message`](super::ExportReport::message).
    #[error("{detail}")]
    ExportNotAllowed {
        /// Cluster label.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
        /// Export policy name.
        policy: String,
        /// The full explanation with the refused nodes, rules and fix.
        detail: String,
    },
}

fn svm_hint(subtype: &str) -> &'static str {
    if subtype == "dp_destination" {
        "SVM-DR not broken: run `kubectl svmdr failover` to activate this site"
    } else {
        "start it (`vserver start`), or run `kubectl svmdr failover` if this is the DR site"
    }
}

fn type_hint(vol_type: &str) -> &'static str {
    if vol_type == "dp" {
        "SVM-DR not broken: run `kubectl svmdr failover`"
    } else {
        "only rw volumes can be used by a restored workload"
    }
}

fn describe_lifs(lifs: &[LifFacts]) -> String {
    lifs.iter()
        .map(|l| {
            let admin = if l.enabled { "" } else { ", disabled" };
            format!("{} ({}, {}{admin})", l.name, l.ip, l.state)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl NotReady {
    /// Whether waiting could fix it (storage still coming up after a
    /// failover: SVM starting, volumes still dp, LIFs coming up, ONTAP not
    /// answering yet). Missing objects and refused logins are not retried.
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            Self::OntapAuth { .. }
                | Self::SvmMissing { .. }
                | Self::OntapFailed { .. }
                | Self::ExportNotAllowed { .. }
        )
    }

    /// A short machine-readable reason, for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::OntapUnreachable { .. } => "OntapUnreachable",
            Self::OntapAuth { .. } => "OntapAuth",
            Self::OntapFailed { .. } => "OntapFailed",
            Self::SvmMissing { .. } => "SvmMissing",
            Self::SvmNotRunning { .. } => "SvmNotRunning",
            Self::VolumeMissing { .. } => "VolumeMissing",
            Self::VolumeOffline { .. } => "VolumeOffline",
            Self::VolumeNotWritable { .. } => "VolumeNotWritable",
            Self::VolumeNotMounted { .. } => "VolumeNotMounted",
            Self::ProtocolDisabled { .. } => "ProtocolDisabled",
            Self::NoDataLif { .. } => "NoDataLif",
            Self::LifDown { .. } => "LifDown",
            Self::ProbeFailed { .. } => "ProbeFailed",
            Self::ExportNotAllowed { .. } => "ExportNotAllowed",
        }
    }
}
