//! The lab's Velero restore controller: when a `velero.io/v1` Restore is
//! created in Velero's namespace of the DR cluster, it runs it through
//! Velero's phases (`pkg/controller/restore_controller.go`,
//! `restore_operations_controller.go`, `restore_finalizer_controller.go`):
//! `New` → `FailedValidation`, or `InProgress` → (item restore,
//! [`super::item_restore`], calling the real `velero-plugin-svmdr` over
//! go-plugin gRPC, [`crate::velero::PluginHost`]; pod volume restores,
//! [`super::node_agent`]) → `WaitingForPluginOperations` when an action
//! started an async operation (a DataDownload) → `Finalizing` (dynamic PV
//! patch) → `Completed` or `PartiallyFailed` (or their `…PartiallyFailed`
//! intermediates), with `progress`, `errors`, `warnings`,
//! `restoreItemOperations*` and the timestamps. A runner error is
//! `Failed` with `failureReason`.
//!
//! Velero keeps per-item messages in its restore results file; the lab
//! writes them to ConfigMap `<restore>-results` in Velero's namespace
//! (keys `errors`, `warnings`, `log`, `executed` (the items the plugin was
//! called for), `podVolumeWrites` and `ignoredImports`; one per line),
//! labelled simulated.

use std::sync::Arc;

use serde_json::{Value, json};

use super::item_restore::Restorer;
use super::node_agent;
use super::rules::{self, Selector};
use super::run_state::{RestoreResult, RunnerConfig, set_status};
use crate::kube::{KubeHandle, KubeSim, ResourceType};
use crate::lab::simulated::mark;
use crate::velero::{PluginHost, VELERO_SERVER_ARGS};

/// The CRDs the restore creates besides Velero's v1 types.
fn extra_types() -> Vec<ResourceType> {
    vec![
        ResourceType::namespaced("velero.io/v2alpha1", "DataUpload", "datauploads")
            .categories(&["velero"]),
        ResourceType::namespaced("velero.io/v2alpha1", "DataDownload", "datadownloads")
            .categories(&["velero"]),
        ResourceType::namespaced(
            "snapshot.storage.k8s.io/v1",
            "VolumeSnapshot",
            "volumesnapshots",
        )
        .short_names(&["vs"]),
        ResourceType::cluster(
            "snapshot.storage.k8s.io/v1",
            "VolumeSnapshotContent",
            "volumesnapshotcontents",
        )
        .short_names(&["vsc"]),
    ]
}

/// Registers the snapshot and data-mover types on `kube`.
pub fn register_types(kube: &KubeSim) {
    for t in extra_types() {
        kube.register(t);
    }
}

/// Runs every Restore created in `cfg.velero_namespace` of `kube` on `rt`.
pub fn install(kube: &KubeSim, cfg: RunnerConfig, rt: tokio::runtime::Handle) {
    register_types(kube);
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

/// `collections.ValidateIncludesExcludes`.
fn validate_lists(spec: &Value, inc: &str, exc: &str, what: &str, out: &mut Vec<String>) {
    let list = |k: &str| -> Vec<String> {
        spec.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    };
    let (i, e) = (list(inc), list(exc));
    if e.iter().any(|x| x == "*") {
        out.push(format!(
            "Invalid included/excluded {what} lists: excludes list cannot contain '*'"
        ));
    }
    for x in e.iter().filter(|x| i.contains(x)) {
        out.push(format!(
            "Invalid included/excluded {what} lists: excludes list cannot contain an item in the includes list: {x}"
        ));
    }
}

/// `validateAndComplete`: the validation errors of a Restore.
pub fn validation_errors(kube: &KubeHandle, restore: &Value) -> Vec<String> {
    let spec = restore.get("spec").cloned().unwrap_or(Value::Null);
    let mut errs = Vec::new();
    for r in spec
        .get("includedResources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if super::filters::NON_RESTORABLE.contains(&r) {
            errs.push(format!("{r} are non-restorable resources"));
        }
    }
    validate_lists(
        &spec,
        "includedResources",
        "excludedResources",
        "resource",
        &mut errs,
    );
    validate_lists(
        &spec,
        "includedNamespaces",
        "excludedNamespaces",
        "namespace",
        &mut errs,
    );
    let backup = spec.get("backupName").and_then(Value::as_str).unwrap_or("");
    let schedule = spec
        .get("scheduleName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if backup.is_empty() == schedule.is_empty() {
        errs.push(
            "Either a backup or schedule must be specified as a source for the restore, but not both"
                .into(),
        );
        return errs;
    }
    let ns = rules::namespace(restore);
    if !backup.is_empty()
        && kube
            .get("velero.io/v1", "Backup", Some(ns), backup)
            .is_none()
    {
        errs.push(format!(
            "Error retrieving backup: can't find backup {ns}/{backup}: backups.velero.io \"{backup}\" not found"
        ));
    }
    errs
}

