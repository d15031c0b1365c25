//! The object store: every object of one simulated cluster, the global
//! resourceVersion counter, a bounded history of change events for watches
//! that resume, and the broadcast channel live watches listen on.
//!
//! All writes go through here, whether they come over HTTP or from the
//! in-process API, so both see the same uid/resourceVersion/timestamp rules.
//! Events are published while the state lock is held, which is what lets a
//! watch take "history after rv N" plus a live subscription without a gap or
//! a duplicate.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use super::managed;
use super::resources::{Registry, ResourceType};
use super::status::ApiError;

mod crd;
mod event;
mod meta;
mod state;

pub use crd::crd_object;
use crd::crd_types;
pub use event::{Event, EventKind};
use meta::{decode_continue, encode_continue, meta_mut, meta_str};
pub use meta::{name_of, namespace_of, render};
pub use state::{State, Target, WriteOpts};

/// A hook run after an object of one type is created.
pub type CreateHook = Arc<dyn Fn(&Value) + Send + Sync>;

/// The store of one simulated cluster.
pub struct Store {
    state: Mutex<State>,
    events: broadcast::Sender<Arc<Event>>,
    hooks: Mutex<Vec<(String, String, CreateHook)>>,
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
        let mut obj = obj;
        if let Some(w) = writer(rt, &opts, Target::Main) {
            let entries = managed::after_update(&Value::Null, &obj, &w);
            managed::set_entries(&mut obj, &entries);
        }
        let created = {
            let mut st = self.lock();
            let created = st.create(rt, ns, obj, &opts, &self.events)?;
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
                    let _ = st.create(&crd_rt, "", crd, &opts, &self.events);
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
        let mut obj = obj;
        if let Some(w) = writer(rt, &opts, target) {
            let entries = managed::after_update(&old, &obj, &w);
            managed::set_entries(&mut obj, &entries);
        }
        let out = st.update(rt, ns, name, old, obj, target, &opts, &self.events)?;
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
        let apply = kind == super::patch::PatchKind::Apply;
        let who = writer(rt, &opts, target);
        if apply && who.is_none() {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                "fieldManager: Required value: is required for apply patch",
            ));
        }
        if apply && !rt.custom {
            typed_apply_check(rt, ns, name, patch)?;
        }
        let old = match st.get(rt, ns, name) {
            Ok(old) => old,
            Err(_) if apply && target == Target::Main => {
                if !patch.is_object() {
                    return Err(ApiError::bad_request("apply body must be an object"));
                }
                let w = who.as_ref().expect("checked above");
                let (mut obj, entries) = managed::apply(&Value::Null, patch, w, opts.force)
                    .map_err(|c| ApiError::apply_conflict(&c))?;
                managed::set_entries(&mut obj, &entries);
                let m = meta_mut(&mut obj);
                m.insert("name".into(), Value::String(name.to_string()));
                decode_check(rt, ns, name, kind, &mut obj)?;
                let created = st.create(rt, ns, obj, &opts, &self.events)?;
                drop(st);
                let rendered = render(rt, created);
                if !opts.dry_run {
                    self.fire_create_hooks(&rendered);
                }
                return Ok(rendered);
            }
            Err(e) => return Err(e),
        };
        let live = render(rt, old.clone());
        let mut patched = match &who {
            Some(w) if apply => {
                let (mut out, entries) = managed::apply(&live, patch, w, opts.force)
                    .map_err(|c| ApiError::apply_conflict(&c))?;
                managed::set_entries(&mut out, &entries);
                out
            }
            _ => super::patch::apply(kind, &live, patch).map_err(|e| e.into_api(rt, name))?,
        };
        if apply {
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
        decode_check(rt, ns, name, kind, &mut patched)?;
        if let (Some(w), false) = (&who, apply) {
            let entries = managed::after_update(&old, &patched, w);
            managed::set_entries(&mut patched, &entries);
        }
        let out = st.update(rt, ns, name, old, patched, target, &opts, &self.events)?;
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

#[cfg(test)]
mod tests;

/// Who writes, for `managedFields`: the request's field manager (none for
/// the lab's own writes), the type's API version, and `status` for that
/// subresource.
fn writer(rt: &ResourceType, opts: &WriteOpts, target: Target) -> Option<managed::Writer> {
    opts.manager.as_ref().map(|manager| managed::Writer {
        manager: manager.clone(),
        api_version: rt.api_version(),
        subresource: (target == Target::Status).then_some("status"),
        lists: if rt.custom {
            managed::Lists::Atomic
        } else {
            managed::Lists::Keyed
        },
    })
}

/// The object a patch leaves must decode into the kind's type (its
/// MicroTime fields, [`super::microtime`]): a JSON or strategic merge patch
/// that leaves one undecodable is a 422 on field `patch`; an apply fails in
/// the field manager's conversion of the new object (`structuredmerge.go`
/// "failed to convert new object"), answered as a 500 without reason.
fn decode_check(
    rt: &ResourceType,
    ns: &str,
    name: &str,
    kind: super::patch::PatchKind,
    patched: &mut Value,
) -> Result<(), ApiError> {
    let Err(e) = super::microtime::normalize(&rt.group, &rt.kind, patched) else {
        return Ok(());
    };
    Err(if kind == super::patch::PatchKind::Apply {
        ApiError::internal(format!(
            "failed to convert new object ({ns}/{name}; {}/{}, Kind={}) to proper version: {e}",
            rt.group, rt.version, rt.kind
        ))
    } else {
        ApiError::undecodable_patch(patched, &e)
    })
}

/// An applied configuration must fit the kind's schema: the field manager
/// converts it to a typed object first and fails on an undeclared field
/// (`k8s.io/apimachinery` `managedfields/internal/structuredmerge.go`:
/// "failed to create typed patch object"), which the API server answers as
/// a 500 without reason.
fn typed_apply_check(
    rt: &ResourceType,
    ns: &str,
    name: &str,
    config: &Value,
) -> Result<(), ApiError> {
    let unknown = super::schemas::unknown_fields(&rt.group, &rt.version, &rt.kind, config);
    if unknown.is_empty() {
        return Ok(());
    }
    let errs: Vec<String> = unknown
        .iter()
        .map(|f| format!(".{f}: field not declared in schema"))
        .collect();
    let detail = match errs.as_slice() {
        [one] => one.clone(),
        many => format!("errors:\n  {}", many.join("\n  ")),
    };
    Err(ApiError::internal(format!(
        "failed to create typed patch object ({ns}/{name}; {}/{}, Kind={}): {detail}",
        rt.group, rt.version, rt.kind
    )))
}
