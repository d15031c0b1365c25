//! Sites: a kube context, its Trident backend(s) and the ONTAP cluster
//! behind them, plus the config file ([`config`]) and ONTAP credential
//! resolution ([`credentials`]).
//!
//! A [`SiteSpec`] is what the user asked for (config file merged with flags);
//! [`resolve`] turns it into a [`Site`]: a kube client for the context, the
//! chosen Trident ONTAP backend, and an ONTAP client for the cluster behind
//! it with TLS trust and credentials settled.
//!
//! TLS trust for ONTAP: the site's CA file, else the backend's
//! `trustedCACertificate`, else the default roots; verification is skipped
//! only when `insecure_skip_tls_verify` is set explicitly.

pub mod config;
pub mod credentials;
pub mod identity;
pub mod kubeconfig;
pub mod role;
pub mod survey;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use config::{ConfigFile, SecretRef, SiteConfig};
pub use credentials::{Access, CredentialPrompt, CredentialSource, NoPrompt};
pub use kubeconfig::kube_client;
pub use role::SiteRole;
pub use survey::{BackendEntry, BackendsReport, Reach, survey_backends};

use crate::ontap::{Failure, OntapClient, OntapConfig, OntapError, Timeouts, TlsOptions};
use crate::report::Reporter;
use crate::secret::Secret;
use crate::trident::backend::{Backend, TridentError};
use crate::trident::cluster;
use crate::trident::credentials::backend_tls_with;

/// What the user asked for, for one site: config file merged with flags.
#[derive(Debug, Clone)]
pub struct SiteSpec {
    /// Primary or DR.
    pub role: SiteRole,
    /// Kubeconfig file (None: $KUBECONFIG, then ~/.kube/config).
    pub kubeconfig: Option<PathBuf>,
    /// Kube context (None: the kubeconfig's current context).
    pub context: Option<String>,
    /// Trident's namespace.
    pub namespace: String,
    /// Backend name, TridentBackendConfig name or UUID (None: the only one).
    pub backend: Option<String>,
    /// With several backends and no `backend`, prefer the one on this SVM.
    pub svm_hint: Option<String>,
    /// ONTAP cluster management address (None: the backend's managementLIF).
    pub cluster_management: Option<String>,
    /// PEM CA file for ONTAP.
    pub ca_file: Option<PathBuf>,
    /// Skip ONTAP TLS verification.
    pub insecure_skip_tls_verify: bool,
    /// Secret with cluster-admin ONTAP credentials.
    pub credentials_secret: Option<SecretRef>,
    /// Credentials from the environment (`SVMDR_ONTAP_USERNAME`/`_PASSWORD`).
    pub env_credentials: Option<(String, Secret)>,
    /// ONTAP client timeouts.
    pub timeouts: Timeouts,
}

impl SiteSpec {
    /// A spec with defaults: current context, namespace `trident`.
    pub fn new(role: SiteRole) -> Self {
        Self {
            role,
            kubeconfig: None,
            context: None,
            namespace: "trident".into(),
            backend: None,
            svm_hint: None,
            cluster_management: None,
            ca_file: None,
            insecure_skip_tls_verify: false,
            credentials_secret: None,
            env_credentials: None,
            timeouts: Timeouts::default(),
        }
    }

    /// Fills the fields the flags left unset from a config-file entry.
    pub fn with_config(mut self, c: &SiteConfig) -> Self {
        if self.context.is_none() {
            self.context.clone_from(&c.context);
        }
        if self.kubeconfig.is_none() {
            self.kubeconfig.clone_from(&c.kubeconfig);
        }
        if let Some(ns) = &c.namespace {
            self.namespace.clone_from(ns);
        }
        if self.backend.is_none() {
            self.backend.clone_from(&c.backend);
        }
        if self.cluster_management.is_none() {
            self.cluster_management.clone_from(&c.cluster_management);
        }
        if self.ca_file.is_none() {
            self.ca_file.clone_from(&c.ca_file);
        }
        self.insecure_skip_tls_verify |= c.insecure_skip_tls_verify;
        if self.credentials_secret.is_none() {
            self.credentials_secret.clone_from(&c.credentials_secret);
        }
        self
    }
}

