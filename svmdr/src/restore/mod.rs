//! Velero restore on the DR cluster after a failover: pick the backup,
//! create a `velero.io/v1` Restore, wait for it (bounded), and summarise what
//! came back (workloads per namespace, each PVC's binding).
//!
//! Before creating the Restore, [`prepare`] inspects the backup: one that
//! carries volume data (snapshots, data mover, file-system backup) would
//! re-provision or overwrite the replicated Trident volumes
//! ([`backup_data`]), so [`restore`] refuses it unless forced. It also sizes
//! the wait above the plugin's worst case ([`plugin_wait`]). Names and label
//! values go through Velero's `GetValidName` ([`names`]).
//!
//! The summary shows each PVC's phase and volume: a PVC that stays `Pending`
//! after a `Completed` restore did not get its volume (see
//! `docs/velero-restore.md`).

pub mod backup_data;
mod error;
pub mod names;
pub mod plugin_wait;
mod selector;
mod status;
mod summary;

pub use error::RestoreError;
use error::kube_err;
pub use selector::label_selector;
pub use status::RestoreStatus;
use summary::user_namespaces;
pub use summary::{NamespaceSummary, PvcBinding, summarize};

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::poll::{Pace, Poller};
use crate::report::Reporter;

/// Which backup to restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupChoice {
    /// The newest `Completed` backup.
    Latest,
    /// This one (it must be `Completed`).
    Named(String),
}

impl BackupChoice {
    /// `latest` or a name.
    pub fn parse(s: &str) -> Self {
        if s == "latest" {
            Self::Latest
        } else {
            Self::Named(s.to_string())
        }
    }
}

/// What to restore and how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Velero's namespace (default `velero`).
    pub velero_namespace: String,
    /// The backup.
    pub backup: BackupChoice,
    /// `spec.includedNamespaces` (empty: everything in the backup).
    pub include_namespaces: Vec<String>,
    /// A label selector (`app=web,tier in (a,b)`), passed as `spec.labelSelector`.
    pub selector: Option<String>,
    /// `spec.includeClusterResources`: `Some(false)` restores no
    /// cluster-scoped objects (no PVs: each PVC is then imported from the
    /// volume named after its PV); `None`: Velero's default.
    pub include_cluster_resources: Option<bool>,
    /// Longest wait for the restore to finish; `None`: above the plugin's
    /// worst case ([`plugin_wait::PluginWait::default_timeout`]).
    pub timeout: Option<Duration>,
    /// Pause between status reads.
    pub poll_interval: Duration,
    /// Restore even from a backup that carries volume data (its findings
    /// become warnings).
    pub force: bool,
    /// Restore a backup again although a `Completed` Restore of it exists
    /// (a warning names it); without it [`prepare`] refuses with
    /// [`RestoreError::AlreadyRestored`].
    pub repeat: bool,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        Self {
            velero_namespace: "velero".into(),
            backup: BackupChoice::Latest,
            include_namespaces: Vec::new(),
            selector: None,
            include_cluster_resources: None,
            timeout: None,
            poll_interval: Duration::from_secs(2),
            force: false,
            repeat: false,
        }
    }
}

/// The `velero.io/v1` resource of `kind`.
pub fn velero_resource(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("velero.io", "v1", kind))
}

/// A backup Velero can restore from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupInfo {
    /// Name.
    pub name: String,
    /// `status.phase`.
    pub phase: String,
    /// `status.completionTimestamp`.
    pub completed_at: Option<DateTime<Utc>>,
    /// `spec.includedNamespaces`.
    pub included_namespaces: Vec<String>,
}

fn backup_info(obj: &DynamicObject) -> BackupInfo {
    let status = obj.data.get("status");
    let phase = status
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or("New")
        .to_string();
    let completed_at = status
        .and_then(|s| s.get("completionTimestamp"))
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let included_namespaces = obj
        .data
        .pointer("/spec/includedNamespaces")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    BackupInfo {
        name: obj.metadata.name.clone().unwrap_or_default(),
        phase,
        completed_at,
        included_namespaces,
    }
}

