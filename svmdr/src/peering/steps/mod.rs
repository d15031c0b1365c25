//! The peering steps. Each is described once, by one [`PeeringStep`]
//! implementation in the file for its group: what it checks (pure, over
//! the [`Observed`] state), the ONTAP calls it would make (for
//! `--dry-run`), and what it applies, including how it waits for ONTAP to
//! show the change (every wait on [`crate::poll::poll_until`]).
//!
//! - [`svm`]: the source SVM, the `dp_destination` SVM, stopping it for
//!   the baseline.
//! - [`lifs`]: one intercluster LIF per node, on each side.
//! - [`cluster_peer`]: the cluster peer (and resuming an unaccepted offer).
//! - [`svm_peer`]: the SVM peer request and its acceptance.
//! - [`relationship`]: the SVM-DR relationship and its baseline transfer.

pub mod cluster_peer;
pub mod lifs;
pub mod relationship;
pub mod svm;
pub mod svm_peer;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::observe::{ClusterView, Observed};
use super::{PeerRequest, PeeringError, PlannedCall};
use crate::ontap::OntapClient;
use crate::ontap::models::{IdentityPreservation, SvmPeer};
use crate::report::Reporter;

#[cfg(test)]
pub(super) use cluster_peer::new_passphrase;

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The source SVM exists on the primary cluster.
    SourceSvm,
    /// One intercluster LIF per primary node.
    PrimaryInterclusterLifs,
    /// One intercluster LIF per DR node.
    DrInterclusterLifs,
    /// Cluster peer records on both clusters.
    ClusterPeer,
    /// The `dp_destination` SVM on the DR cluster.
    DestinationSvm,
    /// The SVM peer request from the DR SVM to the source SVM.
    SvmPeer,
    /// Its acceptance on the primary cluster.
    SvmPeerAccept,
    /// The SVM-DR relationship on the DR cluster.
    Relationship,
    /// The DR SVM stopped before the baseline transfer.
    StopDestinationSvm,
    /// The baseline transfer, until `snapmirrored`.
    Initialize,
}

/// Every step, in order.
pub const ALL_STEPS: [Step; 10] = [
    Step::SourceSvm,
    Step::PrimaryInterclusterLifs,
    Step::DrInterclusterLifs,
    Step::ClusterPeer,
    Step::DestinationSvm,
    Step::SvmPeer,
    Step::SvmPeerAccept,
    Step::Relationship,
    Step::StopDestinationSvm,
    Step::Initialize,
];

impl Step {
    /// The step's description: its check, its calls and its action.
    pub fn describe(self) -> &'static dyn PeeringStep {
        match self {
            Self::SourceSvm => &svm::SourceSvm,
            Self::PrimaryInterclusterLifs => &lifs::PRIMARY,
            Self::DrInterclusterLifs => &lifs::DR,
            Self::ClusterPeer => &cluster_peer::ClusterPeering,
            Self::DestinationSvm => &svm::DestinationSvm,
            Self::SvmPeer => &svm_peer::SvmPeerRequest,
            Self::SvmPeerAccept => &svm_peer::SvmPeerAccept,
            Self::Relationship => &relationship::Relationship,
            Self::StopDestinationSvm => &svm::StopDestinationSvm,
            Self::Initialize => &relationship::Initialize,
        }
    }

    /// A short title.
    pub fn title(self) -> &'static str {
        self.describe().title()
    }
}

/// What a step's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Nothing to do.
    Done(String),
    /// Work to do, described.
    Todo(String),
    /// Cannot go on: input or state missing; what to do.
    Blocked(String),
    /// Going on could harm data (exit 3); what to do instead.
    Unsafe(String),
    /// Deliberately not run.
    Skipped(String),
}

/// Both sites' clients.
pub struct Clients<'a> {
    /// Primary cluster.
    pub primary: &'a OntapClient,
    /// DR cluster.
    pub dr: &'a OntapClient,
}

/// What a step's action works with.
pub struct Apply<'a> {
    /// The request.
    pub req: &'a PeerRequest,
    /// Both clusters as observed before the step.
    pub obs: &'a Observed,
    /// Both clusters' clients.
    pub clients: &'a Clients<'a>,
    /// Where notes and progress go.
    pub reporter: &'a dyn Reporter,
}

/// The future of a step's action.
pub type Action<'a> = Pin<Box<dyn Future<Output = Result<(), PeeringError>> + Send + 'a>>;

