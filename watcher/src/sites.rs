//! The two sites as the watcher holds them: the DR site (its own cluster)
//! resolved once it can be, and the primary resolved when it answers and
//! then kept (its ONTAP endpoint and credentials), so that a primary that
//! goes down is seen as unreachable rather than as unknown. A kept site is
//! resolved again every [`REFRESH`] and replaced only when that succeeds,
//! so rotated credentials or a moved backend are picked up without a
//! restart, and a failed lookup never hides the site's last known address.

use std::path::Path;
use std::time::{Duration, Instant};

use svmdr::site::{self, Access, ConfigFile, NoPrompt, Site, SiteRole, SiteSpec};
use svmdr::status::{SiteFailure, SiteInfo};
use svmdr::workflow::Primary;

use crate::log_reporter::LogReporter;

/// How often a resolved site is looked up again.
pub const REFRESH: Duration = Duration::from_secs(600);

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
    /// When each site was last looked up (DR, primary).
    resolved_at: (Option<Instant>, Option<Instant>),
}

impl Sites {
    /// Nothing resolved yet.
    pub fn new(dr_spec: SiteSpec, primary_spec: Option<SiteSpec>) -> Self {
        Self {
            dr_spec,
            primary_spec,
            dr: None,
            primary: None,
            resolved_at: (None, None),
        }
    }

    fn due(at: Option<Instant>) -> bool {
        at.is_none_or(|t| t.elapsed() >= REFRESH)
    }

    /// Resolves what is not resolved yet (each within `timeout`).
    pub async fn refresh(&mut self, timeout: Duration) {
        let r = LogReporter;
        if self.dr.is_none() || Self::due(self.resolved_at.0) {
            if self.dr.is_some() {
                // Tried: a failed look-up keeps the site one REFRESH more.
                self.resolved_at.0 = Some(Instant::now());
            }
            let resolve = site::resolve(&self.dr_spec, Access::ClusterAdmin, &NoPrompt, &r);
            match tokio::time::timeout(timeout, resolve).await {
                Ok(Ok(s)) => {
                    self.dr = Some(s);
                    self.resolved_at.0 = Some(Instant::now());
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "DR site not resolved"),
                Err(_) => tracing::warn!("DR site not resolved in time"),
            }
        }
        let Some(spec) = &self.primary_spec else {
            return;
        };
        let kept = matches!(self.primary, Some(Ok(_)));
        if kept && !Self::due(self.resolved_at.1) {
            return;
        }
        let info = SiteInfo {
            context: spec.context.clone(),
            ..SiteInfo::default()
        };
        let resolve = site::resolve(spec, Access::ClusterAdmin, &NoPrompt, &r);
        let result = tokio::time::timeout(timeout, resolve).await;
        if kept {
            // Tried: the next look-up is one REFRESH away either way.
            self.resolved_at.1 = Some(Instant::now());
            if !matches!(result, Ok(Ok(_))) {
                // Keep the last known site: its calls say whether it answers.
                return;
            }
        }
        self.resolved_at.1 = Some(Instant::now());
        self.primary = Some(match result {
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
