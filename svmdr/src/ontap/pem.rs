//! PEM certificate handling shared by the configuration (which checks a
//! CA when it is given) and the TLS set-up (which loads it). A leaf: it
//! uses nothing else in `ontap`.

use base64::Engine as _;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Every PEM certificate in `pem`. Errors when there is none.
pub(crate) fn parse_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read the CA PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the CA PEM holds no CERTIFICATE block".into());
    }
    Ok(certs)
}

/// One DER certificate as a PEM block, so one code path loads both forms.
pub(crate) fn der_to_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_a_pem_without_certificates() {
        assert!(
            parse_certs("hello")
                .err()
                .is_some_and(|e| e.contains("no CERTIFICATE"))
        );
    }

    #[test]
    fn der_is_wrapped_in_64_column_lines() {
        let pem = der_to_pem(&[0x30; 60]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN CERTIFICATE-----"));
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        assert_eq!(lines.get(1).map(|l| l.len()), Some(64));
        assert_eq!(lines.len(), 4);
    }
}