/// Picks the backup from a list (pure).
///
/// # Errors
///
/// [`RestoreError::NoBackup`], [`RestoreError::BackupNotFound`],
/// [`RestoreError::BackupNotCompleted`].
pub fn choose_backup(
    backups: &[BackupInfo],
    choice: &BackupChoice,
    namespace: &str,
) -> Result<BackupInfo, RestoreError> {
    match choice {
        BackupChoice::Named(name) => {
            let b = backups.iter().find(|b| &b.name == name).ok_or_else(|| {
                RestoreError::BackupNotFound {
                    name: name.clone(),
                    namespace: namespace.into(),
                }
            })?;
            if b.phase != "Completed" {
                return Err(RestoreError::BackupNotCompleted {
                    name: name.clone(),
                    phase: b.phase.clone(),
                });
            }
            Ok(b.clone())
        }
        BackupChoice::Latest => backups
            .iter()
            .filter(|b| b.phase == "Completed")
            .max_by(|a, b| {
                a.completed_at
                    .cmp(&b.completed_at)
                    .then_with(|| a.name.cmp(&b.name))
            })
            .cloned()
            .ok_or(RestoreError::NoBackup {
                namespace: namespace.into(),
                found: backups.len(),
            }),
    }
}

/// The Restore object for `backup` (pure).
///
/// # Errors
///
/// [`RestoreError::Selector`].
pub fn restore_object(
    name: &str,
    opts: &RestoreOptions,
    backup: &str,
) -> Result<Value, RestoreError> {
    let mut spec = json!({ "backupName": backup });
    if !opts.include_namespaces.is_empty() {
        spec["includedNamespaces"] = json!(opts.include_namespaces);
    }
    if let Some(sel) = &opts.selector {
        spec["labelSelector"] = label_selector(sel)?;
    }
    if let Some(include) = opts.include_cluster_resources {
        spec["includeClusterResources"] = json!(include);
    }
    Ok(json!({
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {
            "name": name,
            "namespace": opts.velero_namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "kubectl-svmdr",
                "velero.io/backup-name": names::valid_name(backup),
            },
        },
        "spec": spec,
    }))
}

/// The outcome of a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// Restore name.
    pub name: String,
    /// Velero namespace.
    pub namespace: String,
    /// The backup used.
    pub backup: BackupInfo,
    /// Final status.
    pub status: RestoreStatus,
    /// How long the restore took (create to final phase).
    #[serde(with = "secs")]
    pub duration: Duration,
    /// What came back, per namespace.
    pub namespaces: Vec<NamespaceSummary>,
    /// The backup's volume data (findings are present only with `force`).
    #[serde(default)]
    pub backup_data: backup_data::BackupData,
    /// The wait used.
    #[serde(with = "secs", default)]
    pub timeout: Duration,
}

mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs_f64(f64::deserialize(d)?.max(0.0)))
    }
}

/// Lists the Velero backups.
///
/// # Errors
///
/// [`RestoreError::Kube`].
pub async fn list_backups(
    client: &kube::Client,
    namespace: &str,
) -> Result<Vec<BackupInfo>, RestoreError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &velero_resource("Backup"));
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(kube_err(format!("listing Velero backups in {namespace}")))?;
    Ok(list.items.iter().map(backup_info).collect())
}

/// What [`prepare`] found before any change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The backup.
    pub backup: BackupInfo,
    /// Its volume data.
    pub data: backup_data::BackupData,
    /// What the plugin may wait.
    pub plugin: plugin_wait::PluginWait,
    /// The wait the CLI will use.
    pub timeout: Duration,
    /// Warnings to show (forced findings, a short explicit timeout).
    pub warnings: Vec<String>,
    /// The `Completed` Restores of this backup already on the cluster.
    pub earlier_restores: Vec<String>,
}

