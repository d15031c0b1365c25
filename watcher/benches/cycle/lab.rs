//! The bench's lab: the simulated ONTAP pair with `n` source SVMs on the
//! primary (svm1 of the example topology, then svm2.. each with a root and
//! a data volume), both Kubernetes sites with Trident ([`sim::lab::sites`],
//! one backend per site: svm1 and svm1_dr), Velero's objects and the
//! sample application as `sim::lab::Lab` seeds them, a bare witness API,
//! and `n` SVM-DR relationships svmK → svmK_dr set up by
//! [`svmdr::peering::run`], the code behind `kubectl svmdr peer`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use sim::kube::KubeSim;
use sim::lab::sites::{BackendSpec, SimSites, SimSitesOptions, SiteSpec};
use sim::lab::{ADMIN_SECRET, app};
use sim::ontap::{OntapSim, Timing, Topology};
use svmdr::peering::PeerRequest;
use svmdr::report::NoopReporter;
use watcher::sites::Sites;

/// The watcher's namespace on DR.
pub const NAMESPACE: &str = "svmdr";
/// The witness Lease's namespace.
pub const WITNESS_NAMESPACE: &str = "svmdr-witness";
/// Kube contexts.
pub const PRIMARY: &str = "primary";
/// DR's context (the kubeconfig's current one).
pub const DR: &str = "dr";
/// The witness's context.
pub const WITNESS: &str = "witness";

/// A running lab; every server stops when it is dropped.
pub struct BenchLab {
    pub ontap: OntapSim,
    pub primary_kube: KubeSim,
    pub dr_kube: KubeSim,
    pub witness_kube: KubeSim,
    /// `kubeconfig` (contexts dr, primary, witness), `ca.pem`, `config.yaml`.
    pub dir: tempfile::TempDir,
}

impl BenchLab {
    /// Starts the lab with `n` SVM pairs, peered and initialized.
    pub async fn start(n: usize) -> anyhow::Result<BenchLab> {
        let mut topology = Topology::two_sites();
        let primary = topology
            .clusters
            .iter_mut()
            .find(|c| c.key == "primary")
            .ok_or_else(|| anyhow::anyhow!("no primary cluster in the example"))?;
        let export_policies = primary.svms[0].export_policies.clone();
        for k in 2..=n {
            let mut svm: sim::ontap::SvmSpec = serde_json::from_value(json!({
                "name": format!("svm{k}"), "nfs": true,
                "volumes": [
                    {"name": format!("svm{k}_root"), "size": "1GB", "is_svm_root": true,
                     "junction_path": "/"},
                    {"name": format!("svm{k}_data"), "size": "10GB",
                     "junction_path": format!("/svm{k}_data")},
                ],
            }))?;
            svm.export_policies.clone_from(&export_policies);
            primary.svms.push(svm);
        }
        let sites = SimSites::start(SimSitesOptions {
            topology,
            timing: Timing::fast(),
            sites: vec![
                SiteSpec::new(
                    PRIMARY,
                    vec![BackendSpec::new("primary", "ontap-nas-primary", "svm1")],
                ),
                SiteSpec::new(DR, vec![BackendSpec::new("dr", "ontap-nas-dr", "svm1_dr")]),
            ],
        })
        .await?;
        let SimSites {
            ontap,
            kube,
            trident,
        } = sites;
        let [primary_kube, dr_kube]: [KubeSim; 2] =
            kube.try_into().map_err(|_| anyhow::anyhow!("two sites"))?;
        app::seed(&primary_kube, &dr_kube, &trident[0][0])?;
        let witness_kube = KubeSim::start(WITNESS).await?;
        witness_kube.apply(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": WITNESS_NAMESPACE}}))?;
        dr_kube.apply(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": NAMESPACE}}))?;
        // Observe mode (never acts), every second, on the first pair.
        dr_kube.apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": svmdr::watch::POLICY_CONFIGMAP, "namespace": NAMESPACE},
            "data": {"mode": "observe", "interval": "1s", "svm": "svm1", "drSvm": "svm1_dr"},
        }))?;

