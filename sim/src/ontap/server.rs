//! The HTTPS front of each cluster: a TLS loop that records the client
//! certificate CN and can drop a connection without answering, and the
//! request pipeline (cluster down → faults → auth → dispatch → job wait).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::api::{Ctx, Reply, expand_dotted};
use super::auth::{ClientCn, authenticate, subject_cn};
use super::cluster::job_json;
use super::control;
use super::error::ApiError;
use super::faults::{self, FaultKind};
use super::listeners::Serve;
use super::query::Query;
use super::routes::dispatch;
use super::shared::Shared;

/// Marks a response whose connection must be closed without answering.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

#[derive(Debug)]
struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}
impl std::error::Error for Dropped {}

/// Serves `cluster`'s API on 127.0.0.1:`port` (0 = ephemeral) from now on:
/// binds it and remembers how to serve it, so that [`Shared::open_api`]
/// can bring it back after an outage.
pub fn serve_cluster(shared: &Arc<Shared>, cluster: &str, port: u16) -> std::io::Result<u16> {
    let router = router(shared.clone(), cluster.to_string());
    let acceptor = shared.acceptor.clone();
    let serve: Serve = Arc::new(move |tcp, peer| {
        serve_connection(tcp, peer, acceptor.clone(), router.clone());
    });
    shared
        .listeners()
        .api_serve
        .insert(cluster.to_string(), serve);
    shared.open_api(cluster, port)
}

fn serve_connection(tcp: TcpStream, peer: SocketAddr, acceptor: TlsAcceptor, router: Router) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use tower::ServiceExt;

    tokio::spawn(async move {
        let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(err)) => {
                tracing::debug!(%err, %peer, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
        let cn = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|c| subject_cn(c));
        let service =
            hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                let router = router.clone();
                let cn = cn.clone();
                async move {
                    if let Some(cn) = cn {
                        req.extensions_mut().insert(ClientCn(cn));
                    }
                    let resp = match router.oneshot(req.map(Body::new)).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    if resp.extensions().get::<DropConnection>().is_some() {
                        return Err(Dropped);
                    }
                    Ok(resp)
                }
            });
        if let Err(err) = Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(tls), service)
            .await
        {
            tracing::debug!(%err, %peer, "connection ended");
        }
    });
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    cluster: String,
}

/// The router of one cluster: `/api/...` and the lab's `/_sim/...`.
pub fn router(shared: Arc<Shared>, cluster: String) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(AppState { shared, cluster })
}

fn dropped() -> Response {
    let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    r.extensions_mut().insert(DropConnection);
    r
}

fn json_response(status: StatusCode, body: &Value, location: Option<&str>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = (status, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/hal+json"),
    );
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

/// With `Accept: application/json`, ONTAP drops HAL links except a
/// collection's `next` and the `job` of an asynchronous answer: NetApp's
/// Ansible collection asks for `application/json` (`na_ontap_restit`) and
/// then follows `job._links.self.href` (`module_utils/netapp.py`
/// `wait_on_job`); see docs/ontap-rest.md §2.
fn strip_links(v: &mut Value, top: bool) {
    match v {
        Value::Object(m) => {
            if top && let Some(job) = m.get_mut("job") {
                let kept = job.get("_links").cloned();
                strip_links(job, false);
                if let Some(links) = kept {
                    job["_links"] = links;
                }
                for (k, child) in m.iter_mut() {
                    if k != "job" && k != "_links" {
                        strip_links(child, false);
                    }
                }
                m.remove("_links");
                return;
            }
            if top {
                if let Some(Value::Object(links)) = m.get_mut("_links") {
                    links.retain(|k, _| k == "next");
                    if links.is_empty() {
                        m.remove("_links");
                    }
                }
            } else {
                m.remove("_links");
            }
            for (k, child) in m.iter_mut() {
                if k != "_links" {
                    strip_links(child, false);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| strip_links(i, false)),
        _ => {}
    }
}

async fn handle(State(app): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return control::http(app.shared.clone(), &app.cluster, req).await;
    }
    match api(&app, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn api(app: &AppState, req: Request) -> Result<Response, ApiError> {
    let shared = &app.shared;
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let path_q = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    // Down, counting and faults, under one lock.
    let (fault, principal) = {
        let mut w = shared.world();
        let Some(ci) = w.cluster_idx(&app.cluster) else {
            return Ok(dropped());
        };
        let c = &mut w.clusters[ci];
        if c.down {
            return Ok(dropped());
        }
        c.requests += 1;
        *c.per_path
            .entry(format!("{} {}", parts.method, path))
            .or_insert(0) += 1;
        let fault = faults::take(&mut c.faults, &parts.method, &path_q);
        let principal = authenticate(c, &parts.headers, parts.extensions.get::<ClientCn>());
        (fault, principal)
    };
    let mut job_failure = None;
    match fault {
        Some(FaultKind::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Http500) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                1,
                format!(
                    "Internal error (injected fault) while serving {} {path}.",
                    parts.method
                ),
            ));
        }
        Some(FaultKind::DropConnection) => return Ok(dropped()),
        Some(FaultKind::JobFailure { code, message }) => {
            job_failure = Some((code.to_string(), message))
        }
        None => {}
    }
    let who = principal?;
    let Some(rest) = path.strip_prefix("/api") else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            3,
            format!("API not found: {path}"),
        ));
    };
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let query = Query::parse(parts.uri.query());
    let bytes = axum::body::to_bytes(body, 8 << 20)
        .await
        .map_err(|e| ApiError::invalid(format!("Cannot read the request body: {e}")))?;
    let body: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        expand_dotted(
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::invalid(format!("Invalid JSON in the request body: {e}")))?,
        )
    };
    if !body.is_null() && !body.is_object() {
        return Err(ApiError::invalid("The request body must be a JSON object."));
    }
    let json_only = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("hal+json"));
    let wait = if parts.method == http::Method::GET {
        0
    } else {
        query.return_timeout(0)?
    };
    let ctx = Ctx {
        cluster: app.cluster.clone(),
        method: parts.method.clone(),
        path: path.clone(),
        segs,
        query,
        body,
        who,
        job_failure,
    };
    let reply = {
        let mut w = shared.world();
        w.tick();
        dispatch(&mut w, &ctx)
    };
    shared.sync();
    let (status, mut body, location) = match reply? {
        Reply::Json {
            status,
            body,
            location,
        } => (status, body, location),
        Reply::Job {
            uuid,
            done_status,
            location,
            records,
        } => {
            let deadline = Instant::now() + Duration::from_secs(wait);
            let done = loop {
                let finished = {
                    let mut w = shared.world();
                    w.tick();
                    w.job(&uuid).map(|j| (j.state.terminal(), job_json(j)))
                };
                shared.sync();
                match finished {
                    Some((true, _)) => break true,
                    _ if Instant::now() >= deadline => break false,
                    _ => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            };
            let mut body = json!({"job": {"uuid": uuid, "_links": {"self": {"href": format!("/api/cluster/jobs/{uuid}")}}}});
            if let Some(Value::Object(extra)) = records {
                for (k, v) in extra {
                    body[k] = v;
                }
            }
            (
                if done {
                    done_status
                } else {
                    StatusCode::ACCEPTED
                },
                body,
                location,
            )
        }
    };
    if json_only {
        strip_links(&mut body, true);
    }
    Ok(json_response(status, &body, location.as_deref()))
}
