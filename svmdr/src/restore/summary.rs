//! What came back after a restore: workloads per namespace and each PVC's
//! binding.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};

use super::error::{RestoreError, kube_err};

/// One PVC after the restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcBinding {
    /// Name.
    pub name: String,
    /// `status.phase` (`Bound`, `Pending`, `Lost`).
    pub phase: String,
    /// `spec.volumeName`.
    pub volume: Option<String>,
    /// `spec.storageClassName`.
    pub storage_class: Option<String>,
}

/// What one namespace holds after the restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceSummary {
    /// Namespace.
    pub namespace: String,
    /// Deployments: name → `ready/desired`.
    pub deployments: BTreeMap<String, String>,
    /// StatefulSets: name → `ready/desired`.
    pub statefulsets: BTreeMap<String, String>,
    /// Pods: name → phase.
    pub pods: BTreeMap<String, String>,
    /// PVCs.
    pub pvcs: Vec<PvcBinding>,
}

impl NamespaceSummary {
    /// PVCs not `Bound`.
    pub fn unbound(&self) -> impl Iterator<Item = &PvcBinding> {
        self.pvcs.iter().filter(|p| p.phase != "Bound")
    }
}

/// Namespaces other than the system ones (`kube-*`, `default` is kept).
pub(super) async fn user_namespaces(client: &kube::Client) -> Result<Vec<String>, RestoreError> {
    let api: Api<Namespace> = Api::all(client.clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(kube_err("listing namespaces"))?;
    let skip = [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "velero",
        "trident",
    ];
    Ok(list
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .filter(|n| !skip.contains(&n.as_str()))
        .collect())
}

/// Workloads and PVC bindings of each namespace.
///
/// # Errors
///
/// [`RestoreError::Kube`].
pub async fn summarize(
    client: &kube::Client,
    namespaces: &[String],
) -> Result<Vec<NamespaceSummary>, RestoreError> {
    let mut out = Vec::new();
    for ns in namespaces {
        let lp = ListParams::default();
        let deps: Api<Deployment> = Api::namespaced(client.clone(), ns);
        let sts: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
        let (d, s, p, c) = tokio::try_join!(
            async {
                deps.list(&lp)
                    .await
                    .map_err(kube_err(format!("listing deployments in {ns}")))
            },
            async {
                sts.list(&lp)
                    .await
                    .map_err(kube_err(format!("listing statefulsets in {ns}")))
            },
            async {
                pods.list(&lp)
                    .await
                    .map_err(kube_err(format!("listing pods in {ns}")))
            },
            async {
                pvcs.list(&lp)
                    .await
                    .map_err(kube_err(format!("listing PVCs in {ns}")))
            },
        )?;
        let mut sum = NamespaceSummary {
            namespace: ns.clone(),
            ..Default::default()
        };
        for x in d.items {
            let want = x.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let ready = x
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            sum.deployments.insert(
                x.metadata.name.unwrap_or_default(),
                format!("{ready}/{want}"),
            );
        }
        for x in s.items {
            let want = x.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let ready = x
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            sum.statefulsets.insert(
                x.metadata.name.unwrap_or_default(),
                format!("{ready}/{want}"),
            );
        }
        for x in p.items {
            let phase = x
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into());
            sum.pods.insert(x.metadata.name.unwrap_or_default(), phase);
        }
        for x in c.items {
            sum.pvcs.push(PvcBinding {
                name: x.metadata.name.unwrap_or_default(),
                phase: x
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "Pending".into()),
                volume: x.spec.as_ref().and_then(|s| s.volume_name.clone()),
                storage_class: x.spec.as_ref().and_then(|s| s.storage_class_name.clone()),
            });
        }
        sum.pvcs.sort_by(|a, b| a.name.cmp(&b.name));
        out.push(sum);
    }
    Ok(out)
}
