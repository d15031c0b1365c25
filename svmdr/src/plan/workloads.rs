//! The workloads a Velero restore brought back on the DR cluster, and how a
//! failback stops them so that exactly one site runs the application.
//!
//! Velero labels every object it restores with `velero.io/restore-name`
//! (Velero: `pkg/restore/restore.go` `addRestoreLabels`,
//! `pkg/apis/velero/v1/labels_annotations.go` `RestoreNameLabel`), so the
//! restored Deployments and StatefulSets are found with one LIST per kind
//! across all namespaces ([`list_restored`]).
//!
//! A failback scales to 0 those restored by a Restore this tool created
//! (label `app.kubernetes.io/managed-by: kubectl-svmdr`, see
//! [`crate::restore::restore_object`]), before the DR SVM stops: the
//! application stops cleanly while its volumes still answer, instead of
//! hanging on a stopped NFS server. Nothing is deleted: the previous
//! replica count is kept in the annotation [`REPLICAS_ANNOTATION`], so a
//! later failover (or a person) can scale them back ([`scale_back_command`]).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Velero's label on every object it restored (value: the Restore's name).
pub const RESTORE_NAME_LABEL: &str = "velero.io/restore-name";
/// The label this tool puts on the Velero Restores it creates.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-svmdr");
/// The replica count a workload had before a failback scaled it to 0.
pub const REPLICAS_ANNOTATION: &str = "svmdr.netapp.io/replicas-before-failback";

/// A Deployment or StatefulSet that Velero restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoredWorkload {
    /// `Deployment` or `StatefulSet`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The Velero Restore that created it (its `velero.io/restore-name`).
    pub restore: String,
    /// `spec.replicas` (Kubernetes' default 1 when unset).
    pub replicas: i32,
    /// `status.readyReplicas`.
    pub ready_replicas: i32,
    /// [`REPLICAS_ANNOTATION`], when a failback scaled it down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas_before_failback: Option<i32>,
}

impl RestoredWorkload {
    /// Whether it is meant to run (`spec.replicas` above 0; its pods may
    /// take a moment to go after a scale-down: see `ready_replicas`).
    pub fn scaled_up(&self) -> bool {
        self.replicas > 0
    }

    /// `deployment/web` (kubectl's resource/name).
    pub fn reference(&self) -> String {
        format!("{}/{}", self.kind.to_lowercase(), self.name)
    }
}

/// Why the workloads could not be read or changed.
#[derive(Debug, thiserror::Error)]
#[error("{what} on the DR cluster: {source}")]
pub struct WorkloadError {
    /// What was being done.
    pub what: String,
    /// The Kubernetes error.
    #[source]
    pub source: kube::Error,
}

fn err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> WorkloadError {
    let what = what.into();
    move |source| WorkloadError { what, source }
}

fn from_meta(
    kind: &str,
    meta: &ObjectMeta,
    replicas: Option<i32>,
    ready: Option<i32>,
) -> Option<RestoredWorkload> {
    let restore = meta.labels.as_ref()?.get(RESTORE_NAME_LABEL)?.clone();
    Some(RestoredWorkload {
        kind: kind.into(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        restore,
        replicas: replicas.unwrap_or(1),
        ready_replicas: ready.unwrap_or(0),
        replicas_before_failback: meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(REPLICAS_ANNOTATION))
            .and_then(|v| v.parse().ok()),
    })
}

/// The Deployments and StatefulSets Velero restored on `kube`: one LIST per
/// kind, all namespaces, selected by [`RESTORE_NAME_LABEL`]. Sorted by
/// namespace, kind and name.
///
/// # Errors
/// The failed LIST.
pub async fn list_restored(kube: &kube::Client) -> Result<Vec<RestoredWorkload>, WorkloadError> {
    let lp = ListParams::default().labels(RESTORE_NAME_LABEL);
    let deps: Api<Deployment> = Api::all(kube.clone());
    let sts: Api<StatefulSet> = Api::all(kube.clone());
    let (d, s) = tokio::try_join!(
        async {
            deps.list(&lp)
                .await
                .map_err(err("listing the Deployments Velero restored"))
        },
        async {
            sts.list(&lp)
                .await
                .map_err(err("listing the StatefulSets Velero restored"))
        },
    )?;
    let mut out: Vec<RestoredWorkload> = d
        .items
        .iter()
        .filter_map(|x| {
            from_meta(
                "Deployment",
                &x.metadata,
                x.spec.as_ref().and_then(|s| s.replicas),
                x.status.as_ref().and_then(|s| s.ready_replicas),
            )
        })
        .chain(s.items.iter().filter_map(|x| {
            from_meta(
                "StatefulSet",
                &x.metadata,
                x.spec.as_ref().and_then(|s| s.replicas),
                x.status.as_ref().and_then(|s| s.ready_replicas),
            )
        }))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.kind, &a.name).cmp(&(&b.namespace, &b.kind, &b.name)));
    Ok(out)
}