fn write_results(kube: &KubeHandle, ns: &str, name: &str, res: &RestoreResult) {
    let results = mark(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("{name}-results"), "namespace": ns,
                     "labels": {"velero.io/restore-name": rules::get_valid_name(name)}},
        "data": {"errors": res.errors.join("\n"), "warnings": res.warnings.join("\n"),
                 "log": res.log.join("\n"), "executed": res.executed.join("\n"),
                 "podVolumeWrites": res.pod_volume_writes.join("\n"),
                 "ignoredImports": res.ignored_imports.join("\n")},
    }));
    if let Err(e) = kube.apply(results) {
        tracing::warn!(%e, "lab restore runner: cannot write the results ConfigMap");
    }
}

/// Restores one Restore to its end; never panics, always leaves a final phase.
pub async fn run(kube: &KubeHandle, cfg: &RunnerConfig, restore: Value) -> RestoreResult {
    let ns = rules::namespace(&restore).to_string();
    let name = rules::name(&restore).to_string();
    // The stored object (with its uid), as the controller's informer has it.
    let restore = kube
        .get("velero.io/v1", "Restore", Some(&ns), &name)
        .unwrap_or(restore);
    let invalid = validation_errors(kube, &restore);
    if !invalid.is_empty() {
        let res = RestoreResult {
            name: name.clone(),
            phase: "FailedValidation".into(),
            errors: invalid.clone(),
            phases: vec!["FailedValidation".into()],
            ..Default::default()
        };
        write_results(kube, &ns, &name, &res);
        set_status(
            kube,
            &ns,
            &name,
            json!({"phase": "FailedValidation", "validationErrors": invalid}),
        );
        return res;
    }
    set_status(
        kube,
        &ns,
        &name,
        json!({"phase": "InProgress", "startTimestamp": now()}),
    );
    let mut res = match tokio::time::timeout(cfg.safety_bound, restore_phases(kube, cfg, &restore))
        .await
    {
        Ok(r) => r,
        Err(_) => RestoreResult {
            phase: "Failed".into(),
            errors: vec![format!(
                "the lab stopped waiting after {:?}; real Velero has no deadline on a restore and would still be running (this bound only keeps tests from hanging)",
                cfg.safety_bound
            )],
            ..Default::default()
        },
    };
    res.name.clone_from(&name);
    res.phases.insert(0, "InProgress".into());
    res.phases.push(res.phase.clone());
    let mut status = json!({
        "phase": res.phase, "errors": res.errors.len(), "warnings": res.warnings.len(),
        "progress": {"totalItems": res.total_items, "itemsRestored": res.items_restored},
        "restoreItemOperationsAttempted": res.operations.0,
        "restoreItemOperationsCompleted": res.operations.1,
        "restoreItemOperationsFailed": res.operations.2,
        "completionTimestamp": now(),
    });
    if res.phase == "Failed" {
        status["failureReason"] = json!(res.errors.join("; "));
    }
    write_results(kube, &ns, &name, &res);
    set_status(kube, &ns, &name, status);
    res
}

/// The plugin's RestoreItemActions: (name, selector), in its listing order.
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

fn failed(msg: String) -> RestoreResult {
    RestoreResult {
        phase: "Failed".into(),
        errors: vec![msg],
        ..Default::default()
    }
}

