//! The two sites as the watcher holds them: the DR site (its own cluster)
//! resolved once it can be, and the primary resolved when it answers and
//! then kept (its ONTAP endpoint and credentials), so that a primary that
//! goes down is seen as unreachable rather than as unknown.

use std::path::Path;
use std::time::Duration;

use svmdr::site::{self, Access, ConfigFile, NoPrompt, Site, SiteRole, SiteSpec};
use svmdr::status::{SiteFailure, SiteInfo};
use svmdr::workflow::Primary;

use crate::log_reporter::LogReporter;

/// Both site specs from the kubectl-svmdr config file.
///
/// # Errors
/// The file cannot be read, or names no DR site.
pub fn specs(config: &Path) -> anyhow::Result<(SiteSpec, Option<SiteSpec>)> {
    let file = ConfigFile::load(config, true)?;
    let dr = file
        .dr
        .as_ref()
        .map(|c| SiteSpec::new(SiteRole::Dr).with_config(c))
        .ok_or_else(|| anyhow::anyhow!("{}: no `dr:` site", config.display()))?;
    let primary = file
        .primary
        .as_ref()
        .map(|c| SiteSpec::new(SiteRole::Primary).with_config(c));
    Ok((dr, primary))
}

/// The sites, resolved as far as they answer.
pub struct Sites {
    dr_spec: SiteSpec,
    primary_spec: Option<SiteSpec>,
    /// The DR site once resolved.
    pub dr: Option<Site>,
    /// The primary: resolved, or the last failure.
    pub primary: Option<Result<Site, Box<(SiteInfo, SiteFailure)>>>,
}

impl Sites {
    /// Nothing resolved yet.
    pub fn new(dr_spec: SiteSpec, primary_spec: Option<SiteSpec>) -> Self {
        Self {
            dr_spec,
            primary_spec,
            dr: None,
            primary: None,
        }
    }

    /// Resolves what is not resolved yet (each within `timeout`).
    pub async fn refresh(&mut self, timeout: Duration) {
        let r = LogReporter;
        if self.dr.is_none() {
            let resolve = site::resolve(&self.dr_spec, Access::ClusterAdmin, &NoPrompt, &r);
            match tokio::time::timeout(timeout, resolve).await {
                Ok(Ok(s)) => self.dr = Some(s),
                Ok(Err(e)) => tracing::warn!(error = %e, "DR site not resolved"),
                Err(_) => tracing::warn!("DR site not resolved in time"),
            }
        }
        let Some(spec) = &self.primary_spec else {
            return;
        };
        if matches!(self.primary, Some(Ok(_))) {
            return;
        }
        let info = SiteInfo {
            context: spec.context.clone(),
            ..SiteInfo::default()
        };
        let resolve = site::resolve(spec, Access::ClusterAdmin, &NoPrompt, &r);
        self.primary = Some(match tokio::time::timeout(timeout, resolve).await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => Err(Box::new((info, (&e).into()))),
            Err(_) => Err(Box::new((
                info,
                SiteFailure {
                    failure: svmdr::ontap::Failure::Unreachable,
                    message: format!(
                        "the primary site did not answer within {}",
                        humantime::format_duration(timeout)
                    ),
                },
            ))),
        });
    }

    /// The primary as `observe` takes it.
    pub fn primary_ref(&self) -> svmdr::watch::PrimaryRef<'_> {
        self.primary.as_ref().map(|r| r.as_ref().map_err(|b| &**b))
    }

    /// The primary as a workflow takes it.
    pub fn primary_for_workflow(&self) -> Primary {
        match &self.primary {
            Some(Ok(site)) => Primary::Site(Box::new(site.clone())),
            Some(Err(b)) => Primary::Unavailable(b.1.message.clone()),
            None => Primary::Unavailable("no primary site configured".into()),
        }
    }
}
