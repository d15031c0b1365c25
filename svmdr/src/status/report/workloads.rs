//! The Kubernetes part of the report (`drWorkloads`): the workloads Velero
//! restored on DR, by namespace.

use serde::Serialize;

use crate::plan::workloads::{RestoredWorkload, by_namespace};

/// The restored workloads of one namespace on DR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrNamespace {
    /// Namespace.
    pub namespace: String,
    /// Some workload in it has `spec.replicas` above 0.
    pub scaled_up: bool,
    /// Its Deployments and StatefulSets restored by Velero.
    pub workloads: Vec<RestoredWorkload>,
}

/// The Kubernetes half of "where does the app run", on DR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrWorkloads {
    /// Namespaces with workloads Velero restored.
    pub namespaces: Vec<DrNamespace>,
    /// Why they could not be listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DrWorkloads {
    /// From the LIST results.
    pub fn from_listed(listed: Result<Vec<RestoredWorkload>, String>) -> Self {
        match listed {
            Err(e) => Self {
                namespaces: Vec::new(),
                error: Some(e),
            },
            Ok(w) => Self {
                namespaces: by_namespace(&w)
                    .into_iter()
                    .map(|(namespace, workloads)| DrNamespace {
                        namespace,
                        scaled_up: workloads.iter().any(RestoredWorkload::scaled_up),
                        workloads,
                    })
                    .collect(),
                error: None,
            },
        }
    }

    /// The namespaces scaled up on DR.
    pub fn running(&self) -> Vec<&str> {
        self.namespaces
            .iter()
            .filter(|n| n.scaled_up)
            .map(|n| n.namespace.as_str())
            .collect()
    }
}
