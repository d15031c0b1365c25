//! Strategic merge patch for the built-in types, as `k8s.io/apimachinery`
//! `pkg/util/strategicpatch/patch.go` applies it.
//!
//! Like a JSON merge patch, except for lists whose field declares
//! `patchStrategy: merge` in the Kubernetes API types: their elements are
//! matched by the field's `patchMergeKey` and merged one by one (containers
//! by `name`, volume mounts by `mountPath`, ...), and primitive lists such
//! as `metadata.finalizers` are merged as sets. The directives `$patch:
//! replace|delete|merge`, `$retainKeys`, `$deleteFromPrimitiveList/<field>`
//! and `$setElementOrder/<field>` are honoured. Custom resources do not
//! accept this patch type (the API server answers 415).

use serde_json::{Map, Value};

/// How a list field is patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListStrategy {
    /// Replaced by the patch's list (no `patchStrategy`).
    Replace,
    /// Maps merged by this key.
    MergeBy(&'static str),
    /// Primitives merged as a set.
    Set,
}

/// The strategy of list field `field`, with the field names above it.
/// From the `patchStrategy`/`patchMergeKey` tags of `k8s.io/api`
/// (`core/v1/types.go`, `apps/v1/types.go`, `meta/v1/types.go`).
fn strategy(parents: &[&str], field: &str) -> ListStrategy {
    let in_container = parents
        .iter()
        .any(|p| matches!(*p, "containers" | "initContainers" | "ephemeralContainers"));
    match field {
        "containers" | "initContainers" | "ephemeralContainers" => ListStrategy::MergeBy("name"),
        "volumes" | "env" | "imagePullSecrets" | "resourceClaims" | "schedulingGates" => {
            ListStrategy::MergeBy("name")
        }
        "volumeMounts" => ListStrategy::MergeBy("mountPath"),
        "volumeDevices" => ListStrategy::MergeBy("devicePath"),
        "ports" if in_container => ListStrategy::MergeBy("containerPort"),
        "ports" => ListStrategy::MergeBy("port"),
        "ownerReferences" => ListStrategy::MergeBy("uid"),
        "conditions" => ListStrategy::MergeBy("type"),
        "hostAliases" => ListStrategy::MergeBy("ip"),
        "topologySpreadConstraints" => ListStrategy::MergeBy("topologyKey"),
        "finalizers" if parents.last() == Some(&"metadata") => ListStrategy::Set,
        _ => ListStrategy::Replace,
    }
}

/// The `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`
/// of list field `field` under `parents`, as the OpenAPI documents carry
/// them (`None` for a list that is replaced).
pub fn patch_extensions(
    parents: &[&str],
    field: &str,
) -> Option<(&'static str, Option<&'static str>)> {
    match strategy(parents, field) {
        ListStrategy::Replace => None,
        ListStrategy::MergeBy(key) => Some(("merge", Some(key))),
        ListStrategy::Set => Some(("merge", None)),
    }
}

const DELETE_FROM: &str = "$deleteFromPrimitiveList/";
const ORDER: &str = "$setElementOrder/";

/// Applies strategic merge patch `patch` to `doc`.
///
/// # Errors
/// A patch that is not an object, or a malformed directive.
pub fn apply(doc: &Value, patch: &Value) -> Result<Value, String> {
    let Value::Object(p) = patch else {
        return Err("a strategic merge patch must be a JSON object".into());
    };
    let base = doc.as_object().cloned().unwrap_or_default();
    Ok(merge_map(base, p, &mut Vec::new())?.map_or(Value::Object(Map::new()), Value::Object))
}

/// Merges `patch` into `orig`; `None` when the patch deletes the map.
fn merge_map<'a>(
    mut orig: Map<String, Value>,
    patch: &'a Map<String, Value>,
    path: &mut Vec<&'a str>,
) -> Result<Option<Map<String, Value>>, String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut p = patch.clone();
            p.remove("$patch");
            return Ok(Some(strip(p)));
        }
        Some("delete") => return Ok(None),
        Some("merge") | None => {}
        Some(other) => return Err(format!("Unknown patch type: {other}")),
    }
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_FROM) {
            let remove = value.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = orig.get_mut(field) {
                items.retain(|v| !remove.contains(v));
            }
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        match value {
            Value::Null => {
                orig.remove(key);
            }
            Value::Object(pm) => {
                let base = match orig.remove(key) {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                path.push(key);
                let merged = merge_map(base, pm, path)?;
                path.pop();
                if let Some(m) = merged {
                    orig.insert(key.clone(), Value::Object(m));
                }
            }
            Value::Array(pl) => {
                let merged = match (strategy(path, key), orig.remove(key)) {
                    (ListStrategy::Replace, _) => strip_list(pl),
                    (ListStrategy::Set, Some(Value::Array(mut ol))) => {
                        for v in pl {
                            if !ol.contains(v) {
                                ol.push(v.clone());
                            }
                        }
                        ol
                    }
                    (ListStrategy::MergeBy(k), Some(Value::Array(ol))) => {
                        path.push(key);
                        let l = merge_list(ol, pl, k, path)?;
                        path.pop();
                        l
                    }
                    (_, _) => strip_list(pl),
                };
                let ordered = match patch
                    .get(&format!("{ORDER}{key}"))
                    .and_then(Value::as_array)
                {
                    Some(order) => reorder(merged, order, strategy(path, key)),
                    None => merged,
                };
                orig.insert(key.clone(), Value::Array(ordered));
            }
            other => {
                orig.insert(key.clone(), other.clone());
            }
        }
    }
    if let Some(keep) = patch.get("$retainKeys").and_then(Value::as_array) {
        orig.retain(|k, _| keep.iter().any(|x| x == k));
    }
    Ok(Some(orig))
}

