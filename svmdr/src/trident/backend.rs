//! Trident backends (TridentBackendConfig, TridentBackend) and their
//! credentials Secrets.
//!
//! The ONTAP cluster and SVM behind a Kubernetes cluster are found from
//! Trident's own records: each TridentBackend (`tbe`) carries the driver
//! config under `config.ontap_config` (managementLIF, svm, dataLIF,
//! storagePrefix, credentials reference, trustedCACertificate,
//! clientCertificate) and `configRef`, the UID of the TridentBackendConfig
//! (`tbc`) that created it. [`parse_backend`] is pure; [`list_backends`] and
//! [`backend_auth`] read the cluster.
//!
//! Secret keys are matched case-insensitively (Trident lower-cases them when
//! it reads them). Backends created with `tridentctl` have no credentials
//! reference; their secrets live in the Secret `tbe-<backendUUID>`.

use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use crate::ontap::{Auth, TlsOptions};
use crate::secret::Secret;

/// Trident's API group.
pub const TRIDENT_GROUP: &str = "trident.netapp.io";
/// Default `storagePrefix` of Trident's ONTAP drivers.
pub const DEFAULT_STORAGE_PREFIX: &str = "trident_";

/// The ONTAP drivers Trident ships (the ones this tool understands).
pub const ONTAP_DRIVERS: &[&str] = &[
    "ontap-nas",
    "ontap-nas-economy",
    "ontap-nas-flexgroup",
    "ontap-san",
    "ontap-san-economy",
];

/// One Trident ONTAP backend, as recorded in its TridentBackend.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// Backend name (`backendName`), what `tridentctl get backend` shows.
    pub name: String,
    /// `backendUUID`; Trident CSI PVs point at it (`volumeAttributes.backendUUID`).
    pub uuid: String,
    /// `storageDriverName`, e.g. `ontap-nas`.
    pub driver: String,
    /// `managementLIF`: cluster or SVM management address.
    pub management_lif: String,
    /// `dataLIF`, when set.
    pub data_lif: Option<String>,
    /// `svm`, when set (it is derived from an SVM management LIF otherwise).
    pub svm: Option<String>,
    /// `storagePrefix` (default `trident_`).
    pub storage_prefix: String,
    /// Name of the credentials Secret (`credentials.name`); `None` for
    /// tridentctl backends (Secret `tbe-<uuid>`).
    pub credentials_secret: Option<String>,
    /// `trustedCACertificate` (base64), when set.
    pub trusted_ca_certificate: Option<String>,
    /// `clientCertificate` (base64 PEM), when set.
    pub client_certificate: Option<String>,
    /// Trident's `state` (`online`, `offline`, `failed`, ...).
    pub state: String,
    /// Trident's `online` flag.
    pub online: bool,
    /// `configRef`: UID of the TridentBackendConfig that created it.
    pub config_ref: Option<String>,
    /// Name of that TridentBackendConfig (filled by [`list_backends`]).
    pub tbc_name: Option<String>,
    /// Trident's `userState` (`normal`, `suspended`).
    pub user_state: String,
    /// Trident's `stateReason`, when set.
    pub state_reason: String,
    /// What shapes the backend's storage pools (labels, virtual pools, aggregate).
    pub pool_config: crate::trident::pools::PoolConfig,
    /// `nasType` (`nfs` default, `smb`), for NAS drivers.
    pub nas_type: Option<String>,
    /// `sanType` (`iscsi` default, `nvme`, `fcp`), for SAN drivers.
    pub san_type: Option<String>,
    /// `autoExportPolicy`: Trident manages export policies on this backend.
    pub auto_export_policy: bool,
    /// `nameTemplate` (in `defaults`, Trident 24.06+), when set.
    pub name_template: Option<String>,
}

