//! The base every lab is built on, the full [`super::Lab`] and the test
//! labs alike: the simulated ONTAP clusters, and Kubernetes sites with
//! Trident installed against them, each with options.
//!
//! - [`SimSites::start`] starts ONTAP with a topology and one simulated
//!   Kubernetes API per [`SiteSpec`], seeding its Trident backends and,
//!   when asked, the cluster-admin credentials Secret;
//! - [`SimSites::plugin_configmap`]: the plugin's ConfigMap for these clusters;
//! - [`SimSites::write_kubeconfig`]: a kubeconfig naming some of the sites.
//!
//! No site at all gives an ONTAP-only lab.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::kube::KubeSim;
use crate::kube::fixtures::{TridentSite, ontap_credentials_secret};
use crate::ontap::{OntapSim, Timing, Topology};

use super::{app, simulated};

/// Name of the cluster-admin ONTAP credentials Secret on each site.
pub const ADMIN_SECRET: &str = "ontap-cluster-admin";
/// The ONTAP cluster-admin user of the lab's clusters.
pub const ADMIN_USER: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "Netapp1!";
/// The plugin's name in its ConfigMap label.
pub const PLUGIN_NAME: &str = "svmdr.netapp.io/trident-storage";

/// A Trident backend of a site, against ONTAP cluster `cluster` (a key of
/// the topology).
#[derive(Debug, Clone)]
pub struct BackendSpec {
    /// The ONTAP cluster key (`primary`, `dr`, ...).
    pub cluster: String,
    /// The install; its management LIF is set to `cluster`'s when the
    /// sites start.
    pub site: TridentSite,
}

impl BackendSpec {
    /// BackendSpec `name` on SVM `svm` of ONTAP cluster `cluster`, with the
    /// lab's cluster-admin login.
    pub fn new(cluster: &str, name: &str, svm: &str) -> Self {
        Self {
            cluster: cluster.into(),
            site: TridentSite::new(name, "", svm).credentials(ADMIN_USER, ADMIN_PASSWORD),
        }
    }

    /// The same backend with `f` applied to its install.
    #[must_use]
    pub fn with(mut self, f: impl FnOnce(TridentSite) -> TridentSite) -> Self {
        self.site = f(self.site);
        self
    }
}

/// One Kubernetes site.
#[derive(Debug, Clone)]
pub struct SiteSpec {
    /// Its kube context name.
    pub context: String,
    /// Its Trident backends, in order.
    pub backends: Vec<BackendSpec>,
    /// Seed the cluster-admin credentials Secret [`ADMIN_SECRET`] in
    /// namespace `trident`.
    pub admin_secret: bool,
}

impl SiteSpec {
    /// Site `context` with `backends` and the cluster-admin Secret.
    pub fn new(context: &str, backends: Vec<BackendSpec>) -> Self {
        Self {
            context: context.into(),
            backends,
            admin_secret: true,
        }
    }
}

/// How to build the sites.
#[derive(Debug, Clone)]
pub struct SimSitesOptions {
    /// ONTAP topology (default: [`Topology::two_sites`]).
    pub topology: Topology,
    /// Simulator timing (default: [`Timing::fast`]).
    pub timing: Timing,
    /// The Kubernetes sites, in order (none: ONTAP only).
    pub sites: Vec<SiteSpec>,
}

impl Default for SimSitesOptions {
    fn default() -> Self {
        Self {
            topology: Topology::two_sites(),
            timing: Timing::fast(),
            sites: Vec::new(),
        }
    }
}

/// The running clusters; every server stops when it is dropped.
pub struct SimSites {
    /// The ONTAP clusters.
    pub ontap: OntapSim,
    /// One simulated Kubernetes API per [`SiteSpec`], in order.
    pub kube: Vec<KubeSim>,
    /// Each site's Trident backends as seeded, in order.
    pub trident: Vec<Vec<TridentSite>>,
}

