//! The object store: every object of one simulated cluster, the global
//! resourceVersion counter, a bounded history of change events for watches
//! that resume, and the broadcast channel live watches listen on.
//!
//! All writes go through here, whether they come over HTTP or from the
//! in-process API, so both see the same uid/resourceVersion/timestamp rules.
//! Events are published while the state lock is held, which is what lets a
//! watch take "history after rv N" plus a live subscription without a gap or
//! a duplicate.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::resources::{Registry, ResourceType};
use super::status::ApiError;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventKind {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the history and sent to live watches.
#[derive(Debug)]
pub struct Event {
    /// The resourceVersion this change produced.
    pub rv: u64,
    /// What happened.
    pub kind: EventKind,
    /// Storage key (`group/plural`).
    pub key: String,
    /// Namespace, `""` for cluster-scoped objects.
    pub namespace: String,
    /// The object after the change (for deletes: its last state).
    pub object: Value,
    /// The object before the change, for MODIFIED (selectors need both).
    pub old: Option<Value>,
}

/// How a write is done.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOpts {
    /// Validate and compute, but store nothing (`dryRun=All`).
    pub dry_run: bool,
    /// Keep `.status` from the body even where status is a subresource
    /// (in-process seeding does this; HTTP create does not).
    pub keep_status: bool,
    /// Create a missing namespace instead of failing (in-process seeding).
    pub auto_namespace: bool,
}

/// Which part of an object an update targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The object itself.
    Main,
    /// The `/status` subresource.
    Status,
}

type Objects = BTreeMap<(String, String), Value>;

/// Mutable state behind the lock.
pub struct State {
    /// Served types.
    pub registry: Registry,
    objects: HashMap<String, Objects>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    history_limit: usize,
    compacted: u64,
}

/// A hook run after an object of one type is created.
pub type CreateHook = Arc<dyn Fn(&Value) + Send + Sync>;

/// The store of one simulated cluster.
pub struct Store {
    state: Mutex<State>,
    events: broadcast::Sender<Arc<Event>>,
    hooks: Mutex<Vec<(String, String, CreateHook)>>,
}

/// Metadata access helpers on a JSON object.
fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just set to an object"),
    }
}

/// `metadata.name` of an object, `""` when absent.
pub fn name_of(obj: &Value) -> &str {
    meta_str(obj, "name")
}

/// `metadata.namespace` of an object, `""` when absent.
pub fn namespace_of(obj: &Value) -> &str {
    meta_str(obj, "namespace")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn random_suffix() -> String {
    use rand::Rng;
    // The alphabet the API server's name generator uses (no vowels, no
    // look-alikes).
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The object without metadata and status, to decide whether the
/// generation moves.
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    v
}

/// Folds a Secret's `stringData` into `data`, as the API server does.
fn fold_string_data(rt: &ResourceType, obj: &mut Value) {
    if !(rt.group.is_empty() && rt.plural == "secrets") {
        return;
    }
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(sd)) = map.remove("stringData") {
        let data = map.entry("data").or_insert_with(|| json!({}));
        if !data.is_object() {
            *data = json!({});
        }
        if let Some(d) = data.as_object_mut() {
            for (k, v) in sd {
                let s = v.as_str().unwrap_or_default();
                d.insert(
                    k,
                    Value::String(base64::engine::general_purpose::STANDARD.encode(s)),
                );
            }
        }
    }
}

/// Sets `apiVersion`/`kind` to the served type's.
pub fn render(rt: &ResourceType, mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.insert("apiVersion".into(), Value::String(rt.api_version()));
        m.insert("kind".into(), Value::String(rt.kind.clone()));
    }
    obj
}

/// A list continue token: the key to resume after, and the list's rv.
fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    let raw = json!({"rv": rv, "ns": ns, "name": name}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    Some((
        v.get("rv")?.as_u64()?,
        v.get("ns")?.as_str()?.to_string(),
        v.get("name")?.as_str()?.to_string(),
    ))
}

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    /// Items, rendered.
    pub items: Vec<Value>,
    /// The list's resourceVersion.
    pub rv: u64,
    /// Continue token for the next page, if any.
    pub continue_token: Option<String>,
    /// Items left after this page.
    pub remaining: Option<usize>,
}

