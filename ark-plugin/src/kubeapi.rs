//! The plugin's small, read-only Kubernetes API client, for the few GETs
//! and LISTs it makes (ConfigMaps, TridentBackends and their Secrets,
//! TridentVolumes, StorageClasses, PersistentVolumes, Nodes), on the same
//! HTTP/TLS stack as the ONTAP client (reqwest + rustls with ring, TLS set
//! up by [`svmdr::ontap::verified_client_config`]).
//!
//! Why not kube's client (which `svmdr` uses for the CLI): measured with
//! `ark-plugin/bench.sh`, it raised the restore process's peak RSS from
//! about 7.1 MiB to 8.8 MiB, 0.61x the Go baseline against a goal of
//! 0.6x; start-to-handshake did not change.
//!
//! Settings come from [`settings`]: the pod's service account, else the
//! kubeconfig files merged as kubectl merges them. TLS is always verified;
//! every call has a connect and a total timeout.

mod settings;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use svmdr::error_chain;
use svmdr::secret::Secret;

pub use settings::{
    SA_DIR, Settings, SetupError, in_cluster_settings, kubeconfig_paths, settings_from_files,
    settings_from_kubeconfig,
};

/// How long a token read from a file is reused.
const TOKEN_TTL: Duration = Duration::from_secs(60);
/// Page size for list calls.
const PAGE: &str = "500";
/// Loop guard for `continue` tokens.
const MAX_PAGES: usize = 1000;

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

impl KubeApi {
    /// In a pod: the service account; else the kubeconfig.
    ///
    /// # Errors
    /// [`SetupError`] naming what is missing or unusable.
    pub fn infer() -> Result<Self, SetupError> {
        Self::from_settings(settings::infer()?)
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
        let key = s
            .client_cert
            .as_ref()
            .map(|(_, key)| Secret::new(key.as_str()));
        let client_cert = s
            .client_cert
            .as_ref()
            .zip(key.as_ref())
            .map(|((cert, _), key)| (cert.as_str(), key));
        let tls = svmdr::ontap::verified_client_config(s.ca_pem.as_deref(), client_cert)
            .map_err(|e| fail(format!("TLS to the API server: {e}")))?;
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
            detail: format!(
                "GET {path} on {}: {}",
                self.inner.server,
                error_chain::render(&e)
            ),
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| CallError {
            code: Some(status.as_u16()),
            detail: format!(
                "GET {path}: reading the answer: {}",
                error_chain::render(&e)
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(server: &str, token: Option<&str>) -> Settings {
        Settings {
            source: "t".into(),
            server: server.into(),
            ca_pem: None,
            token: token.map(str::to_string),
            token_file: None,
            client_cert: None,
        }
    }

    #[test]
    fn refuses_plain_http() {
        let e = KubeApi::from_settings(settings("http://127.0.0.1", None)).unwrap_err();
        assert!(e.0.contains("not https"), "{e}");
    }

    #[test]
    fn a_bad_ca_names_the_api_server() {
        let mut s = settings("https://127.0.0.1:1", None);
        s.ca_pem = Some("not a certificate".into());
        let e = KubeApi::from_settings(s).unwrap_err();
        assert!(e.0.contains("TLS to the API server"), "{e}");
    }

    #[test]
    fn tokens_never_print() {
        let api =
            KubeApi::from_settings(settings("https://127.0.0.1:1", Some("topsecret"))).unwrap();
        assert!(!format!("{api:?}").contains("topsecret"));
    }
}
