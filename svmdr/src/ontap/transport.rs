//! [`OntapClient`] and its HTTP plumbing: one connection pool per cluster,
//! authentication, timeouts, retries of idempotent GETs, error decoding,
//! `_links.next` pagination and the hand-off of async jobs to
//! [`crate::ontap::jobs`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::config::{Auth, OntapConfig, Timeouts, normalize_endpoint};
use super::error::{ApiFault, ErrorKind, OntapError, redact_excerpt};
use super::query::Query;

/// How many times an idempotent GET is tried in all.
const GET_ATTEMPTS: u32 = 3;
/// How many times a GET whose connection was refused is tried in all.
const REFUSED_ATTEMPTS: u32 = 2;
/// First retry delay; each further retry waits four times longer.
const RETRY_BASE: Duration = Duration::from_millis(100);
/// Most `_links.next` pages followed for one collection (a loop guard).
const MAX_PAGES: usize = 10_000;
/// Largest response body read (a guard against a runaway server).
const MAX_BODY_BYTES: usize = 64 << 20;
/// Characters of a bad body quoted in an error.
const EXCERPT_CHARS: usize = 160;

/// An async client for one ONTAP cluster. Cheap to clone (an `Arc` inside);
/// clones share one connection pool.
#[derive(Clone)]
pub struct OntapClient {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    name: String,
    credentials: Option<String>,
    endpoint: String,
    base: url::Url,
    http: reqwest::Client,
    authorization: Option<HeaderValue>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for OntapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OntapClient")
            .field("name", &self.inner.name)
            .field("endpoint", &self.inner.endpoint)
            .field("timeouts", &self.inner.timeouts)
            .finish_non_exhaustive()
    }
}

/// Whether an endpoint may answer with an async job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallMode {
    /// May return 202 + job; takes `return_timeout`.
    Job,
    /// Always synchronous; takes no `return_timeout`.
    Immediate,
}

/// A decoded 2xx response to a POST, PATCH or DELETE, after any job it
/// started has finished successfully.
#[derive(Debug, Clone)]
pub(crate) struct Mutation {
    /// The JSON body (`Null` when empty).
    pub body: Value,
    /// The `Location` header, if any (path of the created object).
    pub location: Option<String>,
}

impl Mutation {
    /// The created record: `records[0]` when ONTAP returned records, else
    /// the body itself (without the job link).
    pub(crate) fn record(&self) -> Option<&Value> {
        match self.body.get("records").and_then(Value::as_array) {
            Some(records) => records.first(),
            None if self.body.is_object() => Some(&self.body),
            None => None,
        }
    }

    /// The last path segment of the `Location` header (a new object's UUID).
    pub(crate) fn location_uuid(&self) -> Option<String> {
        let loc = self.location.as_deref()?;
        let path = loc.split('?').next()?;
        path.trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
}

#[derive(Deserialize)]
struct Page<T> {
    records: Vec<T>,
    #[serde(default, rename = "_links")]
    links: Option<PageLinks>,
}

#[derive(Deserialize)]
struct PageLinks {
    #[serde(default)]
    next: Option<Href>,
}

#[derive(Deserialize)]
struct Href {
    href: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    target: Option<String>,
}

/// One raw HTTP exchange.
struct RawResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl OntapClient {
    /// Builds a client for one cluster. No I/O happens here.
    ///
    /// # Errors
    /// A `Config` error when the endpoint, the CA or the client certificate
    /// is unusable.
    pub fn new(config: OntapConfig) -> Result<Self, OntapError> {
        let fail = |detail: String| {
            OntapError::new(
                &config.name,
                "configure client",
                ErrorKind::Config { detail },
            )
        };
        let base = normalize_endpoint(&config.endpoint).map_err(fail)?;
        let tls = super::tls::client_config(&config.tls, &config.auth).map_err(fail)?;
        let authorization = match &config.auth {
            Auth::Basic { username, password } => {
                if username.is_empty() {
                    return Err(fail("the ONTAP username is empty".into()));
                }
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                let mut value = HeaderValue::from_str(&format!("Basic {token}"))
                    .map_err(|_| fail("the username cannot be sent in an HTTP header".into()))?;
                value.set_sensitive(true);
                Some(value)
            }
            Auth::Certificate { .. } => None,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/hal+json, application/json"),
        );
        headers.insert(
            "X-Dot-Client-App",
            HeaderValue::from_static(concat!("svmdr/", env!("CARGO_PKG_VERSION"))),
        );
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(config.timeouts.connect);
        if let Some(limit) = config.timeouts.request_limit() {
            builder = builder.timeout(limit);
        }
        let http = builder
            .pool_idle_timeout(Duration::from_secs(50))
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        let endpoint = base.as_str().trim_end_matches('/').to_string();
        Ok(Self {
            inner: Arc::new(Inner {
                name: config.name,
                credentials: None,
                endpoint,
                base,
                http,
                authorization,
                timeouts: config.timeouts,
            }),
        })
    }

