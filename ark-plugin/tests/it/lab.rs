//! A restore-site lab: an ONTAP cluster `dr` with SVMs after an SVM-DR
//! failover, a Kubernetes API with Trident installed against it, the plugin
//! ConfigMap, and a kubeconfig the plugin reads via `$KUBECONFIG`.

use std::path::PathBuf;

use serde_json::{Value, json};
use sim::kube::KubeSim;
use sim::kube::fixtures::TridentSite;
use sim::lab::sites::{BackendSpec, SimSites, SimSitesOptions, SiteSpec};
use sim::ontap::{OntapSim, Timing, Topology};
use sim::velero::{PluginHost, VELERO_SERVER_ARGS};

pub use sim::lab::PLUGIN_NAME as PLUGIN;

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_velero-plugin-svmdr")
}

/// One SVM per entry: (name, NFS LIF address, volumes (name, type, state, junction?)).
pub fn topology(svms: usize, volumes_per_svm: &[(&str, &str, &str, bool)]) -> Topology {
    let mut yaml = String::from(
        "network: { nfs_port: 0, iscsi_port: 0 }\nclusters:\n  - key: dr\n    name: ontap-b\n    nodes: [ontap-b-01]\n    accounts: [{ username: admin, password: \"Netapp1!\", role: admin }]\n    svms:\n",
    );
    for i in 0..svms {
        let n = i + 1;
        yaml.push_str(&format!(
            "      - name: svm{n}\n        nfs: true\n        iscsi: true\n        lifs:\n          - {{ name: svm{n}_nfs_lif1, ip: 127.0.{n}.1, services: [data_nfs], home_node: ontap-b-01 }}\n          - {{ name: svm{n}_iscsi_lif1, ip: 127.0.{n}.2, services: [data_iscsi], home_node: ontap-b-01 }}\n        volumes:\n          - {{ name: svm{n}_root, size: 1GB, is_svm_root: true, junction_path: / }}\n"
        ));
        for (name, vtype, state, mounted) in volumes_per_svm {
            let name = name.replace("{n}", &n.to_string());
            let junction = if *mounted {
                format!(", junction_path: /{name}")
            } else {
                String::new()
            };
            yaml.push_str(&format!(
                "          - {{ name: {name}, size: 10GB, type: {vtype}, state: {state}{junction} }}\n"
            ));
        }
    }
    Topology::from_yaml(&yaml).expect("test topology")
}

pub struct Lab {
    pub ontap: OntapSim,
    pub kube: KubeSim,
    pub sites: Vec<TridentSite>,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
    pub tmp: tempfile::TempDir,
}

impl Lab {
    /// Starts ONTAP with `topo`, and a cluster with one Trident backend per
    /// SVM (`nas-svm<n>`, StorageClass `ontap-nas` on the first), the plugin
    /// ConfigMap with `extra` keys on top of the lab's CA and probe ports
    /// (a 2 s probe): [`sim::lab::sites`] with these options.
    pub async fn start(topo: Topology, password: &str, extra: &[(&str, &str)]) -> Lab {
        let backends = topo.clusters[0]
            .svms
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let class = if i == 0 {
                    "ontap-nas".to_string()
                } else {
                    format!("ontap-nas-{}", s.name)
                };
                BackendSpec::new("dr", &format!("nas-{}", s.name), &s.name).with(|mut t| {
                    t.storage_class = class;
                    t.credentials("admin", password)
                })
            })
            .collect();
        let mut site = SiteSpec::new("dr", backends);
        site.admin_secret = false;
        let sites = SimSites::start(SimSitesOptions {
            topology: topo,
            timing: Timing::fast(),
            sites: vec![site],
        })
        .await
        .expect("the lab's ONTAP and Kubernetes site start");
        let kube = &sites.kube[0];
        kube.apply(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "velero"}}),
        )
        .expect("ns");
        let mut overrides = vec![("probeTimeout", "2s")];
        overrides.extend_from_slice(extra);
        kube.apply(sites.plugin_configmap(&overrides))
            .expect("configmap");
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("config");
        sites
            .write_kubeconfig(&kubeconfig, &[0])
            .expect("kubeconfig");
        let SimSites {
            ontap,
            kube,
            trident,
        } = sites;
        Lab {
            ontap,
            kube: kube.into_iter().next().expect("one site"),
            sites: trident.into_iter().flatten().collect(),
            kubeconfig,
            _dir: dir,
            tmp: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub async fn plugin(&self) -> PluginHost {
        let kc = self.kubeconfig.display().to_string();
        let tmp = self.tmp.path().display().to_string();
        PluginHost::spawn(
            binary(),
            &[
                ("KUBECONFIG", &kc),
                ("VELERO_NAMESPACE", "velero"),
                ("TMPDIR", &tmp),
            ],
            VELERO_SERVER_ARGS,
        )
        .await
        .expect("plugin starts")
    }

    /// A Trident CSI PV for volume `pvc-<suffix>` on site `i` (as in the backup).
    pub fn pv(&self, i: usize, pv_name: &str, backend_uuid: Option<&str>) -> Value {
        let site = &self.sites[i];
        let internal =
            svmdr::trident::volume::ontap_volume_name(Some(&site.storage_prefix), pv_name);
        let mut pv = sim::kube::fixtures::trident_csi_pv(
            pv_name,
            backend_uuid.unwrap_or(&site.backend_uuid),
            &internal,
            "file",
            "10Gi",
            "shop",
            "data",
            "Retain",
        );
        pv["spec"]["storageClassName"] = json!(site.storage_class);
        // As Velero sends it: metadata and status reset.
        pv.as_object_mut().map(|o| o.remove("status"));
        pv
    }
}

pub fn restore(uid: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "velero.io/v1", "kind": "Restore",
        "metadata": {"name": "r1", "namespace": "velero", "uid": uid},
        "spec": {"backupName": "b1", "restorePVs": true},
    }))
    .expect("json")
}

pub fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}
