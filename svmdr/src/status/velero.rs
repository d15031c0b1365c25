//! The Velero half of `status`: would a restore from the newest Completed
//! backup keep the replicated Trident volumes? A backup that carries volume
//! data would have them re-provisioned, overwritten or shadowed (see
//! [`crate::restore::backup_data`]), and `restore` refuses it: better known
//! before the disaster.

use serde::Serialize;

use super::report::StatusReport;
use crate::restore::backup_data::{self, BackupData};
use crate::restore::{BackupChoice, RestoreError, choose_backup, list_backups};

/// `velero` in the status report.
#[derive(Debug, Clone, Serialize)]
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
}

/// Reads the newest Completed backup in `namespace` and inspects it (one
/// LIST of backups, then as [`backup_data::inspect`]).
pub async fn collect(client: &kube::Client, namespace: &str) -> VeleroStatus {
    let mut out = VeleroStatus {
        namespace: namespace.to_string(),
        latest_backup: None,
        backup_data: None,
        error: None,
    };
    let backups = match list_backups(client, namespace).await {
        Ok(b) => b,
        Err(RestoreError::Kube {
            source: kube::Error::Api(e),
            ..
        }) if e.code == 404 => {
            out.error = Some(
                "Velero is not installed on the DR cluster (no velero.io/v1 Backup resource)"
                    .into(),
            );
            return out;
        }
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    let Ok(latest) = choose_backup(&backups, &BackupChoice::Latest, namespace) else {
        return out;
    };
    out.latest_backup = Some(latest.name.clone());
    match backup_data::inspect(client, namespace, &latest.name).await {
        Ok(d) => out.backup_data = Some(d),
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

/// Adds `velero` to the report (pure): a backup that carries volume data is
/// a problem; no backup, or no Velero, a note.
pub fn apply(report: &mut StatusReport, v: VeleroStatus) {
    if let Some(e) = &v.error {
        report.notes.push(format!(
            "the Velero backups on the DR cluster were not checked: {e}"
        ));
    } else if v.latest_backup.is_none() {
        report.notes.push(format!(
            "no Completed Velero backup in namespace {} on the DR cluster: `kubectl svmdr restore` has nothing to restore the applications from",
            v.namespace
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
    report.velero = Some(v);
    report.healthy = report.problems.is_empty();
}
