//! The JSON Schemas of the built-in kinds the lab serves, for the OpenAPI
//! documents: k8s-openapi's (generated from Kubernetes' own OpenAPI
//! specification), made OpenAPI 3 by schemars, with the extensions
//! kubectl reads added: `x-kubernetes-group-version-kind` on each kind's
//! schema (`kubectl explain` finds a kind by it) and the strategic merge
//! patch strategy and merge key of list fields (taken from
//! [`super::strategic`], the one copy of those rules).

use k8s_openapi::api::{apps, authentication, authorization, coordination, core, events, storage};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::strategic::patch_extensions;

/// Where a document keeps its schemas, which their `$ref`s point into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defs {
    /// OpenAPI 3: `#/components/schemas/...`.
    V3,
    /// Swagger 2.0: `#/definitions/...`.
    V2,
}

/// A built-in kind's schema name and the definitions it needs (its own and
/// every type it uses), with the extensions added.
#[derive(Debug)]
pub struct KindSchemas {
    /// The kind's schema name (`io.k8s.api.apps.v1.Deployment`).
    pub name: String,
    /// The definitions, by name.
    pub defs: Map<String, Value>,
}

fn generator(at: Defs) -> SchemaGenerator {
    let settings = SchemaSettings::openapi3();
    match at {
        Defs::V3 => settings.into_generator(),
        Defs::V2 => settings
            .with(|s| s.definitions_path = "/definitions".into())
            .into_generator(),
    }
}

type Cache = HashMap<(Defs, String, String, String), Option<Arc<KindSchemas>>>;

/// The schemas of built-in kind `group/version kind`, or `None` for a kind
/// without one. They never change, so each is generated once per process:
/// kubectl reads `/openapi/v3` before every `apply`.
pub fn builtin(at: Defs, group: &str, version: &str, kind: &str) -> Option<Arc<KindSchemas>> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let key = (at, group.to_string(), version.to_string(), kind.to_string());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return hit.clone();
    }
    let mut g = generator(at);
    let made = add_builtin(&mut g, group, version, kind).map(|name| {
        let mut defs = g.take_definitions(true);
        annotate_patch_strategies(&mut defs);
        if let Some(d) = defs.get_mut(&name) {
            d["x-kubernetes-group-version-kind"] =
                json!([{"group": group, "version": version, "kind": kind}]);
        }
        Arc::new(KindSchemas { name, defs })
    });
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, made.clone());
    made
}

fn add<T: JsonSchema>(g: &mut SchemaGenerator) -> String {
    g.subschema_for::<T>();
    T::schema_name().into_owned()
}

/// Adds the schema of a built-in kind (and of every type it uses) to `g`;
/// its name, or `None` for a kind without a generated schema.
fn add_builtin(g: &mut SchemaGenerator, group: &str, version: &str, kind: &str) -> Option<String> {
    use apps::v1 as apps1;
    use core::v1 as core1;
    use storage::v1 as storage1;
    Some(match (group, version, kind) {
        ("", "v1", "Namespace") => add::<core1::Namespace>(g),
        ("", "v1", "Secret") => add::<core1::Secret>(g),
        ("", "v1", "ConfigMap") => add::<core1::ConfigMap>(g),
        ("", "v1", "PersistentVolume") => add::<core1::PersistentVolume>(g),
        ("", "v1", "PersistentVolumeClaim") => add::<core1::PersistentVolumeClaim>(g),
        ("", "v1", "Event") => add::<core1::Event>(g),
        ("", "v1", "Pod") => add::<core1::Pod>(g),
        ("", "v1", "Service") => add::<core1::Service>(g),
        ("", "v1", "ServiceAccount") => add::<core1::ServiceAccount>(g),
        ("", "v1", "Node") => add::<core1::Node>(g),
        ("storage.k8s.io", "v1", "StorageClass") => add::<storage1::StorageClass>(g),
        ("storage.k8s.io", "v1", "VolumeAttachment") => add::<storage1::VolumeAttachment>(g),
        ("storage.k8s.io", "v1", "CSIDriver") => add::<storage1::CSIDriver>(g),
        ("apps", "v1", "Deployment") => add::<apps1::Deployment>(g),
        ("apps", "v1", "StatefulSet") => add::<apps1::StatefulSet>(g),
        ("apps", "v1", "ReplicaSet") => add::<apps1::ReplicaSet>(g),
        ("events.k8s.io", "v1", "Event") => add::<events::v1::Event>(g),
        ("coordination.k8s.io", "v1", "Lease") => add::<coordination::v1::Lease>(g),
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => {
            add::<apiextensions::v1::CustomResourceDefinition>(g)
        }
        ("authorization.k8s.io", "v1", "SelfSubjectAccessReview") => {
            add::<authorization::v1::SelfSubjectAccessReview>(g)
        }
        ("authentication.k8s.io", "v1", "SelfSubjectReview") => {
            add::<authentication::v1::SelfSubjectReview>(g)
        }
        _ => return None,
    })
}

