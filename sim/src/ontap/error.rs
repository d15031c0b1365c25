//! ONTAP's error bodies (`{"error":{"message","code","target"}}`, code a
//! string of digits) and the simulator's own control errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An ONTAP REST error: HTTP status plus ONTAP's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// ONTAP error code (digits).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// The offending field, when there is one.
    pub target: Option<String>,
}

impl ApiError {
    /// An error with an explicit HTTP status.
    pub fn new(status: StatusCode, code: impl ToString, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            target: None,
        }
    }

    /// 400 with `code`.
    pub fn bad(code: impl ToString, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 code "2": invalid, missing or extra field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::bad(2, message)
    }

    /// 404 code "4": no object with that identifier.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, 4, message)
    }

    /// 403 code "6": permission denied.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, 6, message)
    }

    /// 409 code "1": duplicate.
    pub fn duplicate(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, 1, message)
    }

    /// Names the offending field.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The JSON body ONTAP sends.
    pub fn body(&self) -> Value {
        let mut e = json!({ "message": self.message, "code": self.code });
        if let Some(t) = &self.target {
            e["target"] = json!(t);
        }
        json!({ "error": e })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (ONTAP code {})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/hal+json")],
            body,
        )
            .into_response()
    }
}

/// Why an in-process control call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No cluster with that key or name.
    #[error("no cluster {0:?} in the lab")]
    NoCluster(String),
    /// The cluster is down.
    #[error("cluster {0:?} is down")]
    ClusterDown(String),
    /// No SVM with that name on the cluster.
    #[error("no SVM {svm:?} on cluster {cluster:?}")]
    NoSvm {
        /// Cluster key.
        cluster: String,
        /// SVM name.
        svm: String,
    },
    /// No volume with that name in the SVM.
    #[error("no volume {volume:?} in SVM {svm:?} on cluster {cluster:?}")]
    NoVolume {
        /// Cluster key.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
    },
    /// The write was refused (SVM not running, volume not rw or offline).
    #[error("write to {svm}:{volume} on {cluster} refused: {reason}")]
    NotWritable {
        /// Cluster key.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
        /// Why.
        reason: String,
    },
    /// An export rule given to the lab control is not a valid ONTAP rule.
    #[error("export policy {policy:?} of SVM {svm:?} on {cluster:?}: rule {rule}: {reason}")]
    BadExportRule {
        /// Cluster key.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Policy name.
        policy: String,
        /// 1-based position in the list given.
        rule: usize,
        /// What is wrong.
        reason: String,
    },
    /// ONTAP would refuse the NFS mount.
    #[error("mount of {svm}:{volume} on {cluster} by {client} refused: {reason}")]
    MountRefused {
        /// Cluster key.
        cluster: String,
        /// SVM name.
        svm: String,
        /// Volume name.
        volume: String,
        /// The client address.
        client: String,
        /// Why (naming the export policy and rule).
        reason: String,
    },
    /// No LIF with that name on the cluster.
    #[error("no LIF {lif:?} on cluster {cluster:?}")]
    NoLif {
        /// Cluster key.
        cluster: String,
        /// LIF name.
        lif: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_a_string() {
        let e = ApiError::bad(13303852, "x").target("destination.path");
        assert_eq!(e.body()["error"]["code"], json!("13303852"));
        assert_eq!(e.body()["error"]["target"], json!("destination.path"));
    }
}
