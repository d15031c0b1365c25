//! The HTTP front: authentication, the request log, path routing
//! (`/api/v1/...`, `/apis/{group}/{version}/...`, namespaced and
//! cluster-scoped, `/status`, the legacy `/watch/` prefix) and the verbs
//! get, list, watch, create, update, patch, delete and deletecollection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth;
use super::discovery;
use super::gnostic;
use super::openapi;
use super::patch::{self, PatchKind};
use super::protobuf;
use super::resources::ResourceType;
use super::schemas;
use super::selectors::{FieldSelector, LabelSelector, field_labels};
use super::status::{ApiError, json_response};
use super::store::{Store, Target, WriteOpts};
use super::subresources;
use super::table;
use super::watch::{self, WatchSpec};

/// Largest request body accepted (the real server's limit is 3 MiB for
/// most objects; this is generous).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Server tuning.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Longest a watch stays open, whatever `timeoutSeconds` asks.
    pub max_watch_timeout: Duration,
    /// How often an idle watch with bookmarks gets a BOOKMARK.
    pub bookmark_interval: Duration,
}

/// Shared state of the HTTP front.
pub struct App {
    /// The objects.
    pub store: Arc<Store>,
    /// The bearer token.
    pub token: String,
    /// `host:port` the server listens on.
    pub address: String,
    /// Tuning.
    pub config: ServerConfig,
    /// "METHOD /path" of every request received.
    pub log: Mutex<Vec<String>>,
}

/// The router serving the simulated API.
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

type Query = HashMap<String, String>;

fn parse_query(q: Option<&str>) -> Query {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query());
    let headers = req.headers().clone();
    app.log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(format!("{method} {path}"));
    if !auth::authorized(&headers, &app.token) {
        return ApiError::unauthorized().into_response();
    }
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return ApiError::bad_request(format!("reading the request body failed: {e}"))
                .into_response();
        }
    };
    let ctx = Ctx {
        app: &app,
        method,
        query,
        headers,
        body,
    };
    match route(&ctx, &path) {
        Ok(resp) => resp,
        Err(err) => {
            tracing::debug!(%path, %err, "kube sim request failed");
            err.into_response()
        }
    }
}

struct Ctx<'a> {
    app: &'a Arc<App>,
    method: Method,
    query: Query,
    headers: HeaderMap,
    body: Bytes,
}