/// A boolean that Trident configs carry as a JSON bool or a string.
fn bool_field(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl Backend {
    /// Trident would serve volumes from it now: `online`, and not suspended
    /// by `tridentctl suspend backend` (`userState`).
    pub fn is_usable(&self) -> bool {
        self.online && self.state == "online" && !self.is_suspended()
    }

    /// `userState: suspended`: Trident provisions and imports nothing on it.
    pub fn is_suspended(&self) -> bool {
        self.user_state.eq_ignore_ascii_case("suspended")
    }

    /// The backend's storage pools, given its SVM's aggregates.
    pub fn pools(&self, svm_aggregates: &[String]) -> Vec<crate::trident::pools::Pool> {
        crate::trident::pools::ontap_pools(
            &self.name,
            &self.driver,
            &self.pool_config,
            svm_aggregates,
        )
    }

    /// The Secret that holds this backend's credentials.
    pub fn secret_name(&self) -> String {
        self.credentials_secret
            .clone()
            .unwrap_or_else(|| format!("tbe-{}", self.uuid))
    }

    /// Whether `wanted` names this backend: its backend name, its
    /// TridentBackendConfig name, its UUID or its TridentBackend name.
    pub fn matches(&self, wanted: &str) -> bool {
        self.name == wanted || self.uuid == wanted || self.tbc_name.as_deref() == Some(wanted)
    }
}

/// Errors reading Trident backends and their credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TridentError {
    /// The backend uses a driver other than Trident's ONTAP drivers.
    #[error(
        "Trident backend {name} uses driver {driver:?}, which is not an ONTAP driver; \
         kubectl svmdr works with {}; pick an ONTAP backend with --backend",
        ONTAP_DRIVERS.join(", ")
    )]
    NotOntap {
        /// Backend name.
        name: String,
        /// Its driver.
        driver: String,
    },
    /// A TridentBackend object lacks a field or has the wrong shape.
    #[error("TridentBackend {name} is malformed: {detail}")]
    Malformed {
        /// Backend (or object) name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The Kubernetes API refused or failed a call.
    #[error("{action} in namespace {namespace}: {source}{}", kube_hint(source))]
    Kube {
        /// What was being done, e.g. "listing TridentBackends".
        action: String,
        /// Namespace.
        namespace: String,
        /// The kube error.
        #[source]
        source: Box<kube::Error>,
    },
    /// The credentials Secret does not exist.
    #[error(
        "Trident backend {backend}: credentials Secret {namespace}/{name} not found; \
         check the backend's credentials.name, or give cluster-admin credentials via the \
         config file's credentialsSecret or SVMDR_ONTAP_USERNAME/SVMDR_ONTAP_PASSWORD"
    )]
    SecretNotFound {
        /// Backend name.
        backend: String,
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
    },
    /// The Secret lacks the keys for any login method.
    #[error(
        "Secret {namespace}/{name} (backend {backend}) has neither username+password nor \
         clientPrivateKey (with the backend's clientCertificate); keys present: [{keys}]"
    )]
    SecretIncomplete {
        /// Backend name.
        backend: String,
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// Names of the keys it has (never values).
        keys: String,
    },
    /// A certificate or key in the backend or its Secret could not be decoded.
    #[error("Trident backend {backend}: {detail}")]
    BadCertificate {
        /// Backend name.
        backend: String,
        /// What is wrong.
        detail: String,
    },
}