/// A watch subscription: what to send first, then the live channel.
pub struct Subscription {
    /// Events from history (resume) or synthetic ADDED events (fresh watch).
    pub backlog: Vec<Arc<Event>>,
    /// Live events after `rv`.
    pub live: broadcast::Receiver<Arc<Event>>,
    /// The resourceVersion the backlog brings the watcher up to.
    pub rv: u64,
}

impl Store {
    /// An empty store serving `registry`, keeping `history_limit` events.
    pub fn new(registry: Registry, history_limit: usize) -> Self {
        let (events, _) = broadcast::channel(4096);
        Self {
            state: Mutex::new(State {
                registry,
                objects: HashMap::new(),
                rv: 0,
                history: VecDeque::new(),
                history_limit: history_limit.max(1),
                compacted: 0,
            }),
            events,
            hooks: Mutex::new(Vec::new()),
        }
    }

    /// Locks the state; a poisoned lock is taken over (a panicking test
    /// hook must not wedge the server).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a hook run after each create of `api_version`/`kind`.
    pub fn on_create(&self, api_version: &str, kind: &str, hook: CreateHook) {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner()).push((
            api_version.to_string(),
            kind.to_string(),
            hook,
        ));
    }

    fn fire_create_hooks(&self, obj: &Value) {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let hooks: Vec<CreateHook> = self
            .hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(a, k, _)| a == api_version && k == kind)
            .map(|(_, _, h)| h.clone())
            .collect();
        for h in hooks {
            h(obj);
        }
    }

    /// The type for a path, cloned out of the registry.
    pub fn resource_by_plural(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<ResourceType> {
        self.lock()
            .registry
            .by_plural(group, version, plural)
            .cloned()
    }

    /// The type for an apiVersion/kind, cloned out of the registry.
    pub fn resource_by_kind(&self, api_version: &str, kind: &str) -> Option<ResourceType> {
        self.lock().registry.by_kind(api_version, kind).cloned()
    }

    /// The current global resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// Creates an object.
    ///
    /// # Errors
    /// 400 for a body that contradicts the path, 404 for a missing
    /// namespace, 409 AlreadyExists, 422 for a missing or invalid name.
    pub fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: Value,
        opts: WriteOpts,
    ) -> Result<Value, ApiError> {
        let created = {
            let mut st = self.lock();
            let created = st.create(rt, ns, obj, opts, &self.events)?;
            // A CRD created over the API registers its types, as on a real server.
            if !opts.dry_run
                && rt.group == "apiextensions.k8s.io"
                && rt.plural == "customresourcedefinitions"
            {
                for t in crd_types(&created) {
                    st.registry.register(t);
                }
            }
            created
        };
        let rendered = render(rt, created);
        if !opts.dry_run {
            self.fire_create_hooks(&rendered);
        }
        Ok(rendered)
    }

    /// Registers a type, and a CustomResourceDefinition object for it if it
    /// is custom.
    pub fn register(&self, t: ResourceType) {
        let mut st = self.lock();
        st.registry.register(t.clone());
        if t.custom {
            let crd_rt = st
                .registry
                .by_plural("apiextensions.k8s.io", "v1", "customresourcedefinitions")
                .cloned();
            if let Some(crd_rt) = crd_rt {
                let crd = crd_object(&t);
                let name = format!("{}.{}", t.plural, t.group);
                let exists = st.get(&crd_rt, "", &name).is_ok();
                if !exists {
                    let opts = WriteOpts {
                        keep_status: true,
                        ..WriteOpts::default()
                    };
                    let _ = st.create(&crd_rt, "", crd, opts, &self.events);
                }
            }
        }
    }

    /// Replaces an object (or its status).
    ///
    /// # Errors
    /// 404 if missing, 409 on a stale resourceVersion, 400 when the body
    /// names another object.
    pub fn update(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        obj: Value,
        target: Target,
        opts: WriteOpts,
    ) -> Result<Value, ApiError> {
        let mut st = self.lock();
        let old = st.get(rt, ns, name)?;
        let out = st.update(rt, ns, name, old, obj, target, opts, &self.events)?;
        Ok(render(rt, out))
    }

    /// Patches an object (or its status). Server-side apply creates a
    /// missing object.
    ///
    /// # Errors
    /// 404 if missing (except apply), 409 if the patch carries a stale
    /// resourceVersion, 422 if the patch does not apply.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        kind: super::patch::PatchKind,
        patch: &Value,
        target: Target,
        opts: WriteOpts,
    ) -> Result<Value, ApiError> {
        let mut st = self.lock();
        let old = match st.get(rt, ns, name) {
            Ok(old) => old,
            Err(_) if kind == super::patch::PatchKind::Apply && target == Target::Main => {
                let mut obj = patch.clone();
                if !obj.is_object() {
                    return Err(ApiError::bad_request("apply body must be an object"));
                }
                let m = meta_mut(&mut obj);
                m.insert("name".into(), Value::String(name.to_string()));
                let created = st.create(rt, ns, obj, opts, &self.events)?;
                drop(st);
                let rendered = render(rt, created);
                if !opts.dry_run {
                    self.fire_create_hooks(&rendered);
                }
                return Ok(rendered);
            }
            Err(e) => return Err(e),
        };
        let patched = super::patch::apply(kind, &render(rt, old.clone()), patch)
            .map_err(|why| ApiError::invalid(rt, name, why))?;
        if kind == super::patch::PatchKind::Apply {
            // Apply carries no resourceVersion precondition unless it names one.
            let want = meta_str(patch, "resourceVersion");
            if !want.is_empty() && want != meta_str(&old, "resourceVersion") {
                return Err(ApiError::stale(rt, name));
            }
        } else if meta_str(&patched, "resourceVersion") != meta_str(&old, "resourceVersion")
            && !meta_str(&patched, "resourceVersion").is_empty()
        {
            return Err(ApiError::stale(rt, name));
        }
        let out = st.update(rt, ns, name, old, patched, target, opts, &self.events)?;
        Ok(render(rt, out))
    }

    /// Deletes an object. With finalizers it only gets a
    /// `deletionTimestamp`; a namespace takes its objects with it.
    ///
    /// # Errors
    /// 404 if missing, 409 if a precondition (uid, resourceVersion) fails.
    pub fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        preconditions: &Value,
        opts: WriteOpts,
    ) -> Result<Value, ApiError> {
        let mut st = self.lock();
        let old = st.get(rt, ns, name)?;
        for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
            if let Some(want) = preconditions.get(field).and_then(Value::as_str) {
                let got = meta_str(&old, field);
                if want != got {
                    return Err(ApiError::conflict(
                        rt,
                        name,
                        &format!(
                            "Precondition failed: {label} in precondition: {want}, {label} in object meta: {got}"
                        ),
                    ));
                }
            }
        }
        if opts.dry_run {
            return Ok(render(rt, old));
        }
        let out = st.delete(rt, ns, name, old, &self.events);
        Ok(render(rt, out))
    }

    /// Gets one object.
    ///
    /// # Errors
    /// 404 if missing.
    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.lock().get(rt, ns, name).map(|v| render(rt, v))
    }

    /// Lists objects of a type (all namespaces when `ns` is `None`) that
    /// pass `filter`, one page at a time.
    ///
    /// # Errors
    /// 410 for a continue token older than the kept history, 400 for a
    /// token that does not decode.
    pub fn list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        filter: &dyn Fn(&Value) -> bool,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<Page, ApiError> {
        let st = self.lock();
        let (list_rv, after) = match continue_token.filter(|t| !t.is_empty()) {
            Some(t) => {
                let (rv, ns, name) = decode_continue(t)
                    .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?;
                if rv < st.compacted {
                    return Err(ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    ));
                }
                (rv, Some((ns, name)))
            }
            None => (st.rv, None),
        };
        let mut matched = Vec::new();
        if let Some(objs) = st.objects.get(&rt.storage_key()) {
            let range: Box<dyn Iterator<Item = (&(String, String), &Value)>> = match &after {
                Some(k) => Box::new(objs.range::<(String, String), _>((
                    std::ops::Bound::Excluded(k.clone()),
                    std::ops::Bound::Unbounded,
                ))),
                None => Box::new(objs.iter()),
            };
            for ((ons, _), v) in range {
                if ns.is_some_and(|n| n != ons) {
                    continue;
                }
                if filter(v) {
                    matched.push(v);
                }
            }
        }
        let limit = limit.filter(|l| *l > 0);
        let (items, continue_token, remaining) = match limit {
            Some(l) if matched.len() > l => {
                let last = matched[l - 1];
                let token = encode_continue(list_rv, namespace_of(last), name_of(last));
                let remaining = matched.len() - l;
                matched.truncate(l);
                (matched, Some(token), Some(remaining))
            }
            _ => (matched, None, None),
        };
        Ok(Page {
            items: items.into_iter().map(|v| render(rt, v.clone())).collect(),
            rv: list_rv,
            continue_token,
            remaining,
        })
    }

    /// Subscribes to changes. `since = Some(rv)` resumes after `rv` from
    /// history; `None` starts with synthetic ADDED events for the objects of
    /// `key` that exist now.
    ///
    /// # Errors
    /// 410 Expired when `rv` is older than the kept history.
    pub fn subscribe(&self, key: &str, since: Option<u64>) -> Result<Subscription, ApiError> {
        let st = self.lock();
        let live = self.events.subscribe();
        match since {
            Some(rv) => {
                if rv < st.compacted {
                    return Err(ApiError::expired(format!(
                        "too old resource version: {rv} ({})",
                        st.compacted + 1
                    )));
                }
                let backlog = st.history.iter().filter(|e| e.rv > rv).cloned().collect();
                Ok(Subscription {
                    backlog,
                    live,
                    rv: st.rv.max(rv),
                })
            }
            None => {
                let backlog = st
                    .objects
                    .get(key)
                    .into_iter()
                    .flat_map(|m| m.iter())
                    .map(|((ns, _), v)| {
                        Arc::new(Event {
                            rv: meta_str(v, "resourceVersion").parse().unwrap_or(0),
                            kind: EventKind::Added,
                            key: key.to_string(),
                            namespace: ns.clone(),
                            object: v.clone(),
                            old: None,
                        })
                    })
                    .collect();
                Ok(Subscription {
                    backlog,
                    live,
                    rv: st.rv,
                })
            }
        }
    }
}

