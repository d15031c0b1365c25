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
    }
    .map_err(|e| SiteError::Kubeconfig {
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
