//! A kube client for a site's context, from its kubeconfig, with timeouts.

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::{SiteError, SiteSpec};

/// Builds a kube client for the site's kubeconfig and context; returns it
/// with the context name actually used.
///
/// # Errors
/// [`SiteError::Kubeconfig`], [`SiteError::UnknownContext`],
/// [`SiteError::NoContext`] or [`SiteError::KubeClient`].
pub async fn kube_client(spec: &SiteSpec) -> Result<(kube::Client, String), SiteError> {
    let role = spec.role;
    let kubeconfig = match &spec.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    };
    // In a pod (the watcher) with no kubeconfig and no context named: the
    // pod's own service account, as kubectl and client-go do.
    if kubeconfig.is_err()
        && spec.kubeconfig.is_none()
        && spec.context.is_none()
        && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
    {
        return in_cluster(spec).map(|c| (c, IN_CLUSTER.to_string()));
    }
    let kubeconfig = kubeconfig.map_err(|e| SiteError::Kubeconfig {
        role,
        path: spec.kubeconfig.clone(),
        detail: e.to_string(),
    })?;
    let context = spec
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .ok_or(SiteError::NoContext { role })?;
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        return Err(SiteError::UnknownContext {
            role,
            context,
            available: kubeconfig.contexts.iter().map(|c| c.name.clone()).collect(),
        });
    }
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| SiteError::KubeClient {
            role,
            context: context.clone(),
            detail: e.to_string(),
        })?;
    config.connect_timeout = Some(spec.timeouts.connect);
    config.read_timeout = spec.timeouts.request_limit();
    config.write_timeout = spec.timeouts.request_limit();
    let client = kube::Client::try_from(config).map_err(|e| SiteError::KubeClient {
        role,
        context: context.clone(),
        detail: e.to_string(),
    })?;
    Ok((client, context))
}

/// The context name reported for the pod's own service account.
pub const IN_CLUSTER: &str = "in-cluster";

fn in_cluster(spec: &SiteSpec) -> Result<kube::Client, SiteError> {
    let fail = |detail: String| SiteError::KubeClient {
        role: spec.role,
        context: IN_CLUSTER.into(),
        detail,
    };
    let mut config = kube::Config::incluster().map_err(|e| fail(e.to_string()))?;
    config.connect_timeout = Some(spec.timeouts.connect);
    config.read_timeout = spec.timeouts.request_limit();
    config.write_timeout = spec.timeouts.request_limit();
    kube::Client::try_from(config).map_err(|e| fail(e.to_string()))
}