fn kube_hint(err: &kube::Error) -> &'static str {
    match err {
        kube::Error::Api(status) if status.code == 404 => {
            "; is Trident installed in this namespace? (use -n to pick Trident's namespace)"
        }
        kube::Error::Api(status) if status.code == 401 => {
            "; the kubeconfig credentials were refused: log in again"
        }
        kube::Error::Api(status) if status.code == 403 => {
            "; your user needs get/list on Trident CRs and Secrets in Trident's namespace"
        }
        _ => "",
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Parses one TridentBackend object (as JSON) into a [`Backend`].
///
/// # Errors
/// [`TridentError::NotOntap`] for non-ONTAP drivers, and
/// [`TridentError::Malformed`] when `config.ontap_config`, the driver name or
/// `managementLIF` is missing.
pub fn parse_backend(tbe: &Value) -> Result<Backend, TridentError> {
    let object_name = tbe
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    let name = str_field(tbe, "backendName").unwrap_or_else(|| object_name.to_string());
    let malformed = |detail: &str| TridentError::Malformed {
        name: name.clone(),
        detail: detail.to_string(),
    };
    let config = tbe
        .get("config")
        .filter(|c| c.is_object())
        .ok_or_else(|| malformed("it has no `config` object"))?;
    let Some(ontap) = config.get("ontap_config").filter(|c| c.is_object()) else {
        // Another driver family (solidfire_config, azure_config, gcnv_config, ...).
        let driver = config
            .as_object()
            .and_then(|m| {
                m.iter()
                    .find_map(|(k, v)| str_field(v, "storageDriverName").or(Some(k.clone())))
            })
            .unwrap_or_else(|| "unknown".into());
        return Err(TridentError::NotOntap { name, driver });
    };
    let driver = str_field(ontap, "storageDriverName")
        .ok_or_else(|| malformed("config.ontap_config has no storageDriverName"))?;
    if !ONTAP_DRIVERS.contains(&driver.as_str()) {
        return Err(TridentError::NotOntap { name, driver });
    }
    let uuid = str_field(tbe, "backendUUID").ok_or_else(|| malformed("it has no backendUUID"))?;
    let management_lif = str_field(ontap, "managementLIF")
        .ok_or_else(|| malformed("config.ontap_config has no managementLIF"))?;
    // An explicit "" is a valid (empty) prefix; only a missing one defaults.
    let storage_prefix = match ontap.get("storagePrefix") {
        Some(Value::String(s)) => s.clone(),
        _ => DEFAULT_STORAGE_PREFIX.to_string(),
    };
    let credentials_secret = ontap
        .get("credentials")
        .filter(|c| {
            c.get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t.eq_ignore_ascii_case("secret"))
        })
        .and_then(|c| str_field(c, "name"));
    Ok(Backend {
        name,
        uuid,
        driver,
        management_lif,
        data_lif: str_field(ontap, "dataLIF"),
        svm: str_field(ontap, "svm"),
        storage_prefix,
        credentials_secret,
        trusted_ca_certificate: str_field(ontap, "trustedCACertificate"),
        client_certificate: str_field(ontap, "clientCertificate"),
        state: str_field(tbe, "state").unwrap_or_else(|| "unknown".into()),
        online: tbe.get("online").and_then(Value::as_bool).unwrap_or(false),
        config_ref: str_field(tbe, "configRef"),
        tbc_name: None,
        user_state: str_field(tbe, "userState").unwrap_or_else(|| "normal".into()),
        state_reason: str_field(tbe, "stateReason").unwrap_or_default(),
        pool_config: crate::trident::pools::PoolConfig::from_ontap_config(ontap),
        nas_type: str_field(ontap, "nasType").map(|s| s.to_ascii_lowercase()),
        san_type: str_field(ontap, "sanType").map(|s| s.to_ascii_lowercase()),
        auto_export_policy: bool_field(ontap, "autoExportPolicy"),
        name_template: ontap
            .pointer("/defaults/nameTemplate")
            .or_else(|| ontap.get("nameTemplate"))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string),
    })
}

fn trident_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(TRIDENT_GROUP, "v1", kind), plural)
}

