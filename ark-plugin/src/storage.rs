//! Everything the action reads from outside, built lazily on the first
//! Execute that needs it (never before the handshake) and cached:
//! - the Kubernetes client ([`KubeApi`]: in-cluster, or `$KUBECONFIG`
//!   outside a pod);
//! - the plugin ConfigMap, the Trident backends, StorageClasses and
//!   TridentVolumes (per restore, short TTL);
//! - one ONTAP client per backend, and [`SvmFacts`] per restore and SVM: one
//!   SVM, one volume and one LIF listing per SVM, whatever the item count;
//! - TCP probes, one per LIF and port.

mod cluster;
mod records;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use svmdr::ontap::{Auth, OntapClient, Timeouts};
use svmdr::readiness::{NotReady, ProbeError, SvmFacts, collect_svm_facts, probe_tcp};
use svmdr::trident::backend::{Backend, TridentError};
use svmdr::trident::credentials::{
    auth_from_secret_data, backend_tls_with, client_config, secret_data,
};
use svmdr::trident::discovery::{join_backends, ontap_backends};
use tokio::sync::OnceCell;

use crate::cache::TtlCache;
use crate::config::{ConfigError, PluginConfig, SELECTOR};
use crate::kubeapi::{CallError, KubeApi};

pub use cluster::PodVolumeBackupInfo;
pub use records::PvRecord;

/// Bound on one Kubernetes API call (the client also has its own timeouts).
const KUBE_CALL_TIMEOUT: Duration = Duration::from_secs(25);
/// How long the ConfigMap and Trident objects are reused within a restore.
const KUBE_TTL: Duration = Duration::from_secs(10);

/// A failure reading the cluster (not the storage).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// No usable Kubernetes configuration.
    #[error("cannot reach the Kubernetes API of the restore cluster: {0}")]
    Setup(String),
    /// A Kubernetes API call failed.
    #[error("{what}: {error}{}", kube_hint(*code))]
    Kube {
        /// What was being read.
        what: String,
        /// The error.
        error: String,
        /// HTTP code, when the API answered.
        code: Option<u16>,
    },
    /// The plugin configuration is bad.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Why a backend's ONTAP login could not be read.
#[derive(Debug, thiserror::Error)]
enum LoginError {
    /// Reading its Secret failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The Secret is missing or does not hold a login.
    #[error(transparent)]
    Trident(#[from] TridentError),
}

fn kube_hint(code: Option<u16>) -> &'static str {
    match code {
        Some(403) => {
            "; grant the Velero service account the read-only RBAC in the plugin's deploy/rbac.yaml"
        }
        Some(401) => "; the service account token was refused",
        Some(404) => "; is Trident installed in the configured tridentNamespace?",
        _ => "",
    }
}

async fn bounded<T>(
    what: &str,
    fut: impl Future<Output = Result<T, CallError>>,
) -> Result<T, ClusterError> {
    match tokio::time::timeout(KUBE_CALL_TIMEOUT, fut).await {
        Ok(r) => r.map_err(|e| ClusterError::Kube {
            what: what.to_string(),
            error: e.detail,
            code: e.code,
        }),
        Err(_) => Err(ClusterError::Kube {
            what: what.to_string(),
            error: format!("no answer within {KUBE_CALL_TIMEOUT:?}"),
            code: None,
        }),
    }
}

fn name_of(v: &Value) -> String {
    text(v, "/metadata/name")
}

/// A JSON object of strings (a ConfigMap's `data`) as a map; other values
/// become empty strings.
fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A TridentVolume's identity, for the import checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TridentVolumeInfo {
    /// TridentVolume name (the PV name).
    pub name: String,
    /// `config.internalName`.
    pub internal_name: String,
    /// `backendUUID`.
    pub backend_uuid: String,
}

/// Cache key: restore UID plus what is looked up.
type Key = (String, String);

