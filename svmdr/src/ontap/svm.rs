//! SVMs (`/api/svm/svms`): list, look up, create a DR destination, start
//! and stop. Create, start and stop are async jobs.

use http::Method;
use serde_json::json;

use super::error::OntapError;
use super::models::{Svm, SvmState, SvmSubtype};
use super::query::Query;
use super::transport::{CallMode, OntapClient};

/// Fields read for SVMs.
const SVM_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "state",
    "subtype",
    "ipspace",
    "nfs",
    "iscsi",
    "snapmirror",
];

/// Filters for [`OntapClient::svms`]; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct SvmQuery {
    /// SVM name (ONTAP wildcards such as `svm*` work).
    pub name: Option<String>,
    /// Subtype.
    pub subtype: Option<SvmSubtype>,
}

impl OntapClient {
    /// SVMs matching `query`.
    ///
    /// # Errors
    /// As for any call.
    pub async fn svms(&self, query: &SvmQuery) -> Result<Vec<Svm>, OntapError> {
        let q = Query::new()
            .fields(SVM_FIELDS)
            .opt("name", query.name.clone())
            .opt("subtype", query.subtype.map(|s| s.as_str()));
        self.get_collection("/api/svm/svms", &q).await
    }

    /// The SVM named exactly `name`, if it exists.
    ///
    /// # Errors
    /// As for any call.
    pub async fn svm_by_name(&self, name: &str) -> Result<Option<Svm>, OntapError> {
        let svms = self
            .svms(&SvmQuery {
                name: Some(name.to_string()),
                subtype: None,
            })
            .await?;
        // The name filter may be a wildcard pattern on the server side; keep
        // only the exact match.
        Ok(svms.into_iter().find(|s| s.name.as_deref() == Some(name)))
    }

    /// Creates an SVM-DR destination SVM (`subtype=dp_destination`; the body
    /// may carry nothing else) and returns it as read back.
    ///
    /// # Errors
    /// `Duplicate` when the name exists, `JobFailed` (e.g. 13434894: more
    /// than 5 parallel SVM creates), or any call error.
    pub async fn create_dp_destination_svm(&self, name: &str) -> Result<Svm, OntapError> {
        let path = "/api/svm/svms";
        let body = json!({ "name": name, "subtype": SvmSubtype::DpDestination.as_str() });
        self.mutate(Method::POST, path, Query::new(), Some(&body), CallMode::Job)
            .await?;
        self.svm_by_name(name)
            .await?
            .ok_or_else(|| self.missing_uuid(&format!("POST {path}")))
    }

    /// Starts or stops an SVM (`PATCH state`, an async job). Other target
    /// states are refused by ONTAP.
    ///
    /// # Errors
    /// `NotFound`, `JobFailed` with ONTAP's reason, or any call error.
    pub async fn set_svm_state(&self, uuid: &str, state: SvmState) -> Result<(), OntapError> {
        let path = format!("/api/svm/svms/{}", super::path_segment(uuid));
        self.mutate(
            Method::PATCH,
            &path,
            Query::new(),
            Some(&json!({ "state": state.as_str() })),
            CallMode::Job,
        )
        .await?;
        Ok(())
    }
}
