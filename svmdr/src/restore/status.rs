//! The status of a Velero Restore as Velero reports it, and its progress.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::Reporter;

/// Status of a Restore as Velero reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreStatus {
    /// `status.phase` (`New` when absent).
    pub phase: String,
    /// `status.warnings`.
    pub warnings: u64,
    /// `status.errors`.
    pub errors: u64,
    /// `status.failureReason` and `status.validationErrors`.
    pub failure: Vec<String>,
    /// `status.progress.itemsRestored`.
    pub items_restored: Option<u64>,
    /// `status.progress.totalItems`.
    pub total_items: Option<u64>,
}

impl RestoreStatus {
    /// Reads `status` of a Restore (pure).
    pub fn from_object(obj: &Value) -> Self {
        let s = obj.get("status");
        let get = |p: &str| s.and_then(|s| s.pointer(p));
        let mut failure = Vec::new();
        if let Some(r) = get("/failureReason").and_then(Value::as_str) {
            failure.push(r.to_string());
        }
        if let Some(v) = get("/validationErrors").and_then(Value::as_array) {
            failure.extend(v.iter().filter_map(Value::as_str).map(String::from));
        }
        Self {
            phase: get("/phase")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
                .unwrap_or("New")
                .to_string(),
            warnings: get("/warnings").and_then(Value::as_u64).unwrap_or(0),
            errors: get("/errors").and_then(Value::as_u64).unwrap_or(0),
            failure,
            items_restored: get("/progress/itemsRestored").and_then(Value::as_u64),
            total_items: get("/progress/totalItems").and_then(Value::as_u64),
        }
    }

    /// Shows it as the `velero restore` progress bar (items restored of
    /// the total), ended once the phase is final.
    pub fn report(&self, reporter: &dyn Reporter) {
        const TASK: &str = "velero restore";
        reporter.progress(
            TASK,
            self.items_restored.unwrap_or(0),
            self.total_items,
            &format!(
                "{} ({} warnings, {} errors)",
                self.phase, self.warnings, self.errors
            ),
        );
        if self.is_final() {
            reporter.progress_finished(TASK);
        }
    }

    /// Whether Velero is done with it.
    pub fn is_final(&self) -> bool {
        matches!(
            self.phase.as_str(),
            "Completed" | "PartiallyFailed" | "Failed" | "FailedValidation"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_parsing() {
        let s = RestoreStatus::from_object(&json!({"status": {
            "phase": "PartiallyFailed", "warnings": 2, "errors": 1,
            "progress": {"totalItems": 10, "itemsRestored": 9}
        }}));
        assert!(s.is_final());
        assert_eq!((s.warnings, s.errors), (2, 1));
        assert_eq!(s.items_restored, Some(9));
        let s = RestoreStatus::from_object(&json!({}));
        assert_eq!(s.phase, "New");
        assert!(!s.is_final());
        let s = RestoreStatus::from_object(&json!({"status": {
            "phase": "FailedValidation", "validationErrors": ["backup not found"]}}));
        assert_eq!(s.failure, vec!["backup not found"]);
    }
}