impl Ctx<'_> {
    fn q(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }

    fn accept(&self) -> &str {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
    }

    fn opts(&self) -> WriteOpts {
        WriteOpts {
            dry_run: self.q("dryRun").is_some_and(|v| v == "All"),
            manager: Some(self.field_manager()),
            force: self.flag("force"),
            ..WriteOpts::default()
        }
    }

    /// The field manager: `fieldManager`, else the User-Agent up to its
    /// first `/` (`k8s.io/apiserver` `handlers/create.go`
    /// `managerOrUserAgent`), else `unknown`. An apply must name one.
    fn field_manager(&self) -> String {
        let from_agent = || {
            self.headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| {
                    ua.split('/')
                        .next()
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(128)
                        .collect::<String>()
                })
                .unwrap_or_default()
        };
        match self.q("fieldManager") {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => Some(from_agent())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "unknown".into()),
        }
    }

    fn json_body(&self) -> Result<Value, ApiError> {
        let ct = self.content_type();
        if ct.starts_with(protobuf::CONTENT_TYPE) {
            protobuf::decode(&self.body)
        } else if ct.contains("yaml") {
            serde_yaml::from_slice(&self.body).map_err(|e| {
                ApiError::bad_request(format!(
                    "the body of the request could not be decoded as YAML: {e}"
                ))
            })
        } else {
            serde_json::from_slice(&self.body).map_err(|e| {
                ApiError::bad_request(format!(
                    "the body of the request could not be decoded as JSON: {e}"
                ))
            })
        }
    }

    /// A boolean query parameter as the API server reads one
    /// (`k8s.io/apimachinery` `pkg/runtime/conversion.go`
    /// `Convert_Slice_string_To_bool`): absent, `0` or `false` in any case
    /// is false; any other value, the empty one included, is true (so the
    /// Python client's `watch=True` watches).
    fn flag(&self, key: &str) -> bool {
        self.q(key)
            .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    }

    /// What Table rows carry (`includeObject`).
    fn include(&self) -> Result<table::Include, ApiError> {
        table::Include::parse(self.q("includeObject")).map_err(ApiError::bad_request)
    }

    /// Fields of `body` the kind's schema does not declare, by
    /// `fieldValidation`: `Strict` (kubectl's default for create, apply and
    /// replace) refuses the body as the API server does (`handlers/rest.go`
    /// `transformDecodeError` over apimachinery's strict decoding error),
    /// `Warn` answers them as warnings, `Ignore` (the default) ignores them.
    fn validate_fields(&self, rt: &ResourceType, body: &Value) -> Result<Vec<String>, ApiError> {
        let mode = self.q("fieldValidation").unwrap_or("Ignore");
        if !matches!(mode, "Strict" | "Warn") {
            return Ok(Vec::new());
        }
        let unknown: Vec<String> = schemas::unknown_fields(&rt.group, &rt.version, &rt.kind, body)
            .iter()
            .map(|f| format!("unknown field {f:?}"))
            .collect();
        if mode == "Strict" && !unknown.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
                unknown.join(", "),
                kind = rt.kind,
                version = rt.version,
            )));
        }
        Ok(unknown)
    }

    /// [`Ctx::validate_fields`] for a patch: the object as the patch would
    /// leave it is checked, and a strict failure is the 422 the API server
    /// answers for a patch (`handlers/patch.go`: `patch: Invalid value:
    /// "<patched object>": strict decoding error: ...`).
    fn validate_patched(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        kind: PatchKind,
        body: &Value,
    ) -> Result<Vec<String>, ApiError> {
        let mode = self.q("fieldValidation").unwrap_or("Ignore");
        if !matches!(mode, "Strict" | "Warn") {
            return Ok(Vec::new());
        }
        let current = self.app.store.get(rt, ns, name)?;
        let patched = patch::apply(kind, &current, body).map_err(|e| e.into_api(rt, name))?;
        let unknown: Vec<String> =
            schemas::unknown_fields(&rt.group, &rt.version, &rt.kind, &patched)
                .iter()
                .map(|f| format!("unknown field {f:?}"))
                .collect();
        if mode == "Strict" && !unknown.is_empty() {
            return Err(ApiError::invalid_patch(&patched, &unknown.join(", ")));
        }
        Ok(unknown)
    }

    fn is_watch(&self) -> bool {
        self.flag("watch")
    }
}

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

fn route(ctx: &Ctx<'_>, path: &str) -> Result<Response, ApiError> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let reg = || ctx.app.store.lock().registry.clone();
    if ctx.method == Method::GET {
        match segs.as_slice() {
            ["version"] => return Ok(ok(&discovery::version())),
            ["openapi", "v3"] => return Ok(ok(&openapi::root(&reg()))),
            ["openapi", "v2"] => {
                // kubectl asks for gnostic's protobuf form only; JSON
                // otherwise.
                let accept = ctx.accept();
                let doc = openapi::v2(&reg());
                if gnostic::wanted(accept) {
                    return Ok((
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, gnostic::CONTENT_TYPE)],
                        gnostic::encode(&doc),
                    )
                        .into_response());
                }
                if !(accept.is_empty() || accept.contains("json") || accept.contains("*/*")) {
                    return Err(ApiError::not_acceptable(&[
                        "application/json",
                        gnostic::CONTENT_TYPE,
                    ]));
                }
                return Ok(ok(&doc));
            }
            ["openapi", "v3", "api", v] => {
                return openapi::group_version(&reg(), "", v)
                    .map(|d| ok(&d))
                    .ok_or_else(ApiError::no_route);
            }
            ["openapi", "v3", "apis", g, v] => {
                return openapi::group_version(&reg(), g, v)
                    .map(|d| ok(&d))
                    .ok_or_else(ApiError::no_route);
            }
            ["healthz" | "livez" | "readyz"] => return Ok((StatusCode::OK, "ok").into_response()),
            ["api"] | ["apis"] => {
                let core = segs[0] == "api";
                if let Some(v) = discovery::aggregated_version(ctx.accept()) {
                    let doc = discovery::aggregated(&reg(), core, v);
                    return Ok((
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, discovery::aggregated_content_type(v))],
                        doc.to_string(),
                    )
                        .into_response());
                }
                let doc = if core {
                    discovery::core_versions(&ctx.app.address)
                } else {
                    discovery::group_list(&reg())
                };
                return Ok(ok(&doc));
            }
            ["api", v] => {
                return discovery::resource_list(&reg(), "", v)
                    .map(|d| ok(&d))
                    .ok_or_else(ApiError::no_route);
            }
            ["apis", g] => {
                return discovery::group(&reg(), g)
                    .map(|d| ok(&d))
                    .ok_or_else(ApiError::no_route);
            }
            ["apis", g, v] => {
                return discovery::resource_list(&reg(), g, v)
                    .map(|d| ok(&d))
                    .ok_or_else(ApiError::no_route);
            }
            _ => {}
        }
    }
    match segs.as_slice() {
        ["api", v, rest @ ..] if !rest.is_empty() => resource(ctx, "", v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => resource(ctx, g, v, rest),
        _ => Err(ApiError::no_route()),
    }
}

