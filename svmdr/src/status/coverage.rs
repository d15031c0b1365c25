//! Which Kubernetes namespaces keep data on the protected SVMs, so `status`
//! can tell whether the newest Velero backup brings their objects back.
//!
//! Read from the primary's Kubernetes (the DR cluster does not have the
//! primary's PersistentVolumes, and cannot see them while the primary is
//! down): one LIST of PersistentVolumes. A PV is on a protected SVM when it
//! is a Trident CSI volume (`spec.csi.driver` `csi.trident.netapp.io`) whose
//! `volumeAttributes.backendUUID` (Trident: `frontend/csi/controller_server.go`)
//! is a primary TridentBackend on that SVM; its namespace is its claimRef's.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PersistentVolume;
use kube::api::{Api, ListParams};

use crate::trident::backend::Backend;

/// Trident's CSI driver name.
pub const TRIDENT_CSI_DRIVER: &str = "csi.trident.netapp.io";

/// Lists the PersistentVolumes of a cluster (one LIST).
///
/// # Errors
/// The LIST failing, as text.
pub async fn list_pvs(kube: &kube::Client) -> Result<Vec<PersistentVolume>, String> {
    Api::<PersistentVolume>::all(kube.clone())
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| format!("listing the primary cluster's PersistentVolumes: {e}"))
}

/// The namespaces whose PVs are Trident volumes of a backend on one of
/// `svms` (pure).
pub fn protected_namespaces(
    pvs: &[PersistentVolume],
    backends: &[Backend],
    svms: &[String],
) -> BTreeSet<String> {
    let uuids: BTreeSet<&str> = backends
        .iter()
        .filter(|b| b.svm.as_ref().is_some_and(|s| svms.contains(s)))
        .map(|b| b.uuid.as_str())
        .collect();
    pvs.iter()
        .filter_map(|pv| {
            let spec = pv.spec.as_ref()?;
            let csi = spec
                .csi
                .as_ref()
                .filter(|c| c.driver == TRIDENT_CSI_DRIVER)?;
            let backend = csi.volume_attributes.as_ref()?.get("backendUUID")?;
            if !uuids.contains(backend.as_str()) {
                return None;
            }
            spec.claim_ref.as_ref()?.namespace.clone()
        })
        .collect()
}

/// The namespaces of `wanted` a backup with these `included` and
/// `excluded` namespaces leaves out (Velero: an empty include list or `*`
/// means every namespace; `pkg/apis/velero/v1/backup_types.go`).
pub fn uncovered(
    wanted: &BTreeSet<String>,
    included: &[String],
    excluded: &[String],
) -> Vec<String> {
    let all = included.is_empty() || included.iter().any(|n| n == "*");
    wanted
        .iter()
        .filter(|n| !(all || included.contains(n)) || excluded.contains(n))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pv(ns: &str, backend: &str, driver: &str) -> PersistentVolume {
        serde_json::from_value(json!({
            "metadata": {"name": format!("pv-{ns}")},
            "spec": {"claimRef": {"namespace": ns, "name": "data"},
                     "csi": {"driver": driver, "volumeHandle": "h",
                             "volumeAttributes": {"backendUUID": backend}}}
        }))
        .expect("pv")
    }

    #[test]
    fn namespaces_of_trident_volumes_on_the_protected_svm() {
        let backend = |uuid: &str, svm: &str| Backend {
            name: uuid.into(),
            uuid: uuid.into(),
            svm: Some(svm.into()),
            state: "online".into(),
            user_state: "normal".into(),
            online: true,
            ..Default::default()
        };
        let pvs = [
            pv("shop", "b1", TRIDENT_CSI_DRIVER),
            pv("billing", "b1", TRIDENT_CSI_DRIVER),
            pv("other-svm", "b2", TRIDENT_CSI_DRIVER),
            pv("ebs", "b1", "ebs.csi.aws.com"),
        ];
        let got = protected_namespaces(
            &pvs,
            &[backend("b1", "svm1"), backend("b2", "svm9")],
            &["svm1".into()],
        );
        assert_eq!(got.into_iter().collect::<Vec<_>>(), ["billing", "shop"]);
    }

    #[test]
    fn velero_include_and_exclude_rules() {
        let wanted: BTreeSet<String> = ["billing".into(), "shop".into()].into();
        assert!(uncovered(&wanted, &[], &[]).is_empty());
        assert!(uncovered(&wanted, &["*".into()], &[]).is_empty());
        assert_eq!(uncovered(&wanted, &["shop".into()], &[]), ["billing"]);
        assert_eq!(uncovered(&wanted, &[], &["shop".into()]), ["shop"]);
    }
}
