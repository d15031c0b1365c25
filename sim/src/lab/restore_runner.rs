//! The lab's Velero: when a `velero.io/v1` Restore is created on the DR
//! cluster, it restores the backup's items the way Velero's restore
//! controller does ([`super::rules`]), calling the real
//! `velero-plugin-svmdr` binary over go-plugin gRPC
//! ([`crate::velero::PluginHost`]) for every item the plugin's
//! `AppliesTo` covers, creating what comes back, and ending the Restore
//! `Completed` or `PartiallyFailed` with Velero's error and warning counts.
//!
//! Velero keeps per-item messages in its restore results file; the lab
//! writes them to ConfigMap `<restore>-results` in Velero's namespace
//! (keys `errors`, `warnings`, `log`, and `executed`: the items the plugin
//! was called for; one per line), labelled
//! simulated.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::app::{SIMULATED_LABEL, mark};
use super::controllers::ClusterControllers;
use super::rules::{self, PvDecision, Selector};
use crate::kube::{KubeHandle, KubeSim};
use crate::velero::{PluginHost, VELERO_SERVER_ARGS};

/// Backup contents (what Velero would read from the backup tarball in
/// object storage), by backup name.
#[derive(Clone, Debug, Default)]
pub struct BackupStore(Arc<Mutex<BTreeMap<String, Vec<Value>>>>);

impl BackupStore {
    /// Stores the items of backup `name`.
    pub fn put(&self, name: &str, items: Vec<Value>) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.into(), items);
    }

    /// The items of backup `name`.
    pub fn get(&self, name: &str) -> Option<Vec<Value>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }
}

/// Called with the Restore's name when the runner picks it up (faults).
pub type StartHook = Arc<dyn Fn(&str) + Send + Sync>;

/// How the runner works.
#[derive(Clone)]
pub struct RunnerConfig {
    /// The `velero-plugin-svmdr` binary.
    pub plugin: PathBuf,
    /// Environment for the plugin (`KUBECONFIG` of the DR cluster,
    /// `VELERO_NAMESPACE`).
    pub plugin_env: Vec<(String, String)>,
    /// Velero's namespace.
    pub velero_namespace: String,
    /// Backup contents.
    pub backups: BackupStore,
    /// The DR cluster's simulated controllers (binding, Trident import).
    pub controllers: ClusterControllers,
    /// Run when a restore starts (fault injection).
    pub on_start: Option<StartHook>,
    /// Bound on the whole restore.
    pub timeout: Duration,
}

impl std::fmt::Debug for RunnerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunnerConfig")
            .field("plugin", &self.plugin)
            .field("velero_namespace", &self.velero_namespace)
            .finish_non_exhaustive()
    }
}

/// What one restore did (also written to the results ConfigMap).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreResult {
    /// Restore name.
    pub name: String,
    /// Final phase.
    pub phase: String,
    /// Velero's errors (each makes the restore PartiallyFailed).
    pub errors: Vec<String>,
    /// Velero's warnings.
    pub warnings: Vec<String>,
    /// The restore log (info lines).
    pub log: Vec<String>,
    /// `Execute` calls made to the plugin (`resource id` each).
    pub executed: Vec<String>,
    /// Items restored / total.
    pub items_restored: usize,
    /// Items considered.
    pub total_items: usize,
}

