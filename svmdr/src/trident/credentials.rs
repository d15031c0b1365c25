//! How to log in to a Trident backend's ONTAP cluster (pure): its credentials
//! Secret decoded ([`secret_data`]), the login picked from it
//! ([`auth_from_secret_data`]), the TLS trust ([`backend_tls_with`]) and the
//! client settings ([`client_config`]). The CLI and the Velero plugin read
//! the Secret each their own way, then share these rules.
//!
//! Secret keys are matched case-insensitively (Trident lower-cases them when
//! it reads them). Certificate auth (`clientPrivateKey` plus the backend's
//! `clientCertificate`) wins over `username`/`password`, as in Trident.
//! See `docs/trident.md`.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use super::backend::{Backend, TridentError};
use crate::ontap::{Auth, OntapConfig, Timeouts, TlsOptions};
use crate::secret::Secret;

/// A Secret object's (JSON) keys and decoded values: `data` (base64, as the
/// Kubernetes API returns it), then `stringData` (plain text) over it.
/// `namespace` and `name` only name the Secret in errors.
///
/// # Errors
/// [`TridentError::SecretUndecodable`] naming the key whose value is not a
/// base64 string (never the value).
pub fn secret_data(
    namespace: &str,
    name: &str,
    secret: &Value,
) -> Result<BTreeMap<String, Vec<u8>>, TridentError> {
    let mut data = BTreeMap::new();
    if let Some(m) = secret.get("data").and_then(Value::as_object) {
        for (key, value) in m {
            let decoded = value
                .as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| TridentError::SecretUndecodable {
                    namespace: namespace.into(),
                    name: name.into(),
                    key: key.clone(),
                })?;
            data.insert(key.clone(), decoded);
        }
    }
    if let Some(m) = secret.get("stringData").and_then(Value::as_object) {
        for (key, value) in m {
            let text = value.as_str().unwrap_or_default();
            data.insert(key.clone(), text.as_bytes().to_vec());
        }
    }
    Ok(data)
}

/// Picks the login from a backend's decoded Secret data.
///
/// # Errors
/// [`TridentError::SecretIncomplete`] (naming the keys, never the values) or
/// [`TridentError::BadCertificate`].
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

/// TLS trust for a backend when the user may name a CA: `ca_pem` (PEM, e.g.
/// the CLI's CA file or the plugin's `ontapCA`) wins, and the backend's own
/// `trustedCACertificate` is then not read; else [`try_backend_tls`].
///
/// # Errors
/// [`TridentError::BadCertificate`] when the backend's CA is used and cannot
/// be decoded.
pub fn backend_tls_with(
    backend: &Backend,
    ca_pem: Option<&str>,
) -> Result<TlsOptions, TridentError> {
    match ca_pem {
        Some(pem) => Ok(TlsOptions {
            ca_pem: Some(pem.to_string()),
            insecure_skip_verify: false,
        }),
        None => try_backend_tls(backend),
    }
}

/// The ONTAP client settings for a backend: its management LIF as endpoint
/// (and as the name errors carry), with `auth`, `tls` and `timeouts`.
pub fn client_config(
    backend: &Backend,
    auth: Auth,
    tls: TlsOptions,
    timeouts: Timeouts,
) -> OntapConfig {
    OntapConfig {
        name: backend.management_lif.clone(),
        endpoint: backend.management_lif.clone(),
        auth,
        tls,
        timeouts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trident::backend::parse_backend;
    use serde_json::json;

    fn backend() -> Backend {
        parse_backend(&json!({
            "metadata": {"name": "tbe-abcde"},
            "backendName": "nas-primary",
            "backendUUID": "1c3d0c6e-0000-4000-8000-000000000001",
            "config": {"ontap_config": {
                "storageDriverName": "ontap-nas",
                "managementLIF": "10.0.0.5",
                "svm": "svm1",
                "credentials": {"name": "ontap-creds", "type": "secret"},
                "clientCertificate": "Q0VSVA=="
            }}
        }))
        .expect("backend")
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn secret_data_decodes_data_and_lets_string_data_win() {
        let secret = json!({
            "data": {"username": "YWRtaW4=", "password": "b2xk"},
            "stringData": {"password": "new"}
        });
        let d = secret_data("trident", "creds", &secret).unwrap();
        assert_eq!(d, data(&[("username", "admin"), ("password", "new")]));
        assert!(
            secret_data("trident", "creds", &json!({}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn secret_data_names_the_bad_key_not_its_value() {
        for bad in [json!("not base64 topsecret!"), json!(42)] {
            let e =
                secret_data("trident", "creds", &json!({"data": {"password": bad}})).unwrap_err();
            assert!(
                matches!(&e, TridentError::SecretUndecodable { key, .. } if key == "password"),
                "{e:?}"
            );
            let msg = e.to_string();
            assert!(
                msg.contains("trident/creds") && msg.contains("password"),
                "{msg}"
            );
            assert!(!msg.contains("topsecret"), "{msg}");
        }
    }

    #[test]
    fn basic_auth_keys_are_case_insensitive() {
        let mut b = backend();
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
        let mut b = backend();
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
        let e = auth_from_secret_data(
            &backend(),
            "trident",
            "s",
            &data(&[("username", "topsecretuser")]),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("username") && !msg.contains("topsecretuser"),
            "{msg}"
        );
    }

    #[test]
    fn tls_defaults_to_verified_roots() {
        let b = backend();
        let tls = backend_tls(&b);
        assert!(tls.ca_pem.is_none() && !tls.insecure_skip_verify);
        let mut bad = b.clone();
        bad.trusted_ca_certificate = Some("!!!".into());
        assert!(try_backend_tls(&bad).is_err());
        assert!(!backend_tls(&bad).insecure_skip_verify);
    }

    #[test]
    fn a_given_ca_wins_over_the_backend_ca() {
        let mut bad = backend();
        bad.trusted_ca_certificate = Some("!!!".into());
        assert!(backend_tls_with(&bad, None).is_err());
        let tls = backend_tls_with(&bad, Some("-----BEGIN CERTIFICATE-----")).unwrap();
        assert_eq!(tls.ca_pem.as_deref(), Some("-----BEGIN CERTIFICATE-----"));
        assert!(!tls.insecure_skip_verify);
    }

    #[test]
    fn client_config_talks_to_the_management_lif() {
        let b = backend();
        let auth = Auth::Basic {
            username: "admin".into(),
            password: Secret::new("x"),
        };
        let c = client_config(&b, auth, TlsOptions::default(), Timeouts::default());
        assert_eq!(c.endpoint, "10.0.0.5");
        assert_eq!(c.name, "10.0.0.5");
    }
}