/// Every TridentBackend in `namespace`, parsed: ONTAP ones as `Ok`, others
/// as their [`TridentError::NotOntap`] (or `Malformed`) error, each joined to
/// its TridentBackendConfig name.
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
    // UID -> name, and backendUUID -> name (a TBC names its backend in status).
    let mut tbc_by_uid = BTreeMap::new();
    let mut tbc_by_backend = BTreeMap::new();
    match tbcs {
        Ok(list) => {
            for tbc in list.items {
                let Some(name) = tbc.metadata.name.clone() else {
                    continue;
                };
                if let Some(uid) = &tbc.metadata.uid {
                    tbc_by_uid.insert(uid.clone(), name.clone());
                }
                if let Some(uuid) = tbc
                    .data
                    .pointer("/status/backendInfo/backendUUID")
                    .and_then(Value::as_str)
                {
                    tbc_by_backend.insert(uuid.to_string(), name);
                }
            }
        }
        Err(e) => tracing::debug!(namespace, error = %e, "cannot list TridentBackendConfigs"),
    }
    let mut out = Vec::with_capacity(tbes.items.len());
    for tbe in tbes.items {
        if tbe.metadata.deletion_timestamp.is_some() {
            // Being deleted (Trident's finalizer still on it): not usable.
            tracing::debug!(name = ?tbe.metadata.name, "skipping TridentBackend being deleted");
            continue;
        }
        let json = serde_json::to_value(&tbe).map_err(|e| TridentError::Malformed {
            name: tbe.metadata.name.clone().unwrap_or_default(),
            detail: e.to_string(),
        })?;
        out.push(parse_backend(&json).map(|mut b| {
            b.tbc_name = b
                .config_ref
                .as_ref()
                .and_then(|uid| tbc_by_uid.get(uid))
                .or_else(|| tbc_by_backend.get(&b.uuid))
                .cloned();
            b
        }));
    }
    out.sort_by(|a, b| entry_name(a).cmp(entry_name(b)));
    Ok(out)
}

fn entry_name(e: &Result<Backend, TridentError>) -> &str {
    match e {
        Ok(b) => &b.name,
        Err(TridentError::NotOntap { name, .. } | TridentError::Malformed { name, .. }) => name,
        Err(_) => "",
    }
}

/// The ONTAP backends in `namespace` (others are skipped), joined to their
/// TridentBackendConfig names via `configRef`, sorted by name.
///
/// # Errors
/// [`TridentError::Kube`] when the TridentBackends cannot be listed.
pub async fn list_backends(
    client: &kube::Client,
    namespace: &str,
) -> Result<Vec<Backend>, TridentError> {
    let entries = list_backend_entries(client, namespace).await?;
    Ok(entries
        .into_iter()
        .filter_map(|e| match e {
            Ok(b) => Some(b),
            Err(err) => {
                tracing::debug!(namespace, error = %err, "skipping Trident backend");
                None
            }
        })
        .collect())
}

/// Reads a backend's credentials Secret into an ONTAP login.
///
/// Keys are matched case-insensitively. Certificate auth (clientPrivateKey
/// plus the backend's clientCertificate) wins over username/password, as in
/// Trident.
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

