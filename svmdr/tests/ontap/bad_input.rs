//! Bad input: each case must give a distinct, clear error naming the
//! cluster and the call: never a panic, never a hang, never a credential.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use serde_json::json;
use svmdr::ontap::{
    Auth, CreateClusterPeer, ErrorKind, OntapClient, OntapConfig, OntapError, Timeouts, TlsOptions,
};
use svmdr::secret::Secret;

use super::fake::{self, Fake, PASSWORD};

/// Runs `f` with a hard bound and returns its error.
async fn fails<T: std::fmt::Debug>(
    f: impl std::future::Future<Output = Result<T, OntapError>>,
) -> OntapError {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("no hang")
        .expect_err("must fail")
}

/// Checks what every error must do: name the cluster and the call, and
/// never show the password, its base64 form or the Authorization header.
fn assert_clear(err: &OntapError, call: &str) {
    let shown = format!("{err}");
    let debug = format!("{err:?}");
    assert!(shown.contains("primary (fake)"), "no cluster in: {shown}");
    assert!(shown.contains(call), "no call {call} in: {shown}");
    let token = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"))
    };
    for text in [&shown, &debug] {
        assert!(!text.contains(PASSWORD), "password leaked: {text}");
        assert!(!text.contains(&token), "auth token leaked: {text}");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "header leaked: {text}"
        );
    }
}

#[tokio::test]
async fn malformed_json() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async { fake::raw(200, "application/hal+json", "{\"name\": ontap-a}") }),
    ))
    .await;
    let err = fails(srv.client().cluster()).await;
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { detail, .. } if detail.contains("not valid JSON")),
        "{err}"
    );
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn truncated_json() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async {
            fake::raw(
                200,
                "application/hal+json",
                "{\"name\": \"ontap-a\", \"version\": {\"gen",
            )
        }),
    ))
    .await;
    let err = fails(srv.client().cluster()).await;
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { detail, .. } if detail.contains("truncated")),
        "{err}"
    );
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn wrong_shape() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async { fake::json(200, json!({"name": 42})) }),
    ))
    .await;
    let err = fails(srv.client().cluster()).await;
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { detail, .. } if detail.contains("expected shape")),
        "{err}"
    );
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn wrong_content_type() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async { fake::raw(200, "text/html", "<html>login page</html>") }),
    ))
    .await;
    let err = fails(srv.client().cluster()).await;
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { detail, excerpt } if detail.contains("text/html") && excerpt.contains("login page")),
        "{err}"
    );
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn unauthorized() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async { fake::raw(401, "text/html", "Unauthorized") }),
    ))
    .await;
    let err = fails(srv.client().cluster()).await;
    assert!(err.is_unauthorized(), "{err}");
    assert!(err.to_string().contains("check the username/password"));
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn forbidden() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster/peers",
        get(|| async { fake::ontap_error(403, "6", "not authorized for that command") }),
    ))
    .await;
    let err = fails(srv.client().cluster_peers()).await;
    assert!(err.is_permission_denied(), "{err}");
    assert!(err.to_string().contains("cluster-admin"), "{err}");
    assert_clear(&err, "GET /api/cluster/peers");
}

#[tokio::test]
async fn tls_with_the_wrong_ca() {
    let srv = Fake::start(
        Router::new().route("/api/cluster", get(|| async { fake::json(200, json!({})) })),
    )
    .await;
    let other = sim::tls::Identity::generate("some-other-lab", &[]).expect("identity");
    let client = fake::client_for(
        &srv.url,
        Some(other.ca_pem().to_string()),
        fake::short_timeouts(),
    );
    let err = fails(client.cluster()).await;
    assert!(err.is_tls(), "{err:?}");
    let s = err.to_string();
    assert!(
        s.contains("--ca-file") && s.contains("trustedCACertificate"),
        "{s}"
    );
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn tls_with_public_roots_against_a_lab_cert() {
    let srv = Fake::start(
        Router::new().route("/api/cluster", get(|| async { fake::json(200, json!({})) })),
    )
    .await;
    let client = fake::client_for(&srv.url, None, fake::short_timeouts());
    let err = fails(client.cluster()).await;
    assert!(err.is_tls(), "{err:?}");
}

#[tokio::test]
async fn insecure_skip_verify_is_explicit_and_works() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async { fake::json(200, json!({"name": "ontap-a"})) }),
    ))
    .await;
    let client = OntapClient::new(OntapConfig {
        name: "primary (fake)".into(),
        endpoint: srv.url.clone(),
        auth: Auth::Basic {
            username: "admin".into(),
            password: Secret::new(PASSWORD),
        },
        tls: TlsOptions {
            ca_pem: None,
            insecure_skip_verify: true,
        },
        timeouts: fake::short_timeouts(),
    })
    .expect("client");
    let c = tokio::time::timeout(Duration::from_secs(30), client.cluster())
        .await
        .expect("no hang")
        .expect("insecure mode connects");
    assert_eq!(c.name.as_deref(), Some("ontap-a"));
}

