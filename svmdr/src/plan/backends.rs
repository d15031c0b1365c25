//! Trident backend changes after a failover without identity preservation.
//!
//! With `identity_preservation` other than `full`, the DR SVM has its own
//! LIFs (and maybe its own name), so the Trident backend on the DR cluster
//! must point at them: `managementLIF`, `dataLIF` and `svm` change,
//! `storagePrefix` must stay the same (`docs/trident.md` §9).
//! [`backend_changes`] computes the difference (pure); [`apply`] writes it
//! to the TridentBackendConfig with a JSON merge patch. Pods that mounted
//! the old data LIF over NFS must be restarted afterwards.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::trident::backend::Backend;

/// One field of a backend that must change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendChange {
    /// Trident backend name.
    pub backend: String,
    /// The TridentBackendConfig that owns it (none for tridentctl backends).
    pub tbc: Option<String>,
    /// `managementLIF`, `dataLIF` or `svm`.
    pub field: String,
    /// Current value.
    pub from: Option<String>,
    /// Needed value.
    pub to: String,
}

/// What the backend must say to reach the DR SVM (pure).
///
/// `management` is the DR cluster (or DR SVM) management address; `data_lif`
/// the DR SVM's NFS data LIF address, when it has one.
pub fn backend_changes(
    backend: &Backend,
    dr_svm: &str,
    management: &str,
    data_lif: Option<&str>,
) -> Vec<BackendChange> {
    let mut out = Vec::new();
    let mut push = |field: &str, from: Option<&str>, to: &str| {
        if from != Some(to) {
            out.push(BackendChange {
                backend: backend.name.clone(),
                tbc: backend.tbc_name.clone(),
                field: field.to_string(),
                from: from.map(String::from),
                to: to.to_string(),
            });
        }
    };
    push(
        "managementLIF",
        Some(backend.management_lif.as_str()),
        management,
    );
    if let Some(d) = data_lif {
        push("dataLIF", backend.data_lif.as_deref(), d);
    }
    push("svm", backend.svm.as_deref(), dr_svm);
    out
}

/// The host of a management endpoint (`https://10.0.0.5:443` → `10.0.0.5`).
pub fn endpoint_host(endpoint: &str) -> String {
    let rest = endpoint
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(endpoint);
    let hostport = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = hostport.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6).to_string();
    }
    hostport.split(':').next().unwrap_or(hostport).to_string()
}

/// Why applying failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendUpdateError {
    /// The backend has no TridentBackendConfig.
    #[error(
        "backend {backend} was created with tridentctl (no TridentBackendConfig): update it with `tridentctl update backend {backend} -n <namespace> -f <file>` using the values above"
    )]
    NoConfig {
        /// Backend name.
        backend: String,
    },
    /// The patch failed.
    #[error(
        "patching TridentBackendConfig {namespace}/{name}: {source}; apply the values above by hand (`kubectl edit tbc {name} -n {namespace}`)"
    )]
    Kube {
        /// Namespace.
        namespace: String,
        /// TBC name.
        name: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
}

/// Writes `changes` to the backend's TridentBackendConfig (merge patch on
/// `spec`).
///
/// # Errors
///
/// [`BackendUpdateError`].
pub async fn apply(
    client: &kube::Client,
    namespace: &str,
    backend: &Backend,
    changes: &[BackendChange],
) -> Result<(), BackendUpdateError> {
    if changes.is_empty() {
        return Ok(());
    }
    let Some(tbc) = &backend.tbc_name else {
        return Err(BackendUpdateError::NoConfig {
            backend: backend.name.clone(),
        });
    };
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "trident.netapp.io",
        "v1",
        "TridentBackendConfig",
    ));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
    let mut spec = serde_json::Map::new();
    for c in changes {
        spec.insert(c.field.clone(), json!(c.to));
    }
    api.patch(
        tbc,
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": spec })),
    )
    .await
    .map_err(|source| BackendUpdateError::Kube {
        namespace: namespace.into(),
        name: tbc.clone(),
        source,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> Backend {
        Backend {
            name: "ontap-nas-dr".into(),
            uuid: "u".into(),
            driver: "ontap-nas".into(),
            management_lif: "10.0.0.5".into(),
            data_lif: Some("10.0.1.5".into()),
            svm: Some("svm1".into()),
            storage_prefix: "trident_".into(),
            credentials_secret: None,
            trusted_ca_certificate: None,
            client_certificate: None,
            state: "online".into(),
            online: true,
            config_ref: None,
            tbc_name: Some("tbc-dr".into()),
            ..Default::default()
        }
    }

    #[test]
    fn only_what_differs_changes() {
        let b = backend();
        let c = backend_changes(&b, "svm1_dr", "10.0.0.5", Some("10.2.1.5"));
        let fields: Vec<(&str, Option<&str>, &str)> = c
            .iter()
            .map(|c| (c.field.as_str(), c.from.as_deref(), c.to.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("dataLIF", Some("10.0.1.5"), "10.2.1.5"),
                ("svm", Some("svm1"), "svm1_dr")
            ]
        );
        assert!(backend_changes(&b, "svm1", "10.0.0.5", Some("10.0.1.5")).is_empty());
    }

    #[test]
    fn hosts_from_endpoints() {
        assert_eq!(endpoint_host("https://10.0.0.5"), "10.0.0.5");
        assert_eq!(endpoint_host("https://127.0.0.1:8443/api"), "127.0.0.1");
        assert_eq!(endpoint_host("https://[fd00::1]:443"), "fd00::1");
        assert_eq!(
            endpoint_host("cluster-b.example.com"),
            "cluster-b.example.com"
        );
    }
}