/// Runs every Restore created in `cfg.velero_namespace` of `kube` on `rt`.
pub fn install(kube: &KubeSim, cfg: RunnerConfig, rt: tokio::runtime::Handle) {
    let handle = kube.handle();
    let cfg = Arc::new(cfg);
    kube.on_create(
        "velero.io/v1",
        "Restore",
        Box::new(move |restore: &Value| {
            if rules::namespace(restore) != cfg.velero_namespace {
                return;
            }
            let (handle, cfg, restore) = (handle.clone(), cfg.clone(), restore.clone());
            rt.spawn(async move {
                run(&handle, &cfg, restore).await;
            });
        }),
    );
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn set_status(kube: &KubeHandle, ns: &str, name: &str, patch: Value) {
    if let Some(mut r) = kube.get("velero.io/v1", "Restore", Some(ns), name) {
        let status = r
            .as_object_mut()
            .map(|o| o.entry("status").or_insert_with(|| json!({})));
        if let (Some(st), Some(p)) = (status.and_then(Value::as_object_mut), patch.as_object()) {
            for (k, v) in p {
                st.insert(k.clone(), v.clone());
            }
        }
        if let Err(e) = kube.apply(r) {
            tracing::warn!(%e, "lab restore runner: cannot update Restore {ns}/{name}");
        }
    }
}

/// Restores one Restore to its end; never panics, always leaves a final phase.
pub async fn run(kube: &KubeHandle, cfg: &RunnerConfig, restore: Value) -> RestoreResult {
    let ns = rules::namespace(&restore).to_string();
    let name = rules::name(&restore).to_string();
    set_status(
        kube,
        &ns,
        &name,
        json!({"phase": "InProgress", "startTimestamp": now()}),
    );
    let mut res = match tokio::time::timeout(cfg.timeout, restore_items(kube, cfg, &restore)).await
    {
        Ok(r) => r,
        Err(_) => RestoreResult {
            phase: "Failed".into(),
            errors: vec![format!(
                "the lab restore did not finish within {:?}",
                cfg.timeout
            )],
            ..Default::default()
        },
    };
    res.name.clone_from(&name);
    let mut status = json!({
        "phase": res.phase, "errors": res.errors.len(), "warnings": res.warnings.len(),
        "progress": {"totalItems": res.total_items, "itemsRestored": res.items_restored},
        "completionTimestamp": now(),
    });
    if res.phase == "FailedValidation" {
        status["validationErrors"] = json!(res.errors);
    } else if res.phase == "Failed" {
        status["failureReason"] = json!(res.errors.join("; "));
    }
    let results = mark(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("{name}-results"), "namespace": ns,
                     "labels": {"velero.io/restore-name": name}},
        "data": {"errors": res.errors.join("\n"), "warnings": res.warnings.join("\n"),
                 "log": res.log.join("\n"), "executed": res.executed.join("\n")},
    }));
    if let Err(e) = kube.apply(results) {
        tracing::warn!(%e, "lab restore runner: cannot write the results ConfigMap");
    }
    set_status(kube, &ns, &name, status);
    res
}