/// Shared state of the action across Execute calls.
pub struct DrStorage {
    velero_namespace: String,
    kube: OnceCell<KubeApi>,
    config: TtlCache<String, Arc<PluginConfig>>,
    backends: TtlCache<Key, Arc<Vec<Backend>>>,
    storage_classes: TtlCache<Key, Option<Arc<Value>>>,
    trident_volumes: TtlCache<Key, Arc<Vec<TridentVolumeInfo>>>,
    clients: TtlCache<Key, OntapClient>,
    facts: TtlCache<Key, Arc<SvmFacts>>,
    probes: TtlCache<Key, Result<(), ProbeError>>,
    nodes: TtlCache<Key, Arc<Vec<svmdr::readiness::NodeAddresses>>>,
    versions: TtlCache<Key, Option<svmdr::trident::version::TridentVersion>>,
    pvbs: TtlCache<Key, Arc<Vec<PodVolumeBackupInfo>>>,
    pv_records: Mutex<HashMap<Key, PvRecord>>,
    waited_out: Mutex<HashSet<Key>>,
}

impl DrStorage {
    /// State for a plugin whose ConfigMap lives in `velero_namespace`.
    /// Does no I/O.
    pub fn new(velero_namespace: String) -> Self {
        let ttl = Duration::from_secs(30);
        Self {
            velero_namespace,
            kube: OnceCell::new(),
            config: TtlCache::new(KUBE_TTL),
            backends: TtlCache::new(KUBE_TTL),
            storage_classes: TtlCache::new(KUBE_TTL),
            trident_volumes: TtlCache::new(KUBE_TTL),
            clients: TtlCache::new(Duration::from_secs(300)),
            facts: TtlCache::new(ttl),
            probes: TtlCache::new(ttl),
            nodes: TtlCache::new(KUBE_TTL),
            versions: TtlCache::new(KUBE_TTL),
            pvbs: TtlCache::new(KUBE_TTL),
            pv_records: Mutex::new(HashMap::new()),
            waited_out: Mutex::new(HashSet::new()),
        }
    }

