//! Reading Trident's backends and their credentials from a cluster through
//! a `kube::Client`: the I/O around the pure rules of [`super::discovery`]
//! and [`super::credentials`]. Every caller in the core (site resolution,
//! the survey, plans, `status`, the restore's plugin wait) lists backends
//! through [`list_backend_entries`] or [`list_backends`].

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use super::backend::{Backend, TRIDENT_GROUP, TridentError};
use super::credentials::auth_from_secret_data;
use super::discovery::{join_backends, ontap_backends};
use crate::ontap::Auth;

fn trident_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(TRIDENT_GROUP, "v1", kind), plural)
}

fn to_json(objects: Vec<DynamicObject>) -> Vec<Value> {
    objects
        .iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect()
}

/// Every TridentBackend in `namespace` as [`join_backends`] sees it: ONTAP
/// ones as `Ok`, others as their [`TridentError::NotOntap`] (or
/// `Malformed`) error, joined to their TridentBackendConfig names, without
/// the ones being deleted.
///
/// # Errors
/// [`TridentError::Kube`] when the TridentBackends cannot be listed (a
/// missing TridentBackendConfig list only loses the TBC names).
pub async fn list_backend_entries(
    client: &kube::Client,
    namespace: &str,
) -> Result<Vec<Result<Backend, TridentError>>, TridentError> {
    let tbe_api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &trident_resource("TridentBackend", "tridentbackends"),
    );
    let tbc_api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        namespace,
        &trident_resource("TridentBackendConfig", "tridentbackendconfigs"),
    );
    let lp = ListParams::default();
    let (tbes, tbcs) = futures::join!(tbe_api.list(&lp), tbc_api.list(&lp));
    let tbes = tbes.map_err(|source| TridentError::Kube {
        action: "listing TridentBackends".into(),
        namespace: namespace.into(),
        source: Box::new(source),
    })?;
    let tbcs = match tbcs {
        Ok(list) => to_json(list.items),
        Err(e) => {
            tracing::debug!(namespace, error = %e, "cannot list TridentBackendConfigs");
            Vec::new()
        }
    };
    Ok(join_backends(&to_json(tbes.items), &tbcs))
}

/// The ONTAP backends in `namespace` (others are skipped), joined to their
/// TridentBackendConfig names, sorted by name.
///
/// # Errors
/// [`TridentError::Kube`] when the TridentBackends cannot be listed.
pub async fn list_backends(
    client: &kube::Client,
    namespace: &str,
) -> Result<Vec<Backend>, TridentError> {
    Ok(ontap_backends(
        list_backend_entries(client, namespace).await?,
    ))
}

/// Reads a backend's credentials Secret into an ONTAP login
/// ([`auth_from_secret_data`]).
///
/// # Errors
/// [`TridentError::SecretNotFound`], [`TridentError::SecretIncomplete`],
/// [`TridentError::BadCertificate`], or [`TridentError::Kube`].
pub async fn backend_auth(
    client: &kube::Client,
    namespace: &str,
    backend: &Backend,
) -> Result<Auth, TridentError> {
    let name = backend.secret_name();
    let api: Api<KubeSecret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(&name)
        .await
        .map_err(|source| TridentError::Kube {
            action: format!("reading Secret {name}"),
            namespace: namespace.into(),
            source: Box::new(source),
        })?
        .ok_or_else(|| TridentError::SecretNotFound {
            backend: backend.name.clone(),
            namespace: namespace.into(),
            name: name.clone(),
        })?;
    // The typed Secret has `data` decoded already; `stringData` wins.
    let data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .chain(
            secret
                .string_data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes())),
        )
        .collect();
    auth_from_secret_data(backend, namespace, &name, &data)
}
