//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`).
//!
//! Since client-go 1.32 the typed clients of built-in types send protobuf
//! and accept `application/vnd.kubernetes.protobuf,application/json`, so
//! `kubectl create configmap|secret|namespace|serviceaccount` and `kubectl
//! auth can-i|whoami` post protobuf (kubectl 1.32 and 1.37 were seen doing
//! it). No fallback to
//! JSON exists for protobuf (client-go retries with JSON after a 415 only
//! for CBOR), so the lab decodes these bodies; answers stay JSON, which
//! the client accepts.
//!
//! The envelope (`k8s.io/apimachinery` `pkg/runtime/serializer/protobuf/
//! protobuf.go`): the four bytes `k8s\0`, then a `runtime.Unknown` whose
//! `typeMeta` names the kind and whose `raw` is the object's own message.
//! The messages are k8s-pb's (generated from Kubernetes' `generated.proto`).
//! Kinds the lab does not decode are refused as the API server refuses a
//! body it cannot read: 415 `UnsupportedMediaType`.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_pb::api::authentication::v1 as authn;
use k8s_pb::api::authorization::v1 as authz;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Map, Value, json};

use super::status::ApiError;

/// The protobuf media type.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The magic bytes before every protobuf-encoded object.
const PREFIX: &[u8] = b"k8s\0";

/// Decodes a protobuf body into the object's JSON form.
///
/// # Errors
/// 400 for a body that is not a protobuf object; 415 for a kind the lab
/// does not decode from protobuf.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let bad = |why: String| {
        ApiError::bad_request(format!(
            "the body of the request could not be decoded as protobuf: {why}"
        ))
    };
    let raw = body
        .strip_prefix(PREFIX)
        .ok_or_else(|| bad("it does not start with the protobuf object prefix".into()))?;
    let unknown = Unknown::decode(raw).map_err(|e| bad(e.to_string()))?;
    let tm = unknown.type_meta.unwrap_or_default();
    let api_version = tm.api_version.unwrap_or_default();
    let kind = tm.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let raw = raw.as_slice();
    let object = match (api_version.as_str(), kind.as_str()) {
        ("v1", "ConfigMap") => {
            let m = core::ConfigMap::decode(raw).map_err(|e| bad(e.to_string()))?;
            let mut o = object(&api_version, &kind, m.metadata.as_ref());
            put_map(&mut o, "data", &m.data, |v| json!(v));
            put_map(&mut o, "binaryData", &m.binary_data, |v| json!(b64(v)));
            if let Some(i) = m.immutable {
                o.insert("immutable".into(), json!(i));
            }
            o
        }
        ("v1", "Secret") => {
            let m = core::Secret::decode(raw).map_err(|e| bad(e.to_string()))?;
            let mut o = object(&api_version, &kind, m.metadata.as_ref());
            put_map(&mut o, "data", &m.data, |v| json!(b64(v)));
            put_map(&mut o, "stringData", &m.string_data, |v| json!(v));
            if let Some(t) = m.r#type {
                o.insert("type".into(), json!(t));
            }
            if let Some(i) = m.immutable {
                o.insert("immutable".into(), json!(i));
            }
            o
        }
        ("v1", "Namespace") => {
            let m = core::Namespace::decode(raw).map_err(|e| bad(e.to_string()))?;
            let mut o = object(&api_version, &kind, m.metadata.as_ref());
            if let Some(spec) = m.spec.filter(|s| !s.finalizers.is_empty()) {
                o.insert("spec".into(), json!({"finalizers": spec.finalizers}));
            }
            o
        }
        ("v1", "ServiceAccount") => {
            let m = core::ServiceAccount::decode(raw).map_err(|e| bad(e.to_string()))?;
            let mut o = object(&api_version, &kind, m.metadata.as_ref());
            if let Some(a) = m.automount_service_account_token {
                o.insert("automountServiceAccountToken".into(), json!(a));
            }
            o
        }
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => {
            let m = authz::SelfSubjectAccessReview::decode(raw).map_err(|e| bad(e.to_string()))?;
            let mut o = object(&api_version, &kind, m.metadata.as_ref());
            let spec = m.spec.unwrap_or_default();
            let mut s = Map::new();
            if let Some(r) = spec.resource_attributes {
                let mut a = Map::new();
                for (k, v) in [
                    ("namespace", r.namespace),
                    ("verb", r.verb),
                    ("group", r.group),
                    ("version", r.version),
                    ("resource", r.resource),
                    ("subresource", r.subresource),
                    ("name", r.name),
                ] {
                    if let Some(v) = v.filter(|v| !v.is_empty()) {
                        a.insert(k.into(), json!(v));
                    }
                }
                s.insert("resourceAttributes".into(), Value::Object(a));
            }
            if let Some(n) = spec.non_resource_attributes {
                s.insert(
                    "nonResourceAttributes".into(),
                    json!({"path": n.path, "verb": n.verb}),
                );
            }
            o.insert("spec".into(), Value::Object(s));
            o
        }
        ("authentication.k8s.io/v1", "SelfSubjectReview") => {
            let m = authn::SelfSubjectReview::decode(raw).map_err(|e| bad(e.to_string()))?;
            object(&api_version, &kind, m.metadata.as_ref())
        }
        _ => {
            let mut e = ApiError::unsupported_media_type(&["application/json", "application/yaml"]);
            e.message.push_str(&format!(
                " (the lab decodes protobuf only for v1 ConfigMap, Secret, Namespace and ServiceAccount and the self reviews, not {api_version} {kind}: send JSON)"
            ));
            return Err(e);
        }
    };
    Ok(Value::Object(object))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn put_map<V>(
    o: &mut Map<String, Value>,
    key: &str,
    map: &BTreeMap<String, V>,
    value: impl Fn(&V) -> Value,
) {
    if !map.is_empty() {
        let m: Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), value(v))).collect();
        o.insert(key.into(), Value::Object(m));
    }
}

