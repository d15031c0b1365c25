//! Trident backends: their state from ONTAP, the periodic state poll, a
//! TridentBackendConfig update re-creating the backend, TBC deletion, and
//! Trident's finalizers.
//!
//! - State (Trident: `storage_drivers/ontap/ontap_common.go` getSVMState and
//!   the StateReason* strings): offline with a reason while the SVM is not
//!   reachable, not `running`, has no aggregates (or lacks the configured
//!   `aggregate`), or has no data LIF up for the backend's protocol;
//!   `online` otherwise (`storage/backend.go` UpdateBackendState).
//! - When: at backend creation/bootstrap; every `backend_storage_poll_interval`
//!   (Trident: `main.go`, default 300 s in `config/config.go`;
//!   `core/orchestrator_core.go` PeriodicallyReconcileBackendState,
//!   reconcileBackendState); and when a TridentBackendConfig's spec changes
//!   (its `metadata.generation` moves: `frontend/crd/controller/crd_controller.go`
//!   updateCRHandler; `frontend/crd/controller/trident_backend_config.go`
//!   updateBackendConfig → UpdateBackendByBackendUUID, which re-validates
//!   the driver and fails, leaving the backend as it was, while the SVM has
//!   no NAS data LIF up: `ontap_common.go` ValidateNASDriver); and when the
//!   credentials Secret a TBC names changes at all (a new resourceVersion,
//!   an annotation is enough: Secrets have no generation;
//!   `frontend/crd/controller/secret.go` updateSecretHandler and
//!   handleSecret queue an update of every TBC using it).
//! - Finalizers: Trident adds `trident.netapp.io` to a TBC
//!   (`trident_backend_config.go` handleTridentBackendConfig), removes it
//!   from deleting TridentVolumes, TridentVersions and TridentNodes
//!   (`crd_controller.go` removeFinalizers), never from a TridentBackend a
//!   user deletes ("nothing to do"); a deleted TBC with `deletionPolicy:
//!   delete` deletes its backend, or leaves it `deleting` while it still
//!   has volumes (`trident_backend_config.go` deleteBackendConfigUsingPolicyDelete).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::ontap_view::{DataProtocol, OntapView};
use super::{TRIDENT_API, TRIDENT_FINALIZER, s, truthy};
use crate::kube::KubeHandle;

/// Trident: `ontap_common.go` StateReasonSVMUnreachable.
pub const REASON_SVM_UNREACHABLE: &str = "SVM is not reachable";
/// Trident: `ontap_common.go` StateReasonSVMStopped.
pub const REASON_SVM_STOPPED: &str = "SVM is not in 'running' state";
/// Trident: `ontap_common.go` StateReasonDataLIFsDown.
pub const REASON_DATA_LIFS_DOWN: &str = "No data LIFs present or all of them are 'down'";
/// Trident: `ontap_common.go` StateReasonNoAggregates.
pub const REASON_NO_AGGREGATES: &str = "SVM does not contain any aggregates.";
/// Trident: `ontap_common.go` StateReasonMissingAggregate.
pub const REASON_MISSING_AGGREGATE: &str =
    "Aggregate defined in the aggregate field of the backend config is not present in the SVM";

/// A TridentBackend as the simulated Trident reads it.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The stored CR.
    pub cr: Value,
    /// `backendName`.
    pub name: String,
    /// `backendUUID`.
    pub uuid: String,
    /// `config.ontap_config` (the driver config).
    pub config: Value,
}

impl Backend {
    /// Reads a stored TridentBackend.
    pub fn from_cr(cr: &Value) -> Self {
        Self {
            name: s(cr, "/backendName").to_string(),
            uuid: s(cr, "/backendUUID").to_string(),
            config: cr
                .pointer("/config/ontap_config")
                .cloned()
                .unwrap_or_else(|| json!({})),
            cr: cr.clone(),
        }
    }

    /// A driver config string field, `""` when unset.
    pub fn conf(&self, key: &str) -> &str {
        self.config.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// `storageDriverName`.
    pub fn driver(&self) -> &str {
        self.conf("storageDriverName")
    }

    /// `svm`.
    pub fn svm(&self) -> &str {
        self.conf("svm")
    }

    /// `storagePrefix` (Trident's default `trident_`).
    pub fn storage_prefix(&self) -> String {
        match self.config.get("storagePrefix").and_then(Value::as_str) {
            Some(p) => p.to_string(),
            None => "trident_".into(),
        }
    }

    /// `autoExportPolicy`.
    pub fn auto_export_policy(&self) -> bool {
        truthy(self.config.get("autoExportPolicy"))
    }

    /// Whether this is a SAN driver (protocol `block`).
    pub fn is_san(&self) -> bool {
        self.driver().starts_with("ontap-san")
    }

    /// The backend's protocol as Trident names it: `file` or `block`.
    pub fn protocol(&self) -> &'static str {
        if self.is_san() { "block" } else { "file" }
    }

