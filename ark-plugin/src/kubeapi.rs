//! A small, read-only Kubernetes API client for the few GETs the plugin
//! makes (ConfigMaps, TridentBackends and their Secrets, TridentVolumes,
//! StorageClasses, PersistentVolumes), on the same HTTP/TLS stack as the
//! ONTAP client (reqwest + rustls with ring). One stack instead of two keeps
//! the plugin small and its restore-time memory low.
//!
//! Configuration, as kube-rs's `Config::infer` finds it:
//! 1. in a pod: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account token
//!    and CA under `/var/run/secrets/kubernetes.io/serviceaccount` (the token
//!    file is re-read every minute: bound tokens rotate);
//! 2. otherwise the kubeconfig at `$KUBECONFIG` (first entry) or
//!    `~/.kube/config`: the current context's server, CA (`certificate-authority`
//!    or `-data`), and a bearer token (`token`, `tokenFile`) or client
//!    certificate (`client-certificate(-data)` + `client-key(-data)`).
//!    Exec and auth-provider plugins are not supported (a clear error).
//!
//! TLS is always verified; every call has a connect and a total timeout.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use svmdr::secret::Secret;

/// The service account directory of a pod.
const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// How long a token read from a file is reused.
const TOKEN_TTL: Duration = Duration::from_secs(60);
/// Page size for list calls.
const PAGE: &str = "500";
/// Loop guard for `continue` tokens.
const MAX_PAGES: usize = 1000;

/// Why the client could not be set up.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// A failed API call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct CallError {
    /// HTTP status, when the server answered.
    pub code: Option<u16>,
    /// What failed (never a token).
    pub detail: String,
}

enum Token {
    None,
    Fixed(Secret),
    File {
        path: PathBuf,
        cached: Mutex<Option<(Instant, Secret)>>,
    },
}

/// A configured client; cheap to clone.
#[derive(Clone)]
pub struct KubeApi {
    inner: Arc<Inner>,
}

struct Inner {
    server: url::Url,
    http: reqwest::Client,
    token: Token,
    source: String,
}

impl std::fmt::Debug for KubeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeApi")
            .field("server", &self.inner.server.as_str())
            .field("source", &self.inner.source)
            .finish_non_exhaustive()
    }
}

/// Where the settings came from and what they say (pure data, for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `in-cluster` or `kubeconfig <path> (context <name>)`.
    pub source: String,
    /// API server URL.
    pub server: String,
    /// CA bundle, PEM.
    pub ca_pem: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
    /// File to read the bearer token from.
    pub token_file: Option<PathBuf>,
    /// Client certificate and key, PEM.
    pub client_cert: Option<(String, String)>,
}

impl KubeApi {
    /// In a pod: the service account; else the kubeconfig.
    ///
    /// # Errors
    /// [`SetupError`] naming what is missing or unusable.
    pub fn infer() -> Result<Self, SetupError> {
        let settings = match in_cluster_settings(Path::new(SA_DIR))? {
            Some(s) => s,
            None => kubeconfig_settings()?,
        };
        Self::from_settings(settings)
    }