/// A resolved site.
#[derive(Clone)]
pub struct Site {
    /// Primary or DR.
    pub role: SiteRole,
    /// The kube context used.
    pub context: String,
    /// Trident's namespace.
    pub namespace: String,
    /// Client for that context.
    pub kube: kube::Client,
    /// The chosen Trident backend; `None` when the site has no Trident ONTAP
    /// backend yet and `cluster_management` names the cluster (typically a
    /// DR site before failover).
    pub backend: Option<Backend>,
    /// The ONTAP address used.
    pub endpoint: String,
    /// Client for the ONTAP cluster.
    pub ontap: OntapClient,
    /// Where the ONTAP credentials came from.
    pub credentials: CredentialSource,
}

impl fmt::Debug for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Site")
            .field("role", &self.role)
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("backend", &self.backend.as_ref().map(|b| &b.name))
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Site {
    /// `dr (context kind-b)`, for messages.
    pub fn label(&self) -> String {
        format!("{} (context {})", self.role, self.context)
    }

    /// The SVM Trident uses on this site, when the backend names it.
    pub fn svm(&self) -> Option<&str> {
        self.backend.as_ref().and_then(|b| b.svm.as_deref())
    }
}

/// Errors resolving a site. Each says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// The config file cannot be read or parsed.
    #[error("config file {}: {detail}", path.display())]
    Config {
        /// File.
        path: PathBuf,
        /// Problem.
        detail: String,
    },
    /// The kubeconfig cannot be read.
    #[error("{role} site: cannot load the kubeconfig{}: {detail}",
        path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Kubeconfig {
        /// Site.
        role: SiteRole,
        /// File, when given explicitly.
        path: Option<PathBuf>,
        /// Problem.
        detail: String,
    },
    /// The context is not in the kubeconfig.
    #[error("{role} site: context {context:?} is not in the kubeconfig (contexts: {}); \
             pass --{role}-context or fix the config file", available.join(", "))]
    UnknownContext {
        /// Site.
        role: SiteRole,
        /// Wanted context.
        context: String,
        /// Contexts that exist.
        available: Vec<String>,
    },
    /// No context was given and the kubeconfig has no current one.
    #[error(
        "{role} site: no kube context given and the kubeconfig has no current context; \
             pass --{role}-context (or --context)"
    )]
    NoContext {
        /// Site.
        role: SiteRole,
    },
    /// The site is not configured at all.
    #[error(
        "the {role} site is not configured: pass --{role}-context or add `{role}:` to the \
             config file (see `kubectl svmdr --help`)"
    )]
    NotConfigured {
        /// Site.
        role: SiteRole,
    },
    /// Building the kube client failed.
    #[error("{role} site (context {context}): {detail}")]
    KubeClient {
        /// Site.
        role: SiteRole,
        /// Context.
        context: String,
        /// Problem.
        detail: String,
    },
    /// Reading Trident failed.
    #[error("{role} site (context {context}): {source}")]
    Trident {
        /// Site.
        role: SiteRole,
        /// Context.
        context: String,
        /// Cause.
        #[source]
        source: Box<TridentError>,
    },
    /// No ONTAP backend in the namespace.
    #[error("{role} site (context {context}): no Trident ONTAP backend in namespace {namespace}{}; \
             is Trident installed there? (-n picks Trident's namespace)",
        if others.is_empty() { String::new() } else { format!(" (other backends: {})", others.join("; ")) })]
    NoBackends {
        /// Site.
        role: SiteRole,
        /// Context.
        context: String,
        /// Namespace.
        namespace: String,
        /// Non-ONTAP or malformed backends, described.
        others: Vec<String>,
    },
    /// The named backend does not exist.
    #[error("{role} site (context {context}): no Trident backend {wanted:?} in namespace \
             {namespace}; backends: {}", available.join(", "))]
    BackendNotFound {
        /// Site.
        role: SiteRole,
        /// Context.
        context: String,
        /// Namespace.
        namespace: String,
        /// Wanted.
        wanted: String,
        /// Existing ONTAP backends.
        available: Vec<String>,
    },
    /// Several backends and no choice.
    #[error("{role} site (context {context}): several Trident ONTAP backends in namespace \
             {namespace} ({}); pick one with --{role}-backend or --backend", available.join(", "))]
    AmbiguousBackend {
        /// Site.
        role: SiteRole,
        /// Context.
        context: String,
        /// Namespace.
        namespace: String,
        /// Candidates.
        available: Vec<String>,
    },
    /// The CA file cannot be read.
    #[error("{role} site: CA file {}: {detail}", path.display())]
    CaFile {
        /// Site.
        role: SiteRole,
        /// File.
        path: PathBuf,
        /// Problem.
        detail: String,
    },
    /// The config file's `credentialsSecret` of a site cannot be used.
    #[error(
        "{role} site (context {context}): the config file's `{role}.credentialsSecret` names \
         Secret {namespace}/{name}, but {detail}; create it with keys `username` and \
         `password` (a cluster-admin ONTAP account), or fix `{role}.credentialsSecret` in the \
         config file"
    )]
    CredentialsSecret {
        /// Site.
        role: SiteRole,
        /// Context.
        context: String,
        /// Secret namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// What is wrong with it.
        detail: String,
    },
    /// An ONTAP call made while resolving failed.
    #[error("{role} site: {source}{}", credentials_suffix(.source, .credentials))]
    Ontap {
        /// Site.
        role: SiteRole,
        /// Where the credentials came from.
        credentials: String,
        /// Cause.
        #[source]
        source: Box<OntapError>,
    },
    /// The primary and DR sites are one cluster (checked before any ONTAP
    /// change, see [`identity`]).
    #[error(
        "the primary site ({primary}) and the DR site ({dr}) are {shared}; nothing was changed. \
         Name the DR site with --dr-context and the primary with --primary-context (--context \
         names the DR site), or fix `primary:`/`dr:` in the config file"
    )]
    SameCluster {
        /// The primary site, labelled.
        primary: String,
        /// The DR site, labelled.
        dr: String,
        /// What they share.
        shared: String,
    },
    /// Cluster-admin credentials are needed and none were found.
    #[error(
        "{role} site: {detail}; peering and SVM-DR need cluster-admin ONTAP credentials: set \
             credentialsSecret for the site in the config file, or SVMDR_ONTAP_USERNAME and \
             SVMDR_ONTAP_PASSWORD, or run on a terminal to be prompted"
    )]
    NeedClusterAdmin {
        /// Site.
        role: SiteRole,
        /// Why the other sources did not work.
        detail: String,
    },
}

