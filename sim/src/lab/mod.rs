//! The simulated lab behind `kubectl svmdr lab`: two sites, each with a
//! simulated ONTAP cluster ([`crate::ontap`]) and a simulated Kubernetes API
//! ([`crate::kube`]) running Trident against its own ONTAP; the sample
//! application ([`app`]) on the primary site with a Velero backup of it;
//! on the DR site, a Velero stand-in ([`velero`]) that restores with
//! Velero's rules, built-in actions and phases and the real
//! `velero-plugin-svmdr` binary; and the clusters' own controllers
//! ([`controllers`]: Trident ([`trident`]), PV binding ([`binding`]), the
//! kubelet ([`kubelet`])). Everything it creates is labelled
//! [`simulated::SIMULATED_LABEL`].
//!
//! A third, bare Kubernetes API, the witness ([`Lab::witness_kube`], no
//! Trident, no ONTAP, namespace [`WITNESS_NAMESPACE`]), stands for a
//! cluster at neither site: a heartbeat on the primary renews a Lease
//! there, and a watcher on the DR site reads it.
//!
//! It is built on [`sites`] (ONTAP plus Kubernetes sites with Trident), the
//! base the test labs of the other crates use with their own options; the
//! DR drill's checks and scenarios are in [`drill`].
//!
//! [`Lab::start`] also writes, to its state dir, a kubeconfig with contexts
//! [`PRIMARY_CONTEXT`], [`DR_CONTEXT`] and [`WITNESS_CONTEXT`], the ONTAP
//! CA, and a `kubectl-svmdr` config file naming both sites ([`LabFiles`]).

pub mod app;
pub mod binding;
pub mod controllers;
pub mod drill;
pub mod faults;
mod fields;
pub mod kubelet;
pub mod local_http;
pub mod simulated;
pub mod sites;
pub mod trident;
pub mod velero;
mod velero_seed;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::kube::KubeSim;
use crate::kube::fixtures::{DR_NODES, PRIMARY_NODES, TridentSite};
use crate::ontap::{OntapSim, Timing, Topology};
use controllers::ClusterControllers;
pub use sites::{ADMIN_PASSWORD, ADMIN_SECRET, ADMIN_USER, PLUGIN_NAME};
use sites::{BackendSpec, SimSites, SimSitesOptions, SiteSpec};
use velero::{BackupContents, BackupStore, RunnerConfig, StartHook};

/// Kube context of the primary site.
pub const PRIMARY_CONTEXT: &str = "lab-primary";
/// Kube context of the DR site.
pub const DR_CONTEXT: &str = "lab-dr";
/// Kube context of the witness cluster (at neither site).
pub const WITNESS_CONTEXT: &str = "lab-witness";
/// The namespace the lab creates on the witness cluster for its Leases.
pub const WITNESS_NAMESPACE: &str = "svmdr-witness";
/// The replicated SVM on the primary cluster (in `Topology::two_sites`).
pub const PRIMARY_SVM: &str = "svm1";
/// The SVM-DR destination SVM `kubectl svmdr peer` creates on the DR cluster.
pub const DR_SVM: &str = "svm1_dr";

/// How to build the lab.
#[derive(Clone, Default)]
pub struct LabOptions {
    /// Simulator timing (default [`Timing::fast`] when `None`).
    pub timing: Option<Timing>,
    /// The `velero-plugin-svmdr` binary; without it Restores are not run.
    pub plugin: Option<PathBuf>,
    /// State dir for the files (default: a temporary dir removed on drop).
    pub dir: Option<PathBuf>,
    /// Run when a restore starts (fault injection).
    pub on_restore_start: Option<StartHook>,
    /// The simulated Trident's version on both sites (default
    /// [`trident::DEFAULT_TRIDENT_VERSION`]).
    pub trident_version: Option<String>,
    /// How often the simulated Trident re-reads its backends' state (default
    /// [`controllers::DEFAULT_BACKEND_POLL`]; zero: never, as Trident with
    /// `--backend_storage_poll_interval 0`).
    pub backend_poll_interval: Option<Duration>,
    /// The DR Trident backend's `storagePrefix` (default Trident's
    /// `trident_`, as on the primary): another prefix shows that the
    /// import finds the replicated volume by its recorded name.
    pub dr_storage_prefix: Option<String>,
}

impl std::fmt::Debug for LabOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabOptions")
            .field("timing", &self.timing)
            .field("plugin", &self.plugin)
            .field("dir", &self.dir)
            .field("trident_version", &self.trident_version)
            .field("backend_poll_interval", &self.backend_poll_interval)
            .field("dr_storage_prefix", &self.dr_storage_prefix)
            .finish_non_exhaustive()
    }
}

