//! The Velero half of `status`: the newest Completed backup the DR cluster
//! can see, its age against the RPO, the Schedule that makes it, the
//! BackupStorageLocations it is read from, and whether a restore from it
//! would keep the replicated Trident volumes. A backup that carries volume
//! data would have them re-provisioned, overwritten or shadowed (see
//! [`crate::restore::backup_data`]), and `restore` refuses it: better known
//! before the disaster.
//!
//! Calls: one LIST each of Backups, Schedules and BackupStorageLocations in
//! Velero's namespace (at the same time), then [`backup_data::inspect`] of
//! the newest backup. Velero's names: the `velero.io/schedule-name` label
//! (`pkg/apis/velero/v1/labels_annotations.go`), Schedule `spec.schedule`,
//! `spec.paused`, `status.phase` New|Enabled|FailedValidation
//! (`schedule_types.go`), BackupStorageLocation `status.phase`
//! Available|Unavailable and `spec.default`
//! (`backupstoragelocation_types.go`), Backup `spec.storageLocation`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::report::StatusReport;
pub use super::report::{LocationStatus, ScheduleStatus, VeleroStatus};
use super::rpo;
use crate::restore::backup_data;
use crate::restore::{BackupChoice, BackupInfo, choose_backup, velero_resource};

/// The label Velero puts on each backup a Schedule creates.
pub const SCHEDULE_LABEL: &str = "velero.io/schedule-name";

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn backup_info(o: &DynamicObject) -> BackupInfo {
    let d = &o.data;
    BackupInfo {
        name: o.metadata.name.clone().unwrap_or_default(),
        phase: str_at(d, "/status/phase").unwrap_or("New").to_string(),
        completed_at: str_at(d, "/status/completionTimestamp")
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc)),
        included_namespaces: d
            .pointer("/spec/includedNamespaces")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// What the three LISTs returned, as Velero's JSON objects.
#[derive(Debug, Clone)]
pub struct VeleroFacts {
    /// Backups (whole objects).
    pub backups: Vec<DynamicObject>,
    /// Schedules, or why they could not be listed.
    pub schedules: Result<Vec<DynamicObject>, String>,
    /// BackupStorageLocations, or why they could not be listed.
    pub locations: Result<Vec<DynamicObject>, String>,
}

