//! What the `scale` and `log` subresources and the self reviews answer, as
//! pure functions over the stored objects (the handlers do the I/O).
//!
//! - `scale`: an `autoscaling/v1` Scale of a Deployment, StatefulSet or
//!   ReplicaSet (`kubernetes` `pkg/registry/apps/deployment/storage`
//!   `scaleFromDeployment`): `spec.replicas`, `status.replicas` and the
//!   label selector as a string. `kubectl scale` patches it.
//! - `log`: the lab runs no containers, so a running container's log is
//!   one line saying so; a container that is not running is refused with
//!   the kubelet's message.
//! - `selfsubjectaccessreviews` and `selfsubjectreviews`: the lab has one
//!   bearer token per cluster and no RBAC, so every access is allowed and
//!   the caller is the lab's administrator.

use serde_json::{Value, json};

use super::status::ApiError;

/// The user behind the lab's token.
pub const LAB_USER: &str = "svmdr-lab-admin";

/// `matchLabels` as a selector string (`a=b,c=d`).
fn selector_string(obj: &Value) -> String {
    obj.pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The Scale of a workload object.
pub fn scale(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector_string(obj),
        },
    })
}

/// The workload with the replicas a Scale asks for.
///
/// # Errors
/// 400 for a Scale without a whole, non-negative `spec.replicas`.
pub fn rescale(obj: &Value, wanted: &Value) -> Result<Value, ApiError> {
    let replicas = wanted
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ApiError::bad_request("spec.replicas: Invalid value: must be a non-negative integer")
        })?;
    let mut out = obj.clone();
    out["spec"]["replicas"] = json!(replicas);
    Ok(out)
}

/// The log of `container` (or the pod's only one) of `pod`.
///
/// # Errors
/// 400 as the API server words it: a container name is needed, the
/// container does not exist, or it is not running.
pub fn log(pod: &Value, container: Option<&str>) -> Result<String, ApiError> {
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let names: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let name = match (container, names.as_slice()) {
        (Some(c), _) if names.contains(&c) => c,
        (Some(c), _) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {pod_name}"
            )));
        }
        (None, [only]) => only,
        (None, _) => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let status = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|s| s.iter().find(|c| c["name"] == name));
    let waiting = status
        .and_then(|c| c.pointer("/state/waiting/reason"))
        .and_then(Value::as_str);
    let running = status.is_some_and(|c| c.pointer("/state/running").is_some());
    if !running {
        return Err(ApiError::bad_request(format!(
            "container \"{name}\" in pod \"{pod_name}\" is waiting to start: {}",
            waiting.unwrap_or("ContainerCreating")
        )));
    }
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("?");
    Ok(format!(
        "simulated: container {name} of pod {pod_name} runs on node {node}; the lab runs no processes, so there is no output\n"
    ))
}

/// The answer to a create of a self review, or `None` for other kinds.
pub fn review(kind: &str, body: &Value) -> Option<Value> {
    let mut out = body.clone();
    match kind {
        "SelfSubjectAccessReview" => {
            out["status"] = json!({
                "allowed": true,
                "reason": "the simulated lab has no RBAC: its token may do everything",
            });
        }
        "SelfSubjectReview" => {
            out["status"] = json!({"userInfo": {
                "username": LAB_USER,
                "groups": ["system:masters", "system:authenticated"],
            }});
        }
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_reads_and_writes_replicas() {
        let d = json!({"metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
            "status": {"replicas": 2}});
        let s = scale(&d);
        assert_eq!(s["spec"]["replicas"], 2);
        assert_eq!(s["status"]["selector"], "app=web");
        let out = rescale(&d, &json!({"spec": {"replicas": 0}})).unwrap();
        assert_eq!(out["spec"]["replicas"], 0);
        assert_eq!(
            rescale(&d, &json!({"spec": {"replicas": -1}}))
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn logs_need_a_running_container() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1",
            "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"containerStatuses": [
                {"name": "a", "state": {"running": {}}},
                {"name": "b", "state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        assert!(log(&pod, Some("a")).unwrap().contains("node n1"));
        let e = log(&pod, None).unwrap_err();
        assert!(e.message.contains("choose one of: [a b]"), "{}", e.message);
        let e = log(&pod, Some("b")).unwrap_err();
        assert!(e.message.contains("is waiting to start: ContainerCreating"));
        assert!(log(&pod, Some("c")).is_err());
    }

    #[test]
    fn reviews_allow_and_name_the_lab_user() {
        let r = review("SelfSubjectAccessReview", &json!({"spec": {}})).unwrap();
        assert_eq!(r["status"]["allowed"], true);
        let r = review("SelfSubjectReview", &json!({})).unwrap();
        assert_eq!(r["status"]["userInfo"]["username"], LAB_USER);
        assert!(review("ConfigMap", &json!({})).is_none());
    }
}