/// `apiVersion`, `kind` and the metadata a client sets on create.
fn object(api_version: &str, kind: &str, meta: Option<&ObjectMeta>) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("apiVersion".into(), json!(api_version));
    o.insert("kind".into(), json!(kind));
    let mut m = Map::new();
    if let Some(meta) = meta {
        for (key, value) in [
            ("name", &meta.name),
            ("generateName", &meta.generate_name),
            ("namespace", &meta.namespace),
            ("resourceVersion", &meta.resource_version),
            ("uid", &meta.uid),
        ] {
            if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                m.insert(key.into(), json!(v));
            }
        }
        put_map(&mut m, "labels", &meta.labels, |v| json!(v));
        put_map(&mut m, "annotations", &meta.annotations, |v| json!(v));
        if !meta.finalizers.is_empty() {
            m.insert("finalizers".into(), json!(meta.finalizers));
        }
        if !meta.owner_references.is_empty() {
            let refs: Vec<Value> = meta
                .owner_references
                .iter()
                .map(|r| {
                    let mut v = json!({
                        "apiVersion": r.api_version, "kind": r.kind,
                        "name": r.name, "uid": r.uid,
                    });
                    if let Some(c) = r.controller {
                        v["controller"] = json!(c);
                    }
                    if let Some(b) = r.block_owner_deletion {
                        v["blockOwnerDeletion"] = json!(b);
                    }
                    v
                })
                .collect();
            m.insert("ownerReferences".into(), json!(refs));
        }
    }
    o.insert("metadata".into(), Value::Object(m));
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_pb::apimachinery::pkg::runtime::TypeMeta;

    fn envelope(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
        let u = Unknown {
            type_meta: Some(TypeMeta {
                api_version: Some(api_version.into()),
                kind: Some(kind.into()),
            }),
            raw: Some(raw),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        let mut out = PREFIX.to_vec();
        out.extend(u.encode_to_vec());
        out
    }

    fn meta(name: &str, ns: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: [("app".to_string(), "web".to_string())].into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_secret_decodes_with_base64_data_and_its_type() {
        let s = core::Secret {
            metadata: Some(meta("creds", "shop")),
            data: [("password".to_string(), b"pw\xff".to_vec())].into(),
            r#type: Some("Opaque".into()),
            ..Default::default()
        };
        let v = decode(&envelope("v1", "Secret", s.encode_to_vec())).unwrap();
        assert_eq!(v["kind"], "Secret");
        assert_eq!(v["metadata"]["name"], "creds");
        assert_eq!(v["metadata"]["namespace"], "shop");
        assert_eq!(v["metadata"]["labels"]["app"], "web");
        assert_eq!(v["data"]["password"], b64(b"pw\xff"));
        assert_eq!(v["type"], "Opaque");
    }

    #[test]
    fn a_configmap_and_a_namespace_decode() {
        let cm = core::ConfigMap {
            metadata: Some(meta("cm", "default")),
            data: [("a".to_string(), "b".to_string())].into(),
            ..Default::default()
        };
        let v = decode(&envelope("v1", "ConfigMap", cm.encode_to_vec())).unwrap();
        assert_eq!(v["data"]["a"], "b");
        assert!(v.get("binaryData").is_none());
        let ns = core::Namespace {
            metadata: Some(ObjectMeta {
                name: Some("team".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = decode(&envelope("v1", "Namespace", ns.encode_to_vec())).unwrap();
        assert_eq!(v["metadata"]["name"], "team");
        assert!(v["metadata"].get("namespace").is_none());
    }

    #[test]
    fn other_kinds_and_garbage_are_refused_as_the_server_refuses_them() {
        let e = decode(&envelope("apps/v1", "Deployment", vec![])).unwrap_err();
        assert_eq!((e.code, e.reason), (415, "UnsupportedMediaType"));
        assert!(e.message.starts_with(
            "the body of the request was in an unknown format - accepted media types include: "
        ));
        let e = decode(b"{\"kind\":\"Secret\"}").unwrap_err();
        assert_eq!(e.code, 400);
        let e = decode(b"k8s\0\xff\xff\xff").unwrap_err();
        assert_eq!(e.code, 400);
    }
}
