//! `metav1.Status` failures, worded and coded as the real API server words
//! them, so clients parse them into `kube::Error::Api` with the right reason.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::ResourceType;

/// An API failure that becomes a `Status` body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `reason`, e.g. `NotFound`.
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
    /// `details`, if any.
    pub details: Option<Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.reason, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

fn details(rt: &ResourceType, name: &str) -> Value {
    json!({"name": name, "group": rt.group, "kind": rt.plural})
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 404 for a missing object.
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self {
            details: Some(details(rt, name)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", rt.group_resource()),
            )
        }
    }

    /// 404 for a missing namespace when creating into it.
    pub fn namespace_not_found(ns: &str) -> Self {
        Self {
            details: Some(json!({"name": ns, "kind": "namespaces"})),
            ..Self::new(404, "NotFound", format!("namespaces \"{ns}\" not found"))
        }
    }

    /// 404 for a path that names nothing the server serves.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 409 on create of an existing name.
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self {
            details: Some(details(rt, name)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", rt.group_resource()),
            )
        }
    }

    /// 409 on a stale resourceVersion or failed precondition.
    pub fn conflict(rt: &ResourceType, name: &str, why: &str) -> Self {
        Self {
            details: Some(details(rt, name)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    rt.group_resource()
                ),
            )
        }
    }

    /// 409 for the usual stale-resourceVersion case.
    pub fn stale(rt: &ResourceType, name: &str) -> Self {
        Self::conflict(
            rt,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 for an object that fails validation.
    pub fn invalid(rt: &ResourceType, name: &str, why: impl std::fmt::Display) -> Self {
        Self {
            details: Some(json!({"name": name, "group": rt.group, "kind": rt.kind})),
            ..Self::new(
                422,
                "Invalid",
                format!("{} \"{name}\" is invalid: {why}", rt.kind),
            )
        }
    }

    /// 422 with no detail, as `errors.NewGenericServerResponse` words it
    /// (a failed JSON patch operation).
    pub fn rejected() -> Self {
        let mut e = Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        );
        e.details = Some(json!({}));
        e
    }

    /// 422 for invalid request options (`PatchOptions.meta.k8s.io "" is
    /// invalid: ...`).
    pub fn invalid_options(kind: &str, why: &str) -> Self {
        Self::new(
            422,
            "Invalid",
            format!("{kind}.meta.k8s.io \"\" is invalid: {why}"),
        )
    }

    /// 409 for a server-side apply that would change fields other managers
    /// own (`errors.NewApplyConflict`, `managedfields/internal/conflict.go`).
    pub fn apply_conflict(conflicts: &[super::managed::Conflict]) -> Self {
        let mut e = Self::new(409, "Conflict", super::managed::conflict_message(conflicts));
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|c| json!({"type": "FieldManagerConflict", "message": format!("conflict with {}", c.manager), "field": c.field}))
            .collect();
        e.details = Some(json!({"causes": causes}));
        e
    }

    /// 406 for an `Accept` the server cannot answer
    /// (`negotiation.NewNotAcceptableError`).
    pub fn not_acceptable(accepted: &[&str]) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 422 for a patch whose result does not decode strictly
    /// (`errors.NewInvalid` with an empty kind and name, on field `patch`).
    pub fn invalid_patch(patched: &Value, detail: &str) -> Self {
        Self::undecodable_patch(patched, &format!("strict decoding error: {detail}"))
    }

    /// 422 for a patch whose result does not decode into the kind's type
    /// (`handlers/patch.go`: `errors.NewInvalid` on field `patch`).
    pub fn undecodable_patch(patched: &Value, detail: &str) -> Self {
        Self::new(
            422,
            "Invalid",
            format!(
                " \"\" is invalid: patch: Invalid value: {:?}: {detail}",
                patched.to_string()
            ),
        )
    }

    /// 400 for a body that does not decode into the kind's type
    /// (`handlers/rest.go` `transformDecodeError`).
    pub fn undecodable(rt: &ResourceType, detail: &str) -> Self {
        Self::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {kind}: {detail}",
            kind = rt.kind,
            version = rt.version,
        ))
    }

    /// 500 with no reason, as the API server answers an error that is not
    /// an API status (`ErrorToAPIStatus`); kubectl prints `Error from
    /// server: <message>`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "", message)
    }

    /// 400 for a request the server cannot decode or that contradicts itself.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401 for a missing or wrong bearer token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 405 for a verb the resource does not offer.
    pub fn method_not_allowed(rt: &ResourceType, verb: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!(
                "{verb} is not supported on resources of kind \"{}\"",
                rt.group_resource()
            ),
        )
    }

    /// 410 for a resourceVersion older than the kept history.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 415 for a body in a media type the server does not read, listing
    /// those it does (apiserver `negotiation.NewUnsupportedMediaTypeError`).
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if !self.reason.is_empty() {
            v["reason"] = json!(self.reason);
        }
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(code, &self.to_status())
    }
}

/// A JSON response with the given status.
pub(crate) fn json_response(code: StatusCode, body: &Value) -> Response {
    (
        code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_the_real_server() {
        let rt =
            ResourceType::namespaced("trident.netapp.io/v1", "TridentBackend", "tridentbackends");
        let s = ApiError::not_found(&rt, "tbe-1").to_status();
        assert_eq!(
            s,
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                "message":"tridentbackends.trident.netapp.io \"tbe-1\" not found","reason":"NotFound",
                "details":{"name":"tbe-1","group":"trident.netapp.io","kind":"tridentbackends"},"code":404})
        );
        let core = ResourceType::namespaced("v1", "Secret", "secrets");
        assert_eq!(
            ApiError::not_found(&core, "x").message,
            "secrets \"x\" not found"
        );
    }

    #[test]
    fn unauthorized_body() {
        assert_eq!(
            ApiError::unauthorized().to_status(),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})
        );
    }
}
