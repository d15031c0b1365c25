//! Request context, replies and helpers shared by the resource handlers
//! (the dispatch table is in `routes`).

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::query::Query;
use super::topology::RoleSpec;
use super::world::{JobAction, JobHook, Svm, World};

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Principal {
    /// ONTAP user name.
    pub username: String,
    /// Cluster or SVM scope.
    pub role: RoleSpec,
    /// The SVM of an SVM-scoped account.
    pub svm: Option<String>,
}

/// One `/api` request, parsed.
pub struct Ctx {
    /// Cluster key serving the request.
    pub cluster: String,
    /// HTTP method.
    pub method: Method,
    /// Path without the query.
    pub path: String,
    /// Path segments after `/api/`.
    pub segs: Vec<String>,
    /// Query parameters.
    pub query: Query,
    /// JSON body with dotted keys expanded (`Null` when empty).
    pub body: Value,
    /// The caller.
    pub who: Principal,
    /// A `JobFailure` fault that matched this request.
    pub job_failure: Option<(String, String)>,
}

/// What a handler answers.
pub enum Reply {
    /// A synchronous JSON answer.
    Json {
        /// HTTP status.
        status: StatusCode,
        /// Body.
        body: Value,
        /// `Location` header.
        location: Option<String>,
    },
    /// An asynchronous job was started.
    Job {
        /// Job uuid.
        uuid: String,
        /// 201 for creates, 200 otherwise (when the job ends within `return_timeout`).
        done_status: StatusCode,
        /// `Location` of the created object.
        location: Option<String>,
        /// Records to return with `return_records=true`.
        records: Option<Value>,
    },
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Reply {
        Reply::Json {
            status: StatusCode::OK,
            body,
            location: None,
        }
    }
    /// 200 with an empty object.
    pub fn empty() -> Reply {
        Reply::ok(json!({}))
    }
    /// 201 with `body` and `Location`.
    pub fn created(body: Value, location: String) -> Reply {
        Reply::Json {
            status: StatusCode::CREATED,
            body,
            location: Some(location),
        }
    }
}

impl Ctx {
    /// The SVM an SVM-scoped caller is confined to.
    pub fn scope_svm(&self) -> Option<&str> {
        match self.who.role {
            RoleSpec::Admin => None,
            RoleSpec::Vsadmin => Some(self.who.svm.as_deref().unwrap_or("")),
        }
    }

    /// Refuses SVM-scoped callers (403, code 6).
    pub fn require_cluster_admin(&self) -> Result<(), ApiError> {
        if self.scope_svm().is_some() {
            return Err(ApiError::forbidden(format!(
                "User \"{}\" does not have permission for {} {}: this call needs a cluster administrator (it is not available to SVM-scoped accounts).",
                self.who.username, self.method, self.path
            )));
        }
        Ok(())
    }

    /// Can the caller see records of this SVM?
    pub fn sees_svm(&self, svm_name: &str) -> bool {
        self.scope_svm().is_none_or(|s| s == svm_name)
    }

    /// The SVM the body names (`svm.name` and/or `svm.uuid`) on this
    /// cluster, which the caller may create `what` in.
    ///
    /// # Errors
    /// 400 when neither is given, 404 when no such SVM, 403 when the caller
    /// is scoped to another SVM.
    pub fn body_svm(&self, w: &World, what: &str) -> Result<Svm, ApiError> {
        let svm = match (self.s("svm.name"), self.s("svm.uuid")) {
            (None, None) => {
                return Err(
                    ApiError::invalid("Missing value for required field \"svm.name\".")
                        .target("svm.name"),
                );
            }
            (n, u) => w
                .svms
                .iter()
                .find(|s| {
                    s.cluster == self.cluster
                        && n.is_none_or(|n| n == s.name)
                        && u.is_none_or(|u| u == s.uuid)
                })
                .cloned()
                .ok_or_else(|| ApiError::not_found("SVM not found.").target("svm.name"))?,
        };
        if !self.sees_svm(&svm.name) {
            return Err(ApiError::forbidden(format!(
                "User \"{}\" cannot create {what} in SVM \"{}\".",
                self.who.username, svm.name
            )));
        }
        Ok(svm)
    }

    /// A string field of the body (dotted path).
    pub fn s(&self, path: &str) -> Option<&str> {
        get(&self.body, path).and_then(Value::as_str)
    }

    /// A list-of-strings field of the body (dotted path; entries that are
    /// not strings are skipped).
    pub fn strs(&self, path: &str) -> Option<Vec<String>> {
        self.v(path).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
    }

    /// Any field of the body (dotted path).
    pub fn v(&self, path: &str) -> Option<&Value> {
        get(&self.body, path).filter(|v| !v.is_null())
    }

    /// A required string field (400 code 2 naming it when missing).
    pub fn req(&self, path: &str) -> Result<&str, ApiError> {
        self.s(path).ok_or_else(|| {
            ApiError::invalid(format!("Missing value for required field \"{path}\".")).target(path)
        })
    }

    /// A boolean body field.
    pub fn b(&self, path: &str) -> Option<bool> {
        get(&self.body, path).and_then(Value::as_bool)
    }

    /// Starts a job on this cluster.
    pub fn job(
        &self,
        w: &mut World,
        svm: Option<(String, String)>,
        on_running: Option<JobHook>,
        action: JobAction,
        on_fail: Option<JobHook>,
    ) -> String {
        let description = format!("{} {}", self.method, self.path);
        w.new_job(
            &self.cluster,
            description,
            svm,
            self.job_failure.clone(),
            on_running,
            action,
            on_fail,
        )
    }

    /// A job reply (`done_status` 200).
    pub fn job_reply(uuid: String) -> Reply {
        Reply::Job {
            uuid,
            done_status: StatusCode::OK,
            location: None,
            records: None,
        }
    }
}

/// A value at a dotted path.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for p in path.split('.') {
        cur = cur.get(p)?;
    }
    Some(cur)
}

/// Expands `{"a.b": 1}` into `{"a": {"b": 1}}` (ONTAP accepts both).
pub fn expand_dotted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Value::Object(Map::new());
            for (k, val) in m {
                let val = expand_dotted(val);
                let parts: Vec<&str> = k.split('.').collect();
                let mut cur = &mut out;
                for (i, p) in parts.iter().enumerate() {
                    if i + 1 == parts.len() {
                        cur[*p] = val;
                        break;
                    }
                    if !cur.get(*p).is_some_and(Value::is_object) {
                        cur[*p] = Value::Object(Map::new());
                    }
                    cur = &mut cur[*p];
                }
            }
            out
        }
        Value::Array(a) => Value::Array(a.into_iter().map(expand_dotted).collect()),
        other => other,
    }
}

/// 405 for a method a resource does not support.
pub fn not_allowed(ctx: &Ctx) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        3,
        format!(
            "The {} method is not supported on {}.",
            ctx.method, ctx.path
        ),
    )
}

/// Checks a path UUID: malformed → 404 code 2, as ONTAP answers.
pub fn check_uuid(s: &str) -> Result<(), ApiError> {
    if uuid::Uuid::parse_str(s).is_err() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            2,
            format!("Invalid UUID \"{s}\"."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_expand() {
        let v = expand_dotted(
            json!({"authentication.passphrase": "x", "remote": {"ip_addresses": ["1"]}, "a.b.c": 1}),
        );
        assert_eq!(
            v,
            json!({"authentication": {"passphrase": "x"}, "remote": {"ip_addresses": ["1"]}, "a": {"b": {"c": 1}}})
        );
    }
}