/// The `Completed` Restores of `backup` (`spec.backupName`), whoever
/// created them (pure).
pub fn completed_restores_of(restores: &[Value], backup: &str) -> Vec<String> {
    let mut out: Vec<String> = restores
        .iter()
        .filter(|r| r.pointer("/spec/backupName").and_then(Value::as_str) == Some(backup))
        .filter(|r| r.pointer("/status/phase").and_then(Value::as_str) == Some("Completed"))
        .filter_map(|r| r.pointer("/metadata/name").and_then(Value::as_str))
        .map(String::from)
        .collect();
    out.sort();
    out
}

/// The Restores in `namespace`, as JSON (one LIST).
async fn list_restores(client: &kube::Client, namespace: &str) -> Result<Vec<Value>, RestoreError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &velero_resource("Restore"));
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(kube_err(format!("listing Velero restores in {namespace}")))?;
    Ok(list
        .items
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect())
}

/// Picks the backup, inspects it and sizes the wait; changes nothing.
///
/// # Errors
///
/// As [`choose_backup`]; [`RestoreError::VolumeData`] when the backup
/// carries volume data and `force` is off; [`RestoreError::AlreadyRestored`]
/// when a `Completed` Restore of it exists and `repeat` is off;
/// [`RestoreError::Kube`].
pub async fn prepare(
    client: &kube::Client,
    opts: &RestoreOptions,
) -> Result<Prepared, RestoreError> {
    let ns = opts.velero_namespace.as_str();
    let backups = list_backups(client, ns).await?;
    let backup = choose_backup(&backups, &opts.backup, ns)?;
    let (data, plugin, restores) = tokio::join!(
        backup_data::inspect(client, ns, &backup.name),
        plugin_wait::read(client, ns),
        list_restores(client, ns)
    );
    let data = data?;
    let earlier_restores = completed_restores_of(&restores?, &backup.name);
    let mut warnings: Vec<String> = plugin.warnings.clone();
    if data.carries_volume_data() {
        if !opts.force {
            return Err(RestoreError::VolumeData {
                report: Box::new(data),
            });
        }
        warnings.push(format!(
            "--force: Velero backup {} carries volume data; the restore may re-provision, overwrite or shadow the replicated Trident volumes:",
            data.backup
        ));
        warnings.extend(data.findings.iter().map(|f| format!("  {}", f.line())));
    }
    if !earlier_restores.is_empty() {
        if !opts.repeat {
            return Err(RestoreError::AlreadyRestored {
                backup: backup.name.clone(),
                namespace: ns.into(),
                restores: earlier_restores,
            });
        }
        warnings.push(format!(
            "Velero backup {} was already restored (Completed: {}): restoring it again; objects already in place are reported as warnings or errors",
            backup.name,
            earlier_restores.join(", ")
        ));
    }
    warnings.extend(data.notes.iter().cloned());
    let timeout = match opts.timeout {
        None => plugin.default_timeout(),
        Some(t) => {
            if t <= plugin.worst_case() && !plugin.wait_for_ready.is_zero() {
                warnings.push(format!(
                    "--restore-timeout {} is not longer than the svmdr plugin's worst case {} (waitForReady {} from {} × {} Trident backend(s)): the CLI may give up while Velero still restores",
                    humantime::format_duration(t),
                    humantime::format_duration(plugin.worst_case()),
                    humantime::format_duration(plugin.wait_for_ready),
                    plugin.source,
                    plugin.backends.max(1)
                ));
            }
            t
        }
    };
    Ok(Prepared {
        backup,
        data,
        plugin,
        timeout,
        warnings,
        earlier_restores,
    })
}

/// The name of the Restore for `backup` created at `now`:
/// `<backup>-svmdr-<timestamp>` through Velero's `GetValidName`.
pub fn restore_name(backup: &str, now: DateTime<Utc>) -> String {
    names::valid_name(&format!("{backup}-svmdr-{}", now.format("%Y%m%d%H%M%S")))
}