/// The names of the Velero Restores this tool created in `velero_namespace`
/// (one LIST, selected by [`MANAGED_BY`]).
///
/// # Errors
/// The failed LIST.
pub async fn tool_restores(
    kube: &kube::Client,
    velero_namespace: &str,
) -> Result<BTreeSet<String>, WorkloadError> {
    let api: Api<DynamicObject> = Api::namespaced_with(
        kube.clone(),
        velero_namespace,
        &crate::restore::velero_resource("Restore"),
    );
    let lp = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    let list = api.list(&lp).await.map_err(err(format!(
        "listing the Velero Restores of kubectl-svmdr in {velero_namespace}"
    )))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|r| r.metadata.name)
        .collect())
}

/// One workload a failback scales to 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleDown {
    /// `Deployment` or `StatefulSet`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The Velero Restore that created it.
    pub restore: String,
    /// Its replicas now (kept in [`REPLICAS_ANNOTATION`]).
    pub from_replicas: i32,
}

impl ScaleDown {
    /// `shop/deployment/web 1 → 0`.
    pub fn line(&self) -> String {
        format!(
            "{}/{}/{} {} → 0",
            self.namespace,
            self.kind.to_lowercase(),
            self.name,
            self.from_replicas
        )
    }

    /// The request it makes, for `--dry-run`.
    pub fn call(&self) -> String {
        format!(
            "DR Kubernetes: PATCH apps/v1 {} {}/{} {{\"metadata\":{{\"annotations\":{{\"{REPLICAS_ANNOTATION}\":\"{}\"}}}},\"spec\":{{\"replicas\":0}}}}",
            self.kind, self.namespace, self.name, self.from_replicas
        )
    }
}

/// What a failback does to the restored workloads (pure): scale to 0 those
/// with replicas above 0 that a Restore in `ours` created. Workloads
/// already at 0 need nothing (a re-run changes nothing); those restored by
/// someone else's Restore are left alone, and named in the second list.
pub fn scale_down_plan(
    workloads: &[RestoredWorkload],
    ours: &BTreeSet<String>,
) -> (Vec<ScaleDown>, Vec<RestoredWorkload>) {
    let mut plan = Vec::new();
    let mut foreign = Vec::new();
    for w in workloads.iter().filter(|w| w.replicas > 0) {
        if ours.contains(&w.restore) {
            plan.push(ScaleDown {
                kind: w.kind.clone(),
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                restore: w.restore.clone(),
                from_replicas: w.replicas,
            });
        } else {
            foreign.push(w.clone());
        }
    }
    (plan, foreign)
}

/// Looks up the DR workloads a failback would scale down: the plan, and the
/// running ones restored by Restores this tool did not create.
///
/// # Errors
/// A failed LIST.
pub async fn plan_scale_down(
    kube: &kube::Client,
    velero_namespace: &str,
) -> Result<(Vec<ScaleDown>, Vec<RestoredWorkload>), WorkloadError> {
    let (workloads, ours) =
        tokio::try_join!(list_restored(kube), tool_restores(kube, velero_namespace))?;
    Ok(scale_down_plan(&workloads, &ours))
}

