//! What a command gets: the global flags, a lazily built tokio runtime
//! (none is created for `--help`, `version` or `completion`), Ctrl-C
//! handling, the reporter, and site specs merged from the config file and
//! flags.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use svmdr::ontap::Timeouts;
use svmdr::secret::Secret;
use svmdr::site::{self, Access, ConfigFile, Site, SiteError, SiteRole, SiteSpec};

use crate::exit::Interrupted;
use crate::global::GlobalArgs;
use crate::progress::CliReporter;
use crate::prompt::TerminalCredentialPrompt;

/// Environment variable with a cluster-admin ONTAP user name.
pub const ENV_USERNAME: &str = "SVMDR_ONTAP_USERNAME";
/// Environment variable with its password.
pub const ENV_PASSWORD: &str = "SVMDR_ONTAP_PASSWORD";

/// How long a command interrupted by Ctrl-C may take to record what it did
/// (see [`Ctx::block_on_interruptible`]); its own cleanup should stay within
/// [`CLEANUP_TIMEOUT`].
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(3);

/// The bound an interrupted command puts on its own cleanup (recording the
/// run): Ctrl-C must never hang.
pub const CLEANUP_TIMEOUT: Duration = Duration::from_secs(2);

/// Tells a command that the user pressed Ctrl-C.
#[derive(Debug, Clone)]
pub struct Interrupt(tokio::sync::watch::Receiver<bool>);

impl Interrupt {
    /// Resolves once Ctrl-C was pressed (never, if it was not).
    pub async fn pressed(&mut self) {
        if self.0.wait_for(|pressed| *pressed).await.is_err() {
            // The runtime side is gone: no Ctrl-C will ever be reported.
            std::future::pending::<()>().await;
        }
    }

    /// Runs `fut` unless Ctrl-C comes first (`None`; `fut` is dropped).
    pub async fn run<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::select! {
            biased;
            _ = self.pressed() => None,
            r = fut => Some(r),
        }
    }
}

/// Per-run context handed to every command.
pub struct Ctx {
    /// The global flags.
    pub global: GlobalArgs,
    /// How the program is called in messages (`kubectl svmdr`).
    pub name: &'static str,
    /// The whole command line's clap definition (for `completion`), given
    /// by the binary so that commands need not name the parser.
    pub command: fn() -> clap::Command,
    runtime: Option<tokio::runtime::Runtime>,
    reporter: Option<Arc<CliReporter>>,
    config: Option<ConfigFile>,
}

impl Ctx {
    /// A context for one run.
    pub fn new(global: GlobalArgs, name: &'static str, command: fn() -> clap::Command) -> Self {
        Self {
            global,
            name,
            command,
            runtime: None,
            reporter: None,
            config: None,
        }
    }

    /// The runtime, created on first use.
    fn runtime(&mut self) -> anyhow::Result<&tokio::runtime::Runtime> {
        if self.runtime.is_none() {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            self.runtime = Some(rt);
        }
        self.runtime.as_ref().context("runtime")
    }

    /// Runs a future to completion on the (lazily created) runtime; Ctrl-C
    /// ends it with [`Interrupted`] (exit 130).
    ///
    /// # Errors
    /// The future's error, [`Interrupted`], or a runtime setup failure.
    pub fn block_on<T>(
        &mut self,
        fut: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let rt = self.runtime()?;
        rt.block_on(async {
            tokio::select! {
                r = fut => r,
                _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
            }
        })
    }