/// A finished restore's results, one message per entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreResults {
    /// Velero errors (each made the restore PartiallyFailed).
    pub errors: Vec<String>,
    /// Velero warnings.
    pub warnings: Vec<String>,
    /// Items the plugin's Execute was called for (`resource/ns/name`).
    pub executed: Vec<String>,
    /// The restore log.
    pub log: Vec<String>,
    /// Backup data PodVolumeRestores wrote into DR volumes, one per volume.
    pub pod_volume_writes: Vec<String>,
    /// PVCs whose Trident import annotations could not take effect.
    pub ignored_imports: Vec<String>,
}

/// The files the lab writes.
#[derive(Clone, Debug)]
pub struct LabFiles {
    /// The state dir.
    pub dir: PathBuf,
    /// kubeconfig with contexts `lab-primary`, `lab-dr` and `lab-witness`
    /// (current: `lab-dr`).
    pub kubeconfig: PathBuf,
    /// `kubectl-svmdr` config file (`SVMDR_CONFIG`).
    pub config: PathBuf,
    /// The simulated ONTAP clusters' CA (PEM).
    pub ca: PathBuf,
    /// kubeconfig of the DR cluster alone, for the plugin.
    pub plugin_kubeconfig: PathBuf,
}

impl LabFiles {
    /// The files the lab writes to `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            kubeconfig: dir.join("kubeconfig"),
            config: dir.join("config.yaml"),
            ca: dir.join("ontap-ca.pem"),
            plugin_kubeconfig: dir.join("plugin-kubeconfig"),
        }
    }

    /// Every file written (not the dir).
    pub fn written(&self) -> [&Path; 4] {
        [
            &self.kubeconfig,
            &self.config,
            &self.ca,
            &self.plugin_kubeconfig,
        ]
    }
}

/// A running lab; every server stops when it is dropped.
pub struct Lab {
    /// Both ONTAP clusters (keys `primary`, `dr`).
    pub ontap: OntapSim,
    /// Kubernetes of the primary site.
    pub primary_kube: KubeSim,
    /// Kubernetes of the DR site (Velero restores run here).
    pub dr_kube: KubeSim,
    /// The witness cluster's Kubernetes API: no Trident, no ONTAP, only
    /// namespace [`WITNESS_NAMESPACE`].
    pub witness_kube: KubeSim,
    /// Trident on the primary site (backend `ontap-nas-primary` → svm1).
    pub primary_trident: TridentSite,
    /// Trident on the DR site (backend `ontap-nas-dr` → svm1_dr).
    pub dr_trident: TridentSite,
    /// The Velero backups' contents.
    pub backups: BackupStore,
    /// The files written.
    pub files: LabFiles,
    /// The DR site's simulated controllers.
    pub dr_controllers: ClusterControllers,
    ticker: tokio::task::JoinHandle<()>,
    _tmp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.ticker.abort();
    }
}