/// Scales each workload of `plan` to 0, recording its replicas in
/// [`REPLICAS_ANNOTATION`] (one JSON merge patch each, so the count and the
/// annotation change together).
///
/// # Errors
/// The first failed PATCH (the ones before it are done; a re-run skips them).
pub async fn scale_down(kube: &kube::Client, plan: &[ScaleDown]) -> Result<(), WorkloadError> {
    for s in plan {
        let patch = json!({
            "metadata": {"annotations": {REPLICAS_ANNOTATION: s.from_replicas.to_string()}},
            "spec": {"replicas": 0},
        });
        let pp = PatchParams::default();
        let what = format!(
            "scaling {} {}/{} to 0",
            s.kind.to_lowercase(),
            s.namespace,
            s.name
        );
        if s.kind == "StatefulSet" {
            Api::<StatefulSet>::namespaced(kube.clone(), &s.namespace)
                .patch(&s.name, &pp, &Patch::Merge(&patch))
                .await
                .map_err(err(what))?;
        } else {
            Api::<Deployment>::namespaced(kube.clone(), &s.namespace)
                .patch(&s.name, &pp, &Patch::Merge(&patch))
                .await
                .map_err(err(what))?;
        }
    }
    Ok(())
}

/// What `failback` is asked to do with the workloads restored on DR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailbackApps {
    /// Namespace of Velero (where this tool's Restores are).
    pub velero_namespace: String,
    /// Leave them running (`--keep-dr-workloads`): only warn.
    pub keep: bool,
}

/// The workloads a failback finds on DR and what it does with them, shown by
/// `--dry-run` (`drWorkloads`), applied before the ONTAP steps, recorded in
/// the audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrAppsPlan {
    /// To scale to 0 (empty with `keep`).
    pub scale_down: Vec<ScaleDown>,
    /// Running and left alone: restored by a Restore this tool did not
    /// create, or all of them with `keep`.
    pub left_running: Vec<ScaleDown>,
    /// `--keep-dr-workloads` was given.
    pub kept: bool,
    /// Why the DR workloads could not be looked up (nothing is scaled then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DrAppsPlan {
    /// Looks the workloads up on the DR cluster (three LISTs); a failure is
    /// kept in [`DrAppsPlan::error`] rather than holding up the failback.
    pub async fn look(kube: &kube::Client, opts: &FailbackApps) -> Self {
        match plan_scale_down(kube, &opts.velero_namespace).await {
            Err(e) => Self {
                error: Some(e.to_string()),
                kept: opts.keep,
                ..Self::default()
            },
            Ok((ours, foreign)) => {
                let foreign = foreign.iter().map(|w| ScaleDown {
                    kind: w.kind.clone(),
                    namespace: w.namespace.clone(),
                    name: w.name.clone(),
                    restore: w.restore.clone(),
                    from_replicas: w.replicas,
                });
                if opts.keep {
                    Self {
                        left_running: ours.into_iter().chain(foreign).collect(),
                        kept: true,
                        ..Self::default()
                    }
                } else {
                    Self {
                        scale_down: ours,
                        left_running: foreign.collect(),
                        ..Self::default()
                    }
                }
            }
        }
    }

    /// Scales [`DrAppsPlan::scale_down`] to 0.
    ///
    /// # Errors
    /// The first failed PATCH.
    pub async fn apply(&self, kube: &kube::Client) -> Result<(), WorkloadError> {
        scale_down(kube, &self.scale_down).await
    }

    /// What the user must know: the workloads left running on DR and a
    /// lookup that failed (`warning:` lines).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(format!(
                "the workloads Velero restored on DR were not checked ({e}): they may still run against the stopped DR SVM; check with `kubectl get deploy,sts -A -l {RESTORE_NAME_LABEL}` on the DR cluster and scale them to 0"
            ));
        }
        if !self.left_running.is_empty() {
            let names: Vec<String> = self.left_running.iter().map(ScaleDown::line).collect();
            let why = if self.kept {
                "--keep-dr-workloads"
            } else {
                "restored by a Velero Restore kubectl-svmdr did not create"
            };
            out.push(format!(
                "left running on DR ({why}), against a DR SVM the failback stops: {}; scale them to 0 with `kubectl scale --replicas=0` on the DR cluster",
                names.join(", ").replace(" → 0", " replicas")
            ));
        }
        out
    }

    /// The audit's words for what was done.
    pub fn audit_text(&self) -> Option<String> {
        if self.scale_down.is_empty() {
            return None;
        }
        let names: Vec<String> = self.scale_down.iter().map(ScaleDown::line).collect();
        Some(format!(
            "scaled to 0 on DR (replicas kept in annotation {REPLICAS_ANNOTATION}): {}",
            names.join(", ")
        ))
    }
}

