//! Shared test lab for the `kubectl-svmdr` binary, built on
//! [`sim::lab::sites`]: two simulated ONTAP clusters (topology
//! `two_sites`: ontap-a with svm1, ontap-b empty), two simulated Kubernetes
//! clusters (contexts `primary` and `dr`) each with a Trident ONTAP backend
//! and a cluster-admin credentials Secret; here only the files (a
//! kubeconfig, a CA file and a config file naming both sites, in a temp
//! dir) and [`Lab::run`], which runs the real binary against it.
//!
//! Reused by the workflow tests; keep it generic.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use sim::kube::KubeSim;
use sim::kube::fixtures::TridentSite;
use sim::lab::sites::{BackendSpec, SimSites, SimSitesOptions, SiteSpec};
use sim::ontap::{OntapSim, Timing, Topology};

/// The source SVM, the DR SVM the tests create, the cluster-admin password
/// of both simulated clusters and the cluster-admin Secret seeded in each
/// kube cluster: the lab's own.
pub use sim::lab::{ADMIN_PASSWORD, ADMIN_SECRET, DR_SVM, PRIMARY_SVM};
/// The Trident-named NFS volume of svm1 in the lab's topology.
#[allow(unused_imports)]
pub use sim::ontap::TWO_SITES_VOLUME as VOLUME;

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// How to build the lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// ONTAP topology (default: `Topology::two_sites()`).
    pub topology: Topology,
    /// Simulator timing.
    pub timing: Timing,
    /// ONTAP user/password Trident uses on the primary (default admin).
    pub primary_trident_login: (String, String),
    /// Write `credentialsSecret` into the config file for both sites.
    pub config_credentials: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        Self {
            topology: Topology::two_sites(),
            timing: Timing::fast(),
            primary_trident_login: ("admin".into(), ADMIN_PASSWORD.into()),
            config_credentials: true,
        }
    }
}

/// A running lab; everything stops when it is dropped.
pub struct Lab {
    /// Both ONTAP clusters (keys `primary`, `dr`).
    pub ontap: OntapSim,
    /// Kubernetes of the primary site (context `primary`).
    pub primary_kube: KubeSim,
    /// Kubernetes of the DR site (context `dr`).
    pub dr_kube: KubeSim,
    /// Trident install on the primary site (backend `ontap-nas-primary`, svm1).
    pub primary_trident: TridentSite,
    /// Trident install on the DR site (backend `ontap-nas-dr`, svm1_dr).
    pub dr_trident: TridentSite,
    /// Temp dir with `kubeconfig`, `ca.pem`, `config.yaml`, and HOME.
    pub dir: tempfile::TempDir,
}

impl Lab {
    /// The default lab.
    pub async fn start() -> Lab {
        Self::start_with(LabOptions::default()).await
    }

    /// A lab built from `opts` on [`sim::lab::sites`]: site `primary`
    /// (backend `ontap-nas-primary` on svm1, with `primary_trident_login`)
    /// and site `dr` (backend `ontap-nas-dr` on svm1_dr), each with the
    /// cluster-admin Secret.
    pub async fn start_with(opts: LabOptions) -> Lab {
        let (user, pass) = opts.primary_trident_login.clone();
        let sites = SimSites::start(SimSitesOptions {
            topology: opts.topology.clone(),
            timing: opts.timing,
            sites: vec![
                SiteSpec::new(
                    "primary",
                    vec![
                        BackendSpec::new("primary", "ontap-nas-primary", PRIMARY_SVM)
                            .with(|t| t.credentials(&user, &pass)),
                    ],
                ),
                SiteSpec::new("dr", vec![BackendSpec::new("dr", "ontap-nas-dr", DR_SVM)]),
            ],
        })
        .await
        .expect("the lab's ONTAP and Kubernetes sites start");
        let dir = tempfile::tempdir().expect("tempdir");
        sites
            .write_kubeconfig(&dir.path().join("kubeconfig"), &[0, 1])
            .expect("kubeconfig");
        std::fs::write(dir.path().join("ca.pem"), sites.ontap.ca_pem()).expect("ca file");
        let SimSites {
            ontap,
            kube,
            trident,
        } = sites;
        let [primary_kube, dr_kube]: [KubeSim; 2] = kube.try_into().expect("two sites");
        let [primary_trident, dr_trident]: [TridentSite; 2] = trident
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .try_into()
            .expect("one backend per site");
        let lab = Lab {
            ontap,
            primary_kube,
            dr_kube,
            primary_trident,
            dr_trident,
            dir,
        };
        lab.write_config(opts.config_credentials);
        lab
    }