    /// The cluster label used in errors and logs.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The normalised endpoint, e.g. `https://10.0.0.5` (without `/api`).
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The configured timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.inner.timeouts
    }

    /// GET any `/api/...` path and return the raw JSON: an escape hatch for
    /// fields this client does not model. `path` may omit the `/api` prefix.
    ///
    /// # Errors
    /// As for every call: HTTP, TLS, timeout, ONTAP error or bad JSON.
    pub async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, OntapError> {
        let path = api_path(path);
        let mut q = Query::new();
        for (k, v) in query {
            q = q.param(*k, *v);
        }
        self.get(&path, &q).await
    }

    pub(crate) fn error(&self, call: &str, kind: ErrorKind) -> OntapError {
        OntapError::new(&self.inner.name, call, kind)
            .with_credentials(self.inner.credentials.clone())
    }

    /// The same client, naming where its credentials came from in
    /// authentication and permission errors (never the credentials).
    #[must_use]
    pub fn with_credentials_source(self, source: impl Into<String>) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.credentials = Some(source.into());
        Self {
            inner: Arc::new(inner),
        }
    }

    /// GET one object, retrying connect failures and 5xx.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
    ) -> Result<T, OntapError> {
        let url = self.url(path, query)?;
        let call = format!("GET {path}");
        let raw = self.get_with_retries(&call, url).await?;
        decode(self, &call, &raw)
    }

    /// GET a collection, following `_links.next` to the end.
    pub(crate) async fn get_collection<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
    ) -> Result<Vec<T>, OntapError> {
        let call = format!("GET {path}");
        let mut url = self.url(path, query)?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let raw = self.get_with_retries(&call, url.clone()).await?;
            let page: Page<T> = decode(self, &call, &raw)?;
            out.extend(page.records);
            let Some(next) = page.links.and_then(|l| l.next) else {
                return Ok(out);
            };
            let next_url = self.next_url(&call, &next.href)?;
            if !seen.insert(next_url.to_string()) {
                return Err(self.error(
                    &call,
                    ErrorKind::Malformed {
                        detail: "the _links.next chain loops back to a page already read".into(),
                        excerpt: redact_excerpt(&next.href, EXCERPT_CHARS),
                    },
                ));
            }
            url = next_url;
        }
        Err(self.error(
            &call,
            ErrorKind::Malformed {
                detail: format!("more than {MAX_PAGES} pages of results; narrow the query"),
                excerpt: String::new(),
            },
        ))
    }

    /// POST, PATCH or DELETE once (never retried), then wait for any job the
    /// response names. For [`CallMode::Job`] endpoints `return_timeout` is always
    /// sent, so quick jobs finish within the call.
    pub(crate) async fn mutate(
        &self,
        method: Method,
        path: &str,
        query: Query,
        body: Option<&Value>,
        mode: CallMode,
    ) -> Result<Mutation, OntapError> {
        let call = format!("{method} {path}");
        let query = match mode {
            CallMode::Job => query.param("return_timeout", self.return_timeout().to_string()),
            CallMode::Immediate => query,
        };
        let url = self.url(path, &query)?;
        let raw = self.send_once(&call, method, url, body).await?;
        let status = raw.status;
        if !status.is_success() {
            return Err(self.api_error(&call, &raw));
        }
        let location = raw
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body: Value = if raw.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            decode(self, &call, &raw)?
        };
        for job in job_uuids(&body) {
            self.wait_job(&call, &job).await?;
        }
        Ok(Mutation { body, location })
    }

    /// Seconds ONTAP may hold a mutating call open to finish its job: short
    /// enough to stay well inside the request timeout, never above 120.
    fn return_timeout(&self) -> u64 {
        // No request limit: ONTAP's own short hold.
        let half = self
            .inner
            .timeouts
            .request_limit()
            .map_or(10, |t| t.as_secs() / 2);
        half.clamp(0, 5).min(120)
    }

    fn url(&self, path: &str, query: &Query) -> Result<url::Url, OntapError> {
        let mut url = self.inner.base.join(path).map_err(|e| {
            self.error(
                &format!("request {path}"),
                ErrorKind::Config {
                    detail: format!("cannot build a URL for {path}: {e}"),
                },
            )
        })?;
        if !query.is_empty() {
            url.set_query(Some(&query.encode()));
        }
        Ok(url)
    }

    /// Resolves a `_links.next` href; it must stay on this cluster.
    fn next_url(&self, call: &str, href: &str) -> Result<url::Url, OntapError> {
        let bad = |detail: String| {
            self.error(
                call,
                ErrorKind::Malformed {
                    detail,
                    excerpt: redact_excerpt(href, EXCERPT_CHARS),
                },
            )
        };
        let url = self
            .inner
            .base
            .join(href)
            .map_err(|e| bad(format!("_links.next is not a valid link: {e}")))?;
        if url.origin() != self.inner.base.origin() || !url.path().starts_with("/api/") {
            return Err(bad("_links.next points outside this cluster's /api".into()));
        }
        Ok(url)
    }

    async fn get_with_retries(&self, call: &str, url: url::Url) -> Result<RawResponse, OntapError> {
        let mut delay = RETRY_BASE;
        let mut attempt = 1;
        loop {
            let result = self.send_once(call, Method::GET, url.clone(), None).await;
            // A refused connection means nothing listens there (the cluster
            // or its web service is down, or a LIF is moving): one quick
            // retry covers a restart; more would only delay the answer a
            // failover is waiting for.
            let attempts = match &result {
                Err(e) if is_refused(e) => REFUSED_ATTEMPTS,
                _ => GET_ATTEMPTS,
            };
            let retry = match &result {
                Ok(raw) => raw.status.is_server_error(),
                Err(e) => matches!(
                    e.kind,
                    ErrorKind::Connect { .. } | ErrorKind::Transport { .. }
                ),
            };
            if !retry || attempt >= attempts {
                let raw = result?;
                if !raw.status.is_success() {
                    return Err(self.api_error(call, &raw));
                }
                return Ok(raw);
            }
            tracing::debug!(cluster = %self.inner.name, %call, attempt, "retrying GET in {delay:?}");
            tokio::time::sleep(delay).await;
            delay *= 4;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        call: &str,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
    ) -> Result<RawResponse, OntapError> {
        let started = Instant::now();
        let mut req = self.inner.http.request(method.clone(), url);
        if let Some(auth) = &self.inner.authorization {
            req = req.header(http::header::AUTHORIZATION, auth.clone());
        }
        if let Some(body) = body {
            req = req
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let result = async {
            let mut resp = req.send().await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Ok(Err(body.len() + chunk.len()));
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>(Ok(RawResponse {
                status,
                headers,
                body,
            }))
        }
        .await;
        let result = match result {
            Ok(Ok(raw)) => Ok(raw),
            Ok(Err(size)) => {
                return Err(self.error(
                    call,
                    ErrorKind::Malformed {
                        detail: format!(
                            "the response is larger than {} MiB (read {size} bytes); narrow the query",
                            MAX_BODY_BYTES >> 20
                        ),
                        excerpt: String::new(),
                    },
                ));
            }
            Err(e) => Err(e),
        };
        let ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(raw) => {
                tracing::debug!(cluster = %self.inner.name, %call, status = raw.status.as_u16(), ms, "ontap call");
                Ok(raw)
            }
            Err(err) => {
                let kind = classify_transport(&err, self.inner.timeouts.request);
                tracing::debug!(cluster = %self.inner.name, %call, ms, error = %kind, "ontap call failed");
                Err(self.error(call, kind).with_source(err.without_url()))
            }
        }
    }

    fn api_error(&self, call: &str, raw: &RawResponse) -> OntapError {
        let status = raw.status.as_u16();
        if status == 401 {
            return self.error(
                call,
                ErrorKind::Unauthorized {
                    http_status: status,
                },
            );
        }
        let fault = match serde_json::from_slice::<ErrorBody>(&raw.body) {
            Ok(body) => ApiFault {
                http_status: status,
                code: body.error.code.as_ref().and_then(code_string),
                message: body.error.message.unwrap_or_default(),
                target: body.error.target,
            },
            Err(_) => {
                let text = String::from_utf8_lossy(&raw.body);
                let message = if text.trim().is_empty() {
                    format!("HTTP {status} with an empty body")
                } else {
                    format!(
                        "HTTP {status} without an ONTAP error body: {:?}",
                        redact_excerpt(&text, EXCERPT_CHARS)
                    )
                };
                ApiFault {
                    http_status: status,
                    code: None,
                    message,
                    target: None,
                }
            }
        };
        self.error(call, ErrorKind::from_fault(fault))
    }
}