        let dir = tempfile::Builder::new().prefix("svmdr-bench-").tempdir()?;
        let lab = BenchLab {
            ontap,
            primary_kube,
            dr_kube,
            witness_kube,
            dir,
        };
        sim::kube::write_kubeconfig(
            &lab.path("kubeconfig"),
            &[
                (DR, &lab.dr_kube),
                (PRIMARY, &lab.primary_kube),
                (WITNESS, &lab.witness_kube),
            ],
        )?;
        std::fs::write(lab.path("ca.pem"), lab.ontap.ca_pem())?;
        let site = |ctx: &str| {
            json!({"context": ctx, "kubeconfig": lab.path("kubeconfig"),
                   "caFile": lab.path("ca.pem"), "credentialsSecret": {"name": ADMIN_SECRET}})
        };
        // JSON is YAML.
        let config = json!({"primary": site(PRIMARY), "dr": site(DR)});
        std::fs::write(
            lab.path("config.yaml"),
            serde_json::to_string_pretty(&config)?,
        )?;
        lab.peer(n).await?;
        Ok(lab)
    }

    /// A file of the lab dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Both sites resolved as the watcher resolves them.
    pub async fn sites(&self) -> anyhow::Result<Sites> {
        let (dr, primary) = watcher::sites::specs(&self.path("config.yaml"))?;
        let mut sites = Sites::new(dr, primary);
        sites.refresh(Duration::from_secs(10)).await;
        anyhow::ensure!(
            sites.dr.is_some() && matches!(sites.primary, Some(Ok(_))),
            "both sites resolve"
        );
        Ok(sites)
    }

    /// SVM-DR svmK → svmK_dr for K in 1..=n (`peer`'s defaults: identity
    /// preserved, MirrorAllSnapshots, hourly), each initialized.
    async fn peer(&self, n: usize) -> anyhow::Result<()> {
        let sites = self.sites().await?;
        let (Some(dr), Some(Ok(primary))) = (&sites.dr, &sites.primary) else {
            anyhow::bail!("sites not resolved");
        };
        for k in 1..=n {
            let mut req = PeerRequest::new(format!("svm{k}"));
            req.dr_svm = format!("svm{k}_dr");
            req.wait_timeout = Duration::from_secs(30);
            req.init_timeout = Duration::from_secs(60);
            let report = svmdr::peering::run(&primary.ontap, &dr.ontap, &req, false, &NoopReporter)
                .await
                .map_err(|e| anyhow::anyhow!("peering svm{k}: {e}"))?;
            anyhow::ensure!(
                report.relationship_state.as_deref() == Some("snapmirrored"),
                "svm{k}: relationship {:?}",
                report.relationship_state
            );
        }
        Ok(())
    }

    /// The witness flags for this lab.
    pub fn witness_args(&self) -> watcher::cli::WitnessArgs {
        watcher::cli::WitnessArgs {
            witness_kubeconfig: self.path("kubeconfig"),
            witness_context: Some(WITNESS.into()),
            witness_namespace: WITNESS_NAMESPACE.into(),
            witness_lease: svmdr::watch::DEFAULT_LEASE.into(),
        }
    }

    /// The watcher's command line (`run`), listening on `port`.
    pub fn run_args(&self, port: u16) -> Vec<String> {
        let p = |n: &str| self.path(n).display().to_string();
        let mut a: Vec<String> = [
            "run",
            "--config",
            &p("config.yaml"),
            "--namespace",
            NAMESPACE,
        ]
        .map(String::from)
        .to_vec();
        a.extend(
            [
                "--witness-kubeconfig",
                &p("kubeconfig"),
                "--witness-context",
                WITNESS,
                "--witness-namespace",
                WITNESS_NAMESPACE,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--identity",
                "bench-watcher",
            ]
            .map(String::from),
        );
        a
    }
}

/// Requests per cycle, by `"<endpoint> <METHOD> <path>"`.
pub type Breakdown = BTreeMap<String, f64>;

/// Requests seen so far, by endpoint.
pub struct Counters {
    /// `"<endpoint> <METHOD> <path>"` → count.
    by_path: BTreeMap<String, u64>,
}

impl Counters {
    /// Every counter of the lab now.
    pub fn take(lab: &BenchLab) -> Self {
        let mut by_path = BTreeMap::new();
        let c = lab.ontap.control();
        for cluster in ["primary", "dr"] {
            for (path, n) in c.request_counts(cluster) {
                by_path.insert(format!("ontap-{cluster} {path}"), n);
            }
        }
        for (name, k) in [
            ("kube-dr", &lab.dr_kube),
            ("kube-primary", &lab.primary_kube),
            ("kube-witness", &lab.witness_kube),
        ] {
            for line in k.request_log() {
                *by_path.entry(format!("{name} {line}")).or_default() += 1;
            }
        }
        Self { by_path }
    }

    /// Per-cycle requests since `before`.
    pub fn per_cycle(&self, before: &Counters, cycles: f64) -> Breakdown {
        self.by_path
            .iter()
            .filter_map(|(k, n)| {
                let d = n - before.by_path.get(k).copied().unwrap_or(0);
                (d > 0).then(|| (k.clone(), d as f64 / cycles))
            })
            .collect()
    }
}

/// The five totals of a breakdown: ONTAP primary, dr; kube dr, primary,
/// witness (`witness_gets`: only the witness's GETs, the heartbeat PATCHes).
pub fn totals(b: &Breakdown, witness_gets: bool) -> [f64; 5] {
    let sum = |prefix: &str| -> f64 {
        b.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    };
    let witness = if witness_gets {
        "kube-witness GET "
    } else {
        "kube-witness "
    };
    [
        sum("ontap-primary "),
        sum("ontap-dr "),
        sum("kube-dr "),
        sum("kube-primary "),
        sum(witness),
    ]
}