impl State {
    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn publish(
        &mut self,
        events: &broadcast::Sender<Arc<Event>>,
        kind: EventKind,
        key: String,
        namespace: String,
        object: Value,
        old: Option<Value>,
    ) {
        let rv = meta_str(&object, "resourceVersion")
            .parse()
            .unwrap_or(self.rv);
        let ev = Arc::new(Event {
            rv,
            kind,
            key,
            namespace,
            object,
            old,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted = dropped.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = events.send(ev);
    }

    /// Gets the stored (unrendered) object.
    pub fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, ApiError> {
        let ns = if rt.namespaced { ns } else { "" };
        self.objects
            .get(&rt.storage_key())
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get("/namespaces")
            .is_some_and(|m| m.contains_key(&(String::new(), ns.to_string())))
    }

    fn create(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        opts: WriteOpts,
        events: &broadcast::Sender<Arc<Event>>,
    ) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(format!(
                "the body of a {} create must be a JSON object",
                rt.kind
            )));
        }
        check_type(rt, &obj)?;
        let body_ns = namespace_of(&obj).to_string();
        let ns = if rt.namespaced {
            let ns = if ns.is_empty() { body_ns.as_str() } else { ns };
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            if ns.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "a namespace is required to create a {}",
                    rt.kind
                )));
            }
            ns.to_string()
        } else {
            String::new()
        };
        if rt.namespaced && !self.namespace_exists(&ns) {
            if opts.auto_namespace {
                let ns_rt = self
                    .registry
                    .by_plural("", "v1", "namespaces")
                    .cloned()
                    .ok_or_else(|| ApiError::namespace_not_found(&ns))?;
                self.create(
                    &ns_rt,
                    "",
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                    opts,
                    events,
                )?;
            } else {
                return Err(ApiError::namespace_not_found(&ns));
            }
        }
        let key = rt.storage_key();
        let mut name = name_of(&obj).to_string();
        if name.is_empty() {
            let generate = meta_str(&obj, "generateName").to_string();
            if generate.is_empty() {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    "metadata.name: Required value: name or generateName is required",
                ));
            }
            let existing = self.objects.get(&key);
            name = loop {
                let candidate = format!("{generate}{}", random_suffix());
                if !existing.is_some_and(|m| m.contains_key(&(ns.clone(), candidate.clone()))) {
                    break candidate;
                }
            };
        }
        if !valid_name(&name) {
            return Err(ApiError::invalid(
                rt,
                &name,
                format!(
                    "metadata.name: Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
                ),
            ));
        }
        if self
            .objects
            .get(&key)
            .is_some_and(|m| m.contains_key(&(ns.clone(), name.clone())))
        {
            return Err(ApiError::already_exists(rt, &name));
        }
        fold_string_data(rt, &mut obj);
        if rt.status_subresource
            && !opts.keep_status
            && let Some(m) = obj.as_object_mut()
        {
            m.remove("status");
        }
        if rt.group.is_empty() && rt.plural == "namespaces" {
            if obj.pointer("/status/phase").is_none() {
                obj["status"] = json!({"phase": "Active"});
            }
            if obj.pointer("/spec/finalizers").is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
            let labels = meta_mut(&mut obj)
                .entry("labels")
                .or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert(
                    "kubernetes.io/metadata.name".into(),
                    Value::String(name.clone()),
                );
            }
        }
        let obj = render(rt, obj);
        let mut obj = obj;
        if opts.dry_run {
            let m = meta_mut(&mut obj);
            m.insert("name".into(), Value::String(name));
            return Ok(obj);
        }
        let rv = self.bump();
        {
            let generation = rt.generation;
            let m = meta_mut(&mut obj);
            m.insert("name".into(), Value::String(name.clone()));
            if rt.namespaced {
                m.insert("namespace".into(), Value::String(ns.clone()));
            } else {
                m.remove("namespace");
            }
            m.insert(
                "uid".into(),
                Value::String(uuid::Uuid::new_v4().to_string()),
            );
            m.insert("resourceVersion".into(), Value::String(rv.to_string()));
            m.insert("creationTimestamp".into(), Value::String(now()));
            m.remove("deletionTimestamp");
            m.remove("selfLink");
            if generation {
                m.insert("generation".into(), json!(1));
            } else {
                m.remove("generation");
            }
        }
        self.objects
            .entry(key.clone())
            .or_default()
            .insert((ns.clone(), name), obj.clone());
        self.publish(events, EventKind::Added, key, ns, obj.clone(), None);
        Ok(obj)
    }

    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        old: Value,
        mut new: Value,
        target: Target,
        opts: WriteOpts,
        events: &broadcast::Sender<Arc<Event>>,
    ) -> Result<Value, ApiError> {
        if !new.is_object() {
            return Err(ApiError::bad_request(format!(
                "the body of a {} update must be a JSON object",
                rt.kind
            )));
        }
        check_type(rt, &new)?;
        let ns = if rt.namespaced { ns } else { "" };
        let body_name = name_of(&new);
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_ns = namespace_of(&new);
        if rt.namespaced && !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let want_rv = meta_str(&new, "resourceVersion");
        if !want_rv.is_empty() && want_rv != meta_str(&old, "resourceVersion") {
            return Err(ApiError::stale(rt, name));
        }
        fold_string_data(rt, &mut new);
        let mut new = match target {
            Target::Status => {
                let mut merged = old.clone();
                match new.get("status") {
                    Some(s) => merged["status"] = s.clone(),
                    None => {
                        if let Some(m) = merged.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                merged
            }
            Target::Main => {
                if rt.status_subresource && !opts.keep_status {
                    match old.get("status") {
                        Some(s) => new["status"] = s.clone(),
                        None => {
                            if let Some(m) = new.as_object_mut() {
                                m.remove("status");
                            }
                        }
                    }
                }
                new
            }
        };
        // Server-owned metadata always comes from the stored object.
        {
            let old_meta = meta(&old).cloned().unwrap_or_default();
            let m = meta_mut(&mut new);
            for field in [
                "name",
                "namespace",
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "generation",
                "resourceVersion",
            ] {
                match old_meta.get(field) {
                    Some(v) => {
                        m.insert(field.into(), v.clone());
                    }
                    None => {
                        m.remove(field);
                    }
                }
            }
        }
        let new = render(rt, new);
        let mut new = new;
        if rt.generation && spec_part(&new) != spec_part(&old) {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        if new == render(rt, old.clone()) {
            // A no-op write does not move the resourceVersion.
            return Ok(old);
        }
        if opts.dry_run {
            return Ok(new);
        }
        let finalizers_left = new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let rv = self.bump();
        meta_mut(&mut new).insert("resourceVersion".into(), Value::String(rv.to_string()));
        let key = rt.storage_key();
        if !meta_str(&new, "deletionTimestamp").is_empty() && !finalizers_left {
            // Last finalizer removed from an object being deleted: it goes.
            if let Some(m) = self.objects.get_mut(&key) {
                m.remove(&(ns.to_string(), name.to_string()));
            }
            self.publish(
                events,
                EventKind::Deleted,
                key,
                ns.to_string(),
                new.clone(),
                Some(old),
            );
            return Ok(new);
        }
        self.objects
            .entry(key.clone())
            .or_default()
            .insert((ns.to_string(), name.to_string()), new.clone());
        self.publish(
            events,
            EventKind::Modified,
            key,
            ns.to_string(),
            new.clone(),
            Some(old),
        );
        Ok(new)
    }

    fn delete(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        old: Value,
        events: &broadcast::Sender<Arc<Event>>,
    ) -> Value {
        let ns = if rt.namespaced { ns } else { "" };
        let key = rt.storage_key();
        let has_finalizers = old
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if has_finalizers {
            if !meta_str(&old, "deletionTimestamp").is_empty() {
                return old;
            }
            let mut new = old.clone();
            let rv = self.bump();
            {
                let m = meta_mut(&mut new);
                m.insert("deletionTimestamp".into(), Value::String(now()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                m.insert("resourceVersion".into(), Value::String(rv.to_string()));
            }
            self.objects
                .entry(key.clone())
                .or_default()
                .insert((ns.to_string(), name.to_string()), new.clone());
            self.publish(
                events,
                EventKind::Modified,
                key,
                ns.to_string(),
                new.clone(),
                Some(old),
            );
            return new;
        }
        if rt.group.is_empty() && rt.plural == "namespaces" {
            self.delete_namespace_contents(name, events);
        }
        if let Some(m) = self.objects.get_mut(&key) {
            m.remove(&(ns.to_string(), name.to_string()));
        }
        let mut gone = old;
        let rv = self.bump();
        meta_mut(&mut gone).insert("resourceVersion".into(), Value::String(rv.to_string()));
        self.publish(
            events,
            EventKind::Deleted,
            key,
            ns.to_string(),
            gone.clone(),
            None,
        );
        gone
    }

    /// Removes every namespaced object in `ns` (finalizers are not waited
    /// for: the simulator has no controllers to honour them).
    fn delete_namespace_contents(&mut self, ns: &str, events: &broadcast::Sender<Arc<Event>>) {
        let keys: Vec<String> = self.objects.keys().cloned().collect();
        for key in keys {
            let doomed: Vec<((String, String), Value)> = self
                .objects
                .get(&key)
                .into_iter()
                .flat_map(|m| m.iter())
                .filter(|((ons, _), _)| ons == ns)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, mut v) in doomed {
                if let Some(m) = self.objects.get_mut(&key) {
                    m.remove(&k);
                }
                let rv = self.bump();
                meta_mut(&mut v).insert("resourceVersion".into(), Value::String(rv.to_string()));
                self.publish(events, EventKind::Deleted, key.clone(), k.0, v, None);
            }
        }
    }
}

/// 400 when the body names another apiVersion or kind than the path.
fn check_type(rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && !av.is_empty()
        && av != rt.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && !k.is_empty()
        && k != rt.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            rt.kind
        )));
    }
    Ok(())
}