/// Merges list `patch` into `orig`, matching maps by `key`.
fn merge_list<'a>(
    mut orig: Vec<Value>,
    patch: &'a [Value],
    key: &str,
    path: &mut Vec<&'a str>,
) -> Result<Vec<Value>, String> {
    if patch
        .iter()
        .any(|e| e.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Ok(strip_list(
            &patch
                .iter()
                .filter(|e| e.get("$patch").is_none())
                .cloned()
                .collect::<Vec<_>>(),
        ));
    }
    for element in patch {
        let Value::Object(pm) = element else {
            if !orig.contains(element) {
                orig.push(element.clone());
            }
            continue;
        };
        let id = pm.get(key);
        let at = id.and_then(|id| orig.iter().position(|o| o.get(key) == Some(id)));
        if pm.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(i) = at {
                orig.remove(i);
            }
            continue;
        }
        match at {
            Some(i) => {
                let base = orig[i].as_object().cloned().unwrap_or_default();
                match merge_map(base, pm, path)? {
                    Some(m) => orig[i] = Value::Object(m),
                    None => {
                        orig.remove(i);
                    }
                }
            }
            None => orig.push(Value::Object(strip(pm.clone()))),
        }
    }
    Ok(orig)
}

/// `$setElementOrder`: the listed elements first, in that order.
fn reorder(items: Vec<Value>, order: &[Value], strategy: ListStrategy) -> Vec<Value> {
    let id = |v: &Value| match strategy {
        ListStrategy::MergeBy(k) => v.get(k).cloned(),
        _ => Some(v.clone()),
    };
    let mut rest = items;
    let mut out = Vec::new();
    for o in order {
        let want = id(o);
        if let Some(i) = rest.iter().position(|v| id(v) == want) {
            out.push(rest.remove(i));
        }
    }
    out.extend(rest);
    out
}

fn strip(mut m: Map<String, Value>) -> Map<String, Value> {
    m.retain(|k, _| !k.starts_with('$'));
    for v in m.values_mut() {
        match v {
            Value::Object(inner) => *inner = strip(std::mem::take(inner)),
            Value::Array(items) => *items = strip_list(items),
            _ => {}
        }
    }
    m
}

fn strip_list(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .map(|v| match v {
            Value::Object(m) => Value::Object(strip(m.clone())),
            other => other.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"metadata": {"name": "web", "finalizers": ["a"]},
               "spec": {"template": {"spec": {
                   "containers": [{"name": "web", "image": "nginx:1.27",
                       "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                       "ports": [{"containerPort": 80}],
                       "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}],
                   "volumes": [{"name": "d", "emptyDir": {}}]}}}})
    }

    #[test]
    fn containers_merge_by_name_and_keep_their_mounts() {
        // What `kubectl set image` and a client-side apply send.
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.29"}]}}}});
        let out = apply(&deployment(), &p).unwrap();
        let c = &out["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["image"], "nginx:1.29");
        assert_eq!(c["volumeMounts"], json!([{"name": "d", "mountPath": "/d"}]));
        assert_eq!(c["ports"], json!([{"containerPort": 80}]));
    }

    #[test]
    fn directives_delete_replace_and_order() {
        let p = json!({"metadata": {"finalizers": ["b"]},
            "spec": {"template": {"spec": {"containers": [{"name": "web",
                "env": [{"name": "A", "$patch": "delete"}, {"name": "C", "value": "3"}],
                "$setElementOrder/env": [{"name": "C"}, {"name": "B"}],
                "volumeMounts": [{"$patch": "replace"}, {"name": "e", "mountPath": "/e"}]}],
                "volumes": [{"name": "d", "$patch": "delete"}]}}}});
        let out = apply(&deployment(), &p).unwrap();
        let c = &out["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["env"],
            json!([{"name": "C", "value": "3"}, {"name": "B", "value": "2"}])
        );
        assert_eq!(c["volumeMounts"], json!([{"name": "e", "mountPath": "/e"}]));
        assert_eq!(out["spec"]["template"]["spec"]["volumes"], json!([]));
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b"]));

        let p = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
                       "spec": {"template": {"$patch": "replace", "spec": {}}}});
        let out = apply(&deployment(), &p).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!([]));
        assert_eq!(out["spec"]["template"], json!({"spec": {}}));
    }

    #[test]
    fn lists_without_a_strategy_are_replaced_and_nulls_delete() {
        let doc = json!({"spec": {"tolerations": [{"key": "a"}], "x": 1}});
        let out = apply(
            &doc,
            &json!({"spec": {"tolerations": [{"key": "b"}], "x": null}}),
        )
        .unwrap();
        assert_eq!(out["spec"], json!({"tolerations": [{"key": "b"}]}));
        let out = apply(&doc, &json!({"spec": {"$retainKeys": ["x"], "x": 2}})).unwrap();
        assert_eq!(out["spec"], json!({"x": 2}));
        assert!(apply(&doc, &json!([1])).is_err());
        assert!(apply(&doc, &json!({"$patch": "explode"})).is_err());
    }
}
