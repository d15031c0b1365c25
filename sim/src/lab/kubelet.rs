//! The scheduler and the kubelet, as far as the lab needs them.
//!
//! - Scheduling: a Pod whose PVCs are not all Bound stays Pending and
//!   unschedulable; otherwise it gets `spec.nodeName`, the first Ready Node
//!   by name.
//! - Volumes: for each Trident CSI volume, attach (ControllerPublishVolume)
//!   then mount ([`crate::lab::trident::attach`]). A failure leaves the Pod
//!   Pending with its containers waiting in `ContainerCreating` and an
//!   Event on the Pod, as the attach/detach controller and kubelet report
//!   it: `FailedAttachVolume` (`AttachVolume.Attach failed for volume
//!   "<pv>" : <error>`) or `FailedMount` (`MountVolume.SetUp failed for
//!   volume "<pv>" : <error>`). Retried on every pass.
//! - Otherwise the Pod runs (Ready).

use serde_json::{Value, json};

use super::simulated::record_event;
use super::trident::attach::{VolumeProblem, check_volume};
use super::trident::ontap_view::OntapView;
use crate::kube::KubeHandle;
use crate::lab::fields::str_at as s;
use crate::ontap::Control;

fn ready(node: &Value) -> bool {
    node.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn container_statuses(pod: &Value, state: Value, ready: bool) -> Value {
    let names: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            json!({"name": c["name"], "image": c["image"], "ready": ready,
                   "restartCount": 0, "started": ready, "state": state})
        })
        .collect();
    json!(names)
}

/// One pass over every Pod not yet Running.
pub fn run(
    kube: &KubeHandle,
    ontap: &Control,
    trident_namespace: &str,
    view: &OntapView,
    notes: &mut Vec<String>,
) {
    let mut nodes: Vec<Value> = kube
        .list("v1", "Node", None)
        .into_iter()
        .filter(ready)
        .collect();
    nodes.sort_by(|a, b| s(a, "/metadata/name").cmp(s(b, "/metadata/name")));
    for pod in kube.list("v1", "Pod", None) {
        if s(&pod, "/status/phase") == "Running" {
            continue;
        }
        let ns = s(&pod, "/metadata/namespace");
        let pod_name = s(&pod, "/metadata/name");
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
        let pvcs: Vec<Option<Value>> = claims
            .iter()
            .map(|cl| kube.get("v1", "PersistentVolumeClaim", Some(ns), cl))
            .collect();
        let waiting: Vec<&str> = claims
            .iter()
            .zip(&pvcs)
            .filter(|(_, p)| p.as_ref().is_none_or(|p| s(p, "/status/phase") != "Bound"))
            .map(|(cl, _)| *cl)
            .collect();
        let mut p = pod.clone();
        let node_name = s(&pod, "/spec/nodeName").to_string();
        let node = if node_name.is_empty() {
            nodes.first().cloned()
        } else {
            kube.get("v1", "Node", None, &node_name)
        };
        if !waiting.is_empty() || node.is_none() {
            let message = if waiting.is_empty() {
                format!("0/{} nodes are available", nodes.len())
            } else {
                format!(
                    "0/{} nodes are available: pod has unbound immediate PersistentVolumeClaims ({}).",
                    nodes.len(),
                    waiting.join(", ")
                )
            };
            p["status"] = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled",
                "status": "False", "reason": "Unschedulable", "message": message}]});
            if p["status"] != pod["status"] {
                let _ = kube.apply(p);
            }
            continue;
        }
        let Some(node) = node else { continue };
        let node_name = s(&node, "/metadata/name").to_string();
        p["spec"]["nodeName"] = json!(node_name);
        let mut problem = None;
        for pvc in pvcs.iter().flatten() {
            let Some(pv) = kube.get("v1", "PersistentVolume", None, s(pvc, "/spec/volumeName"))
            else {
                continue;
            };
            if let Err(e) = check_volume(kube, trident_namespace, view, ontap, &pv, &node) {
                problem = Some((s(&pv, "/metadata/name").to_string(), e));
                break;
            }
        }
        let scheduled = json!({"type": "PodScheduled", "status": "True"});
        match problem {
            Some((pv, e)) => {
                let (reason, message) = match e {
                    VolumeProblem::Attach(m) => (
                        "FailedAttachVolume",
                        format!("AttachVolume.Attach failed for volume \"{pv}\" : {m}"),
                    ),
                    VolumeProblem::Mount(m) => (
                        "FailedMount",
                        format!("MountVolume.SetUp failed for volume \"{pv}\" : {m}"),
                    ),
                };
                record_event(kube, &pod, reason, &message, "Warning", component(reason));
                p["status"] = json!({"phase": "Pending",
                    "conditions": [scheduled,
                        {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
                        {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
                    "containerStatuses": container_statuses(&pod,
                        json!({"waiting": {"reason": "ContainerCreating"}}), false)});
                if p != pod && kube.apply(p).is_ok() && pod["status"]["containerStatuses"].is_null()
                {
                    notes.push(format!(
                        "Pod {ns}/{pod_name} waits in ContainerCreating on node {node_name}: {message}"
                    ));
                }
            }
            None => {
                p["status"] = json!({"phase": "Running",
                    "conditions": [scheduled,
                        {"type": "ContainersReady", "status": "True"},
                        {"type": "Ready", "status": "True"}],
                    "containerStatuses": container_statuses(&pod,
                        json!({"running": {"startedAt": chrono::Utc::now().to_rfc3339()}}), true)});
                if kube.apply(p).is_ok() {
                    notes.push(format!("Pod {ns}/{pod_name} running on node {node_name}"));
                }
            }
        }
    }
}

fn component(reason: &str) -> &'static str {
    if reason == "FailedAttachVolume" {
        "attachdetach-controller"
    } else {
        "kubelet"
    }
}