impl Lab {
    /// Starts the lab on the current tokio runtime.
    ///
    /// # Errors
    /// Ports, certificates, files, or a rejected seed object.
    pub async fn start(opts: LabOptions) -> Result<Lab> {
        let version = opts
            .trident_version
            .clone()
            .unwrap_or_else(|| trident::DEFAULT_TRIDENT_VERSION.into());
        let dr_prefix = opts.dr_storage_prefix.clone();
        let sites = SimSites::start(SimSitesOptions {
            topology: Topology::two_sites(),
            timing: opts.timing.unwrap_or_else(Timing::fast),
            sites: vec![
                SiteSpec::new(
                    PRIMARY_CONTEXT,
                    vec![
                        BackendSpec::new("primary", "ontap-nas-primary", PRIMARY_SVM)
                            .with(|t| t.with_version(&version).with_nodes(&PRIMARY_NODES)),
                    ],
                ),
                SiteSpec::new(
                    DR_CONTEXT,
                    vec![
                        BackendSpec::new("dr", "ontap-nas-dr", DR_SVM).with(|mut t| {
                            if let Some(prefix) = dr_prefix {
                                t.storage_prefix = prefix;
                            }
                            t.with_version(&version).with_nodes(&DR_NODES)
                        }),
                    ],
                ),
            ],
        })
        .await?;
        let plugin_configmap = sites.plugin_configmap(&[]);
        let SimSites {
            ontap,
            kube,
            trident,
        } = sites;
        let [primary_kube, dr_kube]: [KubeSim; 2] = kube
            .try_into()
            .map_err(|_| anyhow::anyhow!("the lab has two Kubernetes sites"))?;
        let mut trident = trident.into_iter().flatten();
        let (Some(primary_trident), Some(dr_trident)) = (trident.next(), trident.next()) else {
            anyhow::bail!("the lab has one Trident backend per site");
        };
        app::seed(&primary_kube, &dr_kube, &primary_trident)?;
        // About 3 ms (debug build): always started.
        let witness_kube = KubeSim::start(WITNESS_CONTEXT).await?;
        witness_kube.apply(simulated::mark(
            json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": WITNESS_NAMESPACE}}),
        ))?;
        let backups = BackupStore::default();
        backups.put_contents(BackupContents::plain(
            app::backup_object(),
            app::backup_items(&primary_trident),
        ));

        let (tmp, dir) = match &opts.dir {
            Some(d) => {
                std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
                (None, d.clone())
            }
            None => {
                let t = tempfile::Builder::new().prefix("svmdr-lab-").tempdir()?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let files = LabFiles::new(&dir);
        crate::kube::write_kubeconfig(
            &files.kubeconfig,
            &[
                (DR_CONTEXT, &dr_kube),
                (PRIMARY_CONTEXT, &primary_kube),
                (WITNESS_CONTEXT, &witness_kube),
            ],
        )?;
        crate::kube::write_kubeconfig(&files.plugin_kubeconfig, &[(DR_CONTEXT, &dr_kube)])?;
        std::fs::write(&files.ca, ontap.ca_pem())
            .with_context(|| format!("writing {}", files.ca.display()))?;
        std::fs::write(&files.config, config_yaml(&files)?)
            .with_context(|| format!("writing {}", files.config.display()))?;
        dr_kube.apply(plugin_configmap)?;

        let poll = opts
            .backend_poll_interval
            .unwrap_or(controllers::DEFAULT_BACKEND_POLL);
        let dr_controllers =
            ClusterControllers::new(dr_kube.handle(), ontap.control(), &dr_trident.namespace)
                .with_backend_poll(poll);
        if let Some(plugin) = &opts.plugin {
            velero::install(
                &dr_kube,
                RunnerConfig {
                    plugin: Some(plugin.clone()),
                    plugin_env: vec![
                        (
                            "KUBECONFIG".into(),
                            files.plugin_kubeconfig.display().to_string(),
                        ),
                        ("VELERO_NAMESPACE".into(), app::VELERO_NAMESPACE.into()),
                    ],
                    velero_namespace: app::VELERO_NAMESPACE.into(),
                    backups: backups.clone(),
                    controllers: dr_controllers.clone(),
                    ontap_cluster: "dr".into(),
                    // The lab's Velero server flags: `--features=EnableCSI`
                    // and short `--resource-timeout`/`--fs-backup-timeout`
                    // (Velero's defaults are 10m and 4h); no restore deadline.
                    features: vec!["EnableCSI".into()],
                    resource_timeout: Duration::from_secs(10),
                    fs_backup_timeout: Duration::from_secs(5),
                    safety_bound: Duration::from_secs(3600),
                    on_start: opts.on_restore_start.clone(),
                },
                tokio::runtime::Handle::current(),
            );
        }
        let sites = [
            dr_controllers.clone(),
            ClusterControllers::new(
                primary_kube.handle(),
                ontap.control(),
                &primary_trident.namespace,
            )
            .with_backend_poll(poll),
        ];
        // Trident evaluates each backend when it starts (the DR backend's
        // SVM does not exist yet: offline).
        for s in &sites {
            s.reconcile();
        }
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                for s in &sites {
                    s.reconcile();
                }
            }
        });
        Ok(Lab {
            ontap,
            primary_kube,
            dr_kube,
            witness_kube,
            primary_trident,
            dr_trident,
            backups,
            files,
            dr_controllers,
            ticker,
            _tmp: tmp,
        })
    }

    /// The results Velero (the lab's runner) recorded for a restore;
    /// `None` before it finished.
    pub fn restore_results(&self, restore: &str) -> Option<RestoreResults> {
        let cm = self.dr_kube.get(
            "v1",
            "ConfigMap",
            Some(app::VELERO_NAMESPACE),
            &format!("{restore}-results"),
        )?;
        let lines = |k: &str| -> Vec<String> {
            cm.pointer(&format!("/data/{k}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        };
        Some(RestoreResults {
            errors: lines("errors"),
            warnings: lines("warnings"),
            executed: lines("executed"),
            log: lines("log"),
            pod_volume_writes: lines("podVolumeWrites"),
            ignored_imports: lines("ignoredImports"),
        })
    }

    /// Name of the DR SVM's NFS data LIF (after `peer`; `None` before).
    pub fn dr_nfs_lif(&self) -> Option<String> {
        let snap = self.ontap.control().snapshot();
        snap["lifs"]
            .as_array()?
            .iter()
            .find(|l| {
                l["cluster"] == "dr"
                    && l["svm"] == DR_SVM
                    && l["service_policy"]
                        .as_str()
                        .is_some_and(|p| p.contains("nfs") || p.contains("data"))
            })
            .and_then(|l| l["name"].as_str())
            .map(String::from)
    }
}

/// The `kubectl-svmdr` config file for the lab.
fn config_yaml(files: &LabFiles) -> Result<String> {
    let site = |ctx: &str| {
        json!({"context": ctx, "kubeconfig": files.kubeconfig, "caFile": files.ca,
               "credentialsSecret": {"name": ADMIN_SECRET}})
    };
    let doc = json!({"primary": site(PRIMARY_CONTEXT), "dr": site(DR_CONTEXT)});
    Ok(format!(
        "# kubectl-svmdr sites of the SIMULATED lab (kubectl svmdr lab); not a real cluster.\n{}",
        serde_yaml::to_string(&doc)?
    ))
}