    /// The data protocol whose LIFs the periodic state check looks at:
    /// the NAS drivers pass `nfs` whatever `nasType` says
    /// (`ontap_nas.go` GetBackendState), SAN its `sanType`
    /// (`ontap_san.go` GetBackendState; FC LIFs are not modelled: iSCSI's).
    pub fn state_protocol(&self) -> DataProtocol {
        if self.is_san() {
            self.data_protocol()
        } else {
            DataProtocol::Nfs
        }
    }

    /// The data protocol the backend serves (its `sanType` / `nasType`).
    pub fn data_protocol(&self) -> DataProtocol {
        if self.is_san() {
            match self.conf("sanType") {
                "nvme" => DataProtocol::NvmeTcp,
                _ => DataProtocol::Iscsi,
            }
        } else if self.conf("nasType") == "smb" {
            DataProtocol::Cifs
        } else {
            DataProtocol::Nfs
        }
    }

    /// `state` (`online`, `offline`, `failed`, `deleting`).
    pub fn state(&self) -> &str {
        s(&self.cr, "/state")
    }

    /// Whether Trident would serve requests on it (state `online`).
    pub fn is_online(&self) -> bool {
        self.state() == "online"
    }

    /// `userState: suspended` (Trident: `storage/backend.go` UserSuspended).
    pub fn is_suspended(&self) -> bool {
        s(&self.cr, "/userState") == "suspended"
    }

    /// The ONTAP cluster key this backend talks to.
    pub fn cluster(&self, view: &OntapView) -> Option<String> {
        view.cluster_for(self.conf("managementLIF"), self.svm())
    }
}

/// Every TridentBackend in Trident's namespace.
pub fn list(kube: &KubeHandle, ns: &str) -> Vec<Backend> {
    kube.list(TRIDENT_API, "TridentBackend", Some(ns))
        .iter()
        .map(Backend::from_cr)
        .collect()
}

/// The TridentBackend with `backendUUID` `uuid`.
pub fn by_uuid(kube: &KubeHandle, ns: &str, uuid: &str) -> Option<Backend> {
    list(kube, ns).into_iter().find(|b| b.uuid == uuid)
}

/// Why the backend is offline, or `None` when it is online
/// (Trident: `storage_drivers/ontap/ontap_common.go` getSVMState).
pub fn state_reason(view: &OntapView, b: &Backend) -> Option<&'static str> {
    let Some(cluster) = b.cluster(view) else {
        return Some(REASON_SVM_UNREACHABLE);
    };
    if view.cluster_down(&cluster) {
        return Some(REASON_SVM_UNREACHABLE);
    }
    let Some(svm) = view.svm(&cluster, b.svm()) else {
        return Some(REASON_SVM_UNREACHABLE);
    };
    if svm["state"] != "running" {
        return Some(REASON_SVM_STOPPED);
    }
    let aggrs = view.aggregates(&cluster, b.svm());
    if aggrs.is_empty() {
        return Some(REASON_NO_AGGREGATES);
    }
    let want = b.conf("aggregate");
    if !want.is_empty() && !aggrs.iter().any(|a| a == want) {
        return Some(REASON_MISSING_AGGREGATE);
    }
    if view
        .up_data_lifs(&cluster, b.svm(), b.state_protocol())
        .is_empty()
    {
        return Some(REASON_DATA_LIFS_DOWN);
    }
    None
}

/// Why re-creating the backend (a TBC update) fails, or `None`
/// (Trident: `ontap_common.go` ValidateNASDriver "no NAS data LIFs found
/// on SVM"; the REST client needs the SVM to exist).
fn validate_driver(view: &OntapView, b: &Backend) -> Option<String> {
    let cluster = b.cluster(view)?;
    if view.cluster_down(&cluster) || view.svm(&cluster, b.svm()).is_none() {
        return Some(format!(
            "error initializing {} driver: could not create Data ONTAP API client: SVM {} not found or not reachable",
            b.driver(),
            b.svm()
        ));
    }
    let lifs = view.up_data_lifs(&cluster, b.svm(), b.data_protocol());
    if !b.is_san() && lifs.is_empty() {
        return Some(format!("no NAS data LIFs found on SVM {}", b.svm()));
    }
    state_reason(view, b).map(String::from)
}