    /// Builds the client (no I/O).
    ///
    /// # Errors
    /// A bad URL, CA or client certificate.
    pub fn from_settings(s: Settings) -> Result<Self, SetupError> {
        let fail = |m: String| SetupError(format!("{}: {m}", s.source));
        let server = url::Url::parse(s.server.trim_end_matches('/'))
            .map_err(|e| fail(format!("server {:?} is not a URL: {e}", s.server)))?;
        if server.scheme() != "https" {
            return Err(fail(format!(
                "server {server} is not https; the plugin only talks TLS to the API server"
            )));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(format!("TLS set-up failed: {e}")))?;
        let mut roots = rustls::RootCertStore::empty();
        match &s.ca_pem {
            Some(pem) => {
                let certs: Vec<CertificateDer<'static>> =
                    CertificateDer::pem_slice_iter(pem.as_bytes())
                        .collect::<Result<_, _>>()
                        .map_err(|e| fail(format!("cannot read the API server CA: {e}")))?;
                if certs.is_empty() {
                    return Err(fail("the API server CA holds no certificate".into()));
                }
                for c in certs {
                    roots
                        .add(c)
                        .map_err(|e| fail(format!("the API server CA is not usable: {e}")))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let builder = builder.with_root_certificates(roots);
        let mut tls = match &s.client_cert {
            Some((cert, key)) => {
                let chain: Vec<CertificateDer<'static>> =
                    CertificateDer::pem_slice_iter(cert.as_bytes())
                        .collect::<Result<_, _>>()
                        .map_err(|e| fail(format!("cannot read the client certificate: {e}")))?;
                let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|_| {
                    fail("cannot read the client key (PKCS#8, PKCS#1 or SEC1 PEM)".into())
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| fail(format!("client certificate and key do not fit: {e}")))?
            }
            None => builder.with_no_client_auth(),
        };
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        let token = match (s.token, s.token_file) {
            (Some(t), _) => Token::Fixed(Secret::new(t)),
            (None, Some(path)) => Token::File {
                path,
                cached: Mutex::new(None),
            },
            (None, None) => Token::None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                server,
                http,
                token,
                source: s.source,
            }),
        })
    }

    /// Where the configuration came from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    fn bearer(&self) -> Result<Option<Secret>, CallError> {
        match &self.inner.token {
            Token::None => Ok(None),
            Token::Fixed(t) => Ok(Some(t.clone())),
            Token::File { path, cached } => {
                let mut c = cached
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some((at, t)) = c.as_ref()
                    && at.elapsed() < TOKEN_TTL
                {
                    return Ok(Some(t.clone()));
                }
                let t = std::fs::read_to_string(path)
                    .map(|s| Secret::new(s.trim()))
                    .map_err(|e| CallError {
                        code: None,
                        detail: format!("reading the token file {}: {e}", path.display()),
                    })?;
                *c = Some((Instant::now(), t.clone()));
                Ok(Some(t))
            }
        }
    }

    /// GETs `path` (e.g. `/api/v1/persistentvolumes/pv-1`); `None` on 404.
    ///
    /// # Errors
    /// [`CallError`] with the HTTP status and the API server's message.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<Value>, CallError> {
        let mut url = self.inner.server.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut req = self
            .inner
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(t) = self.bearer()? {
            let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.expose()))
                .map_err(|_| CallError {
                code: None,
                detail: "the bearer token is not a valid HTTP header value".into(),
            })?;
            v.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, v);
        }
        let resp = req.send().await.map_err(|e| CallError {
            code: None,
            detail: format!("GET {path} on {}: {}", self.inner.server, error_chain(&e)),
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| CallError {
            code: Some(status.as_u16()),
            detail: format!("GET {path}: reading the answer: {}", error_chain(&e)),
        })?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| {
                    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
                });
            return Err(CallError {
                code: Some(status.as_u16()),
                detail: format!("GET {path}: HTTP {status}: {message}"),
            });
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| CallError {
                code: Some(status.as_u16()),
                detail: format!("GET {path}: the answer is not JSON: {e}"),
            })
    }

    /// Lists a collection, following `continue` tokens; a missing collection
    /// (404, e.g. CRD not installed) is an error naming the path.
    ///
    /// # Errors
    /// [`CallError`].
    pub async fn list(
        &self,
        path: &str,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, CallError> {
        let mut items = Vec::new();
        let mut cont = String::new();
        for _ in 0..MAX_PAGES {
            let mut q: Vec<(&str, &str)> = vec![("limit", PAGE)];
            if let Some(sel) = label_selector {
                q.push(("labelSelector", sel));
            }
            if !cont.is_empty() {
                q.push(("continue", &cont));
            }
            let page = self.get(path, &q).await?.ok_or_else(|| CallError {
                code: Some(404),
                detail: format!("GET {path}: HTTP 404 Not Found (is the resource installed?)"),
            })?;
            if let Some(Value::Array(a)) = page.get("items") {
                items.extend(a.iter().cloned());
            }
            cont = page
                .pointer("/metadata/continue")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if cont.is_empty() {
                break;
            }
        }
        Ok(items)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// The pod's service account settings, if running in a pod.
///
/// # Errors
/// In a pod whose token or CA cannot be read.
pub fn in_cluster_settings(dir: &Path) -> Result<Option<Settings>, SetupError> {
    let (Ok(host), Ok(port)) = (
        std::env::var("KUBERNETES_SERVICE_HOST"),
        std::env::var("KUBERNETES_SERVICE_PORT"),
    ) else {
        return Ok(None);
    };
    let token_file = dir.join("token");
    if !token_file.exists() {
        return Ok(None);
    }
    let ca = std::fs::read_to_string(dir.join("ca.crt")).map_err(|e| {
        SetupError(format!(
            "in-cluster: reading {}: {e}",
            dir.join("ca.crt").display()
        ))
    })?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    Ok(Some(Settings {
        source: "in-cluster service account".into(),
        server: format!("https://{host}:{port}"),
        ca_pem: Some(ca),
        token: None,
        token_file: Some(token_file),
        client_cert: None,
    }))
}

fn kubeconfig_settings() -> Result<Settings, SetupError> {
    let path = match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(v) => std::env::split_paths(&v).next().unwrap_or_default(),
        None => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".kube/config"),
            None => {
                return Err(SetupError(
                    "not in a pod (no KUBERNETES_SERVICE_HOST) and no KUBECONFIG or HOME".into(),
                ));
            }
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        SetupError(format!(
            "not in a pod (no KUBERNETES_SERVICE_HOST), and cannot read kubeconfig {}: {e}",
            path.display()
        ))
    })?;
    settings_from_kubeconfig(&text, &path)
}

