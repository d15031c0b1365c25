//! Bearer-token authentication: one random token per simulated cluster,
//! checked on every request (a wrong or missing token gets 401, as with
//! anonymous auth disabled on a real API server).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

/// A fresh random token (48 alphanumeric characters).
pub fn generate_token() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

/// Compares without an early exit, so timing says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `headers` carry `Authorization: Bearer <token>`.
pub fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .any(|got| same(got.as_bytes(), token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn checks_the_bearer_token() {
        let token = generate_token();
        assert_eq!(token.len(), 48);
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, &token));
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        assert!(authorized(&h, &token));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer nope"));
        assert!(!authorized(&h, &token));
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        assert!(!authorized(&h, &token));
    }
}
