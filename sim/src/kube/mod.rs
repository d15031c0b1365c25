//! The in-memory Kubernetes API: a real HTTPS API server on
//! `127.0.0.1:<ephemeral>` that kube-rs (`Api<K>`, `Api<DynamicObject>`,
//! `Discovery`, `runtime::watcher`) and kubectl use exactly as they would a
//! real cluster.
//!
//! - [`KubeSim`]: start a cluster, seed and inspect objects in-process, take
//!   it down and up, read the request log.
//! - [`write_kubeconfig`]: a kubeconfig with one context per cluster.
//! - [`fixtures`]: Trident and Velero objects as those tools create them, and
//!   [`fixtures::TridentSite`] to seed a whole Trident install.
//! - [`ResourceType`]: register another CRD in one line.
//!
//! # Usage
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let primary = sim::kube::KubeSim::start("primary").await?;
//! primary.apply(sim::kube::fixtures::ontap_credentials_secret("ontap-creds", "trident", "admin", "pw"))?;
//! let dir = tempfile::tempdir()?;
//! sim::kube::write_kubeconfig(&dir.path().join("config"), &[("primary", &primary)])?;
//! # Ok(()) }
//! ```
//!
//! # Caveats
//! No admission, RBAC, schema validation, garbage
//! collection or controllers run (objects are stored as written, apart from
//! the fields and defaults the API server itself owns). What is copied from
//! the API server, and what is not yet, is in `docs/kubernetes-api.md`.

mod auth;
mod discovery;
pub mod fixtures;
mod gnostic;
mod handlers;
mod kubeconfig;
mod managed;
mod microtime;
mod openapi;
mod patch;
mod protobuf;
mod resources;
mod schemas;
mod selectors;
mod server;
mod status;
mod store;
mod strategic;
mod subresources;
mod table;
mod watch;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

pub use kubeconfig::{kubeconfig_yaml, write_kubeconfig};
pub use resources::{Registry, ResourceType};
pub use status::ApiError;

use handlers::{App, ServerConfig};
use store::{Store, WriteOpts};

/// Tuning for one simulated API server.
#[derive(Clone, Debug)]
pub struct KubeSimOptions {
    /// Longest a watch stays open whatever `timeoutSeconds` asks (a real
    /// server uses about 30 minutes); clients must re-watch after it.
    pub max_watch_timeout: Duration,
    /// How often an idle watch that allows bookmarks gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// Change events kept for watches that resume from a resourceVersion;
    /// older resourceVersions get 410 Expired.
    pub history_limit: usize,
}

impl Default for KubeSimOptions {
    fn default() -> Self {
        Self {
            max_watch_timeout: Duration::from_secs(1800),
            bookmark_interval: Duration::from_secs(60),
            history_limit: 10_000,
        }
    }
}

/// A running simulated Kubernetes API server; stops on drop.
pub struct KubeSim {
    name: String,
    url: String,
    ca_pem: String,
    app: Arc<App>,
    server: server::Server,
}

impl std::fmt::Debug for KubeSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeSim")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A hook run after an object is created (over HTTP or in-process).
pub type CreateHook = Box<dyn Fn(&Value) + Send + Sync>;

const BOOT_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

impl KubeSim {
    /// Starts a cluster named `name` (e.g. `primary`) with default options.
    ///
    /// # Errors
    /// When certificates cannot be made or no port can be bound.
    pub async fn start(name: &str) -> Result<KubeSim> {
        Self::start_with(name, KubeSimOptions::default()).await
    }

    /// Starts a cluster with explicit options.
    ///
    /// # Errors
    /// When certificates cannot be made or no port can be bound.
    pub async fn start_with(name: &str, options: KubeSimOptions) -> Result<KubeSim> {
        let identity = crate::tls::Identity::generate(&format!("kube-{name}"), &[])
            .with_context(|| format!("making the lab CA for cluster {name}"))?;
        let store = Arc::new(Store::new(Registry::standard(), options.history_limit));
        let custom: Vec<ResourceType> = store
            .lock()
            .registry
            .all()
            .iter()
            .filter(|t| t.custom)
            .cloned()
            .collect();
        let ns_rt = store
            .resource_by_kind("v1", "Namespace")
            .context("the registry lacks namespaces")?;
        for ns in BOOT_NAMESPACES {
            store
                .create(
                    &ns_rt,
                    "",
                    serde_json::json!({"metadata": {"name": ns}}),
                    WriteOpts::default(),
                )
                .map_err(|e| anyhow::anyhow!("creating namespace {ns}: {e}"))?;
        }
        for t in custom {
            store.register(t);
        }
        let token = auth::generate_token();
        let config = ServerConfig {
            max_watch_timeout: options.max_watch_timeout,
            bookmark_interval: options.bookmark_interval,
        };
        let acceptor = identity.acceptor()?;
        let mut app_slot = None;
        let server = server::Server::start(acceptor, |addr| {
            let app = Arc::new(App {
                store,
                token,
                address: addr.to_string(),
                config,
                log: Mutex::new(Vec::new()),
            });
            app_slot = Some(app.clone());
            handlers::router(app)
        })
        .await?;
        let app = app_slot.context("the server did not build its router")?;
        Ok(KubeSim {
            name: name.to_string(),
            url: format!("https://{}", server.addr()),
            ca_pem: identity.ca_pem().to_string(),
            app,
            server,
        })
    }

    /// The server URL, `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The lab CA certificate (PEM) clients must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The bearer token every request must carry.
    pub fn token(&self) -> &str {
        &self.app.token
    }

