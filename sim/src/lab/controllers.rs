//! What the lab's clusters do on their own after objects are created, in
//! place of the controllers a real cluster runs (all simulated, all
//! visible): Trident's CSI provisioner importing a PVC annotated for import
//! (after checking the ONTAP volume in the simulator: SVM running and not a
//! dp_destination, volume present, online and `rw`), the PV controller
//! binding a PVC to the PV it names, the kubelet starting a Pod whose PVCs
//! are all Bound, and the Deployment controller counting ready Pods.

use serde_json::{Value, json};

use super::app::{SIMULATED_LABEL, mark};
use crate::kube::KubeHandle;
use crate::kube::fixtures::{trident_csi_pv, trident_volume};
use crate::ontap::Control;

/// Trident's import annotations (the plugin sets them on PVCs).
pub const ANN_IMPORT_ORIGINAL_NAME: &str = "trident.netapp.io/importOriginalName";
/// Backend to import from.
pub const ANN_IMPORT_BACKEND_UUID: &str = "trident.netapp.io/importBackendUUID";

/// One simulated cluster and the ONTAP cluster its Trident uses.
#[derive(Clone, Debug)]
pub struct ClusterControllers {
    /// The Kubernetes objects.
    pub kube: KubeHandle,
    /// The ONTAP simulator.
    pub ontap: Control,
    /// Trident's namespace.
    pub trident_namespace: String,
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

impl ClusterControllers {
    /// One pass of every controller; returns what changed, one line each.
    pub fn reconcile(&self) -> Vec<String> {
        let mut notes = Vec::new();
        self.import_pvcs(&mut notes);
        self.bind(&mut notes);
        self.start_pods(&mut notes);
        self.count_ready();
        notes
    }