impl SiteError {
    /// What kind of failure this is, for reports ([`Failure`]).
    pub fn failure(&self) -> Failure {
        match self {
            Self::Ontap { source, .. } => source.failure(),
            _ if self.is_unreachable() => Failure::Unreachable,
            _ => Failure::Other,
        }
    }

    /// Whether the site could not be reached (kube API or ONTAP down), as
    /// opposed to a configuration problem.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Ontap { source, .. } => source.is_unreachable() || source.is_timeout(),
            Self::Trident { source, .. } => {
                matches!(source.as_ref(), TridentError::Kube { source, .. } if !matches!(source.as_ref(), kube::Error::Api(_)))
            }
            _ => false,
        }
    }
}

/// ` (credentials: …)` unless the ONTAP error names them already.
fn credentials_suffix(source: &OntapError, credentials: &str) -> String {
    if source.credentials.is_some() {
        String::new()
    } else {
        format!(" (credentials: {credentials})")
    }
}

/// Resolves a site: kube client, Trident backend, ONTAP client.
///
/// With [`Access::ClusterAdmin`] the credentials are looked up in this
/// order, and the one used is reported through `reporter.note`: the
/// config's Secret, `SVMDR_ONTAP_USERNAME`/`SVMDR_ONTAP_PASSWORD`, the
/// Trident Secret when it is cluster-scoped (`GET /api/cluster/peers` is not
/// refused with 403), a prompt (terminal only).
///
/// # Errors
/// A [`SiteError`] naming the site and what to do.
pub async fn resolve(
    spec: &SiteSpec,
    access: Access,
    prompt: &dyn CredentialPrompt,
    reporter: &dyn Reporter,
) -> Result<Site, SiteError> {
    let (kube, context) = kube_client(spec).await?;
    let chosen = match choose_backend(spec, &kube, &context).await {
        Ok(b) => Some(b),
        // A DR site often has no Trident backend until failover: the
        // configured cluster address is enough to reach ONTAP.
        Err(SiteError::NoBackends { .. })
            if spec.cluster_management.is_some() && access == Access::ClusterAdmin =>
        {
            reporter.note(&format!(
                "{}: no Trident ONTAP backend in namespace {} of context {context}; using the \
                 configured cluster address",
                spec.role, spec.namespace
            ));
            None
        }
        Err(e) => return Err(e),
    };
    let endpoint = match (&spec.cluster_management, &chosen) {
        (Some(address), _) => address.clone(),
        (None, Some(b)) => b.management_lif.clone(),
        (None, None) => return Err(SiteError::NotConfigured { role: spec.role }),
    };
    let tls = tls_for(spec, &context, chosen.as_ref())?;
    let label = format!("{} ({endpoint})", spec.role);
    // OntapClient::new returns the client's own (large) error type.
    #[allow(clippy::result_large_err)]
    let make_client = |auth| {
        OntapClient::new(OntapConfig {
            name: label.clone(),
            endpoint: endpoint.clone(),
            auth,
            tls: tls.clone(),
            timeouts: spec.timeouts,
        })
    };
    let (ontap, credentials) = credentials::settle(
        spec,
        &context,
        access,
        &kube,
        chosen.as_ref(),
        &make_client,
        prompt,
        reporter,
    )
    .await?;
    Ok(Site {
        role: spec.role,
        context,
        namespace: spec.namespace.clone(),
        kube,
        backend: chosen,
        endpoint,
        ontap,
        credentials,
    })
}

