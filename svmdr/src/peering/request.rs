//! What `peer` is asked to set up, what it would call, and why it stops:
//! the types every peering module shares (a leaf: it uses none of them).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::lif::LifSpec;
use crate::ontap::OntapError;
use crate::ontap::models::IdentityPreservation;

/// The schedule `peer` sets when neither `--schedule` nor `--rpo` is given.
pub const DEFAULT_SCHEDULE: &str = "hourly";

/// Which settings the user gave explicitly. A re-run changes an existing
/// relationship only in these (and gives a relationship without any
/// effective schedule the requested one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Explicit {
    /// `--policy`.
    pub policy: bool,
    /// `--schedule` or `--rpo`.
    pub schedule: bool,
    /// `--throttle`.
    pub throttle: bool,
    /// `--identity-preservation`.
    pub identity: bool,
}

/// What to set up.
#[derive(Debug, Clone)]
pub struct PeerRequest {
    /// Source SVM on the primary cluster.
    pub svm: String,
    /// Destination SVM on the DR cluster.
    pub dr_svm: String,
    /// Identity preservation of the relationship.
    pub identity_preservation: IdentityPreservation,
    /// SnapMirror policy (async).
    pub policy: String,
    /// Transfer schedule (`None`: the policy's; [`DEFAULT_SCHEDULE`] by
    /// default, see [`super::settings`]).
    pub schedule: Option<String>,
    /// Transfer throttle in KB/s (`0`: unlimited; `None`: ONTAP's default).
    pub throttle: Option<u64>,
    /// Which settings were given explicitly (a re-run converges those).
    pub explicit: Explicit,
    /// Run the baseline transfer.
    pub initialize: bool,
    /// Intercluster LIFs to create on primary nodes that lack one.
    pub primary_lifs: Vec<LifSpec>,
    /// Intercluster LIFs to create on DR nodes that lack one.
    pub dr_lifs: Vec<LifSpec>,
    /// IPspace for new intercluster LIFs.
    pub ipspace: String,
    /// Bound on waits for peer state changes.
    pub wait_timeout: Duration,
    /// Bound on the baseline transfer.
    pub init_timeout: Duration,
    /// The SVM the Trident backend uses (for messages).
    pub backend_svm_hint: Option<String>,
}

impl PeerRequest {
    /// A request with the defaults of `kubectl svmdr peer`.
    pub fn new(svm: impl Into<String>) -> Self {
        let svm = svm.into();
        Self {
            dr_svm: svm.clone(),
            svm,
            identity_preservation: IdentityPreservation::Full,
            policy: "MirrorAllSnapshots".into(),
            schedule: Some(DEFAULT_SCHEDULE.into()),
            throttle: None,
            explicit: Explicit::default(),
            initialize: true,
            primary_lifs: Vec::new(),
            dr_lifs: Vec::new(),
            ipspace: "Default".into(),
            wait_timeout: Duration::from_secs(60),
            init_timeout: Duration::from_secs(3600),
            backend_svm_hint: None,
        }
    }
}

/// One ONTAP call a step would make (`--dry-run`), secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCall {
    /// Cluster name.
    pub cluster: String,
    /// HTTP method.
    pub method: String,
    /// Path (with query when it matters).
    pub path: String,
    /// JSON body, secrets replaced by `<redacted>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl fmt::Display for PlannedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.cluster, self.method, self.path)?;
        if let Some(b) = &self.body {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

/// Why peering stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeeringError {
    /// An ONTAP call failed.
    #[error("{step}: {source}")]
    Ontap {
        /// The step (and context).
        step: String,
        /// Cause.
        #[source]
        source: Box<OntapError>,
    },
    /// A step cannot proceed; the detail says what to do.
    #[error("{step}: {detail}")]
    Blocked {
        /// The step.
        step: String,
        /// What is missing and what to do.
        detail: String,
    },
    /// The request names something the DR cluster does not have (a
    /// schedule, a policy), or asks for a change ONTAP refuses (raising
    /// identity preservation); nothing was changed.
    #[error("{detail}")]
    Invalid {
        /// What is wrong, what exists and the fix.
        detail: String,
    },
    /// Proceeding could harm data.
    #[error("{step}: {detail}")]
    Unsafe {
        /// The step.
        step: String,
        /// Why, and what to do instead.
        detail: String,
    },
}
