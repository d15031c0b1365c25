//! How to reach one ONTAP cluster: endpoint, credentials, TLS trust and
//! timeouts. Nothing here does I/O; [`crate::ontap::OntapClient::new`] turns
//! an [`OntapConfig`] into a client.

use std::time::Duration;

use base64::Engine as _;

use super::error::{ErrorKind, OntapError};
use crate::secret::Secret;

/// Everything needed to talk to one ONTAP cluster.
#[derive(Debug, Clone)]
pub struct OntapConfig {
    /// Label used in every error and log line, e.g. `"primary (ontap-a)"`.
    pub name: String,
    /// `https://10.0.0.5`, `https://127.0.0.1:8443` or a bare host (which
    /// gets `https://`). The client adds `/api` itself; a trailing `/api` is
    /// accepted and dropped.
    pub endpoint: String,
    /// How to log in.
    pub auth: Auth,
    /// Which server certificates to trust.
    pub tls: TlsOptions,
    /// Connect, request and job-wait limits.
    pub timeouts: Timeouts,
}

/// ONTAP login method. Neither variant prints its secret.
#[derive(Debug, Clone)]
pub enum Auth {
    /// HTTP Basic on every request (`Authorization: Basic ...`).
    Basic {
        /// ONTAP user, e.g. `admin`.
        username: String,
        /// Its password.
        password: Secret,
    },
    /// A client certificate (mTLS); the certificate CN is the ONTAP user.
    Certificate {
        /// The client certificate (and any intermediates), PEM.
        cert_pem: String,
        /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
        key_pem: Secret,
    },
}

/// Server certificate trust. Verification is on unless
/// `insecure_skip_verify` is set explicitly.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Extra trusted CA certificate(s), PEM. When `None`, the Mozilla root
    /// set (`webpki-roots`) is used, which suits clusters with a public CA.
    pub ca_pem: Option<String>,
    /// Skip certificate chain and host name checks (handshake signatures are
    /// still verified). Logs a warning once per process.
    pub insecure_skip_verify: bool,
}

impl TlsOptions {
    /// Trust the CA from a Trident backend's `trustedCACertificate`: base64
    /// of a PEM bundle, or base64 of one DER certificate.
    ///
    /// # Errors
    /// A `Config` error when the value is not base64 or decodes to neither a
    /// PEM certificate nor DER.
    pub fn from_trident_ca(base64: &str) -> Result<Self, OntapError> {
        let fail = |detail: String| {
            OntapError::new(
                "trident",
                "decode trustedCACertificate",
                ErrorKind::Config { detail },
            )
        };
        let compact: String = base64.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(fail("trustedCACertificate is empty".into()));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|e| fail(format!("trustedCACertificate is not valid base64: {e}")))?;
        let pem = if let Ok(text) = std::str::from_utf8(&bytes)
            && text.contains("-----BEGIN CERTIFICATE-----")
        {
            text.to_string()
        } else if bytes.first() == Some(&0x30) {
            // A DER SEQUENCE: wrap it as PEM so one code path loads both.
            super::pem::der_to_pem(&bytes)
        } else {
            return Err(fail(
                "trustedCACertificate decodes to neither a PEM certificate nor DER".into(),
            ));
        };
        // Parse now so a bad CA fails here, naming Trident, not at connect time.
        super::pem::parse_certs(&pem).map_err(fail)?;
        Ok(Self {
            ca_pem: Some(pem),
            insecure_skip_verify: false,
        })
    }
}

/// Time limits. Every network call and every wait is bounded by one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS connect (default 5 s).
    pub connect: Duration,
    /// One HTTP request, from send to the end of the body (default 30 s).
    /// [`Duration::ZERO`] is no limit, as kubectl's `--request-timeout 0`
    /// (see [`Timeouts::request_limit`]).
    pub request: Duration,
    /// Overall deadline when waiting for an ONTAP job (default 120 s).
    pub job: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
            job: Duration::from_secs(120),
        }
    }
}

impl Timeouts {
    /// The per-request limit, `None` when [`Timeouts::request`] is zero
    /// (no timeout, as kubectl's `--request-timeout 0`).
    pub fn request_limit(&self) -> Option<Duration> {
        (!self.request.is_zero()).then_some(self.request)
    }
}

/// Normalises an endpoint to `https://host[:port]` (no path, no trailing
/// slash). Returns a human-readable reason on failure.
pub(crate) fn normalize_endpoint(endpoint: &str) -> Result<url::Url, String> {
    let trimmed = endpoint.trim();
    if trimmed.is_empty() {
        return Err("the endpoint is empty: give the cluster management LIF address".into());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = url::Url::parse(&with_scheme)
        .map_err(|e| format!("endpoint {trimmed:?} is not a valid URL: {e}"))?;
    if url.scheme() != "https" {
        return Err(format!(
            "endpoint {trimmed:?} uses {}://; ONTAP's REST API is served over https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("endpoint {trimmed:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put credentials in the auth settings, not in the endpoint URL".into());
    }
    let path = url.path().trim_end_matches('/');
    if !(path.is_empty() || path == "/api") {
        return Err(format!(
            "endpoint {trimmed:?} has a path ({path}); give only scheme, host and port"
        ));
    }
    url.set_path("");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_gets_https_and_api_is_dropped() {
        let u = normalize_endpoint("10.0.0.5").unwrap();
        assert_eq!(u.as_str(), "https://10.0.0.5/");
        let u = normalize_endpoint("https://127.0.0.1:8443/api/").unwrap();
        assert_eq!(u.as_str(), "https://127.0.0.1:8443/");
        let u = normalize_endpoint("[::1]:9443").unwrap();
        assert_eq!(u.as_str(), "https://[::1]:9443/");
    }

    #[test]
    fn bad_endpoints_are_explained() {
        assert!(normalize_endpoint("").unwrap_err().contains("empty"));
        assert!(
            normalize_endpoint("http://x")
                .unwrap_err()
                .contains("https")
        );
        assert!(
            normalize_endpoint("https://x/other")
                .unwrap_err()
                .contains("path")
        );
        let e = normalize_endpoint("https://admin:pw@x").unwrap_err();
        assert!(e.contains("credentials") && !e.contains("pw"));
    }

    #[test]
    fn default_timeouts() {
        let t = Timeouts::default();
        assert_eq!(t.connect, Duration::from_secs(5));
        assert_eq!(t.request, Duration::from_secs(30));
        assert_eq!(t.job, Duration::from_secs(120));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = OntapConfig {
            name: "primary".into(),
            endpoint: "10.0.0.5".into(),
            auth: Auth::Basic {
                username: "admin".into(),
                password: Secret::new("hunter2"),
            },
            tls: TlsOptions::default(),
            timeouts: Timeouts::default(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let a = Auth::Certificate {
            cert_pem: "CERT".into(),
            key_pem: Secret::new("-----BEGIN PRIVATE KEY-----abc"),
        };
        assert!(!format!("{a:?}").contains("PRIVATE"));
    }

    #[test]
    fn trident_ca_rejects_garbage() {
        let e = TlsOptions::from_trident_ca("!!!").unwrap_err();
        assert!(e.to_string().contains("base64"), "{e}");
        let e =
            TlsOptions::from_trident_ca(&base64::engine::general_purpose::STANDARD.encode("hello"))
                .unwrap_err();
        assert!(e.to_string().contains("neither"), "{e}");
        assert!(TlsOptions::from_trident_ca("  ").is_err());
    }
}