/// ONTAP's error code as a string (it is a string of digits, but accept a
/// number too).
fn code_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `path` with the `/api` prefix, whatever the caller gave.
fn api_path(path: &str) -> String {
    let p = path.trim_start_matches('/');
    if p == "api" || p.starts_with("api/") {
        format!("/{p}")
    } else {
        format!("/api/{p}")
    }
}

/// Job UUIDs named by a mutating call's response: `job.uuid`, or each
/// `jobs[].uuid` (collection PATCH/DELETE).
fn job_uuids(body: &Value) -> Vec<String> {
    let one = |j: &Value| j.get("uuid").and_then(Value::as_str).map(str::to_string);
    let mut out: Vec<String> = body.get("job").and_then(one).into_iter().collect();
    if let Some(jobs) = body.get("jobs").and_then(Value::as_array) {
        out.extend(jobs.iter().filter_map(one));
    }
    out
}

/// Decodes a 2xx JSON body into `T`, or explains why it cannot.
fn decode<T: DeserializeOwned>(
    client: &OntapClient,
    call: &str,
    raw: &RawResponse,
) -> Result<T, OntapError> {
    let text = String::from_utf8_lossy(&raw.body);
    let content_type = raw
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !(essence == "application/json" || essence.ends_with("+json")) {
        let shown = if content_type.is_empty() {
            "none"
        } else {
            content_type
        };
        return Err(client.error(
            call,
            ErrorKind::Malformed {
                detail: format!(
                    "HTTP {} with content type {shown}, not JSON",
                    raw.status.as_u16()
                ),
                excerpt: redact_excerpt(&text, EXCERPT_CHARS),
            },
        ));
    }
    serde_json::from_slice(&raw.body).map_err(|e| {
        let detail = match e.classify() {
            serde_json::error::Category::Eof => {
                format!("the JSON body ends early (truncated?): {e}")
            }
            serde_json::error::Category::Syntax => format!("the body is not valid JSON: {e}"),
            _ => format!("the JSON does not have the expected shape: {e}"),
        };
        client
            .error(
                call,
                ErrorKind::Malformed {
                    detail,
                    excerpt: redact_excerpt(&text, EXCERPT_CHARS),
                },
            )
            .with_source(e)
    })
}

