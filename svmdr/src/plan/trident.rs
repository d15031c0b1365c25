//! The DR Trident backends in a plan: their state as Trident records it,
//! and the prompt that makes Trident re-evaluate one.
//!
//! Trident marks an ONTAP backend offline (or fails its initialisation)
//! while its SVM is stopped, has no aggregates or no data LIF up (Trident:
//! `storage_drivers/ontap/ontap_common.go`); that is the DR backend before a
//! failover. After `start-dr`, Trident's periodic backend state poll
//! (`core/orchestrator_core.go` `PeriodicallyReconcileBackendState`, every
//! `backend_storage_poll_interval`, 5 min by default) may bring it back, or
//! not (a backend whose initialisation failed is only re-created by an
//! update).
//!
//! The prompt: Trident's CRD controller ignores TridentBackendConfig updates
//! that do not change `metadata.generation`, i.e. annotation or status changes
//! (`frontend/crd/controller/crd_controller.go` `updateCRHandler`); a spec
//! change would work but edits the user's configuration. A change to the
//! TBC's credentials Secret is handled differently: Secrets carry no
//! generation, so any new resourceVersion passes, and Trident re-queues
//! every TBC using that Secret for an update (`frontend/crd/controller/secret.go`
//! `updateSecretHandler`, `handleSecret`), which re-validates and
//! re-initialises the backend (`trident_backend_config.go`
//! `updateBackendConfig` → `UpdateBackendByBackendUUID`). So [`TridentApi::prompt`]
//! sets an annotation on that Secret: nothing of the configuration or the
//! credentials changes. See `docs/trident.md`.

use chrono::Utc;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use super::observe::Observed;
pub use super::trident_report::TridentReport;
use crate::site::SiteRole;
use crate::trident::backend::Backend;
use crate::trident::cluster::list_backends;

/// The annotation [`TridentApi::prompt`] sets on a TBC's credentials Secret.
pub const PROMPT_ANNOTATION: &str = "svmdr.netapp.io/backend-reconcile-requested-at";

/// The Trident backends of the SVM at `site` that are neither online nor
/// suspended (pure).
pub fn offline_backends(obs: &Observed, site: SiteRole) -> Vec<&Backend> {
    let Some(svm) = obs.site(site).svm.as_ref().map(|s| s.name.as_str()) else {
        return Vec::new();
    };
    obs.trident
        .of_svm(svm)
        .filter(|b| !b.is_online() && !b.is_suspended())
        .collect()
}

/// Why the backends step has nothing (more) to wait for, if it has not.
pub(super) fn backends_done(obs: &Observed, site: SiteRole) -> Option<String> {
    match &obs.trident {
        TridentReport::NotConfigured => {
            return Some(format!(
                "skipped: the {site} cluster's Kubernetes API is not configured, so its Trident backends cannot be checked (check them with `tridentctl get backend`)"
            ));
        }
        TridentReport::NotObserved | TridentReport::Failed { .. } => return None,
        TridentReport::Listed { .. } => {}
    }
    let svm = obs.site(site).svm.as_ref()?.name.as_str();
    let mine: Vec<&Backend> = obs.trident.of_svm(svm).collect();
    if mine.is_empty() {
        return Some(format!(
            "no Trident backend on the {site} cluster uses SVM {svm}"
        ));
    }
    if !offline_backends(obs, site).is_empty() {
        return None;
    }
    let online: Vec<&str> = mine
        .iter()
        .filter(|b| b.is_online())
        .map(|b| b.name.as_str())
        .collect();
    let mut why = if online.is_empty() {
        String::from("no backend to wait for")
    } else {
        format!("Trident backend(s) {} online", online.join(", "))
    };
    for b in mine.iter().filter(|b| b.is_suspended()) {
        why.push_str(&format!(
            "; {} is suspended, not waited on (resume it with `tridentctl update backend state {} --user-state normal`)",
            b.describe(),
            b.name
        ));
    }
    Some(why)
}

/// Reads and prompts the Trident backends of one cluster.
#[derive(Clone)]
pub struct TridentApi {
    client: kube::Client,
    namespace: String,
}

