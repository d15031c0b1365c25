//! The write path under the lock: create, update and delete with the API
//! server's uid/resourceVersion/generation/finalizer rules, and the event
//! each write publishes.

use super::super::microtime;
use super::super::resources::{Registry, ResourceType};
use super::super::status::ApiError;
use super::event::{Event, EventKind};
use super::meta::{
    check_type, fold_string_data, meta, meta_mut, meta_str, name_of, namespace_of, now,
    random_suffix, render, spec_part, valid_name,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

/// How a write is done.
#[derive(Clone, Debug, Default)]
pub struct WriteOpts {
    /// Validate and compute, but store nothing (`dryRun=All`).
    pub dry_run: bool,
    /// Keep `.status` from the body even where status is a subresource
    /// (in-process seeding does this; HTTP create does not).
    pub keep_status: bool,
    /// Create a missing namespace instead of failing (in-process seeding).
    pub auto_namespace: bool,
    /// The field manager of an API write (`None` for the lab's own
    /// in-process writes, which record no `managedFields`).
    pub manager: Option<String>,
    /// Server-side apply takes conflicting fields over (`force=true`).
    pub force: bool,
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
    pub(super) objects: HashMap<String, Objects>,
    pub(super) rv: u64,
    pub(super) history: VecDeque<Arc<Event>>,
    pub(super) history_limit: usize,
    pub(super) compacted: u64,
}

impl State {
    pub(super) fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    pub(super) fn publish(
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

    pub(super) fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get("/namespaces")
            .is_some_and(|m| m.contains_key(&(String::new(), ns.to_string())))
    }

    pub(super) fn create(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        opts: &WriteOpts,
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
        microtime::normalize(&rt.group, &rt.kind, &mut obj)
            .map_err(|e| ApiError::undecodable(rt, &e))?;
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
    pub(super) fn update(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        old: Value,
        mut new: Value,
        target: Target,
        opts: &WriteOpts,
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
        microtime::normalize(&rt.group, &rt.kind, &mut new)
            .map_err(|e| ApiError::undecodable(rt, &e))?;
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
        self.put_modified(events, key, ns, name, &new, old);
        Ok(new)
    }

    /// Stores `new` at `key`/`ns`/`name` and publishes it as MODIFIED
    /// (after `old`).
    fn put_modified(
        &mut self,
        events: &broadcast::Sender<Arc<Event>>,
        key: String,
        ns: &str,
        name: &str,
        new: &Value,
        old: Value,
    ) {
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
    }

    pub(super) fn delete(
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
            self.put_modified(events, key, ns, name, &new, old);
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
    pub(super) fn delete_namespace_contents(
        &mut self,
        ns: &str,
        events: &broadcast::Sender<Arc<Event>>,
    ) {
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