/// Maps a reqwest failure to an [`ErrorKind`], telling TLS problems apart
/// from plain connect failures by walking the source chain.
fn classify_transport(err: &reqwest::Error, request_timeout: Duration) -> ErrorKind {
    if err.is_timeout() {
        return ErrorKind::Timeout {
            after: request_timeout,
        };
    }
    // The causes only: reqwest's own text repeats the URL.
    let chain = crate::error_chain::render_causes(err);
    if let Some(tls) = find_rustls(err) {
        return ErrorKind::Tls {
            detail: tls.to_string(),
        };
    }
    // Certificate problems sometimes arrive as text only (wrapped I/O
    // errors); an EOF mentioning TLS close_notify is a dropped connection,
    // not a trust problem, so match on "certificate" alone.
    if chain.to_ascii_lowercase().contains("certificate") {
        return ErrorKind::Tls { detail: chain };
    }
    if err.is_connect() {
        return ErrorKind::Connect { detail: chain };
    }
    ErrorKind::Transport { detail: chain }
}

/// Whether the connection was actively refused (an `ECONNREFUSED`
/// somewhere in the error's source chain).
fn is_refused(err: &OntapError) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = err
        .source
        .as_deref()
        .map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        cur = e.source();
    }
    false
}

fn find_rustls<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(t) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_path_adds_prefix_once() {
        assert_eq!(api_path("cluster"), "/api/cluster");
        assert_eq!(api_path("/api/cluster"), "/api/cluster");
        assert_eq!(api_path("api/svm/svms"), "/api/svm/svms");
    }

    #[test]
    fn finds_job_uuids() {
        let v: Value = serde_json::json!({"job": {"uuid": "a", "_links": {}}});
        assert_eq!(job_uuids(&v), vec!["a"]);
        let v: Value = serde_json::json!({"jobs": [{"uuid": "a"}, {"uuid": "b"}]});
        assert_eq!(job_uuids(&v), vec!["a", "b"]);
        assert!(job_uuids(&serde_json::json!({"num_records": 1})).is_empty());
        assert!(job_uuids(&Value::Null).is_empty());
    }

    #[test]
    fn code_accepts_string_or_number() {
        assert_eq!(code_string(&serde_json::json!("4")), Some("4".into()));
        assert_eq!(
            code_string(&serde_json::json!(13303812)),
            Some("13303812".into())
        );
        assert_eq!(code_string(&serde_json::json!(null)), None);
    }
}