/// A CustomResourceDefinition object describing a custom type.
pub fn crd_object(t: &ResourceType) -> Value {
    let mut version = json!({
        "name": t.version,
        "served": true,
        "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
    });
    if t.status_subresource {
        version["subresources"] = json!({"status": {}});
    }
    let names = json!({
        "kind": t.kind,
        "listKind": format!("{}List", t.kind),
        "plural": t.plural,
        "singular": t.singular,
        "shortNames": t.short_names,
        "categories": t.categories,
    });
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{}.{}", t.plural, t.group)},
        "spec": {
            "group": t.group,
            "names": names,
            "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
            "versions": [version],
        },
        "status": {
            "acceptedNames": names,
            "storedVersions": [t.version],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
            ],
        },
    })
}

/// The types a CustomResourceDefinition object declares (one per served version).
fn crd_types(crd: &Value) -> Vec<ResourceType> {
    let spec = crd.get("spec").cloned().unwrap_or_default();
    let group = spec.get("group").and_then(Value::as_str).unwrap_or("");
    let names = spec.get("names").cloned().unwrap_or_default();
    let kind = names.get("kind").and_then(Value::as_str).unwrap_or("");
    let plural = names.get("plural").and_then(Value::as_str).unwrap_or("");
    if group.is_empty() || kind.is_empty() || plural.is_empty() {
        return Vec::new();
    }
    let strs = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    spec.get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .map(|version| {
            let av = format!("{group}/{version}");
            let mut t = if namespaced {
                ResourceType::namespaced(&av, kind, plural)
            } else {
                ResourceType::cluster(&av, kind, plural)
            };
            t.short_names = strs(names.get("shortNames"));
            t.categories = strs(names.get("categories"));
            if let Some(s) = names.get("singular").and_then(Value::as_str) {
                t.singular = s.to_string();
            }
            t.status_subresource = spec
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|x| x.get("name").and_then(Value::as_str) == Some(version))
                .and_then(|x| x.pointer("/subresources/status"))
                .is_some();
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let s = Store::new(Registry::standard(), 5);
        let ns = s.resource_by_kind("v1", "Namespace").unwrap();
        s.create(
            &ns,
            "",
            json!({"metadata": {"name": "trident"}}),
            WriteOpts::default(),
        )
        .unwrap();
        s
    }

    #[test]
    fn create_sets_server_fields_and_rejects_duplicates() {
        let s = store();
        let rt = s.resource_by_kind("v1", "Secret").unwrap();
        let o = s
            .create(
                &rt,
                "trident",
                json!({"metadata": {"name": "a"}, "stringData": {"k": "v"}}),
                WriteOpts::default(),
            )
            .unwrap();
        assert_eq!(o["apiVersion"], "v1");
        assert_eq!(o["metadata"]["namespace"], "trident");
        assert_eq!(o["data"]["k"], "dg==");
        assert!(o.get("stringData").is_none());
        assert!(!meta_str(&o, "uid").is_empty());
        let err = s
            .create(
                &rt,
                "trident",
                json!({"metadata": {"name": "a"}}),
                WriteOpts::default(),
            )
            .unwrap_err();
        assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
        let err = s
            .create(
                &rt,
                "nope",
                json!({"metadata": {"name": "a"}}),
                WriteOpts::default(),
            )
            .unwrap_err();
        assert_eq!(err.code, 404);
        let g = s
            .create(
                &rt,
                "trident",
                json!({"metadata": {"generateName": "tbe-"}}),
                WriteOpts::default(),
            )
            .unwrap();
        assert!(name_of(&g).starts_with("tbe-") && name_of(&g).len() == 9);
    }

    #[test]
    fn update_checks_resource_version_and_skips_noops() {
        let s = store();
        let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
        let o = s
            .create(
                &rt,
                "trident",
                json!({"metadata": {"name": "c"}, "data": {"a": "1"}}),
                WriteOpts::default(),
            )
            .unwrap();
        let mut changed = o.clone();
        changed["data"]["a"] = json!("2");
        let u = s
            .update(
                &rt,
                "trident",
                "c",
                changed.clone(),
                Target::Main,
                WriteOpts::default(),
            )
            .unwrap();
        assert_ne!(
            meta_str(&u, "resourceVersion"),
            meta_str(&o, "resourceVersion")
        );
        let err = s
            .update(
                &rt,
                "trident",
                "c",
                changed,
                Target::Main,
                WriteOpts::default(),
            )
            .unwrap_err();
        assert_eq!(err.code, 409);
        let same = s
            .update(
                &rt,
                "trident",
                "c",
                u.clone(),
                Target::Main,
                WriteOpts::default(),
            )
            .unwrap();
        assert_eq!(
            meta_str(&same, "resourceVersion"),
            meta_str(&u, "resourceVersion")
        );
    }

    #[test]
    fn status_subresource_splits_writes() {
        let s = store();
        let rt = s
            .resource_by_kind("trident.netapp.io/v1", "TridentBackendConfig")
            .unwrap();
        let o = s
            .create(
                &rt,
                "trident",
                json!({"metadata": {"name": "b"}, "spec": {"x": 1}, "status": {"phase": "Bound"}}),
                WriteOpts::default(),
            )
            .unwrap();
        assert!(o.get("status").is_none(), "create drops status");
        assert_eq!(o["metadata"]["generation"], 1);
        let mut body = o.clone();
        body["status"] = json!({"phase": "Bound"});
        body["metadata"]["resourceVersion"] = json!("");
        let main = s
            .update(
                &rt,
                "trident",
                "b",
                body.clone(),
                Target::Main,
                WriteOpts::default(),
            )
            .unwrap();
        assert!(main.get("status").is_none());
        body["spec"] = json!({"x": 2});
        let st = s
            .update(
                &rt,
                "trident",
                "b",
                body,
                Target::Status,
                WriteOpts::default(),
            )
            .unwrap();
        assert_eq!(st["status"]["phase"], "Bound");
        assert_eq!(st["spec"]["x"], 1);
        assert_eq!(st["metadata"]["generation"], 1);
    }

    #[test]
    fn history_is_bounded_and_resumable() {
        let s = store();
        let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
        let start = s.current_rv();
        s.create(
            &rt,
            "trident",
            json!({"metadata": {"name": "x"}}),
            WriteOpts::default(),
        )
        .unwrap();
        let sub = s.subscribe(&rt.storage_key(), Some(start)).unwrap();
        assert_eq!(sub.backlog.len(), 1);
        for i in 0..10 {
            s.create(
                &rt,
                "trident",
                json!({"metadata": {"name": format!("y{i}")}}),
                WriteOpts::default(),
            )
            .unwrap();
        }
        let err = s.subscribe(&rt.storage_key(), Some(start)).err().unwrap();
        assert_eq!((err.code, err.reason), (410, "Expired"));
    }

    #[test]
    fn finalizers_delay_deletion() {
        let s = store();
        let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
        s.create(
            &rt,
            "trident",
            json!({"metadata": {"name": "f", "finalizers": ["x/y"]}}),
            WriteOpts::default(),
        )
        .unwrap();
        let d = s
            .delete(&rt, "trident", "f", &Value::Null, WriteOpts::default())
            .unwrap();
        assert!(!meta_str(&d, "deletionTimestamp").is_empty());
        let mut body = d.clone();
        body["metadata"]["finalizers"] = json!([]);
        s.update(
            &rt,
            "trident",
            "f",
            body,
            Target::Main,
            WriteOpts::default(),
        )
        .unwrap();
        assert_eq!(s.get(&rt, "trident", "f").unwrap_err().code, 404);
    }

    #[test]
    fn paging_with_continue() {
        let s = store();
        let rt = s.resource_by_kind("v1", "ConfigMap").unwrap();
        for i in 0..5 {
            s.create(
                &rt,
                "trident",
                json!({"metadata": {"name": format!("c{i}")}}),
                WriteOpts::default(),
            )
            .unwrap();
        }
        let p1 = s
            .list(&rt, Some("trident"), &|_| true, Some(2), None)
            .unwrap();
        assert_eq!(p1.items.len(), 2);
        assert_eq!(p1.remaining, Some(3));
        let p2 = s
            .list(
                &rt,
                Some("trident"),
                &|_| true,
                Some(10),
                p1.continue_token.as_deref(),
            )
            .unwrap();
        assert_eq!(p2.items.len(), 3);
        assert_eq!(p2.rv, p1.rv);
        assert!(p2.continue_token.is_none());
    }
}