impl std::fmt::Debug for TridentApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TridentApi")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

fn trident_resource(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("trident.netapp.io", "v1", kind))
}

impl TridentApi {
    /// Trident in `namespace` of the cluster behind `client`.
    pub fn new(client: kube::Client, namespace: impl Into<String>) -> Self {
        Self {
            client,
            namespace: namespace.into(),
        }
    }

    /// Trident's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Lists the ONTAP TridentBackends ([`list_backends`]); a failure is
    /// recorded.
    pub async fn observe(&self) -> TridentReport {
        match list_backends(&self.client, &self.namespace).await {
            Ok(backends) => TridentReport::Listed { backends },
            Err(e) => TridentReport::Failed {
                error: e.to_string(),
            },
        }
    }

    /// Prompts Trident to re-evaluate `backend`: annotates the credentials
    /// Secret of its TridentBackendConfig (see the module docs for why this
    /// is the trigger). Returns what was done.
    ///
    /// # Errors
    ///
    /// What could not be done, with the manual fix.
    pub async fn prompt(&self, backend: &Backend) -> Result<String, String> {
        let ns = &self.namespace;
        let Some(config_ref) = backend.config_ref.as_deref() else {
            return Err(format!(
                "backend {} has no TridentBackendConfig (created with tridentctl): run `tridentctl update backend {} -n {ns} -f <its config file>`",
                backend.name, backend.name
            ));
        };
        let tbcs: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            ns,
            &trident_resource("TridentBackendConfig"),
        );
        let list = tbcs
            .list(&ListParams::default())
            .await
            .map_err(|e| format!("listing TridentBackendConfigs in {ns}: {e}"))?;
        let tbc = list
            .items
            .iter()
            .find(|t| t.metadata.uid.as_deref() == Some(config_ref))
            .ok_or_else(|| {
                format!(
                    "no TridentBackendConfig in {ns} has the UID {} that backend {} refers to",
                    config_ref, backend.name
                )
            })?;
        let tbc_name = tbc.metadata.name.clone().unwrap_or_default();
        let secret = tbc
            .data
            .pointer("/spec/credentials/name")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!(
                    "TridentBackendConfig {ns}/{tbc_name} names no credentials Secret: edit its spec (any change makes Trident update the backend), e.g. `kubectl -n {ns} edit tbc {tbc_name}`"
                )
            })?
            .to_string();
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let patch = json!({"metadata": {"annotations": {
            PROMPT_ANNOTATION: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        }}});
        secrets
            .patch(&secret, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| {
                format!(
                    "annotating Secret {ns}/{secret} (credentials of TridentBackendConfig {tbc_name}): {e}; prompt Trident by hand: `kubectl -n {ns} annotate secret {secret} {PROMPT_ANNOTATION}=now --overwrite`"
                )
            })?;
        Ok(format!(
            "annotated Secret {ns}/{secret}, the credentials of TridentBackendConfig {tbc_name}: Trident re-runs the update of backend {}",
            backend.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tbe(name: &str, svm: &str, state: &str, user: &str) -> Value {
        json!({
            "backendName": name, "backendUUID": format!("uuid-{name}"),
            "config": {"ontap_config": {
                "storageDriverName": "ontap-nas", "managementLIF": "10.0.0.9", "svm": svm
            }},
            "state": state, "userState": user, "online": state == "online",
            "stateReason": if state == "online" { "" } else { "SVM svm1_dr is not in running state" },
            "configRef": "tbc-uid"
        })
    }

    #[test]
    fn parses_trident_backend_fields() {
        let b =
            crate::trident::backend::parse_backend(&tbe("nas-dr", "svm1_dr", "offline", "normal"))
                .expect("backend");
        assert_eq!(b.svm.as_deref(), Some("svm1_dr"));
        assert!(!b.is_online() && !b.is_suspended());
        assert_eq!(
            b.describe(),
            "Trident backend nas-dr (SVM svm1_dr): state offline, userState normal, stateReason \"SVM svm1_dr is not in running state\""
        );
        assert!(crate::trident::backend::parse_backend(&json!({"state": "online"})).is_err());
    }

    #[test]
    fn backends_are_selected_by_svm() {
        let report = TridentReport::Listed {
            backends: [
                tbe("a", "svm1_dr", "offline", "normal"),
                tbe("b", "other", "online", "normal"),
            ]
            .iter()
            .filter_map(|v| crate::trident::backend::parse_backend(v).ok())
            .collect(),
        };
        let names: Vec<&str> = report.of_svm("svm1_dr").map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["a"]);
        assert_eq!(TridentReport::NotConfigured.of_svm("svm1_dr").count(), 0);
    }

    mod step {
        use crate::plan::failover::{FailoverOptions, plan};
        use crate::plan::step::{Check, Step, StepKind};
        use crate::plan::storage::RelState;
        use crate::plan::testutil::*;
        use crate::plan::trident::TridentReport;
        use crate::site::SiteRole;
        use std::time::Duration;

        fn step() -> Step {
            Step::new(
                "backends-online",
                StepKind::BackendsOnline {
                    site: SiteRole::Dr,
                    grace: Duration::from_secs(30),
                    limit: Duration::from_secs(300),
                },
            )
        }

        fn check(report: TridentReport, running: bool) -> Check {
            let mut obs = observed(primary_down(), dr_site(RelState::BrokenOff, running));
            obs.trident = report;
            step().check(&obs, &pair())
        }

        #[test]
        fn an_offline_backend_is_waited_for() {
            let c = check(listed(&[("nas-dr", "svm1_dr", "offline", "normal")]), true);
            assert_eq!(c, Check::Todo);
        }

        #[test]
        fn online_suspended_and_foreign_backends() {
            let c = check(
                listed(&[
                    ("nas-dr", "svm1_dr", "online", "normal"),
                    ("san-dr", "svm1_dr", "offline", "suspended"),
                    ("other", "svm9", "offline", "normal"),
                ]),
                true,
            );
            let Check::Done(why) = c else { panic!("{c:?}") };
            assert!(why.contains("nas-dr online"), "{why}");
            assert!(
                why.contains("san-dr (SVM svm1_dr): state offline, userState suspended"),
                "{why}"
            );
            assert!(why.contains("not waited on"), "{why}");
            let c = check(listed(&[("other", "svm9", "offline", "normal")]), true);
            assert!(
                matches!(&c, Check::Done(w) if w.contains("no Trident backend on the dr cluster uses SVM svm1_dr")),
                "{c:?}"
            );
        }

        #[test]
        fn skipped_without_the_dr_kubernetes_api() {
            let c = check(TridentReport::NotConfigured, true);
            assert!(
                matches!(&c, Check::Done(w) if w.starts_with("skipped: the dr cluster's Kubernetes API is not configured")),
                "{c:?}"
            );
        }

        #[test]
        fn blocked_while_the_svm_is_stopped_or_the_list_fails() {
            let c = check(listed(&[("nas-dr", "svm1_dr", "offline", "normal")]), false);
            assert!(
                matches!(&c, Check::Blocked(w) if w.contains("not running")),
                "{c:?}"
            );
            let c = check(
                TridentReport::Failed {
                    error: "listing TridentBackends in trident: 403".into(),
                },
                true,
            );
            assert!(
                matches!(&c, Check::Blocked(w) if w.contains("403")),
                "{c:?}"
            );
        }

        #[test]
        fn dry_run_shows_the_step_after_start_dr() {
            let mut obs = observed(primary_down(), dr_site(RelState::Snapmirrored, false));
            obs.trident = listed(&[("nas-dr", "svm1_dr", "offline", "normal")]);
            let p = plan(&obs, &pair(), FailoverOptions::default()).expect("plan");
            let preview = p.preview(&obs);
            let last = preview.last().expect("steps");
            assert_eq!(last.id, "backends-online");
            assert_eq!(last.check, Check::Todo, "earlier steps start the SVM");
            assert!(
                last.title.contains("prompt Trident after 30s, at most 5m"),
                "{}",
                last.title
            );
            assert!(
                last.calls[1].contains("credentials Secret"),
                "{:?}",
                last.calls
            );
        }
    }
}
