//! The peering steps. Each is described once, by one [`PeeringStep`]
//! implementation in the file for its group: what it checks (pure, over
//! the [`Observed`] state), the ONTAP calls it would make (for
//! `--dry-run`), and what it applies, including how it waits for ONTAP to
//! show the change (every wait paced by [`crate::poll::Poller`]).
//!
//! - [`spec`]: the [`PeeringStep`] trait and what the descriptions share.
//! - [`svm`]: the source SVM, the `dp_destination` SVM, stopping it for
//!   the baseline.
//! - [`lifs`]: one intercluster LIF per node, on each side.
//! - [`cluster_peer`]: the cluster peer (and resuming an unaccepted offer).
//! - [`svm_peer`]: the SVM peer request and its acceptance.
//! - [`relationship`]: the SVM-DR relationship and its baseline transfer.

pub mod cluster_peer;
pub mod lifs;
pub mod relationship;
pub mod spec;
pub mod svm;
pub mod svm_peer;

use crate::ontap::models::IdentityPreservation;
use crate::peering::observe::Observed;
use crate::peering::request::{PeerRequest, PeeringError, PlannedCall};
use crate::report::Reporter;
use crate::site::SiteRole;

pub(crate) use spec::source_path;
pub use spec::{Action, Apply, Clients, PeerCheck, PeeringStep};

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

    /// The step's id (as it is serialized): its name in the timeline.
    pub fn id(self) -> &'static str {
        match self {
            Self::SourceSvm => "source-svm",
            Self::PrimaryInterclusterLifs => "primary-intercluster-lifs",
            Self::DrInterclusterLifs => "dr-intercluster-lifs",
            Self::ClusterPeer => "cluster-peer",
            Self::DestinationSvm => "destination-svm",
            Self::SvmPeer => "svm-peer",
            Self::SvmPeerAccept => "svm-peer-accept",
            Self::Relationship => "relationship",
            Self::StopDestinationSvm => "stop-destination-svm",
            Self::Initialize => "initialize",
        }
    }

    /// The site whose cluster the step calls; `None` for both (the
    /// cluster peer).
    pub fn site(self) -> Option<SiteRole> {
        match self {
            Self::SourceSvm | Self::PrimaryInterclusterLifs | Self::SvmPeerAccept => {
                Some(SiteRole::Primary)
            }
            Self::ClusterPeer => None,
            Self::DrInterclusterLifs
            | Self::DestinationSvm
            | Self::SvmPeer
            | Self::Relationship
            | Self::StopDestinationSvm
            | Self::Initialize => Some(SiteRole::Dr),
        }
    }
}

/// Checks one step against the observed state. Pure.
pub fn check(step: Step, req: &PeerRequest, obs: &Observed) -> PeerCheck {
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

    #[test]
    fn ids_are_the_serialized_names() {
        for s in ALL_STEPS {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.id()));
        }
    }
}