/// Reads the current context of a kubeconfig (pure apart from reading the
/// files it names, relative to its own directory).
///
/// # Errors
/// A missing context, cluster or user, or an unsupported login method.
pub fn settings_from_kubeconfig(text: &str, path: &Path) -> Result<Settings, SetupError> {
    let fail = |m: String| SetupError(format!("kubeconfig {}: {m}", path.display()));
    // JSON is valid YAML; parse it directly when it is JSON.
    let doc: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| fail(format!("not valid JSON: {e}")))?
    } else {
        serde_yaml::from_str(text).map_err(|e| fail(format!("not valid YAML: {e}")))?
    };
    let current = doc
        .get("current-context")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if current.is_empty() {
        return Err(fail("no current-context".into()));
    }
    let named = |list: &str, name: &str, inner: &str| {
        doc.get(list)
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
            })
            .and_then(|e| e.get(inner))
            .cloned()
    };
    let ctx = named("contexts", current, "context")
        .ok_or_else(|| fail(format!("context {current} not found")))?;
    let cluster_name = ctx
        .get("cluster")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let user_name = ctx.get("user").and_then(Value::as_str).unwrap_or_default();
    let cluster = named("clusters", cluster_name, "cluster")
        .ok_or_else(|| fail(format!("cluster {cluster_name} not found")))?;
    let user = named("users", user_name, "user").unwrap_or(Value::Null);
    let base = path.parent().unwrap_or(Path::new("."));
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let file_or_data =
        |v: &Value, file_key: &str, data_key: &str| -> Result<Option<String>, SetupError> {
            if let Some(d) = s(v, data_key) {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(d.trim())
                    .map_err(|e| fail(format!("{data_key} is not base64: {e}")))?;
                return String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| fail(format!("{data_key} is not PEM text")));
            }
            match s(v, file_key) {
                Some(f) => std::fs::read_to_string(base.join(&f))
                    .map(Some)
                    .map_err(|e| fail(format!("reading {file_key} {f}: {e}"))),
                None => Ok(None),
            }
        };
    if cluster
        .get("insecure-skip-tls-verify")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Err(fail(format!(
            "cluster {cluster_name} sets insecure-skip-tls-verify; the plugin always verifies TLS: give certificate-authority(-data)"
        )));
    }
    if user.get("exec").is_some() || user.get("auth-provider").is_some() {
        return Err(fail(format!(
            "user {user_name} logs in through an exec or auth-provider plugin, which the Velero plugin does not run; \
             use a token or client certificate (in a pod, the service account is used)"
        )));
    }
    let cert = file_or_data(&user, "client-certificate", "client-certificate-data")?;
    let key = file_or_data(&user, "client-key", "client-key-data")?;
    Ok(Settings {
        source: format!("kubeconfig {} (context {current})", path.display()),
        server: s(&cluster, "server")
            .ok_or_else(|| fail(format!("cluster {cluster_name} has no server")))?,
        ca_pem: file_or_data(
            &cluster,
            "certificate-authority",
            "certificate-authority-data",
        )?,
        token: s(&user, "token"),
        token_file: s(&user, "tokenFile").map(|f| base.join(f)),
        client_cert: cert.zip(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC: &str = r#"
apiVersion: v1
kind: Config
current-context: dr
clusters:
  - name: dr
    cluster: { server: "https://127.0.0.1:6443", certificate-authority-data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==" }
  - name: other
    cluster: { server: "https://10.0.0.1" }
users:
  - name: dr
    user: { token: "abc" }
contexts:
  - name: dr
    context: { cluster: dr, user: dr }
"#;

    #[test]
    fn reads_the_current_context() {
        let s = settings_from_kubeconfig(KC, Path::new("/tmp/kc")).unwrap();
        assert_eq!(s.server, "https://127.0.0.1:6443");
        assert_eq!(s.token.as_deref(), Some("abc"));
        assert!(s.ca_pem.unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(s.source.contains("context dr"));
    }

    #[test]
    fn json_kubeconfig_too() {
        let v: Value = serde_yaml::from_str(KC).unwrap();
        let s = settings_from_kubeconfig(&v.to_string(), Path::new("/tmp/kc")).unwrap();
        assert_eq!(s.server, "https://127.0.0.1:6443");
    }

    #[test]
    fn refuses_what_it_cannot_do_safely() {
        let insecure = KC.replace(
            "certificate-authority-data: \"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\"",
            "insecure-skip-tls-verify: true",
        );
        let e = settings_from_kubeconfig(&insecure, Path::new("/tmp/kc")).unwrap_err();
        assert!(e.0.contains("insecure-skip-tls-verify"), "{e}");
        let exec = KC.replace(
            "user: { token: \"abc\" }",
            "user: { exec: { command: aws } }",
        );
        let e = settings_from_kubeconfig(&exec, Path::new("/tmp/kc")).unwrap_err();
        assert!(e.0.contains("exec"), "{e}");
        let e =
            settings_from_kubeconfig("current-context: nope\n", Path::new("/tmp/kc")).unwrap_err();
        assert!(e.0.contains("context nope not found"), "{e}");
        let e = KubeApi::from_settings(Settings {
            source: "t".into(),
            server: "http://127.0.0.1".into(),
            ca_pem: None,
            token: None,
            token_file: None,
            client_cert: None,
        })
        .unwrap_err();
        assert!(e.0.contains("not https"), "{e}");
    }

    #[test]
    fn not_in_a_pod_without_the_service_env() {
        // The test environment has no KUBERNETES_SERVICE_HOST (or no token file).
        let dir = tempfile::tempdir().unwrap();
        assert!(in_cluster_settings(dir.path()).unwrap().is_none());
    }

    #[test]
    fn tokens_never_print() {
        let api = KubeApi::from_settings(Settings {
            source: "t".into(),
            server: "https://127.0.0.1:1".into(),
            ca_pem: None,
            token: Some("topsecret".into()),
            token_file: None,
            client_cert: None,
        })
        .unwrap();
        assert!(!format!("{api:?}").contains("topsecret"));
    }
}