/// `InProgress` to the final phase.
async fn restore_phases(kube: &KubeHandle, cfg: &RunnerConfig, restore: &Value) -> RestoreResult {
    let ns = rules::namespace(restore).to_string();
    let name = rules::name(restore).to_string();
    let backup = restore
        .pointer("/spec/backupName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(contents) = cfg.backups.contents(backup) else {
        return failed(format!(
            "error downloading backup: backup {backup} is not in the (simulated) backup storage location"
        ));
    };
    if let Some(hook) = &cfg.on_start {
        hook(&name);
    }
    let env: Vec<(&str, &str)> = cfg
        .plugin_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let host = match &cfg.plugin {
        None => None,
        Some(p) => match PluginHost::spawn(p, &env, VELERO_SERVER_ARGS).await {
            Ok(h) => Some(h),
            Err(e) => {
                return failed(format!(
                    "error getting restore item actions: starting plugin {}: {e}",
                    p.display()
                ));
            }
        },
    };
    let mut pre_errors = Vec::new();
    let actions = match &host {
        None => Vec::new(),
        Some(h) => match resolve_actions(h).await {
            Ok(a) => a,
            Err(e) => {
                pre_errors.push(e);
                Vec::new()
            }
        },
    };
    let mut r = Restorer::new(kube, cfg, restore.clone(), contents, host.as_ref(), actions);
    r.res.errors = pre_errors;
    r.run().await;
    // Velero waits for the pod volume restores before the item restore ends
    // (`podVolumeWaitGroup` in `restore.go` `execute`).
    node_agent::restore_pod_volumes(kube, cfg, restore, &r.pod_volumes, &mut r.res).await;
    let (operations, restored_pvcs, contents) = (
        std::mem::take(&mut r.operations),
        std::mem::take(&mut r.restored_pvcs),
        r.contents.clone(),
    );
    let mut res = std::mem::take(&mut r.res);
    drop(r);
    if let Some(host) = host {
        match host.shutdown().await {
            Ok(x) => {
                // Velero copies a plugin's log lines (go-plugin's hclog JSON on
                // stderr) into the restore log: keep its warnings there.
                res.log
                    .extend(x.stderr.iter().filter_map(|l| plugin_warning(l)));
                if x.killed {
                    res.warnings
                        .push("the plugin did not exit after Shutdown; killed".into());
                }
            }
            Err(e) => res.warnings.push(format!("stopping the plugin: {e}")),
        }
    }
    let partly = |res: &RestoreResult| {
        if res.errors.is_empty() {
            ""
        } else {
            "PartiallyFailed"
        }
    };
    res.operations.0 = operations.len();
    let phase = if operations.is_empty() {
        "Finalizing"
    } else {
        "WaitingForPluginOperations"
    };
    res.phases.push(format!("{phase}{}", partly(&res)));
    set_status(
        kube,
        &ns,
        &name,
        json!({"phase": format!("{phase}{}", partly(&res)),
               "errors": res.errors.len(), "warnings": res.warnings.len(),
               "restoreItemOperationsAttempted": operations.len()}),
    );
    if !operations.is_empty() {
        let (done, failed) = node_agent::run_data_downloads(kube, &operations, &mut res);
        res.operations.1 = done;
        res.operations.2 = failed;
        res.phases.push(format!("Finalizing{}", partly(&res)));
        set_status(
            kube,
            &ns,
            &name,
            json!({"phase": format!("Finalizing{}", partly(&res)),
                   "errors": res.errors.len(),
                   "restoreItemOperationsCompleted": done, "restoreItemOperationsFailed": failed}),
        );
    }
    for line in cfg.controllers.reconcile() {
        res.log.push(format!("(simulated cluster) {line}"));
    }
    node_agent::finalize(
        kube,
        cfg,
        restore,
        &contents,
        &restored_pvcs,
        &operations,
        &mut res,
    )
    .await;
    res.phase = if res.errors.is_empty() {
        "Completed".into()
    } else {
        "PartiallyFailed".into()
    };
    res
}

/// A plugin stderr line at level warn or above, as the restore log shows it.
fn plugin_warning(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line).ok()?;
    let level = v.get("@level").and_then(Value::as_str)?;
    if !matches!(level, "warn" | "error") {
        return None;
    }
    let msg = v.get("@message").and_then(Value::as_str)?;
    Some(format!("plugin {level}: {msg}"))
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod runner_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn validation_names_the_missing_backup_and_bad_lists() {
        let kube = KubeSim::start("t").await.unwrap_or_else(|e| panic!("{e}"));
        let h = kube.handle();
        let r = json!({"metadata": {"name": "r", "namespace": "velero"},
                       "spec": {"backupName": "nope", "includedResources": ["nodes"],
                                "includedNamespaces": ["a"], "excludedNamespaces": ["a", "*"]}});
        let errs = validation_errors(&h, &r);
        assert!(
            errs.iter()
                .any(|e| e == "nodes are non-restorable resources"),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("cannot contain '*'")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("in the includes list: a")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("can't find backup velero/nope")),
            "{errs:?}"
        );
        let none = json!({"metadata": {"name": "r", "namespace": "velero"}, "spec": {}});
        assert_eq!(
            validation_errors(&h, &none),
            [
                "Either a backup or schedule must be specified as a source for the restore, but not both"
            ]
        );
    }
}
