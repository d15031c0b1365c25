//! Logins: HTTP basic against the topology's accounts, or a client
//! certificate issued by the lab CA whose CN names the account.

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;

use super::api::Principal;
use super::error::ApiError;
use super::world::Cluster;

/// The CN of a verified client certificate, set by the TLS loop.
#[derive(Debug, Clone)]
pub struct ClientCn(pub String);

/// 401 with ONTAP's body.
pub fn unauthorized() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, 6691623, "User is not authorized.")
}

/// Authenticates a request on `cluster`.
///
/// # Errors
/// 401 when neither a known certificate CN nor valid basic credentials are
/// presented. The password is never echoed.
pub fn authenticate(
    cluster: &Cluster,
    headers: &HeaderMap,
    cn: Option<&ClientCn>,
) -> Result<Principal, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let text = auth.to_str().map_err(|_| unauthorized())?;
        let encoded = text
            .strip_prefix("Basic ")
            .or_else(|| text.strip_prefix("basic "))
            .ok_or_else(unauthorized)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| unauthorized())?;
        let decoded = String::from_utf8(decoded).map_err(|_| unauthorized())?;
        let (user, pass) = decoded.split_once(':').ok_or_else(unauthorized)?;
        let account = cluster
            .accounts
            .iter()
            .find(|a| a.username == user && a.password.as_deref() == Some(pass))
            .ok_or_else(unauthorized)?;
        return Ok(Principal {
            username: account.username.clone(),
            role: account.role,
            svm: account.svm.clone(),
        });
    }
    if let Some(ClientCn(cn)) = cn {
        let account = cluster
            .accounts
            .iter()
            .find(|a| &a.username == cn)
            .ok_or_else(unauthorized)?;
        return Ok(Principal {
            username: account.username.clone(),
            role: account.role,
            svm: account.svm.clone(),
        });
    }
    Err(unauthorized())
}

/// The subject CN of a DER certificate: the last commonName attribute
/// (the issuer's comes first in the TBSCertificate).
pub fn subject_cn(der: &[u8]) -> Option<String> {
    const CN_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];
    let pos = der.windows(CN_OID.len()).rposition(|w| w == CN_OID)?;
    let rest = der.get(pos + CN_OID.len()..)?;
    let tag = *rest.first()?;
    if !matches!(tag, 0x0c | 0x13 | 0x16 | 0x1e) {
        return None;
    }
    let len = *rest.get(1)? as usize;
    if len >= 0x80 {
        return None;
    }
    let bytes = rest.get(2..2 + len)?;
    String::from_utf8(bytes.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_subject_cn_of_a_lab_cert() {
        let id = crate::tls::Identity::generate("t", &[]).unwrap();
        let pair = id.issue_client_cert("svc-dr").unwrap();
        use rustls_pki_types::pem::PemObject;
        let der =
            rustls_pki_types::CertificateDer::from_pem_slice(pair.cert_pem.as_bytes()).unwrap();
        assert_eq!(subject_cn(&der).as_deref(), Some("svc-dr"));
        assert_eq!(subject_cn(b"junk"), None);
    }
}