/// The kubectl command that brings a scaled-down workload back.
pub fn scale_back_command(w: &RestoredWorkload) -> Option<String> {
    w.replicas_before_failback.map(|n| {
        format!(
            "kubectl -n {} scale {} --replicas={n}",
            w.namespace,
            w.reference()
        )
    })
}

/// The restored workloads per namespace.
pub fn by_namespace(workloads: &[RestoredWorkload]) -> BTreeMap<String, Vec<RestoredWorkload>> {
    let mut out: BTreeMap<String, Vec<RestoredWorkload>> = BTreeMap::new();
    for w in workloads {
        out.entry(w.namespace.clone()).or_default().push(w.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(ns: &str, name: &str, restore: &str, replicas: i32) -> RestoredWorkload {
        RestoredWorkload {
            kind: "Deployment".into(),
            namespace: ns.into(),
            name: name.into(),
            restore: restore.into(),
            replicas,
            ready_replicas: replicas,
            replicas_before_failback: None,
        }
    }

    #[test]
    fn only_running_workloads_of_our_restores_are_scaled_down() {
        let ours: BTreeSet<String> = ["nightly-svmdr-1".to_string()].into();
        let all = [
            w("shop", "web", "nightly-svmdr-1", 2),
            w("shop", "cache", "nightly-svmdr-1", 0),
            w("blog", "www", "by-hand", 1),
        ];
        let (plan, foreign) = scale_down_plan(&all, &ours);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].line(), "shop/deployment/web 2 → 0");
        assert!(
            plan[0].call().contains(REPLICAS_ANNOTATION),
            "{}",
            plan[0].call()
        );
        assert!(plan[0].call().contains("\"replicas\":0"));
        assert_eq!(foreign.len(), 1);
        assert_eq!(foreign[0].name, "www");
    }

    #[test]
    fn the_plan_warns_about_what_it_leaves_running_and_audits_what_it_did() {
        let sd = ScaleDown {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
            restore: "r".into(),
            from_replicas: 1,
        };
        let p = DrAppsPlan {
            scale_down: vec![sd.clone()],
            ..DrAppsPlan::default()
        };
        assert!(p.warnings().is_empty());
        let a = p.audit_text().expect("audited");
        assert!(a.contains("shop/deployment/web 1 → 0"), "{a}");
        let kept = DrAppsPlan {
            left_running: vec![sd],
            kept: true,
            ..DrAppsPlan::default()
        };
        assert_eq!(kept.audit_text(), None);
        let w = kept.warnings().join("\n");
        assert!(
            w.contains("--keep-dr-workloads") && w.contains("shop/deployment/web 1 replicas"),
            "{w}"
        );
    }

    #[test]
    fn a_scaled_down_workload_says_how_to_bring_it_back() {
        let mut x = w("shop", "web", "r", 0);
        assert_eq!(scale_back_command(&x), None);
        x.replicas_before_failback = Some(3);
        assert_eq!(
            scale_back_command(&x).as_deref(),
            Some("kubectl -n shop scale deployment/web --replicas=3")
        );
        assert!(!x.scaled_up());
    }

    #[test]
    fn the_label_and_annotation_are_read_from_metadata() {
        let meta = ObjectMeta {
            name: Some("db".into()),
            namespace: Some("shop".into()),
            labels: Some([(RESTORE_NAME_LABEL.to_string(), "r1".to_string())].into()),
            annotations: Some([(REPLICAS_ANNOTATION.to_string(), "2".to_string())].into()),
            ..Default::default()
        };
        let got = from_meta("StatefulSet", &meta, Some(0), None).expect("restored");
        assert_eq!(got.reference(), "statefulset/db");
        assert_eq!(got.replicas_before_failback, Some(2));
        assert_eq!(got.ready_replicas, 0);
        let plain = ObjectMeta::default();
        assert!(from_meta("Deployment", &plain, None, None).is_none());
    }
}