    /// The Velero namespace from `$VELERO_NAMESPACE` (default `velero`).
    pub fn velero_namespace_from_env() -> String {
        std::env::var("VELERO_NAMESPACE")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "velero".into())
    }

    async fn kube(&self) -> Result<KubeApi, ClusterError> {
        self.kube
            .get_or_try_init(|| async {
                KubeApi::infer().map_err(|e| ClusterError::Setup(e.to_string()))
            })
            .await
            .cloned()
    }

    /// The plugin configuration for this restore (read once per restore
    /// within a short TTL).
    ///
    /// # Errors
    /// A bad or ambiguous ConfigMap, or the Kubernetes API failing.
    pub async fn config(&self, restore: &str) -> Result<Arc<PluginConfig>, ClusterError> {
        self.config
            .get_or_try_init(&restore.to_string(), || async {
                let api = self.kube().await?;
                let ns = self.velero_namespace.clone();
                let path = format!("/api/v1/namespaces/{ns}/configmaps");
                let cms = bounded(
                    &format!("listing plugin ConfigMaps in namespace {ns}"),
                    api.list(&path, Some(SELECTOR)),
                )
                .await?;
                let maps: Vec<(String, BTreeMap<String, String>)> = cms
                    .iter()
                    .map(|cm| (name_of(cm), string_map(cm.get("data"))))
                    .collect();
                let (cfg, unknown) = PluginConfig::from_configmaps(&ns, &maps)?;
                if !unknown.is_empty() {
                    tracing::warn!(configmap = %cfg.source, keys = %unknown.join(","), "ignoring unknown plugin ConfigMap keys");
                }
                Ok(Arc::new(cfg))
            })
            .await
    }

    /// The ONTAP backends of the restore cluster's Trident, as the CLI sees
    /// them ([`join_backends`]: joined to their TridentBackendConfig names,
    /// sorted by name, without other drivers and backends being deleted).
    ///
    /// # Errors
    /// The TridentBackends cannot be listed.
    pub async fn backends(
        &self,
        restore: &str,
        cfg: &PluginConfig,
    ) -> Result<Arc<Vec<Backend>>, ClusterError> {
        let ns = cfg.trident_namespace.clone();
        self.backends
            .get_or_try_init(&(restore.to_string(), ns.clone()), || async {
                let api = self.kube().await?;
                let base = format!("/apis/trident.netapp.io/v1/namespaces/{ns}");
                let (tbe_path, tbc_path) = (
                    format!("{base}/tridentbackends"),
                    format!("{base}/tridentbackendconfigs"),
                );
                let (tbe_what, tbc_what) = (
                    format!("listing TridentBackends in namespace {ns}"),
                    format!("listing TridentBackendConfigs in namespace {ns}"),
                );
                let (tbes, tbcs) = futures::join!(
                    bounded(&tbe_what, api.list(&tbe_path, None)),
                    bounded(&tbc_what, api.list(&tbc_path, None)),
                );
                let tbes = tbes?;
                // TBC names only serve messages and backendMapping: not fatal.
                let tbcs = tbcs.unwrap_or_else(|e| {
                    tracing::debug!(error = %e, "cannot list TridentBackendConfigs");
                    Vec::new()
                });
                Ok(Arc::new(ontap_backends(join_backends(&tbes, &tbcs))))
            })
            .await
    }

    /// A StorageClass of the restore cluster (JSON), `None` when it does not exist.
    ///
    /// # Errors
    /// The Kubernetes API failing.
    pub async fn storage_class(
        &self,
        restore: &str,
        name: &str,
    ) -> Result<Option<Arc<Value>>, ClusterError> {
        self.storage_classes
            .get_or_try_init(&(restore.to_string(), name.to_string()), || async {
                let api = self.kube().await?;
                let path = format!("/apis/storage.k8s.io/v1/storageclasses/{name}");
                let sc =
                    bounded(&format!("reading StorageClass {name}"), api.get(&path, &[])).await?;
                Ok(sc.map(Arc::new))
            })
            .await
    }

    /// Whether a PersistentVolume exists in the restore cluster (fresh read).
    ///
    /// # Errors
    /// The Kubernetes API failing.
    pub async fn pv_exists(&self, name: &str) -> Result<bool, ClusterError> {
        let api = self.kube().await?;
        let path = format!("/api/v1/persistentvolumes/{name}");
        let pv = bounded(
            &format!("reading PersistentVolume {name}"),
            api.get(&path, &[]),
        )
        .await?;
        Ok(pv.is_some())
    }

    /// The TridentVolumes of the restore cluster.
    ///
    /// # Errors
    /// The Kubernetes API failing.
    pub async fn trident_volumes(
        &self,
        restore: &str,
        ns: &str,
    ) -> Result<Arc<Vec<TridentVolumeInfo>>, ClusterError> {
        self.trident_volumes
            .get_or_try_init(&(restore.to_string(), ns.to_string()), || async {
                let api = self.kube().await?;
                let path = format!("/apis/trident.netapp.io/v1/namespaces/{ns}/tridentvolumes");
                let items = bounded(
                    &format!("listing TridentVolumes in {ns}"),
                    api.list(&path, None),
                )
                .await?;
                Ok(Arc::new(
                    items
                        .iter()
                        .map(|o| TridentVolumeInfo {
                            name: name_of(o),
                            internal_name: text(o, "/config/internalName"),
                            backend_uuid: text(o, "/backendUUID"),
                        })
                        .collect(),
                ))
            })
            .await
    }

    /// The backend's ONTAP login, from its credentials Secret.
    async fn backend_auth(
        &self,
        cfg: &PluginConfig,
        backend: &Backend,
    ) -> Result<Auth, LoginError> {
        let api = self.kube().await?;
        let ns = &cfg.trident_namespace;
        let name = backend.secret_name();
        let path = format!("/api/v1/namespaces/{ns}/secrets/{name}");
        let secret = bounded(&format!("reading Secret {ns}/{name}"), api.get(&path, &[]))
            .await?
            .ok_or_else(|| TridentError::SecretNotFound {
                backend: backend.name.clone(),
                namespace: ns.clone(),
                name: name.clone(),
            })?;
        let data = secret_data(ns, &name, &secret)?;
        Ok(auth_from_secret_data(backend, ns, &name, &data)?)
    }

    async fn client(
        &self,
        restore: &str,
        cfg: &PluginConfig,
        backend: &Backend,
    ) -> Result<OntapClient, NotReady> {
        let svm = backend
            .svm
            .clone()
            .unwrap_or_else(|| "<from management LIF>".into());
        let cluster = backend.management_lif.clone();
        let fail = |error: String| NotReady::OntapFailed {
            cluster: cluster.clone(),
            svm: svm.clone(),
            error,
        };
        self.clients
            .get_or_try_init(&(restore.to_string(), backend.uuid.clone()), || async {
                let auth = self
                    .backend_auth(cfg, backend)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                let tls = backend_tls_with(backend, cfg.ontap_ca.as_deref())
                    .map_err(|e| fail(e.to_string()))?;
                let timeouts = Timeouts {
                    connect: Duration::from_secs(5).min(cfg.ontap_timeout),
                    request: cfg.ontap_timeout,
                    job: cfg.ontap_timeout,
                };
                OntapClient::new(client_config(backend, auth, tls, timeouts))
                    .map_err(|e| fail(e.to_string()))
            })
            .await
    }

    fn svm_key(backend: &Backend) -> String {
        format!(
            "{}|{}",
            backend.management_lif,
            backend.svm.as_deref().unwrap_or("")
        )
    }

    /// The facts of the backend's SVM for this restore: looked up once per
    /// SVM (management LIF + SVM name) within the TTL.
    ///
    /// # Errors
    /// [`NotReady`] when ONTAP cannot be read.
    pub async fn facts(
        &self,
        restore: &str,
        cfg: &PluginConfig,
        backend: &Backend,
    ) -> Result<Arc<SvmFacts>, NotReady> {
        let key = (restore.to_string(), Self::svm_key(backend));
        self.facts
            .get_or_try_init_ttl(&key, cfg.cache_ttl, || async {
                let client = self.client(restore, cfg, backend).await?;
                let facts = collect_svm_facts(&client, backend.svm.as_deref()).await?;
                tracing::debug!(svm = %facts.svm, cluster = %facts.cluster, volumes = facts.volumes.len(), lifs = facts.lifs.len(), "collected SVM facts");
                Ok(Arc::new(facts))
            })
            .await
    }

    /// Forgets the facts (and the client) of the backend's SVM, before a retry.
    pub fn forget(&self, restore: &str, backend: &Backend) {
        self.facts
            .invalidate(&(restore.to_string(), Self::svm_key(backend)));
        self.clients
            .invalidate(&(restore.to_string(), backend.uuid.clone()));
    }

    /// Probes `addr:port` once per TTL.
    pub async fn probe(
        &self,
        restore: &str,
        cfg: &PluginConfig,
        addr: &str,
        port: u16,
    ) -> Result<(), ProbeError> {
        let key = (restore.to_string(), format!("{addr}|{port}"));
        // The result (success or failure) is cached; `forget_probe` clears it on retry.
        self.probes
            .get_or_try_init_ttl(&key, cfg.cache_ttl, || async {
                Ok::<_, std::convert::Infallible>(probe_tcp(addr, port, cfg.probe_timeout).await)
            })
            .await
            .unwrap_or_else(|never| match never {})
    }

    /// Forgets a probe result, before a retry.
    pub fn forget_probe(&self, restore: &str, addr: &str, port: u16) {
        self.probes
            .invalidate(&(restore.to_string(), format!("{addr}|{port}")));
    }

    /// Whether an earlier item of this restore already waited the full
    /// `waitForReady` on this backend's SVM (later items then fail fast
    /// instead of each blocking Velero for the whole wait).
    pub fn waited_out(&self, restore: &str, backend: &Backend) -> bool {
        self.waited_out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&(restore.to_string(), Self::svm_key(backend)))
    }

    /// Records that the wait ran out for this backend's SVM.
    pub fn mark_waited_out(&self, restore: &str, backend: &Backend) {
        self.waited_out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert((restore.to_string(), Self::svm_key(backend)));
    }

    /// Counters for tests and debug logs: (SVM fact lookups, probes).
    pub fn lookups(&self) -> (u64, u64) {
        (self.facts.lookups(), self.probes.lookups())
    }
}