/// The pure part of [`backend_auth`]: picks the login from decoded Secret data.
///
/// # Errors
/// As [`backend_auth`], without the Kubernetes errors.
pub fn auth_from_secret_data(
    backend: &Backend,
    namespace: &str,
    secret_name: &str,
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<Auth, TridentError> {
    let get = |key: &str| {
        data.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let bad = |detail: String| TridentError::BadCertificate {
        backend: backend.name.clone(),
        detail,
    };
    if let (Some(key), Some(cert)) = (get("clientPrivateKey"), &backend.client_certificate) {
        let cert_pem = pem_from_trident(cert)
            .ok_or_else(|| bad("clientCertificate is neither PEM nor base64 of PEM".into()))?;
        let key_pem = pem_from_trident(&key).ok_or_else(|| {
            bad(format!(
                "clientPrivateKey in Secret {namespace}/{secret_name} is neither PEM nor base64 of PEM"
            ))
        })?;
        return Ok(Auth::Certificate {
            cert_pem,
            key_pem: Secret::new(key_pem),
        });
    }
    if let (Some(username), Some(password)) = (get("username"), get("password")) {
        return Ok(Auth::Basic {
            username,
            password: Secret::new(password),
        });
    }
    Err(TridentError::SecretIncomplete {
        backend: backend.name.clone(),
        namespace: namespace.into(),
        name: secret_name.into(),
        keys: data.keys().cloned().collect::<Vec<_>>().join(", "),
    })
}

/// Trident stores certificates and keys as base64 of PEM; accept plain PEM too.
fn pem_from_trident(value: &str) -> Option<String> {
    if value.contains("-----BEGIN") {
        return Some(value.to_string());
    }
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.contains("-----BEGIN").then_some(text)
}

/// TLS trust for a backend: its `trustedCACertificate` when set, else the
/// default roots. Verification stays on; a CA that cannot be decoded is
/// logged and ignored (so the connection fails verification rather than
/// silently trusting anything). Use [`try_backend_tls`] to get that error.
pub fn backend_tls(backend: &Backend) -> TlsOptions {
    match try_backend_tls(backend) {
        Ok(tls) => tls,
        Err(e) => {
            tracing::warn!(
                "Trident backend {}: ignoring its trustedCACertificate: {e}",
                backend.name
            );
            TlsOptions::default()
        }
    }
}

/// Like [`backend_tls`], but a bad `trustedCACertificate` is an error.
///
/// # Errors
/// [`TridentError::BadCertificate`] when the CA cannot be decoded.
pub fn try_backend_tls(backend: &Backend) -> Result<TlsOptions, TridentError> {
    match &backend.trusted_ca_certificate {
        Some(ca) => TlsOptions::from_trident_ca(ca).map_err(|e| TridentError::BadCertificate {
            backend: backend.name.clone(),
            detail: e.to_string(),
        }),
        None => Ok(TlsOptions::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tbe(driver: &str) -> Value {
        json!({
            "apiVersion": "trident.netapp.io/v1",
            "kind": "TridentBackend",
            "metadata": {"name": "tbe-abcde", "namespace": "trident"},
            "backendName": "nas-primary",
            "backendUUID": "1c3d0c6e-0000-4000-8000-000000000001",
            "online": true,
            "state": "online",
            "configRef": "uid-tbc-1",
            "version": "1",
            "config": {"ontap_config": {
                "version": 1,
                "storageDriverName": driver,
                "managementLIF": "10.0.0.5",
                "dataLIF": "10.0.0.6",
                "svm": "svm1",
                "credentials": {"name": "ontap-creds", "type": "secret"},
                "trustedCACertificate": "",
                "clientCertificate": "Q0VSVA=="
            }}
        })
    }

    #[test]
    fn parses_an_ontap_backend() {
        let b = parse_backend(&tbe("ontap-nas")).unwrap();
        assert_eq!(b.name, "nas-primary");
        assert_eq!(b.uuid, "1c3d0c6e-0000-4000-8000-000000000001");
        assert_eq!(b.driver, "ontap-nas");
        assert_eq!(b.management_lif, "10.0.0.5");
        assert_eq!(b.data_lif.as_deref(), Some("10.0.0.6"));
        assert_eq!(b.svm.as_deref(), Some("svm1"));
        assert_eq!(b.storage_prefix, "trident_");
        assert_eq!(b.credentials_secret.as_deref(), Some("ontap-creds"));
        assert_eq!(b.trusted_ca_certificate, None, "empty string is unset");
        assert_eq!(b.client_certificate.as_deref(), Some("Q0VSVA=="));
        assert!(b.online);
        assert_eq!(b.state, "online");
        assert_eq!(b.config_ref.as_deref(), Some("uid-tbc-1"));
        assert_eq!(b.secret_name(), "ontap-creds");
    }

    #[test]
    fn explicit_prefix_and_tridentctl_secret() {
        let mut v = tbe("ontap-san");
        v["config"]["ontap_config"]["storagePrefix"] = json!("");
        v["config"]["ontap_config"]
            .as_object_mut()
            .unwrap()
            .remove("credentials");
        let b = parse_backend(&v).unwrap();
        assert_eq!(b.storage_prefix, "");
        assert_eq!(b.secret_name(), "tbe-1c3d0c6e-0000-4000-8000-000000000001");
    }

    #[test]
    fn non_ontap_drivers_are_refused_clearly() {
        let e = parse_backend(&tbe("solidfire-san")).unwrap_err();
        assert!(matches!(e, TridentError::NotOntap { .. }));
        assert!(e.to_string().contains("solidfire-san"), "{e}");
        let v = json!({"backendName": "gcnv", "backendUUID": "u",
            "config": {"gcnv_config": {"storageDriverName": "google-cloud-netapp-volumes"}}});
        let e = parse_backend(&v).unwrap_err();
        assert!(e.to_string().contains("google-cloud-netapp-volumes"), "{e}");
    }

    #[test]
    fn malformed_backends_name_the_missing_field() {
        let mut v = tbe("ontap-nas");
        v["config"]["ontap_config"]
            .as_object_mut()
            .unwrap()
            .remove("managementLIF");
        let e = parse_backend(&v).unwrap_err();
        assert!(e.to_string().contains("managementLIF"), "{e}");
        let e = parse_backend(&json!({"backendName": "x"})).unwrap_err();
        assert!(e.to_string().contains("config"), "{e}");
        let e = parse_backend(&json!(null)).unwrap_err();
        assert!(matches!(e, TridentError::Malformed { .. }));
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn basic_auth_keys_are_case_insensitive() {
        let mut b = parse_backend(&tbe("ontap-nas")).unwrap();
        b.client_certificate = None;
        let auth = auth_from_secret_data(
            &b,
            "trident",
            "ontap-creds",
            &data(&[("UserName", "admin"), ("PASSWORD", "hunter2")]),
        )
        .unwrap();
        match auth {
            Auth::Basic { username, password } => {
                assert_eq!(username, "admin");
                assert_eq!(password.expose(), "hunter2");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn certificate_auth_wins_and_decodes_base64() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let mut b = parse_backend(&tbe("ontap-nas")).unwrap();
        b.client_certificate = Some(b64(
            "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
        ));
        let key = b64("-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n");
        let auth = auth_from_secret_data(
            &b,
            "trident",
            "s",
            &data(&[
                ("clientprivatekey", &key),
                ("username", "a"),
                ("password", "p"),
            ]),
        )
        .unwrap();
        match auth {
            Auth::Certificate { cert_pem, key_pem } => {
                assert!(cert_pem.starts_with("-----BEGIN CERTIFICATE"));
                assert!(key_pem.expose().starts_with("-----BEGIN PRIVATE KEY"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn incomplete_secret_lists_keys_not_values() {
        let b = parse_backend(&tbe("ontap-nas")).unwrap();
        let e = auth_from_secret_data(&b, "trident", "s", &data(&[("username", "topsecretuser")]))
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("username") && !msg.contains("topsecretuser"),
            "{msg}"
        );
    }

    #[test]
    fn backend_matching() {
        let mut b = parse_backend(&tbe("ontap-nas")).unwrap();
        b.tbc_name = Some("backend-tbc".into());
        assert!(b.matches("nas-primary"));
        assert!(b.matches("backend-tbc"));
        assert!(b.matches("1c3d0c6e-0000-4000-8000-000000000001"));
        assert!(!b.matches("other"));
    }

    #[test]
    fn tls_defaults_to_verified_roots() {
        let b = parse_backend(&tbe("ontap-nas")).unwrap();
        let tls = backend_tls(&b);
        assert!(tls.ca_pem.is_none() && !tls.insecure_skip_verify);
        let mut bad = b.clone();
        bad.trusted_ca_certificate = Some("!!!".into());
        assert!(try_backend_tls(&bad).is_err());
        assert!(!backend_tls(&bad).insecure_skip_verify);
    }
}
