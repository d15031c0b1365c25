//! A tiny HTTPS server for client tests: an axum router served with the lab
//! TLS identity on 127.0.0.1:0, stopped on drop. Used for cases the
//! simulator cannot produce (truncated JSON, wrong content type, hangs).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use svmdr::ontap::{Auth, OntapClient, OntapConfig, Timeouts, TlsOptions};
use svmdr::secret::Secret;
use tokio::sync::oneshot;

/// The password every fake client uses; tests assert it never leaks.
pub const PASSWORD: &str = "Pa55-word-never-shown";

/// A running fake server.
pub struct Fake {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// CA that signed its certificate.
    pub ca_pem: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Fake {
    /// Serves `router` over TLS.
    pub async fn start(router: Router) -> Self {
        let id = sim::tls::Identity::generate("fake-ontap", &[]).expect("lab identity");
        Self::start_with(&id, router).await
    }

    /// Serves `router` over TLS with a given lab identity.
    pub async fn start_with(id: &sim::tls::Identity, router: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let acceptor = id.acceptor().expect("acceptor");
        tokio::spawn(sim::tls::serve_tls(
            listener,
            acceptor,
            router,
            async move {
                let _ = rx.await;
            },
        ));
        Self {
            url: format!("https://{addr}"),
            ca_pem: id.ca_pem().to_string(),
            stop: Some(tx),
        }
    }

    /// A client trusting this server's CA, with short timeouts.
    pub fn client(&self) -> OntapClient {
        client_for(&self.url, Some(self.ca_pem.clone()), short_timeouts())
    }
}

/// Timeouts small enough for tests, large enough for a loaded CI box.
pub fn short_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(10),
        job: Duration::from_secs(10),
    }
}

/// A basic-auth client for `url`.
pub fn client_for(url: &str, ca_pem: Option<String>, timeouts: Timeouts) -> OntapClient {
    OntapClient::new(OntapConfig {
        name: "primary (fake)".into(),
        endpoint: url.to_string(),
        auth: Auth::Basic {
            username: "admin".into(),
            password: Secret::new(PASSWORD),
        },
        tls: TlsOptions {
            ca_pem,
            insecure_skip_verify: false,
        },
        timeouts,
    })
    .expect("client")
}

/// A JSON response as ONTAP sends it.
pub fn json(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        [(header::CONTENT_TYPE, "application/hal+json")],
        body.to_string(),
    )
        .into_response()
}

/// A response with any content type and raw body.
pub fn raw(status: u16, content_type: &'static str, body: &'static str) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

/// An ONTAP error body.
pub fn ontap_error(status: u16, code: &str, message: &str) -> Response {
    json(
        status,
        serde_json::json!({"error": {"code": code, "message": message, "target": "state"}}),
    )
}

/// What a fake handler saw.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// `METHOD path?query` per request.
    pub calls: Vec<String>,
    /// The Authorization header of the last request.
    pub authorization: Option<String>,
}

/// Shared request log.
pub type Log = Arc<Mutex<Seen>>;

/// Records one request.
pub fn record(log: &Log, method: &str, uri: &axum::http::Uri, headers: &HeaderMap) {
    let mut seen = log.lock().expect("log");
    seen.calls.push(format!("{method} {uri}"));
    seen.authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
}