/// Where a schema's list fields sit, for their patch strategy: in a
/// container, in object metadata, or elsewhere.
fn parents_of(schema_name: &str) -> &'static [&'static str] {
    match schema_name.rsplit('.').next().unwrap_or("") {
        "Container" | "EphemeralContainer" => &["containers"],
        "ObjectMeta" => &["metadata"],
        _ => &[],
    }
}

/// Adds the patch strategy and merge key to the list properties of every
/// schema in `defs`.
fn annotate_patch_strategies(defs: &mut Map<String, Value>) {
    for (name, schema) in defs.iter_mut() {
        let parents = parents_of(name);
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (field, prop) in props.iter_mut() {
            if prop.get("type").and_then(Value::as_str) != Some("array") {
                continue;
            }
            if let Some((strategy, key)) = patch_extensions(parents, field) {
                prop["x-kubernetes-patch-strategy"] = json!(strategy);
                if let Some(k) = key {
                    prop["x-kubernetes-patch-merge-key"] = json!(k);
                }
            }
        }
    }
}

/// The fields of `obj` that the schema of built-in kind `group/version
/// kind` does not declare, as the API server's strict decoding names them
/// (`spec.replica`, `spec.template.spec.containers[0].imagePull`); empty
/// for custom resources and for kinds without a schema.
pub fn unknown_fields(group: &str, version: &str, kind: &str, obj: &Value) -> Vec<String> {
    let Some(kind) = builtin(Defs::V3, group, version, kind) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(
        &kind.defs,
        &json!({"$ref": format!("#/components/schemas/{}", kind.name)}),
        obj,
        "",
        &mut out,
    );
    out
}

/// The schema a `$ref` (possibly under `allOf`) points at.
fn resolve<'a>(defs: &'a Map<String, Value>, schema: &'a Value) -> &'a Value {
    let reference = schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str);
    match reference.and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => defs.get(name).unwrap_or(schema),
        None => schema,
    }
}

fn walk(defs: &Map<String, Value>, schema: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(defs, schema);
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, child) in m {
                let child_path = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (props.and_then(|p| p.get(k)), extra) {
                    (Some(s), _) | (None, Some(s)) => walk(defs, s, child, &child_path, out),
                    (None, None) if props.is_some() => out.push(child_path),
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(defs, item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_schema_carries_its_types_and_merge_keys() {
        let mut g = generator(Defs::V3);
        let name = add_builtin(&mut g, "apps", "v1", "Deployment").unwrap();
        assert_eq!(name, "io.k8s.api.apps.v1.Deployment");
        let mut defs = g.take_definitions(true);
        annotate_patch_strategies(&mut defs);
        assert!(defs[&name]["properties"]["spec"].is_object());
        let pod_spec = &defs["io.k8s.api.core.v1.PodSpec"]["properties"];
        assert_eq!(
            pod_spec["containers"]["x-kubernetes-patch-merge-key"],
            "name"
        );
        assert_eq!(
            pod_spec["tolerations"].get("x-kubernetes-patch-strategy"),
            None
        );
        let container = &defs["io.k8s.api.core.v1.Container"]["properties"];
        assert_eq!(
            container["ports"]["x-kubernetes-patch-merge-key"],
            "containerPort"
        );
        assert_eq!(
            container["volumeMounts"]["x-kubernetes-patch-merge-key"],
            "mountPath"
        );
        assert!(add_builtin(&mut g, "trident.netapp.io", "v1", "TridentBackend").is_none());
    }

    #[test]
    fn unknown_fields_are_named_with_their_path() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"any": "thing"}},
            "spec": {"replica": 1, "template": {"spec": {"containers": [
                {"name": "web", "image": "x", "imagePull": "Always"}]}}}});
        assert_eq!(
            unknown_fields("apps", "v1", "Deployment", &d),
            ["spec.replica", "spec.template.spec.containers[0].imagePull"]
        );
        let cm = json!({"metadata": {"name": "c"}, "data": {"k": "v"}});
        assert!(unknown_fields("", "v1", "ConfigMap", &cm).is_empty());
        assert!(unknown_fields("velero.io", "v1", "Backup", &json!({"x": 1})).is_empty());
    }
}
