//! Why a restore failed, and how the audit records it.

use std::time::Duration;

use super::backup_data;

/// Why a restore failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// No completed backup exists.
    #[error(
        "no Completed Velero backup in namespace {namespace} (found {found} backups in other phases); run `velero backup get` on the cluster that made them and check the backup storage location is shared with this cluster"
    )]
    NoBackup {
        /// Velero namespace.
        namespace: String,
        /// How many backups exist in other phases.
        found: usize,
    },
    /// The named backup does not exist.
    #[error(
        "Velero backup {name} not found in namespace {namespace}; list them with `velero backup get`"
    )]
    BackupNotFound {
        /// Backup name.
        name: String,
        /// Velero namespace.
        namespace: String,
    },
    /// The named backup is not usable.
    #[error(
        "Velero backup {name} is {phase}, not Completed; pick another backup by name, or `latest` for the newest Completed one"
    )]
    BackupNotCompleted {
        /// Backup name.
        name: String,
        /// Its phase.
        phase: String,
    },
    /// The selector does not parse.
    #[error("invalid label selector {selector:?}: {reason}")]
    Selector {
        /// The input.
        selector: String,
        /// What is wrong.
        reason: String,
    },
    /// A Kubernetes call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What we were doing.
        what: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
    /// The backup carries volume data: restoring it would re-provision,
    /// overwrite or shadow the replicated Trident volumes.
    #[error("{}", .report.explanation())]
    VolumeData {
        /// What was found.
        report: Box<backup_data::BackupData>,
    },
    /// The backup was already restored: a second Restore of the same backup
    /// finds every object in place and ends `PartiallyFailed`.
    #[error(
        "Velero backup {backup} was already restored (Completed: {}); restoring it again finds its objects in place and ends PartiallyFailed; check `kubectl -n {namespace} get restores`, then confirm, or pass --yes or --force to restore it again",
        .restores.join(", ")
    )]
    AlreadyRestored {
        /// Backup name.
        backup: String,
        /// Velero namespace.
        namespace: String,
        /// The Completed Restores of it (`spec.backupName`), by anyone.
        restores: Vec<String>,
    },
    /// The restore did not finish in time. Velero has no deadline and keeps
    /// running it.
    #[error("timed out: Velero restore {namespace}/{name} still {phase} after {}; Velero is still running it (it does not stop a restore): follow it with `velero restore describe {name}` or `kubectl -n {namespace} get restore {name} -w`; next time wait longer with --restore-timeout", humantime::format_duration(*waited))]
    Timeout {
        /// Restore name.
        name: String,
        /// Velero namespace.
        namespace: String,
        /// Last phase seen.
        phase: String,
        /// How long we waited.
        waited: Duration,
    },
    /// Velero reports failure.
    #[error(
        "Velero restore {namespace}/{name} ended {phase}: {reason}; see `velero restore describe {name} --details` and `velero restore logs {name}`"
    )]
    Failed {
        /// Restore name.
        name: String,
        /// Velero namespace.
        namespace: String,
        /// `Failed` or `FailedValidation`.
        phase: String,
        /// `failureReason` / `validationErrors`.
        reason: String,
    },
}

impl From<backup_data::ReadError> for RestoreError {
    fn from(e: backup_data::ReadError) -> Self {
        Self::Kube {
            what: e.what,
            source: e.source,
        }
    }
}

pub(super) fn kube_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> RestoreError {
    let what = what.into();
    move |source| RestoreError::Kube { what, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_error_says_velero_keeps_running() {
        let e = RestoreError::Timeout {
            name: "r1".into(),
            namespace: "velero".into(),
            phase: "InProgress".into(),
            waited: Duration::from_secs(60),
        };
        let t = e.to_string();
        assert!(t.contains("Velero is still running it"), "{t}");
        assert!(t.contains("velero restore describe r1"), "{t}");
        assert!(t.contains("kubectl -n velero get restore r1 -w"), "{t}");
    }
}