async fn choose_backend(
    spec: &SiteSpec,
    kube: &kube::Client,
    context: &str,
) -> Result<Backend, SiteError> {
    let entries = cluster::list_backend_entries(kube, &spec.namespace)
        .await
        .map_err(|source| SiteError::Trident {
            role: spec.role,
            context: context.into(),
            source: Box::new(source),
        })?;
    pick_backend(spec, context, entries)
}

/// The pure part of backend choice.
///
/// # Errors
/// [`SiteError::BackendNotFound`], [`SiteError::AmbiguousBackend`],
/// [`SiteError::NoBackends`], or `Trident(NotOntap)` when the named backend
/// is not an ONTAP one.
pub fn pick_backend(
    spec: &SiteSpec,
    context: &str,
    entries: Vec<Result<Backend, TridentError>>,
) -> Result<Backend, SiteError> {
    let mut ontap = Vec::new();
    let mut others = Vec::new();
    for e in entries {
        match e {
            Ok(b) => ontap.push(b),
            Err(err) => others.push(err),
        }
    }
    if let Some(wanted) = &spec.backend {
        if let Some(b) = ontap.iter().find(|b| b.matches(wanted)) {
            return Ok(b.clone());
        }
        if let Some(pos) = others.iter().position(|e| {
            matches!(e, TridentError::NotOntap { name, .. } | TridentError::Malformed { name, .. } if name == wanted)
        }) {
            return Err(SiteError::Trident {
                role: spec.role,
                context: context.into(),
                source: Box::new(others.swap_remove(pos)),
            });
        }
        return Err(SiteError::BackendNotFound {
            role: spec.role,
            context: context.into(),
            namespace: spec.namespace.clone(),
            wanted: wanted.clone(),
            available: ontap.iter().map(|b| b.name.clone()).collect(),
        });
    }
    if let Some(svm) = &spec.svm_hint
        && ontap.len() > 1
    {
        let on_svm: Vec<_> = ontap
            .iter()
            .filter(|b| b.svm.as_deref() == Some(svm.as_str()))
            .collect();
        if on_svm.len() == 1 {
            return Ok(on_svm[0].clone());
        }
    }
    match ontap.len() {
        0 => Err(SiteError::NoBackends {
            role: spec.role,
            context: context.into(),
            namespace: spec.namespace.clone(),
            others: others.iter().map(ToString::to_string).collect(),
        }),
        1 => Ok(ontap.remove(0)),
        _ => Err(SiteError::AmbiguousBackend {
            role: spec.role,
            context: context.into(),
            namespace: spec.namespace.clone(),
            available: ontap.iter().map(|b| b.name.clone()).collect(),
        }),
    }
}