/// What a resource path names.
enum Target2<'a> {
    Collection,
    Object(&'a str),
    Status(&'a str),
}

fn resource(
    ctx: &Ctx<'_>,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Response, ApiError> {
    let (watch_prefix, rest) = match rest {
        ["watch", tail @ ..] if !tail.is_empty() => (true, tail),
        _ => (false, rest),
    };
    let store = &ctx.app.store;
    let lookup = |plural: &str| store.resource_by_plural(group, version, plural);
    let (rt, ns, tail): (ResourceType, Option<&str>, &[&str]) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !(tail.is_empty() && matches!(*plural, "status" | "finalize")) =>
        {
            let rt = lookup(plural).ok_or_else(ApiError::no_route)?;
            if !rt.namespaced {
                return Err(ApiError::no_route());
            }
            (rt, Some(*ns), tail)
        }
        [plural, tail @ ..] => {
            let rt = lookup(plural).ok_or_else(ApiError::no_route)?;
            if rt.namespaced && !tail.is_empty() {
                // A namespaced object needs its namespace in the path.
                return Err(ApiError::no_route());
            }
            (rt, None, tail)
        }
        [] => return Err(ApiError::no_route()),
    };
    let ns_str = ns.unwrap_or("");
    let target = match tail {
        [] => Target2::Collection,
        [name] => Target2::Object(name),
        [name, "status"] if rt.status_subresource => Target2::Status(name),
        [name, sub @ ("scale" | "log")] if rt.has_subresource(sub) => {
            return subresource(ctx, &rt, ns_str, name, sub);
        }
        _ => return Err(ApiError::no_route()),
    };
    let watch = watch_prefix || ctx.is_watch();
    let verb = match (&ctx.method, &target, watch) {
        (&Method::GET, Target2::Collection, true) | (&Method::GET, Target2::Object(_), true) => {
            "watch"
        }
        (&Method::GET, Target2::Collection, false) => "list",
        (&Method::GET, _, false) => "get",
        (&Method::POST, Target2::Collection, _) => "create",
        (&Method::DELETE, Target2::Collection, _) => "deletecollection",
        (&Method::PUT, Target2::Object(_) | Target2::Status(_), _) => "update",
        (&Method::PATCH, Target2::Object(_) | Target2::Status(_), _) => "patch",
        (&Method::DELETE, Target2::Object(_), _) => "delete",
        _ => return Err(ApiError::method_not_allowed(&rt, ctx.method.as_str())),
    };
    if !rt.allows(verb) && !matches!(target, Target2::Status(_)) {
        return Err(ApiError::method_not_allowed(&rt, verb));
    }
    match (verb, target) {
        ("watch", t) => {
            let mut fields = ctx.q("fieldSelector").unwrap_or("").to_string();
            if let Target2::Object(name) = t {
                if !fields.is_empty() {
                    fields.push(',');
                }
                fields.push_str(&format!("metadata.name={name}"));
            }
            Ok(start_watch(ctx, rt, ns, &fields)?)
        }
        ("list", _) => list(ctx, &rt, ns),
        ("get", Target2::Object(name) | Target2::Status(name)) => {
            let obj = store.get(&rt, ns_str, name)?;
            Ok(respond_object(ctx, &rt, StatusCode::OK, obj))
        }
        ("create", _) if subresources::review(&rt.kind, &Value::Null).is_some() => {
            let body = ctx.json_body()?;
            let answer = subresources::review(&rt.kind, &body).unwrap_or(body);
            Ok(respond_object(ctx, &rt, StatusCode::CREATED, answer))
        }
        ("create", _) => {
            let obj = ctx.json_body()?;
            let warnings = ctx.validate_fields(&rt, &obj)?;
            let created = store.create(&rt, ns_str, obj, ctx.opts())?;
            Ok(with_warnings(
                respond_object(ctx, &rt, StatusCode::CREATED, created),
                &warnings,
            ))
        }
        ("update", Target2::Object(name)) => {
            let obj = ctx.json_body()?;
            let warnings = ctx.validate_fields(&rt, &obj)?;
            let out = store.update(&rt, ns_str, name, obj, Target::Main, ctx.opts())?;
            Ok(with_warnings(
                respond_object(ctx, &rt, StatusCode::OK, out),
                &warnings,
            ))
        }
        ("update", Target2::Status(name)) => {
            let obj = ctx.json_body()?;
            let out = store.update(&rt, ns_str, name, obj, Target::Status, ctx.opts())?;
            Ok(respond_object(ctx, &rt, StatusCode::OK, out))
        }
        ("patch", Target2::Object(name) | Target2::Status(name)) => {
            let sub = if matches!(tail, [_, "status"]) {
                Target::Status
            } else {
                Target::Main
            };
            let ct = ctx.content_type();
            let accepted = if rt.custom {
                PatchKind::CUSTOM_MEDIA_TYPES
            } else {
                PatchKind::MEDIA_TYPES
            };
            let kind = PatchKind::from_content_type(ct)
                .filter(|k| !(rt.custom && *k == PatchKind::Strategic))
                .ok_or_else(|| ApiError::unsupported_media_type(accepted))?;
            if kind == PatchKind::Apply && ctx.q("fieldManager").is_none_or(str::is_empty) {
                return Err(ApiError::invalid_options(
                    "PatchOptions",
                    "fieldManager: Required value: is required for apply patch",
                ));
            }
            let body = patch::decode(kind, &ctx.body).map_err(ApiError::bad_request)?;
            let warnings = if kind == PatchKind::Apply {
                Vec::new()
            } else {
                ctx.validate_patched(&rt, ns_str, name, kind, &body)?
            };
            let out = store.patch(&rt, ns_str, name, kind, &body, sub, ctx.opts())?;
            Ok(with_warnings(
                respond_object(ctx, &rt, StatusCode::OK, out),
                &warnings,
            ))
        }
        ("delete", Target2::Object(name)) => {
            let opts: Value = if ctx.body.is_empty() {
                Value::Null
            } else {
                ctx.json_body()?
            };
            let mut wopts = ctx.opts();
            if opts
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All"))
            {
                wopts.dry_run = true;
            }
            let pre = opts.get("preconditions").cloned().unwrap_or(Value::Null);
            let out = store.delete(&rt, ns_str, name, &pre, wopts)?;
            let pending = out
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|v| !v.is_null());
            let code = if pending {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            Ok(json_response(code, &out))
        }
        ("deletecollection", _) => {
            let (labels, fields) = selectors(ctx, &rt, ctx.q("fieldSelector").unwrap_or(""))?;
            let page = store.list(
                &rt,
                ns,
                &|o| labels.matches(o) && fields.matches(o),
                None,
                None,
            )?;
            let mut deleted = Vec::new();
            for item in page.items {
                let name = super::store::name_of(&item).to_string();
                let ons = super::store::namespace_of(&item).to_string();
                match store.delete(&rt, &ons, &name, &Value::Null, ctx.opts()) {
                    Ok(o) => deleted.push(o),
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            let rv = store.current_rv();
            Ok(ok(&list_doc(&rt, deleted, rv, None, None)))
        }
        _ => Err(ApiError::method_not_allowed(&rt, verb)),
    }
}

/// `scale` (get, update, patch) and `log` (get) of one object.
fn subresource(
    ctx: &Ctx<'_>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    sub: &str,
) -> Result<Response, ApiError> {
    let store = &ctx.app.store;
    let obj = store.get(rt, ns, name)?;
    match (sub, &ctx.method) {
        ("log", &Method::GET) => {
            let text = subresources::log(&obj, ctx.q("container"))?;
            Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], text).into_response())
        }
        ("scale", &Method::GET) => Ok(ok(&subresources::scale(&obj))),
        ("scale", &Method::PUT | &Method::PATCH) => {
            let current = subresources::scale(&obj);
            let wanted = if ctx.method == Method::PUT {
                ctx.json_body()?
            } else {
                let ct = ctx.content_type();
                let kind = PatchKind::from_content_type(ct)
                    .ok_or_else(|| ApiError::unsupported_media_type(PatchKind::MEDIA_TYPES))?;
                let body = patch::decode(kind, &ctx.body).map_err(ApiError::bad_request)?;
                patch::apply(kind, &current, &body).map_err(|e| e.into_api(rt, name))?
            };
            let updated = subresources::rescale(&obj, &wanted)?;
            let out = store.update(rt, ns, name, updated, Target::Main, ctx.opts())?;
            Ok(ok(&subresources::scale(&out)))
        }
        _ => Err(ApiError::method_not_allowed(rt, ctx.method.as_str())),
    }
}

