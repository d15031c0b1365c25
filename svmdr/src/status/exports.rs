//! NFS export policies in `status`: would the DR cluster's nodes be allowed
//! to mount the DR SVMs' volumes after a failover?
//!
//! SVM-DR with identity preservation replicates the primary SVM's export
//! policies, and Trident leaves an imported volume's policy as it is unless
//! the import is managed on a backend with `autoExportPolicy` (see
//! `docs/trident.md` §3.4). Rules that admit only the
//! primary's nodes therefore make every mount on DR fail after a "successful"
//! failover and restore. The rules are evaluated with
//! [`crate::readiness::check_volume_exports`], the same code the Velero
//! plugin runs per volume.
//!
//! Calls: one GET of every export policy with its rules, one GET of the
//! destination SVMs' volumes (with their policy), one LIST of the DR
//! cluster's Nodes; independent of the number of relationships or volumes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::report::StatusReport;
use crate::ontap::OntapClient;
use crate::readiness::{
    AccessWanted, NodeAddresses, SvmFacts, VolumeFacts, check_volume_exports,
    export_policies_from_json,
};

/// What the export check reads.
#[derive(Debug, Clone, Default)]
pub struct ExportInputs {
    /// The DR cluster, for messages.
    pub cluster: String,
    /// `GET /api/protocols/nfs/export-policies` records (`name`, `svm`, `rules`).
    pub policies: Vec<Value>,
    /// `GET /api/storage/volumes` records (`name`, `svm`, `is_svm_root`,
    /// `nas.export_policy.name`).
    pub volumes: Vec<Value>,
    /// The DR cluster's Nodes.
    pub nodes: Vec<NodeAddresses>,
}

