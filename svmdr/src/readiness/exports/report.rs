//! The export check of one volume for every node, and its report.

use super::{AccessWanted, NodeAddresses, NodeDecision, Verdict, evaluate_node};
use crate::readiness::NotReady;
use crate::readiness::SvmFacts;

/// Every node's result for the export policy of one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Cluster label.
    pub cluster: String,
    /// SVM name.
    pub svm: String,
    /// The volume checked (`None`: a policy checked on its own).
    pub volume: Option<String>,
    /// Policy name.
    pub policy: String,
    /// One decision per node.
    pub decisions: Vec<NodeDecision>,
}

impl ExportReport {
    /// Every node is admitted.
    pub fn all_admitted(&self) -> bool {
        self.decisions.iter().all(|d| d.verdict.is_admitted())
    }

    /// Nodes that would be refused.
    pub fn denied(&self) -> Vec<&NodeDecision> {
        self.decisions
            .iter()
            .filter(|d| d.verdict.is_denied())
            .collect()
    }

    /// Nodes whose access cannot be verified.
    pub fn unverifiable(&self) -> Vec<&NodeDecision> {
        self.decisions
            .iter()
            .filter(|d| matches!(d.verdict, Verdict::CannotVerify { .. }))
            .collect()
    }

    /// Warnings of admitted nodes (`node: warning`), deduplicated.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in &self.decisions {
            if let Verdict::Admitted { rule, warnings } = &d.verdict {
                for w in warnings {
                    let line = format!("export policy {} {rule}: {w}", self.policy);
                    if !out.contains(&line) {
                        out.push(line);
                    }
                }
            }
        }
        out
    }

    /// The ONTAP CLI command that admits the refused (and unverifiable)
    /// nodes ahead of every other rule.
    pub fn fix_command(&self) -> String {
        // One command per policy that refuses (the volume's, or the SVM
        // root volume's, which only needs to grant read access).
        let mut per_policy: Vec<(String, Vec<String>)> = Vec::new();
        for d in self.decisions.iter().filter(|d| !d.verdict.is_admitted()) {
            let i = match per_policy.iter().position(|(p, _)| *p == d.policy) {
                Some(i) => i,
                None => {
                    per_policy.push((d.policy.clone(), vec![]));
                    per_policy.len() - 1
                }
            };
            for ip in &d.node.ips {
                let s = ip.to_string();
                if !per_policy[i].1.contains(&s) {
                    per_policy[i].1.push(s);
                }
            }
        }
        if per_policy.is_empty() {
            per_policy.push((self.policy.clone(), vec![]));
        }
        per_policy
            .iter()
            .map(|(policy, ips)| {
                let clients = if ips.is_empty() {
                    "<node addresses or CIDR>".to_string()
                } else {
                    ips.join(",")
                };
                let rw = if *policy == self.policy { "sys" } else { "never" };
                format!(
                    "vserver export-policy rule create -vserver {} -policyname {policy} -ruleindex 1 \
                     -clientmatch {clients} -protocol nfs -rorule sys -rwrule {rw} -superuser sys",
                    self.svm
                )
            })
            .collect::<Vec<_>>()
            .join("` and `")
    }

    /// `None` when every node is admitted; else
    /// [`NotReady::ExportNotAllowed`] carrying [`ExportReport::message`].
    pub fn not_ready(&self) -> Option<NotReady> {
        Some(NotReady::ExportNotAllowed {
            cluster: self.cluster.clone(),
            svm: self.svm.clone(),
            volume: self.volume.clone().unwrap_or_default(),
            policy: self.policy.clone(),
            detail: self.message()?,
        })
    }

    /// `None` when every node is admitted; else a message naming the
    /// policy, the volume, each refused or unverifiable node with the
    /// deciding rule, and the fix.
    pub fn message(&self) -> Option<String> {
        if self.all_admitted() {
            return None;
        }
        let bad: Vec<String> = self
            .decisions
            .iter()
            .filter(|d| !d.verdict.is_admitted())
            .map(|d| {
                let which = if d.policy == self.policy {
                    String::new()
                } else {
                    format!("SVM root volume policy {} ", d.policy)
                };
                format!("{}: {which}{}", d.node.describe(), d.verdict)
            })
            .collect();
        let of = match &self.volume {
            Some(v) => format!(" (used by volume {v})"),
            None => String::new(),
        };
        let what = if self.denied().is_empty() {
            "cannot be shown to allow"
        } else {
            "does not allow"
        };
        Some(format!(
            "export policy {} of SVM {} on {}{of} {what} NFS read-write mounts (AUTH_SYS) from {} of {} node(s): {}; \
             fix: `{}` (or let Trident manage the export policy: a backend with autoExportPolicy and a managed import)",
            self.policy,
            self.svm,
            self.cluster,
            bad.len(),
            self.decisions.len(),
            bad.join("; "),
            self.fix_command()
        ))
    }
}

/// Checks the export policy of `volume` (from `facts`) for every node.
/// A volume or policy the facts do not have gives `CannotVerify` for each
/// node, saying why.
pub fn check_volume_exports(
    facts: &SvmFacts,
    volume: &str,
    nodes: &[NodeAddresses],
    want: &AccessWanted,
) -> ExportReport {
    let policy = facts
        .volumes
        .get(volume)
        .and_then(|v| v.export_policy.clone());
    let (policy_name, problem) = match (&policy, &facts.export_policies_error) {
        (_, Some(err)) => (
            policy.clone().unwrap_or_else(|| "?".into()),
            Some(format!(
                "the SVM's export policies could not be read: {err}"
            )),
        ),
        (None, None) => (
            "?".into(),
            Some(format!(
                "volume {volume} has no export policy in the facts (not found, or nas.export_policy not reported)"
            )),
        ),
        (Some(p), None) if !facts.export_policies.contains_key(p) => (
            p.clone(),
            Some(format!("export policy {p} does not exist on the SVM")),
        ),
        (Some(p), None) => (p.clone(), None),
    };
    let decisions = nodes
        .iter()
        .map(|n| match &problem {
            Some(reason) => NodeDecision {
                policy: policy_name.clone(),
                node: n.clone(),
                verdict: Verdict::CannotVerify {
                    rule: None,
                    reason: reason.clone(),
                },
            },
            None => {
                let rules = |p: &str| {
                    facts
                        .export_policies
                        .get(p)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                };
                let vol = evaluate_node(&policy_name, rules(&policy_name), n, want);
                // The mount traverses the root volume: its policy must
                // grant read access (checked first by ONTAP).
                let root = facts
                    .root_export_policy
                    .as_deref()
                    .filter(|r| *r != policy_name && facts.export_policies.contains_key(*r))
                    .map(|r| {
                        let read = AccessWanted {
                            read_write: false,
                            ..want.clone()
                        };
                        evaluate_node(r, rules(r), n, &read)
                    });
                match root {
                    Some(r) if r.verdict.rank() > vol.verdict.rank() => r,
                    _ => vol,
                }
            }
        })
        .collect();
    ExportReport {
        cluster: facts.cluster.clone(),
        svm: facts.svm.clone(),
        volume: Some(volume.to_string()),
        policy: policy_name,
        decisions,
    }
}
