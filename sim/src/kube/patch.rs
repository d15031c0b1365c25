//! Patch bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
//! strategic merge patch and server-side apply.
//!
//! Strategic merge patch follows the built-in types' merge keys
//! ([`super::strategic`]); server-side apply, with field ownership, is in
//! [`super::managed`]; this module's `Apply` is a plain merge (used where
//! no ownership is kept, as on the `scale` subresource).

use serde_json::Value;

use super::resources::ResourceType;
use super::status::ApiError;

/// The patch flavours the server accepts, by `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json`
    Merge,
    /// `application/json-patch+json`
    Json,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml`
    Apply,
}

impl PatchKind {
    /// The patch media types the server reads for built-in types (its 415
    /// lists them).
    pub const MEDIA_TYPES: &[&str] = &[
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ];
    /// For custom resources: no strategic merge patch
    /// (`k8s.io/apiextensions-apiserver` `pkg/apiserver/customresource_handler.go`).
    pub const CUSTOM_MEDIA_TYPES: &[&str] = &[
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
    ];

    /// The kind for a `Content-Type` header value (parameters ignored).
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Decodes a patch body: YAML (or JSON) for apply, JSON otherwise.
///
/// # Errors
/// A message saying why the body does not decode.
pub fn decode(kind: PatchKind, body: &[u8]) -> Result<Value, String> {
    match kind {
        PatchKind::Apply => {
            serde_yaml::from_slice::<Value>(body).map_err(|e| format!("error decoding YAML: {e}"))
        }
        _ => serde_json::from_slice(body).map_err(|e| format!("error decoding patch: {e}")),
    }
}

/// Why a patch did not apply, in the API server's categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// The patch does not decode (400).
    Malformed(String),
    /// A JSON patch operation failed, a `test` included: the API server
    /// answers a bare 422 and drops the library's message
    /// (`k8s.io/apiserver` `pkg/endpoints/handlers/patch.go` `applyJSPatch`).
    Rejected(String),
    /// The patched object is not acceptable (422 naming the object).
    Invalid(String),
}

impl PatchError {
    /// The API server's answer for this failure on object `name` of `rt`.
    pub fn into_api(self, rt: &ResourceType, name: &str) -> ApiError {
        match self {
            Self::Malformed(why) => ApiError::bad_request(why),
            Self::Rejected(why) => {
                tracing::debug!(%why, "JSON patch rejected");
                ApiError::rejected()
            }
            Self::Invalid(why) => ApiError::invalid(rt, name, why),
        }
    }
}

/// Applies `patch` to `doc` and returns the patched document.
///
/// # Errors
/// [`PatchError`]: a malformed patch, a failing JSON patch operation
/// (including a failed `test`), a bad strategic merge directive.
pub fn apply(kind: PatchKind, doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let mut out = doc.clone();
    match kind {
        PatchKind::Merge | PatchKind::Apply => json_patch::merge(&mut out, patch),
        PatchKind::Strategic => {
            out = super::strategic::apply(doc, patch).map_err(PatchError::Invalid)?;
        }
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| PatchError::Malformed(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut out, &ops.0).map_err(|e| PatchError::Rejected(e.to_string()))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types() {
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchKind::Merge)
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml"),
            Some(PatchKind::Apply)
        );
        assert_eq!(PatchKind::from_content_type("text/plain"), None);
    }

    #[test]
    fn merge_json_and_strategic() {
        let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": [1, 2]}});
        let merged = apply(
            PatchKind::Merge,
            &doc,
            &json!({"metadata": {"labels": {"a": null, "c": "3"}}}),
        )
        .unwrap();
        assert_eq!(merged["metadata"]["labels"], json!({"b": "2", "c": "3"}));

        let patched = apply(
            PatchKind::Json,
            &doc,
            &json!([{"op": "add", "path": "/spec/x/-", "value": 3}, {"op": "remove", "path": "/metadata/labels/a"}]),
        )
        .unwrap();
        assert_eq!(patched["spec"]["x"], json!([1, 2, 3]));
        assert_eq!(patched["metadata"]["labels"], json!({"b": "2"}));

        let failed = apply(
            PatchKind::Json,
            &doc,
            &json!([{"op": "test", "path": "/spec/x/0", "value": 9}]),
        );
        assert!(matches!(failed, Err(PatchError::Rejected(_))), "{failed:?}");
        let malformed = apply(PatchKind::Json, &doc, &json!({"op": "add"}));
        assert!(
            matches!(malformed, Err(PatchError::Malformed(_))),
            "{malformed:?}"
        );

        let smp = apply(
            PatchKind::Strategic,
            &doc,
            &json!({"spec": {"$retainKeys": ["x"], "x": [5]}}),
        )
        .unwrap();
        assert_eq!(smp["spec"], json!({"x": [5]}));
    }

    #[test]
    fn apply_body_is_yaml() {
        let v = decode(PatchKind::Apply, b"metadata:\n  labels:\n    a: b\n").unwrap();
        assert_eq!(v["metadata"]["labels"]["a"], "b");
        assert!(decode(PatchKind::Merge, b"{nope").is_err());
    }
}