/// Adds `Warning: 299 - "<text>"` headers, which kubectl prints as
/// `Warning: <text>`.
fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - {w:?}")) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

fn respond_object(ctx: &Ctx<'_>, rt: &ResourceType, code: StatusCode, obj: Value) -> Response {
    if table::wants_table(ctx.accept()) {
        return match ctx.include() {
            Ok(include) => json_response(
                code,
                &table::table(rt, std::slice::from_ref(&obj), None, include),
            ),
            Err(e) => e.into_response(),
        };
    }
    json_response(code, &obj)
}

/// The request's label selector and `fields` as a field selector of `rt`.
fn selectors(
    ctx: &Ctx<'_>,
    rt: &ResourceType,
    fields: &str,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(ctx.q("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("unable to parse labelSelector: {e}")))?;
    let fields = FieldSelector::parse(fields, field_labels(&rt.group, &rt.kind))
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

fn list_doc(
    rt: &ResourceType,
    items: Vec<Value>,
    rv: u64,
    cont: Option<String>,
    remaining: Option<usize>,
) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    if let Some(r) = remaining {
        meta["remainingItemCount"] = json!(r);
    }
    json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": meta,
        "items": items,
    })
}

fn list(ctx: &Ctx<'_>, rt: &ResourceType, ns: Option<&str>) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx, rt, ctx.q("fieldSelector").unwrap_or(""))?;
    let limit = match ctx.q("limit") {
        Some(l) if !l.is_empty() => Some(
            l.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?,
        ),
        _ => None,
    };
    let page = ctx.app.store.list(
        rt,
        ns,
        &|o| labels.matches(o) && fields.matches(o),
        limit,
        ctx.q("continue"),
    )?;
    if table::wants_table(ctx.accept()) {
        return Ok(ok(&table::table(
            rt,
            &page.items,
            Some((page.rv, page.continue_token)),
            ctx.include()?,
        )));
    }
    Ok(ok(&list_doc(
        rt,
        page.items,
        page.rv,
        page.continue_token,
        page.remaining,
    )))
}

fn start_watch(
    ctx: &Ctx<'_>,
    rt: ResourceType,
    ns: Option<&str>,
    fields: &str,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx, &rt, fields)?;
    let since = match ctx.q("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?,
        ),
    };
    let max = ctx.app.config.max_watch_timeout;
    let timeout = match ctx.q("timeoutSeconds") {
        Some(t) if !t.is_empty() => {
            let secs = t
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {t:?}")))?;
            Duration::from_secs(secs).min(max)
        }
        _ => max,
    };
    let spec = WatchSpec {
        rt,
        namespace: ns.map(String::from),
        labels,
        fields,
        bookmarks: ctx.flag("allowWatchBookmarks"),
        send_initial_events: ctx.flag("sendInitialEvents"),
        timeout,
        bookmark_interval: ctx.app.config.bookmark_interval,
        since,
    };
    Ok(watch::start(&ctx.app.store, spec))
}

#[cfg(test)]
#[path = "handlers_tests.rs"]
mod tests;
