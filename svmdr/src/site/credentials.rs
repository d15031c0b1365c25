//! Which ONTAP credentials a site uses, and saying so.
//!
//! Trident often holds SVM-scoped (vsadmin) credentials, while peering and
//! SVM-DR need a cluster admin. For [`Access::ClusterAdmin`] the sources are
//! tried in this order: the config file's `credentialsSecret`, the
//! `SVMDR_ONTAP_USERNAME`/`SVMDR_ONTAP_PASSWORD` environment variables, the
//! Trident backend's own Secret when it is cluster-scoped (`GET
//! /api/cluster/peers` is not refused with 403), then a password prompt on
//! a terminal. [`Access::Trident`] uses the Trident Secret as it is.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::api::Api;

use super::{SiteError, SiteSpec};
use crate::ontap::{Auth, OntapClient, OntapError};
use crate::report::Reporter;
use crate::secret::Secret;
use crate::trident::backend::{Backend, TridentError};
use crate::trident::cluster;

/// What the command needs from ONTAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Whatever Trident has (read what Trident can reach).
    Trident,
    /// Cluster-admin: peering, SVM create/start/stop, cluster peer reads.
    ClusterAdmin,
}

/// Where the credentials came from (never the credentials themselves).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum CredentialSource {
    /// The config file's `credentialsSecret`.
    ConfigSecret {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// `SVMDR_ONTAP_USERNAME` / `SVMDR_ONTAP_PASSWORD`.
    Environment,
    /// The Trident backend's Secret.
    Trident {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// Typed at the prompt.
    Prompt,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConfigSecret { namespace, name } => {
                write!(f, "Secret {namespace}/{name} from the config file")
            }
            Self::Environment => f.write_str("SVMDR_ONTAP_USERNAME/SVMDR_ONTAP_PASSWORD"),
            Self::Trident { namespace, name } => {
                write!(f, "Trident backend Secret {namespace}/{name}")
            }
            Self::Prompt => f.write_str("typed at the prompt"),
        }
    }
}

/// Asks the user for credentials (the CLI implements it with dialoguer).
pub trait CredentialPrompt: Send + Sync {
    /// `None` when it cannot ask (no terminal) or the user gave nothing.
    fn ask(&self, site: &str) -> Option<(String, Secret)>;
}

/// Never asks.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPrompt;

impl CredentialPrompt for NoPrompt {
    fn ask(&self, _site: &str) -> Option<(String, Secret)> {
        None
    }
}