/// What the backend loop remembers between passes.
#[derive(Debug, Default)]
pub struct BackendLoop {
    last_poll: Option<Instant>,
    seen: HashSet<String>,
    generations: HashMap<String, i64>,
    secret_versions: HashMap<String, String>,
}

/// Sets the backend's state from `reason`; returns a note when it changed.
fn set_state(kube: &KubeHandle, b: &Backend, reason: Option<&str>) -> Option<String> {
    if b.state() == "deleting" {
        return None;
    }
    let (state, online, why) = match reason {
        None => ("online", true, ""),
        Some(r) => ("offline", false, r),
    };
    if b.state() == state && s(&b.cr, "/stateReason") == why && b.cr["online"] == online {
        return None;
    }
    let mut cr = b.cr.clone();
    cr["state"] = json!(state);
    cr["online"] = json!(online);
    cr["stateReason"] = json!(why);
    kube.apply(cr).ok()?;
    Some(if why.is_empty() {
        format!("simulated Trident: backend {} is online", b.name)
    } else {
        format!("simulated Trident: backend {} is offline: {why}", b.name)
    })
}

/// One pass: TBC finalizers, updates and deletions, then the backends'
/// state at first sight and on each poll, then finalizers of deleting CRs.
pub fn reconcile(
    kube: &KubeHandle,
    ns: &str,
    view: &OntapView,
    st: &mut BackendLoop,
    poll_interval: Duration,
    notes: &mut Vec<String>,
) {
    for tbc in kube.list(TRIDENT_API, "TridentBackendConfig", Some(ns)) {
        handle_tbc(kube, ns, view, st, &tbc, notes);
    }
    let poll_due =
        !poll_interval.is_zero() && st.last_poll.is_none_or(|t| t.elapsed() >= poll_interval);
    if poll_due {
        st.last_poll = Some(Instant::now());
    }
    for b in list(kube, ns) {
        let first = st.seen.insert(b.uuid.clone());
        if first || poll_due {
            notes.extend(set_state(kube, &b, state_reason(view, &b)));
        }
    }
    remove_finalizers(kube, ns);
}

fn has_finalizer(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x == TRIDENT_FINALIZER))
}

fn without_finalizer(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(f) = o
        .pointer_mut("/metadata/finalizers")
        .and_then(Value::as_array_mut)
    {
        f.retain(|x| x != TRIDENT_FINALIZER);
    }
    o
}

fn deleting(obj: &Value) -> bool {
    !s(obj, "/metadata/deletionTimestamp").is_empty()
}

/// Removes Trident's finalizer from deleting TridentVolumes,
/// TridentVersions and TridentNodes (not TridentBackends).
fn remove_finalizers(kube: &KubeHandle, ns: &str) {
    for kind in ["TridentVolume", "TridentVersion", "TridentNode"] {
        for o in kube.list(TRIDENT_API, kind, Some(ns)) {
            if deleting(&o) && has_finalizer(&o) {
                let _ = kube.apply(without_finalizer(&o));
            }
        }
    }
}