/// Reads the inputs for `svms` on the DR cluster (three calls at once).
///
/// # Errors
/// The first failing call, as text.
pub async fn collect(
    client: &OntapClient,
    kube: &kube::Client,
    svms: &[String],
) -> Result<ExportInputs, String> {
    let svm_filter = svms.join("|");
    let policy_q = [("fields", "name,svm.name,rules"), ("max_records", "10000")];
    let volume_q = [
        ("svm.name", svm_filter.as_str()),
        ("fields", "name,svm.name,is_svm_root,nas.export_policy.name"),
        ("max_records", "10000"),
    ];
    let policies = client.get_json("/api/protocols/nfs/export-policies", &policy_q);
    let volumes = client.get_json("/api/storage/volumes", &volume_q);
    let nodes = async {
        Api::<Node>::all(kube.clone())
            .list(&ListParams::default())
            .await
            .map_err(|e| format!("listing the DR cluster's Nodes: {e}"))
    };
    let (policies, volumes, nodes) = tokio::join!(policies, volumes, nodes);
    let records = |v: Result<Value, crate::ontap::OntapError>| -> Result<Vec<Value>, String> {
        v.map_err(|e| e.to_string()).map(|j| {
            j.get("records")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
    };
    let nodes = nodes?
        .items
        .iter()
        .filter_map(|n| serde_json::to_value(n).ok())
        .map(|n| NodeAddresses::from_node(&n))
        .collect();
    Ok(ExportInputs {
        cluster: client.name().to_string(),
        policies: records(policies)?,
        volumes: records(volumes)?,
        nodes,
    })
}

fn svm_of(v: &Value) -> &str {
    v.pointer("/svm/name").and_then(Value::as_str).unwrap_or("")
}

/// The export problems of `svm` (pure): one sentence per export policy that
/// refuses the nodes, naming the volumes that use it, the nodes, the
/// deciding rule and the fix.
pub fn svm_problems(svm: &str, inputs: &ExportInputs) -> Vec<String> {
    if inputs.nodes.is_empty() {
        return Vec::new();
    }
    let own_policies: Vec<Value> = inputs
        .policies
        .iter()
        .filter(|p| svm_of(p) == svm)
        .cloned()
        .collect();
    let mut facts = SvmFacts {
        cluster: inputs.cluster.clone(),
        svm: svm.to_string(),
        export_policies: export_policies_from_json(&own_policies),
        ..SvmFacts::default()
    };
    let mut data_volumes = Vec::new();
    for v in inputs.volumes.iter().filter(|v| svm_of(v) == svm) {
        let name = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let policy = v
            .pointer("/nas/export_policy/name")
            .and_then(Value::as_str)
            .map(str::to_string);
        if v.get("is_svm_root").and_then(Value::as_bool) == Some(true) {
            facts.root_export_policy = policy;
            continue;
        }
        data_volumes.push(name.clone());
        facts.volumes.insert(
            name.clone(),
            VolumeFacts {
                name,
                export_policy: policy,
                ..VolumeFacts::default()
            },
        );
    }
    // One report per policy: the volumes sharing it get the same verdicts.
    let mut by_policy: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in &data_volumes {
        let p = facts.volumes[v].export_policy.clone().unwrap_or_default();
        by_policy.entry(p).or_default().push(v.clone());
    }
    let want = AccessWanted::trident_nfs();
    by_policy
        .values()
        .filter_map(|vols| {
            let report = check_volume_exports(&facts, &vols[0], &inputs.nodes, &want);
            if report.denied().is_empty() {
                return None;
            }
            let msg = report.message()?;
            let others = if vols.len() > 1 {
                format!(" ({} volumes use it: {})", vols.len(), vols.join(", "))
            } else {
                String::new()
            };
            Some(format!(
                "after a failover, the DR cluster's nodes could not mount: {msg}{others}"
            ))
        })
        .collect()
}

/// Adds the export problems of every DR SVM of the report's relationships.
pub fn apply(report: &mut StatusReport, inputs: Result<&ExportInputs, &str>) {
    let svms = destination_svms(report);
    match inputs {
        Err(e) => report.notes.push(format!(
            "the DR SVMs' NFS export policies were not checked against the DR nodes: {e}"
        )),
        Ok(i) if i.nodes.is_empty() => report
            .notes
            .push("the DR cluster lists no Nodes: NFS export policies not checked".to_string()),
        Ok(i) => {
            for svm in &svms {
                report.problems.extend(svm_problems(svm, i));
            }
        }
    }
    report.healthy = report.problems.is_empty();
}

/// The DR SVMs the report's relationships replicate into.
pub fn destination_svms(report: &StatusReport) -> Vec<String> {
    let mut out: Vec<String> = report
        .relationships
        .iter()
        .map(|r| r.end_on(crate::site::SiteRole::Dr).svm.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs(clients: &str) -> ExportInputs {
        ExportInputs {
            cluster: "ontap-b".into(),
            policies: vec![json!({"name": "default", "svm": {"name": "svm1_dr"},
                "rules": [{"index": 1, "clients": [{"match": clients}], "protocols": ["any"],
                    "ro_rule": ["sys"], "rw_rule": ["sys"], "superuser": ["sys"]}]})],
            volumes: vec![
                json!({"name": "svm1_root", "svm": {"name": "svm1_dr"}, "is_svm_root": true,
                    "nas": {"export_policy": {"name": "default"}}}),
                json!({"name": "trident_pvc_a", "svm": {"name": "svm1_dr"}, "is_svm_root": false,
                    "nas": {"export_policy": {"name": "default"}}}),
                json!({"name": "trident_pvc_b", "svm": {"name": "svm1_dr"}, "is_svm_root": false,
                    "nas": {"export_policy": {"name": "default"}}}),
            ],
            nodes: vec![NodeAddresses::from_node(
                &json!({"metadata": {"name": "dr-node-1"},
                "status": {"addresses": [{"type": "InternalIP", "address": "198.51.100.21"}]}}),
            )],
        }
    }

    #[test]
    fn primary_only_rules_are_one_problem_per_policy() {
        let p = svm_problems("svm1_dr", &inputs("192.0.2.0/28"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("export policy default")
                && p[0].contains("198.51.100.21")
                && p[0].contains("2 volumes use it")
                && p[0].contains("export-policy rule create"),
            "{}",
            p[0]
        );
        assert!(svm_problems("svm1_dr", &inputs("198.51.100.0/24")).is_empty());
        assert!(svm_problems("other", &inputs("192.0.2.0/28")).is_empty());
    }
}