#[tokio::test]
async fn refused_connection() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let client = fake::client_for(
        &format!("https://127.0.0.1:{port}"),
        None,
        fake::short_timeouts(),
    );
    let started = std::time::Instant::now();
    let err = fails(client.cluster()).await;
    // Refused is retried once (100 ms), not with the full back-off
    // (100 ms + 400 ms) of other connect failures.
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "a refused GET was retried: {:?}",
        started.elapsed()
    );
    assert!(matches!(err.kind, ErrorKind::Connect { .. }), "{err:?}");
    assert!(err.is_unreachable());
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn hung_server() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            fake::json(200, json!({}))
        }),
    ))
    .await;
    let client = fake::client_for(
        &srv.url,
        Some(srv.ca_pem.clone()),
        Timeouts {
            request: Duration::from_millis(300),
            ..fake::short_timeouts()
        },
    );
    let err = fails(client.cluster()).await;
    assert!(
        matches!(err.kind, ErrorKind::Timeout { after } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.to_string().contains("300ms"), "{err}");
    assert_clear(&err, "GET /api/cluster");
}

#[tokio::test]
async fn a_truncated_peer_create_response_does_not_leak_the_passphrase() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster/peers",
        post(|| async {
            fake::raw(
                201,
                "application/hal+json",
                "{\"records\":[{\"uuid\":\"p1\",\"authentication\":{\"passphrase\":\"GeneratedSecretPP\",\"expiry_time\":\"PT1",
            )
        }),
    ))
    .await;
    let err = fails(srv.client().create_cluster_peer(&CreateClusterPeer {
        remote_ips: vec!["127.0.0.1".into()],
        ..Default::default()
    }))
    .await;
    assert!(matches!(err.kind, ErrorKind::Malformed { .. }), "{err:?}");
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(
            !text.contains("GeneratedSecretPP"),
            "passphrase leaked: {text}"
        );
    }
    assert_clear(&err, "POST /api/cluster/peers");
}

#[tokio::test]
async fn the_given_passphrase_never_appears_in_an_error() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster/peers",
        post(|| async { fake::ontap_error(400, "4653236", "The passphrase is too short") }),
    ))
    .await;
    let err = fails(srv.client().create_cluster_peer(&CreateClusterPeer {
        remote_ips: vec!["127.0.0.1".into()],
        passphrase: Some(Secret::new("shortPP")),
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Some("4653236"));
    assert!(!format!("{err} {err:?}").contains("shortPP"));
}

#[tokio::test]
async fn bad_configs_fail_at_construction() {
    let make = |endpoint: &str, tls: TlsOptions, auth: Auth| {
        OntapClient::new(OntapConfig {
            name: "primary (fake)".into(),
            endpoint: endpoint.into(),
            auth,
            tls,
            timeouts: Timeouts::default(),
        })
    };
    let basic = || Auth::Basic {
        username: "admin".into(),
        password: Secret::new(PASSWORD),
    };
    let err = make("http://10.0.0.5", TlsOptions::default(), basic()).expect_err("http");
    assert!(matches!(err.kind, ErrorKind::Config { .. }) && err.to_string().contains("https"));
    let bad_ca = TlsOptions {
        ca_pem: Some("not a pem".into()),
        insecure_skip_verify: false,
    };
    let err = make("10.0.0.5", bad_ca, basic()).expect_err("ca");
    assert!(err.to_string().contains("primary (fake)"), "{err}");
    let cert = Auth::Certificate {
        cert_pem: "junk".into(),
        key_pem: Secret::new(
            "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEY\n-----END PRIVATE KEY-----",
        ),
    };
    let err = make("10.0.0.5", TlsOptions::default(), cert).expect_err("cert");
    assert!(!format!("{err} {err:?}").contains("TOPSECRETKEY"));
    let client = make("10.0.0.5", TlsOptions::default(), basic()).expect("ok");
    assert_eq!(client.endpoint(), "https://10.0.0.5");
    assert!(!format!("{client:?}").contains(PASSWORD));
}

#[tokio::test]
async fn trident_ca_round_trips_pem_and_der() {
    use base64::Engine as _;
    let id = sim::tls::Identity::generate("trident-ca", &[]).expect("identity");
    let pem_b64 = base64::engine::general_purpose::STANDARD.encode(id.ca_pem());
    let from_pem = TlsOptions::from_trident_ca(&pem_b64).expect("pem");
    assert!(
        from_pem
            .ca_pem
            .as_deref()
            .is_some_and(|p| p.contains("BEGIN CERTIFICATE"))
    );
    assert!(!from_pem.insecure_skip_verify);
    let body: String = id
        .ca_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("der");
    let der_b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let from_der = TlsOptions::from_trident_ca(&der_b64).expect("der");
    // Both forms must trust a server whose certificate that CA signed.
    let srv = Fake::start_with(
        &id,
        Router::new().route(
            "/api/cluster",
            get(|| async { fake::json(200, json!({"name": "x"})) }),
        ),
    )
    .await;
    for tls in [from_pem, from_der] {
        let client = fake::client_for(&srv.url, tls.ca_pem, fake::short_timeouts());
        let c = tokio::time::timeout(Duration::from_secs(30), client.cluster())
            .await
            .expect("no hang")
            .expect("trusted");
        assert_eq!(c.name.as_deref(), Some("x"));
    }
}

#[tokio::test]
async fn a_runaway_body_is_cut_off() {
    let srv = Fake::start(Router::new().route(
        "/api/cluster",
        get(|| async {
            let body = vec![b' '; 65 << 20];
            (
                [(axum::http::header::CONTENT_TYPE, "application/hal+json")],
                body,
            )
        }),
    ))
    .await;
    let err = fails(srv.client().cluster()).await;
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { detail, .. } if detail.contains("larger than 64 MiB")),
        "{err}"
    );
    assert_clear(&err, "GET /api/cluster");
}
