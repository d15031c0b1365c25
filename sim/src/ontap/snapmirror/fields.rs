//! Checks shared by the relationship verbs: finding a relationship, SVM-DR
//! endpoint paths and the throttle value.

use serde_json::Value;

use crate::ontap::error::ApiError;
use crate::ontap::world::World;

pub(super) fn not_found_rel(id: &str) -> ApiError {
    ApiError::not_found(format!("SnapMirror relationship \"{id}\" not found on this cluster (relationships are listed on the destination cluster; use list_destinations_only=true on the source).")).target("uuid")
}

pub(super) fn svm_path(w: &str, target: &str) -> Result<String, ApiError> {
    let Some((svm, rest)) = w.split_once(':') else {
        return Err(ApiError::bad(13303852, format!("Invalid path \"{w}\": an SVM-DR endpoint is written \"<svm>:\" (with the trailing colon).")).target(target));
    };
    if !rest.is_empty() {
        return Err(ApiError::invalid(format!("Path \"{w}\" names a volume: the simulator models SVM-DR relationships only (\"<svm>:\").")).target(target));
    }
    if svm.is_empty() {
        return Err(ApiError::invalid(format!("Path \"{w}\" has no SVM name.")).target(target));
    }
    Ok(svm.to_string())
}

pub(super) fn rel_idx(w: &World, uuid: &str) -> Result<usize, ApiError> {
    w.relationships
        .iter()
        .position(|r| r.uuid == uuid && r.dst_present)
        .ok_or_else(|| not_found_rel(uuid))
}

/// `throttle` in KB/s: a non-negative integer (`0`: unlimited).
pub(super) fn throttle_value(v: &Value) -> Result<u64, ApiError> {
    v.as_u64().ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid throttle {v}: give KB/s as a non-negative integer (0 is unlimited)."
        ))
        .target("throttle")
    })
}