impl SimSites {
    /// Starts ONTAP and the sites.
    ///
    /// # Errors
    /// Ports, certificates, or a seed object the simulated API rejected.
    pub async fn start(opts: SimSitesOptions) -> Result<SimSites> {
        let ontap = OntapSim::start_with(opts.topology, opts.timing).await?;
        let mut kube = Vec::new();
        let mut trident = Vec::new();
        for spec in opts.sites {
            let k = KubeSim::start(&spec.context).await?;
            let mut seeded = Vec::new();
            for b in spec.backends {
                let site = b.site.pointed_at(&ontap.url(&b.cluster));
                site.seed(&k)
                    .with_context(|| format!("seeding Trident on site {}", spec.context))?;
                seeded.push(site);
            }
            if spec.admin_secret {
                k.apply(simulated::mark(ontap_credentials_secret(
                    ADMIN_SECRET,
                    "trident",
                    ADMIN_USER,
                    ADMIN_PASSWORD,
                )))?;
            }
            kube.push(k);
            trident.push(seeded);
        }
        Ok(SimSites {
            ontap,
            kube,
            trident,
        })
    }

    /// The plugin's ConfigMap (namespace `velero`): the ONTAP CA and probe
    /// ports, a 1 s probe and a 5 s ONTAP timeout, then `overrides`.
    pub fn plugin_configmap(&self, overrides: &[(&str, &str)]) -> Value {
        let (nfs, iscsi) = self.ontap.probe_ports();
        let mut data = json!({
            "ontapCA": self.ontap.ca_pem(),
            "nfsProbePort": nfs.to_string(),
            "iscsiProbePort": iscsi.to_string(),
            "probeTimeout": "1s",
            "ontapTimeout": "5s",
        });
        for (k, v) in overrides {
            data[*k] = json!(v);
        }
        simulated::mark(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "svmdr-plugin", "namespace": app::VELERO_NAMESPACE,
                "labels": {"velero.io/plugin-config": "", PLUGIN_NAME: "RestoreItemAction"}},
            "data": data,
        }))
    }

    /// Writes a kubeconfig at `path` with the sites `sites` (indexes) under
    /// their own context names; the first is the current context.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_kubeconfig(&self, path: &Path, sites: &[usize]) -> Result<()> {
        let named: Vec<(String, &KubeSim)> = sites
            .iter()
            .filter_map(|i| self.kube.get(*i))
            .map(|k| (k.name().to_string(), k))
            .collect();
        let refs: Vec<(&str, &KubeSim)> = named.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        crate::kube::write_kubeconfig(path, &refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sites_seed_their_backends_secret_and_files() {
        let only_ontap = SimSites::start(SimSitesOptions::default())
            .await
            .expect("ONTAP only");
        assert!(only_ontap.kube.is_empty() && only_ontap.trident.is_empty());

        let mut bare = SiteSpec::new("b", vec![BackendSpec::new("dr", "nas-b", "svm9")]);
        bare.admin_secret = false;
        let sites = SimSites::start(SimSitesOptions {
            sites: vec![
                SiteSpec::new(
                    "a",
                    vec![
                        BackendSpec::new("primary", "nas-a", "svm1")
                            .with(|t| t.credentials("u", "p")),
                    ],
                ),
                bare,
            ],
            ..SimSitesOptions::default()
        })
        .await
        .expect("sites");
        let a = &sites.trident[0][0];
        assert_eq!((a.username.as_str(), a.password.as_str()), ("u", "p"));
        assert!(sites.ontap.url("primary").contains(&a.management_lif));
        assert!(
            sites
                .ontap
                .url("dr")
                .contains(&sites.trident[1][0].management_lif)
        );
        let secret = |i: usize| sites.kube[i].get("v1", "Secret", Some("trident"), ADMIN_SECRET);
        assert!(secret(0).is_some() && secret(1).is_none());
        let backends =
            sites.kube[1].list("trident.netapp.io/v1", "TridentBackend", Some("trident"));
        assert_eq!(backends.len(), 1, "{backends:?}");

        let cm = sites.plugin_configmap(&[("probeTimeout", "2s"), ("extra", "x")]);
        assert_eq!(cm["data"]["probeTimeout"], "2s");
        assert_eq!(cm["data"]["ontapTimeout"], "5s");
        assert_eq!(cm["data"]["extra"], "x");
        assert_eq!(cm["data"]["ontapCA"], sites.ontap.ca_pem());

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kubeconfig");
        sites.write_kubeconfig(&path, &[1, 0]).expect("kubeconfig");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("current-context: b"), "{text}");
        assert!(text.contains("name: a"), "{text}");
    }
}
