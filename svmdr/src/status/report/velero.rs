//! The Velero part of the report (`velero`): the newest backup, its
//! schedule and its storage location, as the DR cluster's Velero sees them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::restore::backup_data::BackupData;

/// `velero` in the status report.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VeleroStatus {
    /// Velero's namespace on the DR cluster.
    pub namespace: String,
    /// The newest Completed backup, when there is one.
    pub latest_backup: Option<String>,
    /// What it carries (empty `findings`: no volume data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_data: Option<BackupData>,
    /// Why it could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its `status.completionTimestamp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_backup_completed_at: Option<DateTime<Utc>>,
    /// Its age when the report was made, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_backup_age_seconds: Option<u64>,
    /// The same, human (`1d 2h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_backup_age: Option<String>,
    /// The age it is held to: `--backup-max-age`, else the smallest RPO of
    /// the live relationships.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u64>,
    /// Older than `maxAgeSeconds` (`null` when not checked).
    pub stale: Option<bool>,
    /// The Velero Schedule that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleStatus>,
    /// The BackupStorageLocations in the namespace.
    pub storage_locations: Vec<LocationStatus>,
    /// The backup's `spec.storageLocation` (empty: the default location).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_storage_location: Option<String>,
    /// The backup's `spec.includedNamespaces` (empty: all).
    pub backup_included_namespaces: Vec<String>,
    /// The backup's `spec.excludedNamespaces`.
    pub backup_excluded_namespaces: Vec<String>,
    /// Namespaces with data on a protected SVM that the backup leaves out.
    pub uncovered_namespaces: Vec<String>,
    /// `--backup-max-age`, when given.
    #[serde(skip)]
    pub max_age_override: Option<Duration>,
}

/// The Velero Schedule behind the newest backup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStatus {
    /// The `velero.io/schedule-name` label of the backup.
    pub name: String,
    /// Whether a Schedule of that name exists.
    pub found: bool,
    /// `spec.schedule` (cron).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// `status.phase`: New, Enabled, FailedValidation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// `spec.paused`.
    pub paused: bool,
}

/// One BackupStorageLocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationStatus {
    /// Name.
    pub name: String,
    /// `status.phase`: Available, Unavailable (absent before Velero
    /// validated it).
    pub phase: Option<String>,
    /// `spec.default`.
    pub default: bool,
    /// The newest backup is stored there.
    pub used_by_backup: bool,
}