/// Picks the credentials, builds the client, and notes the source.
#[allow(clippy::too_many_arguments)]
pub(super) async fn settle(
    spec: &SiteSpec,
    context: &str,
    access: Access,
    kube: &kube::Client,
    chosen: Option<&Backend>,
    make_client: &dyn Fn(Auth) -> Result<OntapClient, OntapError>,
    prompt: &dyn CredentialPrompt,
    reporter: &dyn Reporter,
) -> Result<(OntapClient, CredentialSource), SiteError> {
    let role = spec.role;
    let build = |auth, source: CredentialSource| {
        make_client(auth)
            .map(|c| {
                (
                    c.with_credentials_source(source.to_string()),
                    source.clone(),
                )
            })
            .map_err(|e| SiteError::Ontap {
                role,
                credentials: source.to_string(),
                source: Box::new(e),
            })
    };
    let trident_source = CredentialSource::Trident {
        namespace: spec.namespace.clone(),
        name: chosen.map(Backend::secret_name).unwrap_or_default(),
    };
    let trident_error = |source| SiteError::Trident {
        role,
        context: context.to_string(),
        source: Box::new(source),
    };
    if access == Access::Trident {
        let Some(chosen) = chosen else {
            return Err(SiteError::NoBackends {
                role,
                context: context.to_string(),
                namespace: spec.namespace.clone(),
                others: Vec::new(),
            });
        };
        let auth = cluster::backend_auth(kube, &spec.namespace, chosen)
            .await
            .map_err(trident_error)?;
        return build(auth, trident_source);
    }

    if let Some(r) = &spec.credentials_secret {
        let namespace = r
            .namespace
            .clone()
            .unwrap_or_else(|| spec.namespace.clone());
        // A Secret the config file names is that entry's problem, not the
        // Trident backend's.
        let auth = read_basic_secret(kube, &namespace, &r.name, chosen)
            .await
            .map_err(|e| SiteError::CredentialsSecret {
                role,
                context: context.to_string(),
                namespace: namespace.clone(),
                name: r.name.clone(),
                detail: match e {
                    TridentError::SecretNotFound { .. } => "it does not exist".to_string(),
                    TridentError::SecretIncomplete { keys, .. } => format!(
                        "it lacks the `username` and `password` keys (keys: {})",
                        if keys.is_empty() {
                            "none"
                        } else {
                            keys.as_str()
                        }
                    ),
                    other => other.to_string(),
                },
            })?;
        let source = CredentialSource::ConfigSecret {
            namespace,
            name: r.name.clone(),
        };
        reporter.note(&format!("{role}: using ONTAP credentials from {source}"));
        return build(auth, source);
    }
    if let Some((username, password)) = &spec.env_credentials {
        let auth = Auth::Basic {
            username: username.clone(),
            password: password.clone(),
        };
        let source = CredentialSource::Environment;
        reporter.note(&format!("{role}: using ONTAP credentials from {source}"));
        return build(auth, source);
    }
    let trident_auth = match chosen {
        Some(chosen) => cluster::backend_auth(kube, &spec.namespace, chosen).await,
        None => Err(TridentError::Malformed {
            name: "-".into(),
            detail: format!(
                "there is no Trident backend in namespace {}",
                spec.namespace
            ),
        }),
    };
    let why_not_trident = match trident_auth {
        Ok(auth) => {
            let (client, source) = build(auth, trident_source.clone())?;
            match client.cluster_peers().await {
                Ok(_) => {
                    reporter.note(&format!(
                        "{role}: using ONTAP credentials from {source} (cluster-scoped)"
                    ));
                    return Ok((client, source));
                }
                Err(e) if e.is_permission_denied() => {
                    format!("Trident's credentials ({trident_source}) are SVM-scoped")
                }
                Err(e) => {
                    return Err(SiteError::Ontap {
                        role,
                        credentials: trident_source.to_string(),
                        source: Box::new(e),
                    });
                }
            }
        }
        Err(e) => format!("Trident's credentials are unusable: {e}"),
    };
    let site = format!(
        "{role} site ({})",
        spec.cluster_management
            .as_deref()
            .or(chosen.map(|b| b.management_lif.as_str()))
            .unwrap_or("?")
    );
    if let Some((username, password)) = prompt.ask(&site) {
        let source = CredentialSource::Prompt;
        reporter.note(&format!("{role}: using ONTAP credentials {source}"));
        return build(Auth::Basic { username, password }, source);
    }
    Err(SiteError::NeedClusterAdmin {
        role,
        detail: why_not_trident,
    })
}

async fn read_basic_secret(
    kube: &kube::Client,
    namespace: &str,
    name: &str,
    chosen: Option<&Backend>,
) -> Result<Auth, TridentError> {
    let api: Api<KubeSecret> = Api::namespaced(kube.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|source| TridentError::Kube {
            action: format!("reading Secret {name}"),
            namespace: namespace.into(),
            source: Box::new(source),
        })?
        .ok_or_else(|| TridentError::SecretNotFound {
            backend: chosen.map_or_else(|| "-".into(), |b| b.name.clone()),
            namespace: namespace.into(),
            name: name.into(),
        })?;
    let data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    // Cluster-admin Secrets hold username/password (keys case-insensitive).
    let get = |key: &str| {
        data.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match (get("username"), get("password")) {
        (Some(username), Some(password)) => Ok(Auth::Basic {
            username,
            password: Secret::new(password),
        }),
        _ => Err(TridentError::SecretIncomplete {
            backend: chosen.map_or_else(|| "-".into(), |b| b.name.clone()),
            namespace: namespace.into(),
            name: name.into(),
            keys: data.keys().cloned().collect::<Vec<_>>().join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_describe_themselves_without_secrets() {
        let s = CredentialSource::ConfigSecret {
            namespace: "trident".into(),
            name: "admin".into(),
        };
        assert_eq!(s.to_string(), "Secret trident/admin from the config file");
        assert!(
            CredentialSource::Environment
                .to_string()
                .contains("SVMDR_ONTAP_USERNAME")
        );
        assert!(NoPrompt.ask("x").is_none());
    }
}
