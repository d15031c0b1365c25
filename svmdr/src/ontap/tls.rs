//! The rustls client configuration for one cluster: trusted roots (the given
//! CA PEM, else the Mozilla set from `webpki-roots`), an optional client
//! certificate, and the explicit, loudly-logged "skip verification" mode.

use std::sync::{Arc, Once};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::config::{Auth, TlsOptions};
use super::pem::parse_certs;

/// Builds the rustls client config for `tls` and `auth`.
pub(crate) fn client_config(tls: &TlsOptions, auth: &Auth) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    let builder = if tls.insecure_skip_verify {
        warn_insecure_once();
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SkipChainVerifier { provider }))
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &tls.ca_pem {
            Some(pem) => {
                for cert in parse_certs(pem)? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("the CA certificate is not usable: {e}"))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match auth {
        Auth::Basic { .. } => builder.with_no_client_auth(),
        Auth::Certificate { cert_pem, key_pem } => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("cannot read the client certificate PEM: {e}"))?;
            if chain.is_empty() {
                return Err("the client certificate PEM holds no CERTIFICATE block".into());
            }
            // Never echo the key or its parse error details (they may quote it).
            let key = PrivateKeyDer::from_pem_slice(key_pem.expose().as_bytes()).map_err(|_| {
                "cannot read the client private key PEM (expected PKCS#8, PKCS#1 or SEC1)"
                    .to_string()
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("the client certificate and key do not fit together: {e}"))?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A verified rustls client configuration for any HTTPS server, e.g. a
/// Kubernetes API server: trusted roots from `ca_pem` (else the Mozilla set),
/// and an optional client certificate and key (PEM), with the same rules and
/// messages as ONTAP connections. Verification cannot be turned off here.
///
/// # Errors
/// A CA, certificate or key that cannot be read (never quoting the key).
pub fn verified_client_config(
    ca_pem: Option<&str>,
    client_cert: Option<(&str, &crate::secret::Secret)>,
) -> Result<rustls::ClientConfig, String> {
    let tls = TlsOptions {
        ca_pem: ca_pem.map(str::to_string),
        insecure_skip_verify: false,
    };
    let auth = match client_cert {
        Some((cert_pem, key_pem)) => Auth::Certificate {
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.clone(),
        },
        // Basic auth is an HTTP header: for TLS it means "no client certificate".
        None => Auth::Basic {
            username: String::new(),
            password: crate::secret::Secret::new(String::new()),
        },
    };
    client_config(&tls, &auth)
}

fn warn_insecure_once() {
    static WARN: Once = Once::new();
    WARN.call_once(|| {
        tracing::warn!(
            "TLS certificate verification is DISABLED for ONTAP (insecure_skip_verify); \
             anyone on the path can impersonate the cluster. Trust its CA instead."
        );
    });
}

/// Accepts any certificate chain and name, but still checks that the server
/// really holds the key of the certificate it sent (handshake signatures).
#[derive(Debug)]
struct SkipChainVerifier {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for SkipChainVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn default_uses_public_roots() {
        let auth = Auth::Basic {
            username: "admin".into(),
            password: Secret::new("x"),
        };
        client_config(&TlsOptions::default(), &auth).unwrap();
        let insecure = TlsOptions {
            ca_pem: None,
            insecure_skip_verify: true,
        };
        client_config(&insecure, &auth).unwrap();
    }

    #[test]
    fn verified_config_for_other_servers() {
        verified_client_config(None, None).unwrap();
        let e = verified_client_config(Some("no pem"), None).unwrap_err();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        let key =
            Secret::new("-----BEGIN PRIVATE KEY-----\nSECRETKEYDATA\n-----END PRIVATE KEY-----\n");
        let e = verified_client_config(
            None,
            Some((
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                &key,
            )),
        )
        .unwrap_err();
        assert!(!e.contains("SECRETKEYDATA"), "{e}");
    }

    #[test]
    fn bad_client_key_error_does_not_quote_the_key() {
        let auth = Auth::Certificate {
            cert_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            key_pem: Secret::new(
                "-----BEGIN PRIVATE KEY-----\nSECRETKEYDATA\n-----END PRIVATE KEY-----\n",
            ),
        };
        let err = client_config(&TlsOptions::default(), &auth).unwrap_err();
        assert!(!err.contains("SECRETKEYDATA"), "{err}");
    }
}
