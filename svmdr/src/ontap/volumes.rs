//! Volumes (`/api/storage/volumes`), read-only here.

use super::error::OntapError;
use super::models::Volume;
use super::query::Query;
use super::transport::OntapClient;

/// Fields always read for volumes.
const VOLUME_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "svm.name",
    "svm.uuid",
    "state",
    "type",
    "style",
    "nas.path",
    "is_svm_root",
    "space.size",
    "space.available",
    "space.used",
    "error_state",
    "snapmirror.is_protected",
];

/// Filters for [`OntapClient::volumes`]; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct VolumeQuery {
    /// Owning SVM name.
    pub svm: Option<String>,
    /// Volume name (ONTAP wildcards work).
    pub name: Option<String>,
    /// More fields to ask for (read them with `get_json` if unmodelled).
    pub extra_fields: Vec<String>,
}

impl OntapClient {
    /// Volumes matching `query`.
    ///
    /// # Errors
    /// As for any call.
    pub async fn volumes(&self, query: &VolumeQuery) -> Result<Vec<Volume>, OntapError> {
        let mut fields: Vec<&str> = VOLUME_FIELDS.to_vec();
        fields.extend(query.extra_fields.iter().map(String::as_str));
        let q = Query::new()
            .fields(&fields)
            .opt("svm.name", query.svm.clone())
            .opt("name", query.name.clone());
        self.get_collection("/api/storage/volumes", &q).await
    }
}
