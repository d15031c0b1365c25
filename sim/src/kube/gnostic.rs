//! `/openapi/v2` in protobuf, the only form kubectl asks for
//! (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`).
//!
//! The message is gnostic's OpenAPI v2 `Document` (github.com/google/
//! gnostic-models `openapiv2/OpenAPIv2.proto`). Only the parts kubectl's
//! OpenAPI models read (`k8s.io/kube-openapi` `pkg/util/proto`
//! `NewOpenAPIData`) are declared here, with gnostic's field numbers:
//! the definitions and, per schema, its reference, type, description,
//! items, properties, additional properties, required fields and vendor
//! extensions (whose values gnostic carries as YAML text). The fields left
//! out are simply absent on the wire.

use prost::Message;
use serde_json::Value;

/// The media type of the answer (`k8s.io/kube-openapi` `pkg/handler`
/// `subTypeProtobuf`).
pub const CONTENT_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// Whether an `Accept` header asks for the protobuf form first: kubectl
/// sends the deprecated `...spec.v2@v1.0+protobuf`, which is not a valid
/// media type for an answer (Go's `mime.ParseMediaType` refuses the `@`).
pub fn wanted(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| {
        let t = first.trim();
        t.starts_with(CONTENT_TYPE)
            || t.starts_with("application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    })
}

/// `openapi.v2.Document` (fields 1, 2 and 9).
#[derive(Clone, PartialEq, Message)]
pub struct Document {
    #[prost(string, tag = "1")]
    pub swagger: String,
    #[prost(message, optional, tag = "2")]
    pub info: Option<Info>,
    #[prost(message, optional, tag = "9")]
    pub definitions: Option<Definitions>,
}

/// `openapi.v2.Info` (title, version).
#[derive(Clone, PartialEq, Message)]
pub struct Info {
    #[prost(string, tag = "1")]
    pub title: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

/// `openapi.v2.Definitions`.
#[derive(Clone, PartialEq, Message)]
pub struct Definitions {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

/// `openapi.v2.NamedSchema`.
#[derive(Clone, PartialEq, Message)]
pub struct NamedSchema {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<Schema>,
}

/// `openapi.v2.Schema`, the fields kubectl reads.
#[derive(Clone, PartialEq, Message)]
pub struct Schema {
    #[prost(string, tag = "1")]
    pub r#ref: String,
    #[prost(string, tag = "2")]
    pub format: String,
    #[prost(string, tag = "4")]
    pub description: String,
    #[prost(string, repeated, tag = "19")]
    pub required: Vec<String>,
    #[prost(message, optional, boxed, tag = "21")]
    pub additional_properties: Option<Box<AdditionalPropertiesItem>>,
    #[prost(message, optional, tag = "22")]
    pub r#type: Option<TypeItem>,
    #[prost(message, optional, tag = "23")]
    pub items: Option<ItemsItem>,
    #[prost(message, repeated, tag = "24")]
    pub all_of: Vec<Schema>,
    #[prost(message, optional, tag = "25")]
    pub properties: Option<Properties>,
    #[prost(message, repeated, tag = "31")]
    pub vendor_extension: Vec<NamedAny>,
}

/// `openapi.v2.AdditionalPropertiesItem` (a schema or a boolean).
#[derive(Clone, PartialEq, Message)]
pub struct AdditionalPropertiesItem {
    #[prost(oneof = "AdditionalProperties", tags = "1, 2")]
    pub oneof: Option<AdditionalProperties>,
}

/// The `oneof` of [`AdditionalPropertiesItem`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum AdditionalProperties {
    #[prost(message, boxed, tag = "1")]
    Schema(Box<Schema>),
    #[prost(bool, tag = "2")]
    Boolean(bool),
}

/// `openapi.v2.TypeItem`.
#[derive(Clone, PartialEq, Message)]
pub struct TypeItem {
    #[prost(string, repeated, tag = "1")]
    pub value: Vec<String>,
}

/// `openapi.v2.ItemsItem`.
#[derive(Clone, PartialEq, Message)]
pub struct ItemsItem {
    #[prost(message, repeated, tag = "1")]
    pub schema: Vec<Schema>,
}

/// `openapi.v2.Properties`.
#[derive(Clone, PartialEq, Message)]
pub struct Properties {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

/// `openapi.v2.NamedAny`: a vendor extension.
#[derive(Clone, PartialEq, Message)]
pub struct NamedAny {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// `openapi.v2.Any`: gnostic keeps extension values as YAML text (field 2).
#[derive(Clone, PartialEq, Message)]
pub struct AnyValue {
    #[prost(string, tag = "2")]
    pub yaml: String,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// One JSON Schema (Swagger 2.0 flavour) as gnostic's message.
fn schema(v: &Value) -> Schema {
    let named = |m: &serde_json::Map<String, Value>| -> Vec<NamedSchema> {
        m.iter()
            .map(|(name, s)| NamedSchema {
                name: name.clone(),
                value: Some(schema(s)),
            })
            .collect()
    };
    // schemars writes a described reference as `allOf: [{$ref}]`; Swagger
    // 2.0, as Kubernetes serves it, puts the `$ref` next to the
    // description, which is what kubectl follows.
    let single_ref = match v.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) if only.get("$ref").is_some() => Some(text(only, "$ref")),
        _ => None,
    };
    Schema {
        r#ref: single_ref.clone().unwrap_or_else(|| text(v, "$ref")),
        format: text(v, "format"),
        description: text(v, "description"),
        required: v
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        additional_properties: match v.get("additionalProperties") {
            Some(Value::Bool(b)) => Some(Box::new(AdditionalPropertiesItem {
                oneof: Some(AdditionalProperties::Boolean(*b)),
            })),
            Some(s @ Value::Object(_)) => Some(Box::new(AdditionalPropertiesItem {
                oneof: Some(AdditionalProperties::Schema(Box::new(schema(s)))),
            })),
            _ => None,
        },
        r#type: match v.get("type") {
            Some(Value::String(t)) => Some(TypeItem {
                value: vec![t.clone()],
            }),
            Some(Value::Array(ts)) => Some(TypeItem {
                value: ts
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
            }),
            _ => None,
        },
        items: v.get("items").filter(|i| i.is_object()).map(|i| ItemsItem {
            schema: vec![schema(i)],
        }),
        all_of: match single_ref {
            Some(_) => Vec::new(),
            None => v
                .get("allOf")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(schema)
                .collect(),
        },
        properties: v
            .get("properties")
            .and_then(Value::as_object)
            .map(|m| Properties {
                additional_properties: named(m),
            }),
        vendor_extension: v
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with("x-"))
            .map(|(k, x)| NamedAny {
                name: k.clone(),
                value: Some(AnyValue {
                    yaml: serde_yaml::to_string(x).unwrap_or_default(),
                }),
            })
            .collect(),
    }
}

/// The Swagger 2.0 JSON document `doc` as gnostic protobuf bytes.
pub fn encode(doc: &Value) -> Vec<u8> {
    let definitions = doc
        .get("definitions")
        .and_then(Value::as_object)
        .map(|m| Definitions {
            additional_properties: m
                .iter()
                .map(|(name, s)| NamedSchema {
                    name: name.clone(),
                    value: Some(schema(s)),
                })
                .collect(),
        });
    Document {
        swagger: text(doc, "swagger"),
        info: Some(Info {
            title: doc
                .pointer("/info/title")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            version: doc
                .pointer("/info/version")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
        }),
        definitions,
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_definition_round_trips_with_its_extensions() {
        let doc = json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"},
            "definitions": {"io.k8s.api.core.v1.ConfigMap": {
                "type": "object", "description": "cm",
                "properties": {"data": {"type": "object", "additionalProperties": {"type": "string"}},
                               "items": {"type": "array", "items": {"$ref": "#/definitions/x"}}},
                "x-kubernetes-group-version-kind": [{"group": "", "kind": "ConfigMap", "version": "v1"}]}}});
        let back = Document::decode(encode(&doc).as_slice()).unwrap();
        assert_eq!(back.swagger, "2.0");
        assert_eq!(back.info.unwrap().version, "v1.33.0");
        let defs = back.definitions.unwrap().additional_properties;
        let cm = defs[0].value.as_ref().unwrap();
        assert_eq!(cm.r#type.as_ref().unwrap().value, ["object"]);
        let props = &cm.properties.as_ref().unwrap().additional_properties;
        let items = props
            .iter()
            .find(|p| p.name == "items")
            .unwrap()
            .value
            .as_ref()
            .unwrap();
        assert_eq!(
            items.items.as_ref().unwrap().schema[0].r#ref,
            "#/definitions/x"
        );
        let ext = &cm.vendor_extension[0];
        assert_eq!(ext.name, "x-kubernetes-group-version-kind");
        assert!(ext.value.as_ref().unwrap().yaml.contains("kind: ConfigMap"));
    }
}