fn tls_for(
    spec: &SiteSpec,
    context: &str,
    backend: Option<&Backend>,
) -> Result<TlsOptions, SiteError> {
    let ca_pem = match &spec.ca_file {
        Some(path) => {
            let pem = std::fs::read_to_string(path).map_err(|e| SiteError::CaFile {
                role: spec.role,
                path: path.clone(),
                detail: e.to_string(),
            })?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(SiteError::CaFile {
                    role: spec.role,
                    path: path.clone(),
                    detail: "no PEM certificate in it".into(),
                });
            }
            Some(pem)
        }
        None => None,
    };
    let mut tls = match backend {
        Some(backend) => {
            backend_tls_with(backend, ca_pem.as_deref()).map_err(|source| SiteError::Trident {
                role: spec.role,
                context: context.to_string(),
                source: Box::new(source),
            })?
        }
        None => TlsOptions {
            ca_pem,
            insecure_skip_verify: false,
        },
    };
    tls.insecure_skip_verify = spec.insecure_skip_tls_verify;
    Ok(tls)
}

/// The default request timeout for kube calls made while resolving.
pub const KUBE_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(name: &str, svm: &str) -> Backend {
        Backend {
            name: name.into(),
            uuid: format!("uuid-{name}"),
            driver: "ontap-nas".into(),
            management_lif: "10.0.0.1".into(),
            data_lif: None,
            svm: Some(svm.into()),
            storage_prefix: "trident_".into(),
            credentials_secret: None,
            trusted_ca_certificate: None,
            client_certificate: None,
            state: "online".into(),
            online: true,
            config_ref: None,
            tbc_name: Some(format!("tbc-{name}")),
            ..Default::default()
        }
    }

    #[test]
    fn picks_the_only_backend_or_explains() {
        let spec = SiteSpec::new(SiteRole::Dr);
        let b = pick_backend(&spec, "dr", vec![Ok(backend("a", "svm1"))]).unwrap();
        assert_eq!(b.name, "a");
        let e = pick_backend(
            &spec,
            "dr",
            vec![Ok(backend("a", "svm1")), Ok(backend("b", "svm2"))],
        )
        .unwrap_err();
        assert!(e.to_string().contains("--dr-backend"), "{e}");
        let e = pick_backend(&spec, "dr", vec![]).unwrap_err();
        assert!(e.to_string().contains("no Trident ONTAP backend"), "{e}");
    }

    #[test]
    fn named_backend_by_tbc_name_svm_hint_and_non_ontap() {
        let mut spec = SiteSpec::new(SiteRole::Primary);
        spec.backend = Some("tbc-b".into());
        let entries = || {
            vec![
                Ok(backend("a", "svm1")),
                Ok(backend("b", "svm2")),
                Err(TridentError::NotOntap {
                    name: "sf".into(),
                    driver: "solidfire-san".into(),
                }),
            ]
        };
        assert_eq!(pick_backend(&spec, "p", entries()).unwrap().name, "b");
        spec.backend = Some("sf".into());
        let e = pick_backend(&spec, "p", entries()).unwrap_err();
        assert!(e.to_string().contains("solidfire-san"), "{e}");
        spec.backend = Some("nope".into());
        let e = pick_backend(&spec, "p", entries()).unwrap_err();
        assert!(e.to_string().contains("a, b"), "{e}");
        spec.backend = None;
        spec.svm_hint = Some("svm2".into());
        assert_eq!(pick_backend(&spec, "p", entries()).unwrap().name, "b");
    }

    #[test]
    fn config_fills_only_unset_fields() {
        let mut spec = SiteSpec::new(SiteRole::Dr);
        spec.context = Some("flag".into());
        let c = SiteConfig {
            context: Some("cfg".into()),
            backend: Some("be".into()),
            namespace: Some("trident-system".into()),
            ..SiteConfig::default()
        };
        let spec = spec.with_config(&c);
        assert_eq!(spec.context.as_deref(), Some("flag"));
        assert_eq!(spec.backend.as_deref(), Some("be"));
        assert_eq!(spec.namespace, "trident-system");
    }
}