    /// Path of a file in the lab dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// (Re)writes `config.yaml`: both sites with the lab CA, and the
    /// cluster-admin Secret when `credentials` is set.
    pub fn write_config(&self, credentials: bool) {
        let ca = self.path("ca.pem");
        let site = |ctx: &str| {
            let mut s = json!({"context": ctx, "caFile": ca});
            if credentials {
                s["credentialsSecret"] = json!({"name": ADMIN_SECRET});
            }
            s
        };
        let cfg = json!({"primary": site("primary"), "dr": site("dr")});
        std::fs::write(
            self.path("config.yaml"),
            serde_yaml::to_string(&cfg).expect("yaml"),
        )
        .expect("config file");
    }

    /// Replaces the config file with `yaml`.
    pub fn set_config(&self, yaml: &str) {
        std::fs::write(self.path("config.yaml"), yaml).expect("config file");
    }

    /// A command for `bin` with the lab's environment (KUBECONFIG,
    /// SVMDR_CONFIG, an empty HOME, no SVMDR_ONTAP_* variables, stdin closed).
    pub fn command_for(&self, bin: &Path, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(bin);
        c.args(args)
            .env("KUBECONFIG", self.path("kubeconfig"))
            .env("SVMDR_CONFIG", self.path("config.yaml"))
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env_remove("SVMDR_ONTAP_USERNAME")
            .env_remove("SVMDR_ONTAP_PASSWORD")
            .env_remove("SVMDR_LOG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs `kubectl-svmdr args...` (bounded to 60 s).
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[]).await
    }

    /// Runs with extra environment variables.
    pub async fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command_for(Path::new(env!("CARGO_BIN_EXE_kubectl-svmdr")), args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = tokio::time::timeout(Duration::from_secs(60), c.output())
            .await
            .unwrap_or_else(|_| panic!("kubectl-svmdr {args:?} did not finish in 60 s"))
            .expect("spawn kubectl-svmdr");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Sets up SVM-DR svm1 -> svm1_dr with `kubectl svmdr peer` and checks
    /// it succeeded.
    pub async fn peer(&self) -> Run {
        self.peer_with(&[]).await.expect_code(0)
    }

    /// Runs `kubectl svmdr peer --svm svm1 --dr-svm svm1_dr` plus `extra`,
    /// whatever its exit code (with `peer`'s own default schedule, hourly).
    pub async fn peer_with(&self, extra: &[&str]) -> Run {
        let mut args = vec!["peer", "--svm", PRIMARY_SVM, "--dr-svm", DR_SVM];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// Disaster: the primary site (ONTAP and Kubernetes) is gone.
    pub fn primary_site_down(&self) {
        self.ontap.control().set_cluster_down("primary", true);
        self.primary_kube.set_down(true);
    }

    /// `failover --yes --restore-from-backup latest` (restore timeout 20 s,
    /// request timeout 3 s) plus `extra`, whatever its exit code.
    pub async fn failover_restoring_latest(&self, extra: &[&str]) -> Run {
        let mut args = vec![
            "failover",
            "--yes",
            "--restore-from-backup",
            "latest",
            "--restore-timeout",
            "20s",
            "--request-timeout",
            "3s",
        ];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    /// The audit entries (`history -o json` items), newest first.
    pub async fn history(&self) -> Vec<Value> {
        let h = self
            .run(&["history", "-o", "json"])
            .await
            .expect_code(0)
            .json();
        h["items"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("history without items: {h}"))
    }

    /// The simulator's state dump (for "changed nothing" checks).
    pub fn snapshot(&self) -> Value {
        let mut s = self.ontap.control().snapshot();
        strip_volatile(&mut s);
        s
    }
}

/// Drops fields that change with time alone (lag, timestamps), so two
/// snapshots differ only when something was changed.
fn strip_volatile(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| {
                !(k.contains("time")
                    || k.contains("lag")
                    || k == "now"
                    || k.contains("expiry")
                    || k == "requests")
            });
            for x in m.values_mut() {
                strip_volatile(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

/// `(id, status)` of each step in a JSON `steps` array (a run's
/// `timeline.steps`, an audit entry's `steps`).
pub fn step_statuses(steps: &Value) -> Vec<(String, String)> {
    steps
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["id"].as_str().unwrap_or("").to_string(),
                        s["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