/// Creates the Restore and waits for it, then summarises what came back.
///
/// # Errors
///
/// Any [`RestoreError`]; a `PartiallyFailed` restore is not an error (the
/// report carries its warnings and errors).
///
/// # Caveats
///
/// Bounded by the timeout (see [`prepare`]); on timeout the Restore keeps
/// running in Velero.
pub async fn restore(
    client: &kube::Client,
    opts: &RestoreOptions,
    reporter: &dyn Reporter,
) -> Result<RestoreReport, RestoreError> {
    let prepared = prepare(client, opts).await?;
    for w in &prepared.warnings {
        reporter.warning(w);
    }
    create_and_wait(client, opts, prepared, reporter).await
}

/// Creates the Restore of the backup [`prepare`] judged and waits for it,
/// then summarises what came back: [`restore`] without preparing again
/// (the caller has shown `prepared`'s warnings, e.g. before a failover).
///
/// # Errors
///
/// As for [`restore`], without the refusals [`prepare`] makes.
pub async fn create_and_wait(
    client: &kube::Client,
    opts: &RestoreOptions,
    prepared: Prepared,
    reporter: &dyn Reporter,
) -> Result<RestoreReport, RestoreError> {
    let ns = opts.velero_namespace.as_str();
    let backup = prepared.backup.clone();
    let name = restore_name(&backup.name, Utc::now());
    let obj = restore_object(&name, opts, &backup.name)?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), ns, &velero_resource("Restore"));
    let dynobj: DynamicObject =
        serde_json::from_value(obj).map_err(|e| RestoreError::Selector {
            selector: opts.selector.clone().unwrap_or_default(),
            reason: e.to_string(),
        })?;
    let start = Instant::now();
    api.create(&PostParams::default(), &dynobj)
        .await
        .map_err(kube_err(format!("creating Velero restore {ns}/{name}")))?;
    reporter.note(&format!(
        "created Velero restore {ns}/{name} from backup {}",
        backup.name
    ));
    let status = wait_restore(
        &api,
        ns,
        &name,
        prepared.timeout,
        opts.poll_interval,
        reporter,
    )
    .await?;
    let duration = start.elapsed();
    let namespaces = if opts.include_namespaces.is_empty() {
        if backup.included_namespaces.is_empty() || backup.included_namespaces == ["*"] {
            user_namespaces(client).await?
        } else {
            backup.included_namespaces.clone()
        }
    } else {
        opts.include_namespaces.clone()
    };
    let summaries = summarize(client, &namespaces).await?;
    Ok(RestoreReport {
        name,
        namespace: ns.into(),
        backup,
        status,
        duration,
        namespaces: summaries,
        backup_data: prepared.data,
        timeout: prepared.timeout,
    })
}