    /// The cluster name given at start.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.app.store.current_rv()
    }

    /// A cloneable handle on this cluster's objects, for hooks and
    /// simulated controllers that outlive a borrow of the `KubeSim`.
    pub fn handle(&self) -> KubeHandle {
        KubeHandle {
            name: self.name.clone(),
            app: self.app.clone(),
        }
    }

    /// Registers another resource type (and its CRD object if custom).
    pub fn register(&self, t: ResourceType) {
        self.app.store.register(t);
    }

    /// See [`KubeHandle::apply`].
    ///
    /// # Errors
    /// As [`KubeHandle::apply`].
    pub fn apply(&self, obj: Value) -> Result<Value> {
        self.handle().apply(obj)
    }

    /// See [`KubeHandle::get`].
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        self.handle().get(api_version, kind, namespace, name)
    }

    /// See [`KubeHandle::list`].
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        self.handle().list(api_version, kind, namespace)
    }

    /// See [`KubeHandle::delete`].
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        self.handle().delete(api_version, kind, namespace, name)
    }

    /// Takes the server down (connections refused, open connections and
    /// watches cut) or brings it back on the same port, for "site lost".
    /// A failure to bind the port again is logged; see
    /// [`KubeSim::try_set_down`] to get it as an error.
    pub fn set_down(&self, down: bool) {
        if let Err(err) = self.try_set_down(down) {
            tracing::error!(cluster = %self.name, "{err:#}");
        }
    }

    /// [`KubeSim::set_down`], returning a bind failure.
    ///
    /// # Errors
    /// When the port cannot be bound again on the way up.
    pub fn try_set_down(&self, down: bool) -> Result<()> {
        self.server
            .set_down(down)
            .with_context(|| format!("cluster {}", self.name))
    }

    /// Whether the server is down.
    pub fn is_down(&self) -> bool {
        self.server.is_down()
    }

    /// `"METHOD /path"` for every request received so far, oldest first.
    pub fn request_log(&self) -> Vec<String> {
        self.app
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forgets the request log.
    pub fn clear_request_log(&self) {
        self.app
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Runs `hook` after every create of `api_version`/`kind` (over HTTP or
    /// in-process), outside the store lock, so the hook may write through a
    /// [`KubeSim::handle`] it captured, e.g. a simulated Velero completing a
    /// Restore.
    pub fn on_create(&self, api_version: &str, kind: &str, hook: CreateHook) {
        self.app.store.on_create(api_version, kind, Arc::from(hook));
    }
}

/// A cloneable handle on one simulated cluster's objects (in-process, no
/// HTTP); it keeps the store alive but not the server.
#[derive(Clone)]
pub struct KubeHandle {
    name: String,
    app: Arc<App>,
}

impl std::fmt::Debug for KubeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeHandle")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl KubeHandle {
    fn resource(&self, api_version: &str, kind: &str) -> Result<ResourceType> {
        self.app
            .store
            .resource_by_kind(api_version, kind)
            .with_context(|| {
                format!(
                    "cluster {}: no resource type {api_version} {kind} is registered (register it with KubeSim::register)",
                    self.name
                )
            })
    }

    /// Creates or replaces an object in-process, as `kubectl apply` would
    /// leave it: uid, resourceVersion and creationTimestamp are set by the
    /// server (kept on replace), `.status` is taken as given, a missing
    /// namespace is created, and watches see ADDED or MODIFIED.
    ///
    /// # Errors
    /// When `apiVersion`/`kind` name no registered type, a namespaced object
    /// has no `metadata.namespace`, or the server rejects the object.
    pub fn apply(&self, obj: Value) -> Result<Value> {
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .context("the object has no apiVersion")?
            .to_string();
        let kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .context("the object has no kind")?
            .to_string();
        let rt = self.resource(&api_version, &kind)?;
        let name = store::name_of(&obj).to_string();
        let ns = store::namespace_of(&obj).to_string();
        if rt.namespaced && ns.is_empty() {
            bail!(
                "cluster {}: {kind} {name:?} is namespaced; set metadata.namespace",
                self.name
            );
        }
        let opts = WriteOpts {
            keep_status: true,
            auto_namespace: true,
            ..WriteOpts::default()
        };
        let what = || format!("cluster {}: applying {kind} {ns}/{name}", self.name);
        if !name.is_empty() && self.app.store.get(&rt, &ns, &name).is_ok() {
            let mut body = obj.clone();
            if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("resourceVersion");
            }
            return self
                .app
                .store
                .update(&rt, &ns, &name, body, store::Target::Main, opts)
                .with_context(what);
        }
        self.app
            .store
            .create(&rt, &ns, obj, opts)
            .with_context(what)
    }

    /// One object, `None` if absent or the type is unknown.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let rt = self.resource(api_version, kind).ok()?;
        self.app.store.get(&rt, namespace.unwrap_or(""), name).ok()
    }

    /// Every object of a type, in one namespace or (with `None`) all;
    /// empty if the type is unknown.
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let Ok(rt) = self.resource(api_version, kind) else {
            return Vec::new();
        };
        let ns = if rt.namespaced { namespace } else { None };
        self.app
            .store
            .list(&rt, ns, &|_| true, None, None)
            .map(|p| p.items)
            .unwrap_or_default()
    }

    /// Deletes an object as the API server would (with finalizers it only
    /// gets a deletionTimestamp). Returns whether it existed.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let Ok(rt) = self.resource(api_version, kind) else {
            return false;
        };
        self.app
            .store
            .delete(
                &rt,
                namespace.unwrap_or(""),
                name,
                &Value::Null,
                WriteOpts::default(),
            )
            .is_ok()
    }
}
