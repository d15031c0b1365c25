//! `backends`: every Trident ONTAP backend of one context, and the ONTAP
//! cluster each reaches with Trident's own credentials, queried
//! concurrently (one `GET /api/cluster` per backend).

use serde::Serialize;

use super::{SiteError, SiteSpec, kube_client};
use crate::ontap::{OntapClient, OntapConfig};
use crate::trident::backend::{Backend, TridentError};
use crate::trident::{cluster, credentials};

/// The report (`kind: BackendList`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendsReport {
    /// Always `svmdr.netapp.io/v1`.
    pub api_version: &'static str,
    /// Always `BackendList`.
    pub kind: &'static str,
    /// Kube context.
    pub context: String,
    /// Trident namespace.
    pub namespace: String,
    /// ONTAP backends.
    pub backends: Vec<BackendEntry>,
    /// Backends that are not usable ONTAP backends, with the reason.
    pub skipped: Vec<String>,
}

impl BackendsReport {
    /// Whether every backend's cluster answered.
    pub fn all_reachable(&self) -> bool {
        self.backends.iter().all(|b| b.ontap.reachable)
    }
}

/// One backend and its cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendEntry {
    /// What Trident records.
    #[serde(flatten)]
    pub backend: Backend,
    /// What its ONTAP cluster said.
    pub ontap: Reach,
}

/// Whether a backend's ONTAP cluster answered.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reach {
    /// It answered `GET /api/cluster`.
    pub reachable: bool,
    /// Cluster name.
    pub cluster: Option<String>,
    /// ONTAP release.
    pub version: Option<String>,
    /// Why not.
    pub error: Option<String>,
    /// What kind of failure `error` is, when ONTAP was called
    /// (`authenticationFailed` is not `unreachable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::ontap::Failure>,
}

async fn reach(spec: &SiteSpec, kube: &kube::Client, b: &Backend) -> Reach {
    let result = async {
        let auth = cluster::backend_auth(kube, &spec.namespace, b)
            .await
            .map_err(|e| (None, e.to_string()))?;
        let ca_pem = match &spec.ca_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| (None, format!("CA file {}: {e}", path.display())))?,
            ),
            None => None,
        };
        let mut tls = credentials::backend_tls_with(b, ca_pem.as_deref())
            .map_err(|e| (None, e.to_string()))?;
        tls.insecure_skip_verify = spec.insecure_skip_tls_verify;
        let client = OntapClient::new(OntapConfig {
            name: format!("backend {} ({})", b.name, b.management_lif),
            endpoint: b.management_lif.clone(),
            auth,
            tls,
            timeouts: spec.timeouts,
        })
        .map_err(|e| (None, e.to_string()))?
        .with_credentials_source(format!(
            "Trident backend Secret {}/{}",
            spec.namespace,
            b.secret_name()
        ));
        client
            .cluster()
            .await
            .map_err(|e| (Some(e.failure()), e.to_string()))
    }
    .await;
    match result {
        Ok(c) => Reach {
            reachable: true,
            cluster: c.name,
            version: c.version.map(|v| v.to_string()),
            error: None,
            failure: None,
        },
        Err((failure, e)) => Reach {
            error: Some(e),
            failure,
            ..Reach::default()
        },
    }
}

/// Lists the context's Trident ONTAP backends and reaches each cluster.
///
/// # Errors
/// [`SiteError`] when the context or Trident cannot be read, or there is
/// no ONTAP backend.
pub async fn survey_backends(spec: &SiteSpec) -> Result<BackendsReport, SiteError> {
    let (kube, context) = kube_client(spec).await?;
    let entries = cluster::list_backend_entries(&kube, &spec.namespace)
        .await
        .map_err(|source| SiteError::Trident {
            role: spec.role,
            context: context.clone(),
            source: Box::new(source),
        })?;
    let mut ontap = Vec::new();
    let mut skipped = Vec::new();
    for e in entries {
        match e {
            Ok(b) => ontap.push(b),
            Err(err @ (TridentError::NotOntap { .. } | TridentError::Malformed { .. })) => {
                skipped.push(err.to_string());
            }
            Err(other) => skipped.push(other.to_string()),
        }
    }
    if ontap.is_empty() {
        return Err(SiteError::NoBackends {
            role: spec.role,
            context,
            namespace: spec.namespace.clone(),
            others: skipped,
        });
    }
    let reaches = futures::future::join_all(ontap.iter().map(|b| reach(spec, &kube, b))).await;
    Ok(BackendsReport {
        api_version: crate::API_VERSION,
        kind: "BackendList",
        context,
        namespace: spec.namespace.clone(),
        backends: ontap
            .into_iter()
            .zip(reaches)
            .map(|(backend, ontap)| BackendEntry { backend, ontap })
            .collect(),
        skipped,
    })
}