async fn wait_restore(
    api: &Api<DynamicObject>,
    ns: &str,
    name: &str,
    timeout: Duration,
    poll_interval: Duration,
    reporter: &dyn Reporter,
) -> Result<RestoreStatus, RestoreError> {
    // A `Poller` loop rather than `poll_until`, so that the wait stays
    // `Send` (see `poll_until`'s caveats).
    let mut poller = Poller::start(Pace::every(poll_interval, timeout));
    loop {
        poller.tick();
        let obj = api
            .get(name)
            .await
            .map_err(kube_err(format!("reading Velero restore {ns}/{name}")))?;
        let value = serde_json::to_value(&obj).unwrap_or(Value::Null);
        let last = RestoreStatus::from_object(&value);
        last.report(reporter);
        if last.is_final() {
            if matches!(last.phase.as_str(), "Failed" | "FailedValidation") {
                return Err(RestoreError::Failed {
                    name: name.into(),
                    namespace: ns.into(),
                    phase: last.phase.clone(),
                    reason: if last.failure.is_empty() {
                        "no reason given".into()
                    } else {
                        last.failure.join("; ")
                    },
                });
            }
            return Ok(last);
        }
        poller.pending::<RestoreError, _>(last).await.map_err(|e| {
            e.or_timeout(|_, last: RestoreStatus| RestoreError::Timeout {
                name: name.into(),
                namespace: ns.into(),
                phase: last.phase,
                waited: timeout,
            })
        })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(name: &str, phase: &str, mins_ago: i64) -> BackupInfo {
        BackupInfo {
            name: name.into(),
            phase: phase.into(),
            completed_at: Some(Utc::now() - chrono::Duration::minutes(mins_ago)),
            included_namespaces: vec![],
        }
    }

    #[test]
    fn completed_restores_of_a_backup_whoever_made_them() {
        let r = |name: &str, backup: &str, phase: &str| {
            json!({"metadata": {"name": name}, "spec": {"backupName": backup},
                   "status": {"phase": phase}})
        };
        let all = [
            r("by-hand", "nightly", "Completed"),
            r("nightly-svmdr-1", "nightly", "Completed"),
            r("nightly-svmdr-2", "nightly", "PartiallyFailed"),
            r("other", "weekly", "Completed"),
            json!({"metadata": {"name": "new"}, "spec": {"backupName": "nightly"}}),
        ];
        assert_eq!(
            completed_restores_of(&all, "nightly"),
            ["by-hand", "nightly-svmdr-1"]
        );
        assert!(completed_restores_of(&all, "monthly").is_empty());
    }

    #[test]
    fn latest_is_the_newest_completed() {
        let list = [
            b("old", "Completed", 60),
            b("newer-failed", "PartiallyFailed", 1),
            b("new", "Completed", 5),
        ];
        let got = choose_backup(&list, &BackupChoice::Latest, "velero").expect("backup");
        assert_eq!(got.name, "new");
    }

    #[test]
    fn named_must_exist_and_be_completed() {
        let list = [b("a", "Completed", 1), b("c", "InProgress", 1)];
        assert!(matches!(
            choose_backup(&list, &BackupChoice::Named("zz".into()), "velero"),
            Err(RestoreError::BackupNotFound { .. })
        ));
        let err = choose_backup(&list, &BackupChoice::Named("c".into()), "velero")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("InProgress"), "{err}");
        assert!(matches!(
            choose_backup(&[b("x", "Failed", 1)], &BackupChoice::Latest, "velero"),
            Err(RestoreError::NoBackup { found: 1, .. })
        ));
    }

    #[test]
    fn restore_object_passes_options_through() {
        let opts = RestoreOptions {
            include_namespaces: vec!["shop".into()],
            selector: Some("app=web".into()),
            ..Default::default()
        };
        let o = restore_object("r1", &opts, "nightly").expect("obj");
        assert_eq!(o["metadata"]["namespace"], "velero");
        assert_eq!(o["spec"]["backupName"], "nightly");
        assert_eq!(o["spec"]["includedNamespaces"], json!(["shop"]));
        assert_eq!(o["spec"]["labelSelector"]["matchLabels"]["app"], "web");
        assert!(o["spec"].get("includeClusterResources").is_none());
        let no_pvs = RestoreOptions {
            include_cluster_resources: Some(false),
            ..Default::default()
        };
        let o = restore_object("r1", &no_pvs, "nightly").expect("obj");
        assert_eq!(o["spec"]["includeClusterResources"], false);
    }

    #[test]
    fn restore_names_and_labels_are_valid_names() {
        let at = DateTime::parse_from_rfc3339("2026-12-07T03:15:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        assert_eq!(restore_name("nightly", at), "nightly-svmdr-20261207031500");
        let long = "nightly-full-backup-of-every-namespace-in-cluster-a-2026-12-07";
        assert_eq!(
            restore_name(long, at),
            "nightly-full-backup-of-every-namespace-in-cluster-a-2026-d1e6c8"
        );
        let long_backup = "b".repeat(70);
        let o = restore_object("r", &RestoreOptions::default(), &long_backup).expect("obj");
        assert_eq!(
            o["metadata"]["labels"]["velero.io/backup-name"],
            names::valid_name(&long_backup)
        );
        assert_eq!(o["spec"]["backupName"], long_backup);
    }
}
