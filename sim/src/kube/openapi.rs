//! `/openapi/v3`: the discovery document and one OpenAPI 3.0 document per
//! group-version, generated from the registry.
//!
//! kubectl reads them before `apply|create|replace -f`: it validates on the
//! server (`fieldValidation=Strict`) when the PATCH operation of the kind
//! (found by its `x-kubernetes-group-version-kind` extension) declares a
//! `fieldValidation` query parameter (`k8s.io/cli-runtime`
//! `pkg/resource/query_param_verifier_v3.go`). Without these documents it
//! stops with "failed to download openapi". The discovery document maps
//! `api/v1` and `apis/<group>/<version>` to a `serverRelativeURL` carrying
//! a content hash, as the API server's does (`k8s.io/kube-openapi`
//! `pkg/handler3/handler.go`).
//!
//! The built-in kinds carry their full schemas ([`super::schemas`]); a
//! custom resource's schema is an object that keeps unknown fields, as the
//! lab's CRDs declare.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::resources::{Registry, ResourceType};
use super::schemas;

/// The path of a group-version's document (`api/v1`, `apis/apps/v1`).
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The group-versions the registry serves, in order.
fn group_versions(reg: &Registry) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in reg.all() {
        let gv = (t.group.clone(), t.version.clone());
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

/// `GET /openapi/v3`.
pub fn root(reg: &Registry) -> Value {
    let mut paths = Map::new();
    for (g, v) in group_versions(reg) {
        // A document is a function of its group-version's types (the
        // built-in schemas are fixed for a build), so their description
        // hashes as the document would, without building it.
        let types: Vec<String> = reg
            .all()
            .iter()
            .filter(|t| t.group == g && t.version == v)
            .map(|t| format!("{t:?}"))
            .collect();
        let hash: String = Sha256::digest(types.join("\n").as_bytes())
            .iter()
            .take(16)
            .map(|b| format!("{b:02X}"))
            .collect();
        let p = gv_path(&g, &v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// The schema name of a kind (`io.k8s.api.core.v1.ConfigMap` style for
/// built-in groups, the reversed group for CRDs).
fn schema_name(t: &ResourceType) -> String {
    let group = if t.group.is_empty() {
        "core".to_string()
    } else {
        t.group.clone()
    };
    let prefix = if t.custom {
        group.split('.').rev().collect::<Vec<_>>().join(".")
    } else {
        format!("io.k8s.api.{}", group.split('.').next().unwrap_or(&group))
    };
    format!("{prefix}.{}.{}", t.version, t.kind)
}

/// The OpenAPI version a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// Swagger 2.0 (`/openapi/v2`): schemas under `definitions`.
    V2,
    /// OpenAPI 3.0 (`/openapi/v3/...`): schemas under `components/schemas`.
    V3,
}

impl Flavour {
    fn schema_ref(self, name: &str) -> Value {
        match self {
            Flavour::V2 => json!({"$ref": format!("#/definitions/{name}")}),
            Flavour::V3 => json!({"$ref": format!("#/components/schemas/{name}")}),
        }
    }

    fn param(self, name: &str, description: &str) -> Value {
        match self {
            Flavour::V2 => json!({"name": name, "in": "query", "description": description,
                                  "type": "string", "uniqueItems": true}),
            Flavour::V3 => json!({"name": name, "in": "query", "description": description,
                                  "schema": {"type": "string", "uniqueItems": true}}),
        }
    }

    fn ok(self, schema: Value) -> Value {
        match self {
            Flavour::V2 => json!({"200": {"description": "OK", "schema": schema}}),
            Flavour::V3 => json!({"200": {"description": "OK",
                                          "content": {"application/json": {"schema": schema}}}}),
        }
    }

    fn defs(self) -> schemas::Defs {
        match self {
            Flavour::V2 => schemas::Defs::V2,
            Flavour::V3 => schemas::Defs::V3,
        }
    }
}

/// One operation of `t`, whose schema is `schema`.
fn operation(f: Flavour, t: &ResourceType, schema: &str, action: &str, write: bool) -> Value {
    let mut params = Vec::new();
    if write {
        params.push(f.param("dryRun", "When present, modifications are not persisted."));
        params.push(f.param("fieldManager", "The name of the actor making the change."));
        params.push(f.param(
            "fieldValidation",
            "Ignore, Warn or Strict: what the server does with unknown or duplicate fields.",
        ));
    }
    json!({
        "operationId": format!("{action}{}", t.kind),
        "parameters": params,
        "responses": f.ok(f.schema_ref(schema)),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": t.group, "version": t.version, "kind": t.kind},
    })
}

/// The paths and schemas of `types`.
fn paths_and_schemas(
    f: Flavour,
    types: &[&ResourceType],
) -> (Map<String, Value>, Map<String, Value>) {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for t in types {
        let generated = if t.custom {
            None
        } else {
            schemas::builtin(f.defs(), &t.group, &t.version, &t.kind)
        };
        let schema = match generated {
            Some(kind) => {
                schemas.extend(kind.defs.iter().map(|(k, v)| (k.clone(), v.clone())));
                kind.name.clone()
            }
            None => {
                schemas.insert(
                    schema_name(t),
                    json!({
                        "type": "object",
                        "description": format!("{} (a custom resource; the lab's CRDs declare no fields)", t.kind),
                        "x-kubernetes-preserve-unknown-fields": true,
                        "x-kubernetes-group-version-kind": [
                            {"group": t.group, "version": t.version, "kind": t.kind}
                        ],
                    }),
                );
                schema_name(t)
            }
        };
        let base = format!("/{}", gv_path(&t.group, &t.version));
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.plural)
        } else {
            format!("{base}/{}", t.plural)
        };
        let mut coll = Map::new();
        if t.allows("list") {
            coll.insert("get".into(), operation(f, t, &schema, "list", false));
        }
        if t.allows("create") {
            coll.insert("post".into(), operation(f, t, &schema, "post", true));
        }
        paths.insert(collection.clone(), Value::Object(coll));
        let mut item = Map::new();
        for (method, verb, action, write) in [
            ("get", "get", "get", false),
            ("put", "update", "put", true),
            ("patch", "patch", "patch", true),
            ("delete", "delete", "delete", false),
        ] {
            if t.allows(verb) {
                item.insert(method.into(), operation(f, t, &schema, action, write));
            }
        }
        paths.insert(format!("{collection}/{{name}}"), Value::Object(item));
    }
    (paths, schemas)
}

/// `GET /openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`.
pub fn group_version(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = reg
        .all()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let (paths, schemas) = paths_and_schemas(Flavour::V3, &types);
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// `GET /openapi/v2`: one Swagger 2.0 document for every type, for
/// kubectls older than the OpenAPI v3 client (kubectl falls back to it when
/// `/openapi/v3` is missing).
pub fn v2(reg: &Registry) -> Value {
    let types: Vec<&ResourceType> = reg.all().iter().collect();
    let (paths, definitions) = paths_and_schemas(Flavour::V2, &types);
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": paths,
        "definitions": definitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_lists_every_group_version_with_a_hash() {
        let reg = Registry::standard();
        let r = root(&reg);
        let core = r["paths"]["api/v1"]["serverRelativeURL"].as_str().unwrap();
        assert!(core.starts_with("/openapi/v3/api/v1?hash="), "{core}");
        assert!(r["paths"]["apis/trident.netapp.io/v1"].is_object());
        assert!(r["paths"]["apis/velero.io/v1"].is_object());
    }

    #[test]
    fn patch_operations_declare_field_validation_for_their_kind() {
        let reg = Registry::standard();
        let doc = group_version(&reg, "", "v1").unwrap();
        let op = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(
            op["x-kubernetes-group-version-kind"],
            json!({"group": "", "version": "v1", "kind": "ConfigMap"})
        );
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(doc["paths"]["/api/v1/namespaces/{name}"]["patch"].is_object());
        assert!(doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"].is_object());
        assert!(group_version(&reg, "nope.example.com", "v1").is_none());
    }

    #[test]
    fn v2_is_one_swagger_document_with_definitions() {
        let reg = Registry::standard();
        let doc = v2(&reg);
        assert_eq!(doc["swagger"], "2.0");
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            op["responses"]["200"]["schema"]["$ref"],
            "#/definitions/io.k8s.api.apps.v1.Deployment"
        );
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["type"] == "string")
        );
        let d = &doc["definitions"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            d["x-kubernetes-group-version-kind"][0]["kind"],
            "Deployment"
        );
        assert!(
            doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
                .is_object()
        );
        assert!(
            doc.to_string()
                .contains("#/definitions/io.k8s.api.core.v1.PodSpec")
        );
        assert!(!doc.to_string().contains("#/components/schemas/"));
    }
}
