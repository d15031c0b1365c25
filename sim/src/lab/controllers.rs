//! What the lab's clusters do on their own after objects are created, in
//! place of the controllers a real cluster runs (all simulated, all
//! visible), one pass at a time ([`ClusterControllers::reconcile`]):
//! Trident's backend loop ([`super::trident::backends`]), Trident's import
//! of annotated PVCs ([`super::trident::import`]), the PV controller's
//! binding ([`super::binding`]), the scheduler and kubelet attaching and
//! mounting volumes and starting Pods ([`super::kubelet`]), and the
//! Deployment controller counting ready Pods.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::simulated::{mark, record_event};
use super::trident::backends::{self, BackendLoop};
use super::trident::import::{self, ImportRequest};
use super::trident::ontap_view::OntapView;
use super::{binding, kubelet};
use crate::kube::KubeHandle;
use crate::kube::fixtures::TRIDENT_CSI_DRIVER;
use crate::lab::fields::str_at as s;
use crate::ontap::Control;

pub use super::trident::{ANN_IMPORT_BACKEND_UUID, ANN_IMPORT_ORIGINAL_NAME};

/// The lab's default backend state poll: Trident's 300 s
/// (`config/config.go` BackendStoragePollInterval) scaled down.
pub const DEFAULT_BACKEND_POLL: Duration = Duration::from_secs(2);

/// One simulated cluster and the ONTAP cluster its Trident uses.
#[derive(Clone, Debug)]
pub struct ClusterControllers {
    /// The Kubernetes objects.
    pub kube: KubeHandle,
    /// The ONTAP simulator.
    pub ontap: Control,
    /// Trident's namespace.
    pub trident_namespace: String,
    /// How often Trident re-reads its backends' state (zero: never).
    pub backend_poll_interval: Duration,
    state: Arc<Mutex<BackendLoop>>,
}

impl ClusterControllers {
    /// Controllers for `kube`, its Trident in `trident_namespace` on `ontap`,
    /// polling backend state every [`DEFAULT_BACKEND_POLL`].
    pub fn new(kube: KubeHandle, ontap: Control, trident_namespace: &str) -> Self {
        Self {
            kube,
            ontap,
            trident_namespace: trident_namespace.to_string(),
            backend_poll_interval: DEFAULT_BACKEND_POLL,
            state: Arc::default(),
        }
    }

    /// Sets the backend state poll interval.
    pub fn with_backend_poll(mut self, every: Duration) -> Self {
        self.backend_poll_interval = every;
        self
    }

    /// One pass of every controller; returns what changed, one line each.
    pub fn reconcile(&self) -> Vec<String> {
        let mut notes = Vec::new();
        // One pass at a time (the lab's ticker and a restore may both call).
        let mut st = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let view = OntapView::read(&self.ontap);
        backends::reconcile(
            &self.kube,
            &self.trident_namespace,
            &view,
            &mut st,
            self.backend_poll_interval,
            &mut notes,
        );
        let view = OntapView::read(&self.ontap);
        self.import_pvcs(&view, &mut notes);
        binding::bind(&self.kube, &mut notes);
        let view = OntapView::read(&self.ontap);
        kubelet::run(
            &self.kube,
            &self.ontap,
            &self.trident_namespace,
            &view,
            &mut notes,
        );
        self.count_ready();
        notes
    }

    /// Trident's CSI provisioner on PVCs annotated for import.
    fn import_pvcs(&self, view: &OntapView, notes: &mut Vec<String>) {
        for pvc in self.kube.list("v1", "PersistentVolumeClaim", None) {
            let Some(req) = ImportRequest::from_pvc(&pvc) else {
                continue;
            };
            if !s(&pvc, "/spec/volumeName").is_empty() || s(&pvc, "/status/phase") == "Bound" {
                continue;
            }
            let sc_name = s(&pvc, "/spec/storageClassName");
            let Some(sc) = self
                .kube
                .get("storage.k8s.io/v1", "StorageClass", None, sc_name)
            else {
                record_event(
                    &self.kube,
                    &pvc,
                    "ProvisioningFailed",
                    &format!("storageclass.storage.k8s.io \"{sc_name}\" not found"),
                    "Warning",
                    "persistentvolume-controller",
                );
                continue;
            };
            if s(&sc, "/provisioner") != TRIDENT_CSI_DRIVER {
                continue;
            }
            let ns = s(&pvc, "/metadata/namespace");
            let name = s(&pvc, "/metadata/name");
            let component = "csi.trident.netapp.io (simulated external-provisioner)";
            match import::import(
                &self.kube,
                &self.trident_namespace,
                view,
                &self.ontap,
                &sc,
                &req,
            ) {
                Err(r) => record_event(
                    &self.kube,
                    &pvc,
                    "ProvisioningFailed",
                    &format!(
                        "failed to provision volume with StorageClass \"{sc_name}\": rpc error: code = {} desc = {}",
                        r.code, r.message
                    ),
                    "Warning",
                    component,
                ),
                Ok(done) => {
                    let (pv, tv, claim) =
                        import::objects(&self.trident_namespace, &pvc, &sc, &req, &done);
                    let ok = self.kube.apply(mark(pv)).is_ok()
                        && self.kube.apply(mark(tv)).is_ok()
                        && self.kube.apply(claim).is_ok();
                    if ok {
                        let renamed = if done.internal_name == req.original {
                            String::new()
                        } else {
                            format!(" (renamed to {})", done.internal_name)
                        };
                        notes.push(format!(
                            "simulated Trident imported ONTAP volume {}{renamed} as PV {} for PVC {ns}/{name}",
                            req.original, req.pv_name
                        ));
                        record_event(
                            &self.kube,
                            &pvc,
                            "ProvisioningSucceeded",
                            &format!("Successfully provisioned volume {}", req.pv_name),
                            "Normal",
                            component,
                        );
                    }
                }
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
            let want = d
                .pointer("/spec/replicas")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            let mut pods: Vec<Value> = self
                .kube
                .list("v1", "Pod", Some(ns))
                .into_iter()
                .filter(|p| {
                    sel.iter().all(|(k, v)| {
                        p.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v)
                    })
                })
                .collect();
            // Scaled down: the ReplicaSet controller deletes the pods above
            // the wanted count, not-running ones first (Kubernetes:
            // pkg/controller/replicaset/replica_set.go manageReplicas,
            // getPodsToDelete). The lab's pods have no ReplicaSet; they are
            // matched by the Deployment's selector.
            pods.sort_by_key(|p| s(p, "/status/phase") == "Running");
            let excess = pods
                .len()
                .saturating_sub(usize::try_from(want).unwrap_or(usize::MAX));
            for p in pods.drain(..excess) {
                self.kube
                    .delete("v1", "Pod", Some(ns), s(&p, "/metadata/name"));
            }
            let ready = pods
                .iter()
                .filter(|p| s(p, "/status/phase") == "Running")
                .count();
            // `observedGeneration` and `updatedReplicas` as the deployment
            // controller keeps them (the lab has no rollouts: every pod is
            // of the current template), so `kubectl rollout status` ends
            // (kubectl `polymorphichelpers/rollout_status.go`).
            let status = json!({
                "observedGeneration": d.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
                "replicas": want, "updatedReplicas": want,
                "readyReplicas": ready, "availableReplicas": ready,
            });
            if d.get("status") != Some(&status) {
                let mut nd = d.clone();
                nd["status"] = status;
                let _ = self.kube.apply(nd);
            }
        }
    }
}

#[cfg(test)]
#[path = "controllers_tests.rs"]
mod tests;