    /// Why ONTAP volume `volume` on SVM `svm` cannot be imported, if it cannot.
    fn import_problem(&self, svm: &str, volume: &str) -> Option<String> {
        let snap = self.ontap.snapshot();
        let Some(sv) = snap["svms"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["name"] == svm)
        else {
            return Some(format!(
                "SVM {svm} not found on any simulated ONTAP cluster"
            ));
        };
        let cluster = sv["cluster"].as_str().unwrap_or("");
        let down = snap["clusters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["key"] == cluster && c["down"] == true);
        if down {
            return Some(format!("ONTAP cluster {cluster} is down"));
        }
        if sv["state"] != "running" || sv["subtype"] == "dp_destination" {
            return Some(format!(
                "SVM {svm} is {} ({})",
                s(sv, "/state"),
                s(sv, "/subtype")
            ));
        }
        let Some(v) = snap["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["svm"] == svm && v["name"] == volume && v["cluster"] == cluster)
        else {
            return Some(format!("volume {volume} not found on SVM {svm}"));
        };
        if v["type"] != "rw" || v["state"] != "online" {
            return Some(format!(
                "volume {volume} is {} and {}, not rw and online",
                s(v, "/type"),
                s(v, "/state")
            ));
        }
        None
    }

    fn import_pvcs(&self, notes: &mut Vec<String>) {
        for pvc in self.kube.list("v1", "PersistentVolumeClaim", None) {
            let ann = |k: &str| {
                s(
                    &pvc,
                    &format!("/metadata/annotations/{}", k.replace('/', "~1")),
                )
                .to_string()
            };
            let original = ann(ANN_IMPORT_ORIGINAL_NAME);
            if original.is_empty()
                || !s(&pvc, "/spec/volumeName").is_empty()
                || s(&pvc, "/status/phase") == "Bound"
            {
                continue;
            }
            let (ns, name, uid) = (
                s(&pvc, "/metadata/namespace"),
                s(&pvc, "/metadata/name"),
                s(&pvc, "/metadata/uid"),
            );
            let backend_uuid = ann(ANN_IMPORT_BACKEND_UUID);
            let backend = self
                .kube
                .list(
                    "trident.netapp.io/v1",
                    "TridentBackend",
                    Some(&self.trident_namespace),
                )
                .into_iter()
                .find(|b| b["backendUUID"] == backend_uuid.as_str());
            let problem = match &backend {
                None => Some(format!("no Trident backend with UUID {backend_uuid}")),
                Some(b) => self.import_problem(s(b, "/config/ontap_config/svm"), &original),
            };
            if let Some(why) = problem {
                self.event(
                    ns,
                    name,
                    "ImportFailed",
                    &format!("simulated Trident import of {original}: {why}"),
                );
                continue;
            }
            let pv_name = format!("pvc-{uid}");
            let size = s(&pvc, "/spec/resources/requests/storage").to_string();
            let sc = s(&pvc, "/spec/storageClassName").to_string();
            let policy = self
                .kube
                .get("storage.k8s.io/v1", "StorageClass", None, &sc)
                .map(|c| s(&c, "/reclaimPolicy").to_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "Delete".into());
            let mut pv = trident_csi_pv(
                &pv_name,
                &backend_uuid,
                &original,
                "file",
                &size,
                ns,
                name,
                &policy,
            );
            pv["spec"]["storageClassName"] = json!(sc);
            pv["spec"]["claimRef"]["uid"] = json!(uid);
            pv["metadata"]["annotations"][ANN_IMPORT_ORIGINAL_NAME] = json!(original);
            let tv = trident_volume(
                &self.trident_namespace,
                &pv_name,
                &backend_uuid,
                &original,
                "file",
                &size,
                "",
                "",
            );
            let mut claim = pvc.clone();
            claim["spec"]["volumeName"] = json!(pv_name);
            claim["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = json!("yes");
            claim["status"] = json!({"phase": "Bound", "capacity": {"storage": size}, "accessModes": pvc["spec"]["accessModes"]});
            let ok = self.kube.apply(mark(pv)).is_ok()
                && self.kube.apply(mark(tv)).is_ok()
                && self.kube.apply(claim).is_ok();
            if ok {
                notes.push(format!(
                    "simulated Trident imported ONTAP volume {original} as PV {pv_name} for PVC {ns}/{name}"
                ));
                self.event(
                    ns,
                    name,
                    "ImportSucceeded",
                    &format!("simulated Trident import of {original} as {pv_name}"),
                );
            }
        }
    }

    fn bind(&self, notes: &mut Vec<String>) {
        for pvc in self.kube.list("v1", "PersistentVolumeClaim", None) {
            let vol = s(&pvc, "/spec/volumeName");
            if vol.is_empty() || s(&pvc, "/status/phase") == "Bound" {
                continue;
            }
            let (ns, name) = (s(&pvc, "/metadata/namespace"), s(&pvc, "/metadata/name"));
            let Some(mut pv) = self.kube.get("v1", "PersistentVolume", None, vol) else {
                continue;
            };
            let claim_ok = pv
                .pointer("/spec/claimRef")
                .is_none_or(|c| c["namespace"] == ns && c["name"] == name);
            if !claim_ok {
                continue;
            }
            pv["spec"]["claimRef"] = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "namespace": ns, "name": name, "uid": s(&pvc, "/metadata/uid")});
            pv["status"] = json!({"phase": "Bound"});
            let mut claim = pvc.clone();
            claim["status"] = json!({"phase": "Bound", "capacity": pv["spec"]["capacity"], "accessModes": pv["spec"]["accessModes"]});
            if self.kube.apply(pv).is_ok() && self.kube.apply(claim).is_ok() {
                notes.push(format!("PVC {ns}/{name} bound to PV {vol}"));
            }
        }
    }

    fn start_pods(&self, notes: &mut Vec<String>) {
        for pod in self.kube.list("v1", "Pod", None) {
            if s(&pod, "/status/phase") == "Running" {
                continue;
            }
            let ns = s(&pod, "/metadata/namespace");
            let claims: Vec<&str> = pod
                .pointer("/spec/volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    v.pointer("/persistentVolumeClaim/claimName")
                        .and_then(Value::as_str)
                })
                .collect();
            let waiting: Vec<&str> = claims
                .iter()
                .copied()
                .filter(|c| {
                    self.kube
                        .get("v1", "PersistentVolumeClaim", Some(ns), c)
                        .is_none_or(|p| s(&p, "/status/phase") != "Bound")
                })
                .collect();
            let mut p = pod.clone();
            p["status"] = if waiting.is_empty() {
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})
            } else {
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                    "reason": "Unschedulable",
                    "message": format!("persistentvolumeclaim not bound: {}", waiting.join(", "))}]})
            };
            if p["status"] != pod["status"] && self.kube.apply(p).is_ok() && waiting.is_empty() {
                notes.push(format!("Pod {ns}/{} running", s(&pod, "/metadata/name")));
            }
        }
    }

    fn count_ready(&self) {
        for d in self.kube.list("apps/v1", "Deployment", None) {
            let ns = s(&d, "/metadata/namespace");
            let Some(sel) = d
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
            else {
                continue;
            };
            let ready = self
                .kube
                .list("v1", "Pod", Some(ns))
                .iter()
                .filter(|p| {
                    sel.iter().all(|(k, v)| {
                        p.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v)
                    })
                })
                .filter(|p| s(p, "/status/phase") == "Running")
                .count();
            let want = d
                .pointer("/spec/replicas")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            let status =
                json!({"replicas": want, "readyReplicas": ready, "availableReplicas": ready});
            if d.get("status") != Some(&status) {
                let mut nd = d.clone();
                nd["status"] = status;
                let _ = self.kube.apply(nd);
            }
        }
    }

    fn event(&self, ns: &str, pvc: &str, reason: &str, message: &str) {
        let name = format!("{pvc}.{}", reason.to_ascii_lowercase());
        if self
            .kube
            .get("v1", "Event", Some(ns), &name)
            .is_some_and(|e| e["message"] == message)
        {
            return;
        }
        let _ = self.kube.apply(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "labels": {SIMULATED_LABEL: "true"}},
            "involvedObject": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": pvc},
            "reason": reason, "message": message,
            "type": if reason.ends_with("Failed") { "Warning" } else { "Normal" },
            "source": {"component": "csi.trident.netapp.io (simulated)"},
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::KubeSim;
    use crate::kube::fixtures::{TridentSite, trident_pvc};
    use crate::ontap::{OntapSim, Topology};

    const VOL: &str = "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90";

    fn import_pvc(name: &str, backend: &str, volume: &str) -> Value {
        let mut pvc = trident_pvc("shop", name, "pvc-old", "ontap-nas", "10Gi");
        pvc["spec"].as_object_mut().map(|s| s.remove("volumeName"));
        pvc.as_object_mut().map(|o| o.remove("status"));
        pvc["metadata"]["annotations"][ANN_IMPORT_ORIGINAL_NAME] = json!(volume);
        pvc["metadata"]["annotations"][ANN_IMPORT_BACKEND_UUID] = json!(backend);
        pvc
    }

    #[tokio::test]
    async fn annotated_pvcs_are_imported_only_from_a_serving_rw_volume() {
        let ontap = OntapSim::start(Topology::two_sites()).await.expect("ontap");
        let kube = KubeSim::start("dr").await.expect("kube");
        let site = TridentSite::new("b", &ontap.url("primary"), "svm1");
        site.seed(&kube).expect("seed");
        let c = ClusterControllers {
            kube: kube.handle(),
            ontap: ontap.control(),
            trident_namespace: "trident".into(),
        };
        kube.apply(import_pvc("ok", &site.backend_uuid, VOL))
            .expect("pvc");
        kube.apply(import_pvc("missing", &site.backend_uuid, "no_such_volume"))
            .expect("pvc");
        let notes = c.reconcile();
        let ok = kube
            .get("v1", "PersistentVolumeClaim", Some("shop"), "ok")
            .expect("pvc");
        assert_eq!(ok["status"]["phase"], "Bound", "{notes:?}");
        let pv_name = ok["spec"]["volumeName"].as_str().expect("bound");
        assert_eq!(
            pv_name,
            format!("pvc-{}", ok["metadata"]["uid"].as_str().unwrap_or(""))
        );
        let pv = kube
            .get("v1", "PersistentVolume", None, pv_name)
            .expect("pv");
        assert_eq!(pv["spec"]["csi"]["volumeAttributes"]["internalName"], VOL);
        assert_eq!(pv["metadata"]["labels"][SIMULATED_LABEL], "true");
        let missing = kube
            .get("v1", "PersistentVolumeClaim", Some("shop"), "missing")
            .expect("pvc");
        assert!(missing.pointer("/spec/volumeName").is_none());
        let ev = kube
            .get("v1", "Event", Some("shop"), "missing.importfailed")
            .expect("event");
        assert!(
            ev["message"]
                .as_str()
                .is_some_and(|m| m.contains("not found")),
            "{ev}"
        );

        // The ONTAP cluster down: nothing is imported.
        ontap.control().set_cluster_down("primary", true);
        kube.apply(import_pvc("later", &site.backend_uuid, VOL))
            .expect("pvc");
        c.reconcile();
        let ev = kube
            .get("v1", "Event", Some("shop"), "later.importfailed")
            .expect("event");
        assert!(
            ev["message"].as_str().is_some_and(|m| m.contains("down")),
            "{ev}"
        );
    }
}
