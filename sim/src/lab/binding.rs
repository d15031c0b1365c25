//! Kubernetes' PV controller, as far as the lab needs it: a PVC naming a
//! PV (`spec.volumeName`) is bound to it when the PV's `claimRef` is empty
//! or names that PVC (Kubernetes: `pkg/controller/volume/persistentvolume`
//! syncClaim / bindVolumeToClaim).

use serde_json::json;

use crate::kube::KubeHandle;
use crate::lab::fields::str_at as s;

/// Binds every PVC that names a PV; one note per binding.
pub fn bind(kube: &KubeHandle, notes: &mut Vec<String>) {
    for pvc in kube.list("v1", "PersistentVolumeClaim", None) {
        let vol = s(&pvc, "/spec/volumeName");
        if vol.is_empty() || s(&pvc, "/status/phase") == "Bound" {
            continue;
        }
        let (ns, name) = (s(&pvc, "/metadata/namespace"), s(&pvc, "/metadata/name"));
        let Some(mut pv) = kube.get("v1", "PersistentVolume", None, vol) else {
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
        claim["status"] = json!({"phase": "Bound", "capacity": pv["spec"]["capacity"],
            "accessModes": pv["spec"]["accessModes"]});
        if kube.apply(pv).is_ok() && kube.apply(claim).is_ok() {
            notes.push(format!("PVC {ns}/{name} bound to PV {vol}"));
        }
    }
}