/// One peering step, described once: how it is checked, what it would
/// call, and what it does.
pub trait PeeringStep: Sync {
    /// A short title (also the step's name in errors).
    fn title(&self) -> &'static str;

    /// Checks the step against the observed state. Pure.
    fn check(&self, req: &PeerRequest, obs: &Observed) -> Check;

    /// The ONTAP calls the step would make (secrets redacted), for
    /// `--dry-run`. Pure; objects not created yet appear as `<uuid of ...>`.
    fn calls(&self, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall>;

    /// Performs the step (its check said `Todo`), waiting until ONTAP shows
    /// it done where the step needs that.
    ///
    /// # Errors
    /// [`PeeringError::Ontap`] naming the step, or `Blocked` when a wait ran
    /// out.
    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a>;
}

/// Checks one step against the observed state. Pure.
pub fn check(step: Step, req: &PeerRequest, obs: &Observed) -> Check {
    step.describe().check(req, obs)
}

/// The ONTAP calls a step would make (secrets redacted). Pure.
pub fn planned_calls(step: Step, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
    step.describe().calls(req, obs)
}

/// Performs a step whose check said `Todo`.
///
/// # Errors
/// As [`PeeringStep::apply`].
pub async fn apply(
    step: Step,
    req: &PeerRequest,
    obs: &Observed,
    clients: &Clients<'_>,
    reporter: &dyn Reporter,
) -> Result<(), PeeringError> {
    step.describe()
        .apply(Apply {
            req,
            obs,
            clients,
            reporter,
        })
        .await
}

/// An ONTAP failure of `step`.
pub(super) fn ontap_error(
    step: &dyn PeeringStep,
) -> impl Fn(crate::ontap::OntapError) -> PeeringError + Copy {
    let title = step.title();
    move |e| PeeringError::Ontap {
        step: title.to_string(),
        source: Box::new(e),
    }
}

/// `step` cannot go on: `detail` says why and what to do.
pub(super) fn blocked(step: &dyn PeeringStep, detail: impl Into<String>) -> PeeringError {
    PeeringError::Blocked {
        step: step.title().into(),
        detail: detail.into(),
    }
}

/// One planned call.
pub(super) fn call(cluster: &str, method: &str, path: &str, body: Option<Value>) -> PlannedCall {
    PlannedCall {
        cluster: cluster.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        body,
    }
}

/// The SVM peer record on `view` from `local` toward `remote_svm`.
pub(super) fn svm_peer_toward<'a>(
    view: &'a ClusterView,
    local: &str,
    remote_svm: &str,
) -> Option<&'a SvmPeer> {
    view.svm_peers.iter().find(|p| {
        p.svm.as_ref().and_then(|s| s.name.as_deref()) == Some(local)
            && p.peer
                .as_ref()
                .and_then(|x| x.svm.as_ref())
                .and_then(|s| s.name.as_deref())
                == Some(remote_svm)
    })
}

/// The DR cluster's local name for the primary cluster (the cluster peer
/// record's `name`), else the primary's real name.
pub(super) fn dr_name_for_primary(obs: &Observed) -> String {
    let primary = obs.primary.name().to_string();
    obs.dr
        .peer_for(&primary)
        .and_then(|p| p.name.clone())
        .unwrap_or(primary)
}

/// The source path as the DR cluster knows it: `<alias>:`, where alias is
/// the DR cluster's local name for the peer SVM.
pub(crate) fn source_path(obs: &Observed, req: &PeerRequest) -> String {
    let alias = svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm)
        .and_then(|p| p.name.clone())
        .unwrap_or_else(|| req.svm.clone());
    format!("{alias}:")
}

/// The identity-preservation values, for flags.
pub fn identity_from_flag(s: &str) -> Option<IdentityPreservation> {
    match s {
        "full" => Some(IdentityPreservation::Full),
        "exclude-network-config" | "exclude_network_config" => {
            Some(IdentityPreservation::ExcludeNetworkConfig)
        }
        "exclude-network-and-protocol-config" | "exclude_network_and_protocol_config" => {
            Some(IdentityPreservation::ExcludeNetworkAndProtocolConfig)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_is_described_once_with_its_own_title() {
        let titles: Vec<&str> = ALL_STEPS.iter().map(|s| s.title()).collect();
        let mut unique = titles.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ALL_STEPS.len(), "{titles:?}");
        assert_eq!(titles.first(), Some(&"source SVM"));
        assert_eq!(titles.last(), Some(&"initialize"));
    }
}
