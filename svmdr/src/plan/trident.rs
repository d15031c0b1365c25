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
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::observe::Observed;
use crate::site::SiteRole;

/// The annotation [`TridentApi::prompt`] sets on a TBC's credentials Secret.
pub const PROMPT_ANNOTATION: &str = "svmdr.netapp.io/backend-reconcile-requested-at";

/// One TridentBackend as Trident records it (Trident:
/// `persistent_store/crd/apis/netapp/v1/types.go` `TridentBackend`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendState {
    /// `backendName`.
    pub name: String,
    /// `backendUUID`.
    pub uuid: String,
    /// `config.ontap_config.svm`, when set.
    pub svm: Option<String>,
    /// `state` (`online`, `offline`, `failed`, `deleting`).
    pub state: String,
    /// `userState` (`normal`, `suspended`).
    pub user_state: String,
    /// `stateReason` (why it is offline).
    pub state_reason: String,
    /// `online`.
    pub online: bool,
    /// `configRef`: UID of its TridentBackendConfig (empty for tridentctl backends).
    pub config_ref: String,
}

impl BackendState {
    /// Reads a TridentBackend object (pure); `None` without a `backendName`.
    pub fn from_object(v: &Value) -> Option<Self> {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(String::from);
        Some(Self {
            name: s("/backendName")?,
            uuid: s("/backendUUID").unwrap_or_default(),
            svm: s("/config/ontap_config/svm").filter(|x| !x.is_empty()),
            state: s("/state").unwrap_or_default(),
            user_state: s("/userState").unwrap_or_default(),
            state_reason: s("/stateReason").unwrap_or_default(),
            online: v.get("online").and_then(Value::as_bool).unwrap_or(false),
            config_ref: s("/configRef").unwrap_or_default(),
        })
    }

    /// Whether Trident reports it online.
    pub fn is_online(&self) -> bool {
        self.state == "online"
    }

    /// Whether an administrator suspended it (`userState: suspended`): it is
    /// reported, not waited on.
    pub fn is_suspended(&self) -> bool {
        self.user_state == "suspended"
    }

    /// `name (SVM s): state offline, userState normal, stateReason "..."`.
    pub fn describe(&self) -> String {
        let reason = if self.state_reason.is_empty() {
            String::new()
        } else {
            format!(", stateReason {:?}", self.state_reason)
        };
        format!(
            "Trident backend {} (SVM {}): state {}, userState {}{reason}",
            self.name,
            self.svm.as_deref().unwrap_or("?"),
            if self.state.is_empty() {
                "unknown"
            } else {
                &self.state
            },
            if self.user_state.is_empty() {
                "unknown"
            } else {
                &self.user_state
            },
        )
    }
}

/// What the plan knows about the DR cluster's Trident backends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum TridentReport {
    /// Not asked (no step needed it).
    #[default]
    NotObserved,
    /// The DR cluster's Kubernetes API is not configured: cannot be asked.
    NotConfigured,
    /// The TridentBackends.
    Listed {
        /// Every backend in the Trident namespace.
        backends: Vec<BackendState>,
    },
    /// The LIST failed.
    Failed {
        /// The error.
        error: String,
    },
}

impl TridentReport {
    /// The backends of `svm` (pure).
    pub fn of_svm<'a>(&'a self, svm: &'a str) -> impl Iterator<Item = &'a BackendState> + 'a {
        let all: &[BackendState] = match self {
            TridentReport::Listed { backends } => backends,
            _ => &[],
        };
        all.iter().filter(move |b| b.svm.as_deref() == Some(svm))
    }
}

/// The Trident backends of the SVM at `site` that are neither online nor
/// suspended (pure).
pub fn offline_backends(obs: &Observed, site: SiteRole) -> Vec<&BackendState> {
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
    let mine: Vec<&BackendState> = obs.trident.of_svm(svm).collect();
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

    /// Lists the TridentBackends (one LIST); a failure is recorded.
    pub async fn observe(&self) -> TridentReport {
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            &self.namespace,
            &trident_resource("TridentBackend"),
        );
        match api.list(&ListParams::default()).await {
            Ok(l) => TridentReport::Listed {
                backends: l
                    .items
                    .iter()
                    .filter_map(|o| serde_json::to_value(o).ok())
                    .filter_map(|v| BackendState::from_object(&v))
                    .collect(),
            },
            Err(e) => TridentReport::Failed {
                error: format!("listing TridentBackends in {}: {e}", self.namespace),
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
    pub async fn prompt(&self, backend: &BackendState) -> Result<String, String> {
        let ns = &self.namespace;
        if backend.config_ref.is_empty() {
            return Err(format!(
                "backend {} has no TridentBackendConfig (created with tridentctl): run `tridentctl update backend {} -n {ns} -f <its config file>`",
                backend.name, backend.name
            ));
        }
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
            .find(|t| t.metadata.uid.as_deref() == Some(backend.config_ref.as_str()))
            .ok_or_else(|| {
                format!(
                    "no TridentBackendConfig in {ns} has the UID {} that backend {} refers to",
                    backend.config_ref, backend.name
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
            "config": {"ontap_config": {"svm": svm}},
            "state": state, "userState": user, "online": state == "online",
            "stateReason": if state == "online" { "" } else { "SVM svm1_dr is not in running state" },
            "configRef": "tbc-uid"
        })
    }

    #[test]
    fn parses_trident_backend_fields() {
        let b = BackendState::from_object(&tbe("nas-dr", "svm1_dr", "offline", "normal"))
            .expect("backend");
        assert_eq!(b.svm.as_deref(), Some("svm1_dr"));
        assert!(!b.is_online() && !b.is_suspended());
        assert_eq!(
            b.describe(),
            "Trident backend nas-dr (SVM svm1_dr): state offline, userState normal, stateReason \"SVM svm1_dr is not in running state\""
        );
        assert!(BackendState::from_object(&json!({"state": "online"})).is_none());
    }

    #[test]
    fn backends_are_selected_by_svm() {
        let report = TridentReport::Listed {
            backends: [
                tbe("a", "svm1_dr", "offline", "normal"),
                tbe("b", "other", "online", "normal"),
            ]
            .iter()
            .filter_map(BackendState::from_object)
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