    /// Like [`Ctx::block_on`], but on Ctrl-C the command is told through its
    /// [`Interrupt`] and gets up to [`INTERRUPT_GRACE`] to record what it did
    /// (a second Ctrl-C ends it at once). It ends with [`Interrupted`]
    /// (exit 130) either way.
    ///
    /// # Errors
    /// The future's error, [`Interrupted`], or a runtime setup failure.
    pub fn block_on_interruptible<T, F>(
        &mut self,
        make: impl FnOnce(Interrupt) -> F,
    ) -> anyhow::Result<T>
    where
        F: Future<Output = anyhow::Result<T>>,
    {
        let rt = self.runtime()?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let fut = make(Interrupt(rx));
        rt.block_on(async move {
            tokio::pin!(fut);
            tokio::select! {
                r = &mut fut => return r,
                _ = tokio::signal::ctrl_c() => {}
            }
            let _ = tx.send(true);
            tokio::select! {
                _ = tokio::time::timeout(INTERRUPT_GRACE, &mut fut) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            Err(Interrupted.into())
        })
    }

    /// The reporter (progress bars and notes on stderr).
    pub fn reporter(&mut self) -> Arc<CliReporter> {
        let g = &self.global;
        let show = CliReporter::should_show_bars(g.output.is_machine(), g.verbose);
        self.reporter
            .get_or_insert_with(|| Arc::new(CliReporter::new(show)))
            .clone()
    }

    /// The config file path: `--config`/`SVMDR_CONFIG`, else the default.
    pub fn config_path(&self) -> Option<(PathBuf, bool)> {
        if let Some(p) = &self.global.config {
            return Some((p.clone(), true));
        }
        dirs::config_dir().map(|d| (d.join("kubectl-svmdr").join("config.yaml"), false))
    }

    /// The config file (empty when there is none at the default path).
    ///
    /// # Errors
    /// When a named file is missing, or any file cannot be parsed.
    pub fn config(&mut self) -> anyhow::Result<&ConfigFile> {
        if self.config.is_none() {
            let cfg = match self.config_path() {
                Some((path, required)) => ConfigFile::load(&path, required)?,
                None => ConfigFile::default(),
            };
            self.config = Some(cfg);
        }
        self.config.as_ref().context("config")
    }

    /// The spec of one site: flags first, then the config file, then
    /// defaults; the kubeconfig by kubectl's precedence ([`kubeconfig_for`]).
    /// `None` for the primary site when nothing names it.
    ///
    /// # Errors
    /// When the config file cannot be read.
    pub fn site_spec(&mut self, role: SiteRole) -> anyhow::Result<Option<SiteSpec>> {
        let g = self.global.clone();
        let cfg = self.config()?.clone();
        let mut spec = SiteSpec::new(role);
        let (flag_ctx, flag_kc, flag_backend, flag_cluster, cfg_site) = match role {
            SiteRole::Primary => (
                g.primary_context.clone(),
                g.primary_kubeconfig.clone(),
                g.primary_backend.clone(),
                g.primary_cluster.clone(),
                cfg.primary.clone(),
            ),
            SiteRole::Dr => (
                g.dr_context.clone(),
                g.dr_kubeconfig.clone(),
                g.dr_backend.clone(),
                g.dr_cluster.clone(),
                cfg.dr.clone(),
            ),
        };
        // The DR site is where commands run by default, so --context
        // (the kubectl convention) names it, above the config file.
        spec.context = match role {
            SiteRole::Dr => flag_ctx.or_else(|| g.context.clone()),
            SiteRole::Primary => flag_ctx,
        };
        spec.backend = flag_backend.or_else(|| g.backend.clone());
        spec.cluster_management = flag_cluster;
        spec.ca_file = g.ca_file.clone();
        spec.insecure_skip_tls_verify = g.insecure_skip_tls_verify;
        if let Some(c) = &cfg_site {
            spec = spec.with_config(c);
        }
        // Checked even when the site is not used: a flag naming a bad file
        // is an error either way.
        spec.kubeconfig = kubeconfig_for(
            role,
            flag_kc,
            g.kubeconfig.clone(),
            cfg_site.as_ref().and_then(|c| c.kubeconfig.clone()),
            std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()),
        )?;
        if role == SiteRole::Primary && spec.context.is_none() && cfg_site.is_none() {
            return Ok(None);
        }
        if let Some(ns) = &g.namespace {
            spec.namespace.clone_from(ns);
        }
        spec.env_credentials = env_credentials();
        spec.timeouts = Timeouts {
            request: g.request_timeout,
            ..Timeouts::default()
        };
        Ok(Some(spec))
    }