/// Builds the status from the LISTs (pure): the newest Completed backup,
/// its Schedule and its locations. `backup_data` is filled by [`collect`].
pub fn from_facts(namespace: &str, facts: &VeleroFacts, now: DateTime<Utc>) -> VeleroStatus {
    let mut out = VeleroStatus {
        namespace: namespace.to_string(),
        ..VeleroStatus::default()
    };
    let infos: Vec<BackupInfo> = facts.backups.iter().map(backup_info).collect();
    let latest = choose_backup(&infos, &BackupChoice::Latest, namespace).ok();
    let raw = latest.as_ref().and_then(|l| {
        facts
            .backups
            .iter()
            .find(|o| o.metadata.name.as_deref() == Some(l.name.as_str()))
    });
    if let Some(l) = &latest {
        out.latest_backup = Some(l.name.clone());
        out.latest_backup_completed_at = l.completed_at;
        if let Some(t) = l.completed_at {
            let age = (now - t).to_std().unwrap_or_default();
            out.latest_backup_age_seconds = Some(age.as_secs());
            out.latest_backup_age = Some(rpo::human(age));
        }
    }
    let location = raw
        .and_then(|o| str_at(&o.data, "/spec/storageLocation"))
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    out.backup_storage_location.clone_from(&location);
    if let Some(l) = &latest {
        out.backup_included_namespaces
            .clone_from(&l.included_namespaces);
    }
    out.backup_excluded_namespaces = raw
        .and_then(|o| o.data.pointer("/spec/excludedNamespaces"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(name) = raw
        .and_then(|o| o.metadata.labels.as_ref())
        .and_then(|l| l.get(SCHEDULE_LABEL))
    {
        let found = facts.schedules.as_ref().ok().and_then(|s| {
            s.iter()
                .find(|o| o.metadata.name.as_deref() == Some(name.as_str()))
        });
        out.schedule = Some(ScheduleStatus {
            name: name.clone(),
            found: found.is_some(),
            cron: found.and_then(|o| str_at(&o.data, "/spec/schedule").map(str::to_string)),
            phase: found.and_then(|o| str_at(&o.data, "/status/phase").map(str::to_string)),
            paused: found
                .and_then(|o| o.data.pointer("/spec/paused"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    if let Ok(locs) = &facts.locations {
        for o in locs {
            let name = o.metadata.name.clone().unwrap_or_default();
            let default = o
                .data
                .pointer("/spec/default")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let used = latest.is_some()
                && match &location {
                    Some(l) => *l == name,
                    None => default,
                };
            out.storage_locations.push(LocationStatus {
                phase: str_at(&o.data, "/status/phase").map(str::to_string),
                name,
                default,
                used_by_backup: used,
            });
        }
    }
    out
}

async fn list(
    client: &kube::Client,
    namespace: &str,
    kind: &str,
) -> Result<Vec<DynamicObject>, kube::Error> {
    Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &velero_resource(kind))
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
}

/// Reads Velero's Backups, Schedules and BackupStorageLocations in
/// `namespace` (one LIST each, at the same time) and inspects the newest
/// Completed backup. `max_age` overrides the age the backup is held to.
pub async fn collect(
    client: &kube::Client,
    namespace: &str,
    max_age: Option<Duration>,
) -> VeleroStatus {
    let (backups, schedules, locations) = tokio::join!(
        list(client, namespace, "Backup"),
        list(client, namespace, "Schedule"),
        list(client, namespace, "BackupStorageLocation"),
    );
    let err = |what: &str, e: kube::Error| format!("listing Velero {what} in {namespace}: {e}");
    let backups = match backups {
        Ok(b) => b,
        Err(kube::Error::Api(e)) if e.code == 404 => {
            return VeleroStatus {
                namespace: namespace.to_string(),
                error: Some(
                    "Velero is not installed on the DR cluster (no velero.io/v1 Backup resource)"
                        .into(),
                ),
                max_age_override: max_age,
                ..VeleroStatus::default()
            };
        }
        Err(e) => {
            return VeleroStatus {
                namespace: namespace.to_string(),
                error: Some(err("backups", e)),
                max_age_override: max_age,
                ..VeleroStatus::default()
            };
        }
    };
    let facts = VeleroFacts {
        backups,
        schedules: schedules.map_err(|e| err("schedules", e)),
        locations: locations.map_err(|e| err("backup storage locations", e)),
    };
    let mut out = from_facts(namespace, &facts, Utc::now());
    out.max_age_override = max_age;
    if let Err(e) = &facts.schedules {
        out.error = Some(e.clone());
    }
    if let Err(e) = &facts.locations {
        out.error = Some(e.clone());
    }
    if let Some(name) = out.latest_backup.clone() {
        match backup_data::inspect(client, namespace, &name).await {
            Ok(d) => out.backup_data = Some(d),
            Err(e) => out.error = Some(e.to_string()),
        }
    }
    out
}

/// Adds `velero` to the report (pure). Problems: a backup that carries
/// volume data; a backup older than the RPO (`--backup-max-age`, else the
/// smallest RPO of the live relationships); a paused or invalid Schedule;
/// an Unavailable location the backup is stored in; namespaces with data
/// on a protected SVM the backup leaves out. Notes: no backup, no
/// Velero, a backup made by hand, a Schedule that no longer exists.
pub fn apply(report: &mut StatusReport, mut v: VeleroStatus) {
    let ns = v.namespace.clone();
    if let Some(e) = &v.error {
        report.notes.push(format!(
            "the Velero backups on the DR cluster were not fully checked: {e}"
        ));
    }
    if v.latest_backup.is_none() && v.error.is_none() {
        report.notes.push(format!(
            "no Completed Velero backup in namespace {ns} on the DR cluster: `kubectl svmdr restore` has nothing to restore the applications from; create a Velero Schedule (`velero schedule create <name> --schedule '@every 1h' --snapshot-volumes=false`)"
        ));
    }
    if let Some(d) = v.backup_data.as_ref().filter(|d| d.carries_volume_data()) {
        let found: Vec<String> = d.findings.iter().map(|f| f.evidence.clone()).collect();
        report.problems.push(format!(
            "the newest Velero backup {} carries volume data ({}): a restore from it would re-provision, overwrite or shadow the replicated Trident volumes, and `kubectl svmdr restore` refuses it; {}",
            d.backup,
            found.join("; "),
            backup_data::FIX
        ));
    }
    let rpo = report
        .relationships
        .iter()
        .filter(|r| r.live)
        .filter_map(|r| r.rpo_seconds)
        .min()
        .map(Duration::from_secs);
    let max_age = v.max_age_override.or(rpo);
    v.max_age_seconds = max_age.map(|d| d.as_secs());
    if let (Some(name), Some(age), Some(max)) = (
        v.latest_backup.clone(),
        v.latest_backup_age_seconds,
        max_age,
    ) {
        let stale = age > max.as_secs();
        v.stale = Some(stale);
        if stale {
            let source = if v.max_age_override.is_some() {
                "--backup-max-age"
            } else {
                "the RPO of the replication"
            };
            let renew = match &v.schedule {
                Some(s) => format!(
                    "check that Velero Schedule {ns}/{} runs (`velero schedule describe {}`, `velero backup get`)",
                    s.name, s.name
                ),
                None => "no Velero Schedule renews it: create one (`velero schedule create <name> --schedule '@every 1h' --snapshot-volumes=false`)".into(),
            };
            report.problems.push(format!(
                "the newest Velero backup {ns}/{name} is {} old, older than {} ({}): the Kubernetes objects restored after a failover would miss what changed since; {renew}, or pass --backup-max-age",
                rpo::human(Duration::from_secs(age)),
                rpo::human(max),
                source
            ));
        }
    }
    if let Some(name) = &v.latest_backup {
        match &v.schedule {
            None => report.notes.push(format!(
                "Velero backup {ns}/{name} was not made by a Schedule (no {SCHEDULE_LABEL} label): nothing renews it"
            )),
            Some(s) if !s.found => report.notes.push(format!(
                "Velero Schedule {ns}/{} that made backup {name} no longer exists: no new backups will come",
                s.name
            )),
            Some(s) if s.paused => report.problems.push(format!(
                "Velero Schedule {ns}/{} is paused: it makes no new backups; `velero schedule unpause {}`",
                s.name, s.name
            )),
            Some(s) if s.phase.as_deref() == Some("FailedValidation") => {
                report.problems.push(format!(
                    "Velero Schedule {ns}/{} failed validation: it makes no backups; `velero schedule describe {}` says why",
                    s.name, s.name
                ));
            }
            Some(_) => {}
        }
    }
    if let (Some(name), Some(wanted)) = (&v.latest_backup, &report.protected_namespaces) {
        let wanted = wanted.iter().cloned().collect();
        v.uncovered_namespaces = super::coverage::uncovered(
            &wanted,
            &v.backup_included_namespaces,
            &v.backup_excluded_namespaces,
        );
        if !v.uncovered_namespaces.is_empty() {
            report.problems.push(format!(
                "the newest Velero backup {ns}/{name} leaves out namespaces {} whose PVCs are on the protected SVM: a restore would not bring their applications back; include them in the backup's Schedule (`--include-namespaces`)",
                v.uncovered_namespaces.join(", ")
            ));
        }
    }
    for l in &v.storage_locations {
        if l.phase.as_deref() == Some("Unavailable") {
            let msg = format!(
                "Velero BackupStorageLocation {ns}/{} on the DR cluster is Unavailable: Velero cannot read or write backups there; check its bucket, credentials and network (`velero backup-location get`)",
                l.name
            );
            if l.used_by_backup {
                report.problems.push(format!(
                    "{msg}; the newest backup {} is stored there, so a restore would fail",
                    v.latest_backup.as_deref().unwrap_or("?")
                ));
            } else {
                report.notes.push(msg);
            }
        }
    }
    if v.latest_backup.is_some()
        && v.error.is_none()
        && !v.storage_locations.iter().any(|l| l.used_by_backup)
    {
        report.notes.push(format!(
            "the BackupStorageLocation of backup {} ({}) is not in namespace {ns} on the DR cluster: Velero there cannot read it",
            v.latest_backup.as_deref().unwrap_or("?"),
            v.backup_storage_location.as_deref().unwrap_or("the default")
        ));
    }
    report.velero = Some(v);
    report.healthy = report.problems.is_empty();
}
