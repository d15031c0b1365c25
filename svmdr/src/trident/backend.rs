//! Trident backends: what one TridentBackend records ([`Backend`], parsed
//! by [`parse_backend`], pure) and the errors met reading backends and their
//! credentials ([`TridentError`]).
//!
//! The ONTAP cluster and SVM behind a Kubernetes cluster are found from
//! Trident's own records: each TridentBackend (`tbe`) carries the driver
//! config under `config.ontap_config` (managementLIF, svm, dataLIF,
//! storagePrefix, credentials reference, trustedCACertificate,
//! clientCertificate) and `configRef`, the UID of the TridentBackendConfig
//! (`tbc`) that created it. Backends created with `tridentctl` have no
//! credentials reference; their secrets live in the Secret
//! `tbe-<backendUUID>`. The join to TBCs is [`super::discovery`], the
//! login [`super::credentials`], the cluster reads [`super::cluster`].

use serde_json::Value;

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
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
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
    /// Name of that TridentBackendConfig (filled by
    /// [`super::discovery::join_backends`]).
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

    /// Whether Trident reports its `state` as `online`.
    pub fn is_online(&self) -> bool {
        self.state == "online"
    }

    /// `Trident backend name (SVM s): state offline, userState normal,
    /// stateReason "..."`.
    pub fn describe(&self) -> String {
        let reason = if self.state_reason.is_empty() {
            String::new()
        } else {
            format!(", stateReason {:?}", self.state_reason)
        };
        let or_unknown = |s: &str| {
            if s.is_empty() {
                "unknown".to_string()
            } else {
                s.to_string()
            }
        };
        format!(
            "Trident backend {} (SVM {}): state {}, userState {}{reason}",
            self.name,
            self.svm.as_deref().unwrap_or("?"),
            or_unknown(&self.state),
            or_unknown(&self.user_state),
        )
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
    /// A value in the credentials Secret's `data` is not base64.
    #[error(
        "Secret {namespace}/{name}: the value of key {key} is not base64, as Kubernetes \
         keeps Secret data; recreate the Secret (e.g. kubectl create secret generic \
         --from-literal)"
    )]
    SecretUndecodable {
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// The key (never its value).
        key: String,
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

    #[test]
    fn backend_matching() {
        let mut b = parse_backend(&tbe("ontap-nas")).unwrap();
        b.tbc_name = Some("backend-tbc".into());
        assert!(b.matches("nas-primary"));
        assert!(b.matches("backend-tbc"));
        assert!(b.matches("1c3d0c6e-0000-4000-8000-000000000001"));
        assert!(!b.matches("other"));
    }
}
