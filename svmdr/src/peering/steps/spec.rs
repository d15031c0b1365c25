//! What a peering step is: the [`PeeringStep`] description each step
//! implements, what its check finds, what its action works with, and the
//! helpers the descriptions share. A leaf: it knows no particular step.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::ontap::OntapClient;
use crate::ontap::models::SvmPeer;
use crate::peering::observe::{ClusterView, Observed};
use crate::peering::request::{PeerRequest, PeeringError, PlannedCall};
use crate::report::Reporter;

/// What a step's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerCheck {
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
    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck;

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
