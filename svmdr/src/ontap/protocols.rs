//! Protocol services: NFS (`/api/protocols/nfs/services`) and iSCSI
//! (`/api/protocols/san/iscsi/services`), one per SVM at most.

use super::error::OntapError;
use super::models::{IscsiService, NfsService};
use super::query::Query;
use super::transport::OntapClient;

const NFS_FIELDS: &[&str] = &[
    "svm.name",
    "svm.uuid",
    "enabled",
    "state",
    "protocol.v3_enabled",
    "protocol.v40_enabled",
    "protocol.v41_enabled",
];
const ISCSI_FIELDS: &[&str] = &[
    "svm.name",
    "svm.uuid",
    "enabled",
    "target.name",
    "target.alias",
];

impl OntapClient {
    /// The NFS service of SVM `svm`, or `None` when NFS is not configured.
    ///
    /// # Errors
    /// As for any call.
    pub async fn nfs_service(&self, svm: &str) -> Result<Option<NfsService>, OntapError> {
        let q = Query::new().fields(NFS_FIELDS).param("svm.name", svm);
        let all: Vec<NfsService> = self
            .get_collection("/api/protocols/nfs/services", &q)
            .await?;
        Ok(all.into_iter().find(|s| {
            s.svm
                .as_ref()
                .and_then(|r| r.name.as_deref())
                .is_none_or(|n| n == svm)
        }))
    }

    /// The iSCSI service of SVM `svm`, or `None` when iSCSI is not
    /// configured.
    ///
    /// # Errors
    /// As for any call.
    pub async fn iscsi_service(&self, svm: &str) -> Result<Option<IscsiService>, OntapError> {
        let q = Query::new().fields(ISCSI_FIELDS).param("svm.name", svm);
        let all: Vec<IscsiService> = self
            .get_collection("/api/protocols/san/iscsi/services", &q)
            .await?;
        Ok(all.into_iter().find(|s| {
            s.svm
                .as_ref()
                .and_then(|r| r.name.as_deref())
                .is_none_or(|n| n == svm)
        }))
    }
}