    /// The spec of the primary site, or an error saying how to name it.
    ///
    /// # Errors
    /// [`SiteError::NotConfigured`] when nothing names the primary site.
    pub fn required_spec(&mut self, role: SiteRole) -> anyhow::Result<SiteSpec> {
        self.site_spec(role)?
            .ok_or_else(|| SiteError::NotConfigured { role }.into())
    }

    /// Resolves a site (kube, Trident backend, ONTAP client).
    ///
    /// # Errors
    /// A [`SiteError`].
    pub async fn resolve(
        reporter: Arc<CliReporter>,
        spec: SiteSpec,
        access: Access,
    ) -> Result<Site, SiteError> {
        site::resolve(&spec, access, &TerminalCredentialPrompt, reporter.as_ref()).await
    }
}

/// The kubeconfig of a site, by kubectl's precedence: a flag
/// (`--primary-kubeconfig`/`--dr-kubeconfig`, then `--kubeconfig`), then
/// `KUBECONFIG` (`None`: kube reads it, merging its list as kubectl does),
/// then the config file's `kubeconfig` for the site, then `~/.kube/config`
/// (`None` again). A file a flag names must exist and parse.
///
/// # Errors
/// [`SiteError::Kubeconfig`] naming the flag and the file.
fn kubeconfig_for(
    role: SiteRole,
    site_flag: Option<PathBuf>,
    global_flag: Option<PathBuf>,
    config_file: Option<PathBuf>,
    env_set: bool,
) -> Result<Option<PathBuf>, SiteError> {
    let flag = match (site_flag, global_flag) {
        (Some(p), _) => Some((p, format!("--{role}-kubeconfig"))),
        (None, Some(p)) => Some((p, "--kubeconfig".to_string())),
        (None, None) => None,
    };
    if let Some((path, flag)) = flag {
        if let Err(e) = kube::config::Kubeconfig::read_from(&path) {
            return Err(SiteError::Kubeconfig {
                role,
                path: Some(path),
                detail: format!("{flag} names a file that cannot be used: {e}"),
            });
        }
        return Ok(Some(path));
    }
    if env_set {
        return Ok(None);
    }
    Ok(config_file)
}

/// `SVMDR_ONTAP_USERNAME`/`SVMDR_ONTAP_PASSWORD`, when both are set.
fn env_credentials() -> Option<(String, Secret)> {
    let user = std::env::var(ENV_USERNAME).ok().filter(|s| !s.is_empty())?;
    let pass = std::env::var(ENV_PASSWORD).ok().filter(|s| !s.is_empty())?;
    Some((user, Secret::new(pass)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_precedence_is_kubectls() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, "apiVersion: v1\nkind: Config\n").unwrap();
        let cfg = Some(PathBuf::from("/from/config"));
        let r = |site, global, env| kubeconfig_for(SiteRole::Dr, site, global, cfg.clone(), env);
        assert_eq!(
            r(None, Some(good.clone()), true).ok(),
            Some(Some(good.clone()))
        );
        assert_eq!(r(None, None, true).ok(), Some(None));
        assert_eq!(r(None, None, false).ok(), Some(cfg.clone()));
        let missing = dir.path().join("missing");
        let e = r(None, Some(missing.clone()), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--kubeconfig") && e.contains("missing"), "{e}");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "{not: [yaml").unwrap();
        let e = r(Some(bad), Some(good), false).unwrap_err().to_string();
        assert!(e.contains("--dr-kubeconfig") && e.contains("bad"), "{e}");
    }

    #[tokio::test]
    async fn interrupt_cuts_the_future_short() {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut i = Interrupt(rx);
        assert_eq!(i.run(async { 7 }).await, Some(7));
        let _ = tx.send(true);
        assert_eq!(i.run(std::future::pending::<()>()).await, None);
    }

    #[tokio::test]
    async fn a_gone_sender_is_no_interrupt() {
        let (tx, rx) = tokio::sync::watch::channel(false);
        drop(tx);
        let mut i = Interrupt(rx);
        assert_eq!(i.run(async { 1 }).await, Some(1));
    }
}