/// The items of the backup this restore selects.
fn select(items: &[Value], spec: &Value) -> Vec<Value> {
    let list = |k: &str| -> Vec<String> {
        spec.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    };
    let included = list("includedNamespaces");
    let excluded = list("excludedNamespaces");
    let ns_ok = |ns: &str| {
        (included.is_empty() || included.iter().any(|n| n == "*" || n == ns))
            && !excluded.iter().any(|n| n == ns)
    };
    let selector = spec
        .pointer("/labelSelector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let namespaced: Vec<&Value> = items
        .iter()
        .filter(|i| !rules::namespace(i).is_empty())
        .filter(|i| ns_ok(rules::namespace(i)) && rules::labels_match(&selector, i))
        .collect();
    let claimed = |pv: &Value| {
        namespaced.iter().any(|c| {
            c["kind"] == "PersistentVolumeClaim"
                && pv.pointer("/spec/claimRef/namespace") == c.pointer("/metadata/namespace")
                && pv.pointer("/spec/claimRef/name") == c.pointer("/metadata/name")
        })
    };
    let mut out: Vec<Value> = items
        .iter()
        .filter(|i| rules::namespace(i).is_empty())
        .filter(|i| match i["kind"].as_str() {
            Some("Namespace") => namespaced
                .iter()
                .any(|n| rules::namespace(n) == rules::name(i)),
            Some("PersistentVolume") => claimed(i),
            _ => included.is_empty() || included.iter().any(|n| n == "*"),
        })
        .cloned()
        .collect();
    out.extend(namespaced.into_iter().cloned());
    rules::order(&out)
}

/// The plugin's RestoreItemActions: (name, selector).
async fn resolve_actions(host: &PluginHost) -> Result<Vec<(String, Selector)>, String> {
    let plugins = host
        .list_plugins()
        .await
        .map_err(|s| format!("listing plugins: {}", s.message()))?;
    let mut out = Vec::new();
    for p in plugins.iter().filter(|p| p.kind == "RestoreItemAction") {
        let sel = host
            .applies_to("RestoreItemAction", &p.name)
            .await
            .map_err(|s| format!("AppliesTo of {}: {}", p.name, s.message()))?;
        out.push((
            p.name.clone(),
            Selector {
                included_resources: sel.included_resources,
                excluded_resources: sel.excluded_resources,
                included_namespaces: sel.included_namespaces,
                excluded_namespaces: sel.excluded_namespaces,
                selector: sel.selector,
            },
        ));
    }
    Ok(out)
}

async fn restore_items(kube: &KubeHandle, cfg: &RunnerConfig, restore: &Value) -> RestoreResult {
    let mut res = RestoreResult::default();
    let ns = rules::namespace(restore).to_string();
    let name = rules::name(restore).to_string();
    let backup = restore
        .pointer("/spec/backupName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(items) = cfg.backups.get(backup) else {
        res.phase = "FailedValidation".into();
        res.errors.push(format!(
            "backup {ns}/{backup} not found (simulated backup storage)"
        ));
        return res;
    };
    if let Some(hook) = &cfg.on_start {
        hook(&name);
    }
    let items = select(&items, restore.get("spec").unwrap_or(&Value::Null));
    res.total_items = items.len();
    set_status(
        kube,
        &ns,
        &name,
        json!({"progress": {"totalItems": items.len(), "itemsRestored": 0}}),
    );
    let env: Vec<(&str, &str)> = cfg
        .plugin_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let host = match PluginHost::spawn(&cfg.plugin, &env, VELERO_SERVER_ARGS).await {
        Ok(h) => h,
        Err(e) => {
            res.phase = "Failed".into();
            res.errors
                .push(format!("starting plugin {}: {e}", cfg.plugin.display()));
            return res;
        }
    };
    let actions = match resolve_actions(&host).await {
        Ok(a) => a,
        Err(e) => {
            res.errors.push(e);
            Vec::new()
        }
    };
    let restore_bytes = serde_json::to_vec(restore).unwrap_or_default();
    let mut reprovisioned = Vec::new();
    for item in &items {
        let id = format!(
            "{}/{}",
            rules::group_resource(item),
            rules::resource_id(item)
        );
        match rules::pv_decision(item) {
            PvDecision::Reprovision => {
                res.log.push(format!(
                    "{id}: Dynamically re-provisioning persistent volume because it doesn't have a snapshot and its reclaim policy is Delete."
                ));
                reprovisioned.push(rules::name(item).to_string());
                continue;
            }
            PvDecision::AsIs => res.log.push(format!(
                "{id}: Restoring persistent volume as-is because it doesn't have a snapshot and its reclaim policy is not Delete."
            )),
            PvDecision::NotAPv => {}
        }
        let mut obj = rules::prepare(item);
        let original = serde_json::to_vec(item).unwrap_or_default();
        let mut failed = false;
        let mut skipped = false;
        let applicable: Vec<&String> = actions
            .iter()
            .filter(|(_, s)| s.applies(&obj))
            .map(|(n, _)| n)
            .collect();
        for action in applicable {
            let bytes = serde_json::to_vec(&obj).unwrap_or_default();
            res.executed.push(id.clone());
            match host
                .execute(action, &bytes, &restore_bytes, &original)
                .await
            {
                Ok(r) if r.skip_restore => {
                    res.log.push(format!("{id}: skipped by {action}"));
                    skipped = true;
                    break;
                }
                Ok(r) => match serde_json::from_slice::<Value>(&r.item) {
                    Ok(v) if v.get("kind").is_some() => obj = v,
                    _ => {
                        res.errors.push(format!(
                            "error preparing {id}: {action} returned an item without a kind"
                        ));
                        failed = true;
                        break;
                    }
                },
                Err(s) => {
                    res.errors.push(format!(
                        "error preparing {id}: rpc error: code = {:?} desc = {}",
                        s.code(),
                        s.message()
                    ));
                    failed = true;
                    break;
                }
            }
        }
        if failed || skipped {
            continue;
        }
        rules::fix_pvc(&mut obj, &reprovisioned);
        if let Some(labels) = obj
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
            .map(|m| m.entry("labels").or_insert_with(|| json!({})))
            && let Some(l) = labels.as_object_mut()
        {
            l.insert("velero.io/backup-name".into(), json!(backup));
            l.insert("velero.io/restore-name".into(), json!(name));
            l.insert(SIMULATED_LABEL.into(), json!("true"));
        }
        let (av, kind) = (
            obj["apiVersion"].as_str().unwrap_or("").to_string(),
            obj["kind"].as_str().unwrap_or("").to_string(),
        );
        let item_ns = rules::namespace(&obj).to_string();
        let existing = kube.get(
            &av,
            &kind,
            (!item_ns.is_empty()).then_some(item_ns.as_str()),
            rules::name(&obj),
        );
        if existing.is_some() {
            if kind != "Namespace" {
                res.warnings.push(format!(
                    "could not restore, {kind} \"{}\" already exists. Warning: the in-cluster version is different than the backed-up version.",
                    rules::resource_id(&obj)
                ));
            }
            continue;
        }
        match kube.apply(obj) {
            Ok(_) => {
                res.items_restored += 1;
                set_status(
                    kube,
                    &ns,
                    &name,
                    json!({"progress": {"totalItems": res.total_items, "itemsRestored": res.items_restored}}),
                );
            }
            Err(e) => res.errors.push(format!("error restoring {id}: {e:#}")),
        }
    }
    match host.shutdown().await {
        Ok(r) if r.killed => res
            .warnings
            .push("the plugin did not exit after Shutdown; killed".into()),
        Ok(_) => {}
        Err(e) => res.warnings.push(format!("stopping the plugin: {e}")),
    }
    // The cluster's controllers react to what was created (a real cluster
    // runs them continuously; the lab also runs them on a ticker).
    for line in cfg.controllers.reconcile() {
        res.log.push(format!("(simulated cluster) {line}"));
    }
    res.phase = if res.errors.is_empty() {
        "Completed".into()
    } else {
        "PartiallyFailed".into()
    };
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::fixtures::{trident_csi_pv, trident_pvc};

    fn items() -> Vec<Value> {
        vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}),
            trident_csi_pv("pv-a", "u", "v_a", "file", "1Gi", "shop", "a", "Retain"),
            trident_csi_pv("pv-b", "u", "v_b", "file", "1Gi", "other", "b", "Delete"),
            trident_pvc("shop", "a", "pv-a", "ontap-nas", "1Gi"),
            trident_pvc("other", "b", "pv-b", "ontap-nas", "1Gi"),
        ]
    }

    #[test]
    fn selection_follows_included_namespaces_and_pulls_in_claimed_pvs() {
        let all = select(&items(), &json!({}));
        assert_eq!(all.len(), 6);
        let shop = select(&items(), &json!({"includedNamespaces": ["shop"]}));
        let names: Vec<&str> = shop.iter().map(rules::name).collect();
        assert_eq!(names, ["shop", "pv-a", "a"]);
        let none = select(
            &items(),
            &json!({"labelSelector": {"matchLabels": {"app": "x"}}}),
        );
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn backup_store_round_trips() {
        let s = BackupStore::default();
        assert!(s.get("b").is_none());
        s.put("b", items());
        assert_eq!(s.get("b").map(|v| v.len()), Some(6));
    }
}