fn handle_tbc(
    kube: &KubeHandle,
    ns: &str,
    view: &OntapView,
    st: &mut BackendLoop,
    tbc: &Value,
    notes: &mut Vec<String>,
) {
    let name = s(tbc, "/metadata/name").to_string();
    if deleting(tbc) {
        delete_tbc(kube, ns, tbc, notes);
        return;
    }
    if !has_finalizer(tbc) {
        let mut t = tbc.clone();
        let meta = &mut t["metadata"];
        let mut f = meta
            .get("finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        f.push(json!(TRIDENT_FINALIZER));
        meta["finalizers"] = json!(f);
        let _ = kube.apply(t);
    }
    let generation = tbc
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let previous = st.generations.insert(name.clone(), generation);
    let spec_changed = previous.is_some_and(|g| g != generation);
    let secret = s(tbc, "/spec/credentials/name");
    let secret_version = kube
        .get("v1", "Secret", Some(ns), secret)
        .map(|o| s(&o, "/metadata/resourceVersion").to_string())
        .unwrap_or_default();
    let seen_version = st
        .secret_versions
        .insert(format!("{name}/{secret}"), secret_version.clone());
    let secret_changed = seen_version.is_some_and(|v| v != secret_version);
    if !(spec_changed || secret_changed) || s(tbc, "/status/phase") != "Bound" {
        return;
    }
    let uuid = s(tbc, "/status/backendInfo/backendUUID");
    let Some(b) = by_uuid(kube, ns, uuid) else {
        set_tbc_status(
            kube,
            tbc,
            "Lost",
            "Failed",
            "Failed to apply the backend update; could not find backend during update",
        );
        return;
    };
    let mut updated = b.cr.clone();
    if let Some(spec) = tbc.get("spec").and_then(Value::as_object) {
        let conf = &mut updated["config"]["ontap_config"];
        for (k, v) in spec {
            if k != "credentials" {
                conf[k] = v.clone();
            }
        }
    }
    let nb = Backend::from_cr(&updated);
    match validate_driver(view, &nb) {
        Some(err) => set_tbc_status(
            kube,
            tbc,
            "Bound",
            "Failed",
            &format!("Failed to apply the backend update; {err}"),
        ),
        None => {
            updated["state"] = json!("online");
            updated["online"] = json!(true);
            updated["stateReason"] = json!("");
            if kube.apply(updated).is_ok() {
                notes.push(format!(
                    "simulated Trident: backend {} updated from TridentBackendConfig {name} ({}); online",
                    b.name,
                    if spec_changed { "spec changed" } else { "its credentials Secret changed" }
                ));
            }
            set_tbc_status(
                kube,
                tbc,
                "Bound",
                "Success",
                &format!("Backend '{}' updated", b.name),
            );
        }
    }
}

fn set_tbc_status(kube: &KubeHandle, tbc: &Value, phase: &str, op: &str, message: &str) {
    let mut t = tbc.clone();
    t["status"]["phase"] = json!(phase);
    t["status"]["lastOperationStatus"] = json!(op);
    t["status"]["message"] = json!(message);
    if t != *tbc {
        let _ = kube.apply(t);
    }
}

fn delete_tbc(kube: &KubeHandle, ns: &str, tbc: &Value, notes: &mut Vec<String>) {
    let uuid = s(tbc, "/status/backendInfo/backendUUID");
    let policy = match s(tbc, "/spec/deletionPolicy") {
        "" => "delete",
        p => p,
    };
    let backend = by_uuid(kube, ns, uuid);
    if let (Some(b), "delete") = (&backend, policy) {
        let volumes = kube
            .list(TRIDENT_API, "TridentVolume", Some(ns))
            .into_iter()
            .filter(|v| v["backendUUID"] == uuid && !deleting(v))
            .count();
        if volumes > 0 {
            if b.state() != "deleting" {
                let mut cr = b.cr.clone();
                cr["state"] = json!("deleting");
                cr["online"] = json!(false);
                let _ = kube.apply(cr);
            }
            set_tbc_status(
                kube,
                tbc,
                "Deleting",
                "Failed",
                &format!(
                    "Backend '{}' is in a deleting state; it still has {volumes} volume(s)",
                    b.name
                ),
            );
            return;
        }
        let name = s(&b.cr, "/metadata/name").to_string();
        let _ = kube.apply(without_finalizer(&b.cr));
        kube.delete(TRIDENT_API, "TridentBackend", Some(ns), &name);
        notes.push(format!("simulated Trident: backend {} deleted", b.name));
    }
    // deletionPolicy retain: the backend stays, without its configRef
    // (`trident_backend_config.go` deleteBackendConfigUsingPolicyRetain).
    if let (Some(b), "retain") = (&backend, policy)
        && !s(&b.cr, "/configRef").is_empty()
    {
        let mut cr = b.cr.clone();
        cr["configRef"] = json!("");
        let _ = kube.apply(cr);
    }
    if has_finalizer(tbc) {
        let _ = kube.apply(without_finalizer(tbc));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_check_looks_at_nfs_lifs_for_every_nas_backend() {
        let backend = |driver: &str, key: &str, value: &str| {
            Backend::from_cr(&json!({"backendName": "b", "config": {"ontap_config": {
                "storageDriverName": driver, key: value}}}))
        };
        // ontap_nas.go GetBackendState: "nfs", whatever nasType says.
        let smb = backend("ontap-nas", "nasType", "smb");
        assert_eq!(smb.data_protocol(), DataProtocol::Cifs);
        assert_eq!(smb.state_protocol(), DataProtocol::Nfs);
        // ontap_san.go GetBackendState: its sanType.
        let nvme = backend("ontap-san", "sanType", "nvme");
        assert_eq!(nvme.state_protocol(), DataProtocol::NvmeTcp);
    }
}
