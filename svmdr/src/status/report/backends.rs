//! The Trident part of the report (`tridentBackends[]`).

use serde::Serialize;

use crate::site::SiteRole;

/// One Trident backend in the report (`tridentBackends[]`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TridentBackendStatus {
    /// `primary` or `dr`: the Kubernetes cluster it is on.
    pub site: SiteRole,
    /// `backendName`.
    pub name: String,
    /// The SVM it uses, when its config names one.
    pub svm: Option<String>,
    /// Trident's `state` (`online`, `offline`, `failed`, ...).
    pub state: String,
    /// `userState` (`normal`, `suspended`).
    pub user_state: String,
    /// `stateReason`, when Trident gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// Offline by design (the SVM is a stopped SVM-DR destination).
    pub expected_offline: bool,
}
