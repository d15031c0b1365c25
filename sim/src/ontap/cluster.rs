//! `/api/cluster`, `/api/cluster/nodes` and `/api/cluster/jobs`.

use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::world::{Job, World, ts};
use axum::http::Method;

/// `GET /api/cluster`.
pub fn cluster(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    if ctx.method != Method::GET {
        ctx.require_cluster_admin()?;
        return Err(not_allowed(ctx));
    }
    let c = w
        .cluster(&ctx.cluster)
        .ok_or_else(|| ApiError::not_found("cluster"))?;
    let mgmt: Vec<Value> = vec![json!({"name": "cluster_mgmt", "ip": {"address": "127.0.0.1"}})];
    let full = json!({
        "name": c.name,
        "uuid": c.uuid,
        "version": c.version_json(),
        "location": "simulated lab",
        "contact": "",
        "san_optimized": false,
        "peering_policy": {"authentication_required": true, "encryption_required": false, "minimum_passphrase_length": 8},
        "management_interfaces": mgmt,
        "_links": {"self": {"href": "/api/cluster"}},
    });
    let shape = Shape {
        keys: &[],
        expensive: &[],
        fields: catalogue::CLUSTER,
    };
    Ok(Reply::ok(instance(&full, &ctx.query, &shape)?))
}

fn node_json(w: &World, ctx: &Ctx, i: usize) -> Value {
    let c = &w.clusters[w.cluster_idx(&ctx.cluster).unwrap_or(0)];
    let n = &c.nodes[i];
    let partner = c.nodes.get(i ^ 1).map(|p| p.name.clone());
    json!({
        "uuid": n.uuid, "name": n.name, "serial_number": n.serial, "model": "FAS8300",
        "state": "up", "membership": "member", "version": c.version_json(),
        "ha": {"enabled": partner.is_some(), "partners": partner.map(|p| vec![json!({"name": p})]).unwrap_or_default()},
        "cluster_interfaces": [], "management_interfaces": [],
        "_links": {"self": {"href": format!("/api/cluster/nodes/{}", n.uuid)}},
    })
}

/// `/api/cluster/nodes[/{uuid}]` (GET).
pub fn nodes(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    ctx.require_cluster_admin()?;
    if ctx.method != Method::GET {
        return Err(not_allowed(ctx));
    }
    let count = w.cluster(&ctx.cluster).map(|c| c.nodes.len()).unwrap_or(0);
    let recs: Vec<Value> = (0..count).map(|i| node_json(w, ctx, i)).collect();
    let shape = Shape {
        keys: &["uuid", "name"],
        expensive: &[],
        fields: catalogue::NODES,
    };
    match rest {
        [] => Ok(Reply::ok(collection(
            "/api/cluster/nodes",
            &ctx.query,
            recs,
            &shape,
        )?)),
        [id] => {
            check_uuid(id)?;
            let r = recs
                .iter()
                .find(|r| r["uuid"] == *id)
                .ok_or_else(|| ApiError::not_found(format!("Node \"{id}\" not found.")))?;
            Ok(Reply::ok(instance(r, &ctx.query, &shape)?))
        }
        _ => Err(not_allowed(ctx)),
    }
}

/// A job as ONTAP renders it (`code` integer, `error.code` string).
pub fn job_json(j: &Job) -> Value {
    let mut v = json!({
        "uuid": j.uuid,
        "description": j.description,
        "state": j.state.as_str(),
        "message": j.message,
        "code": j.code,
        "start_time": ts(j.start_time),
        "_links": {"self": {"href": format!("/api/cluster/jobs/{}", j.uuid)}},
    });
    if let Some(end) = j.end_time {
        v["end_time"] = json!(ts(end));
    }
    if let Some((code, message)) = &j.error {
        v["error"] = json!({"code": code, "message": message, "arguments": []});
    }
    if let Some((name, uuid)) = &j.svm {
        v["svm"] = json!({"name": name, "uuid": uuid});
    }
    v
}

/// `/api/cluster/jobs[/{uuid}]` (GET).
pub fn jobs(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    if ctx.method != Method::GET {
        return Err(not_allowed(ctx));
    }
    let visible = |j: &&Job| {
        j.cluster == ctx.cluster
            && match ctx.scope_svm() {
                None => true,
                Some(s) => j.svm.as_ref().is_some_and(|(n, _)| n == s),
            }
    };
    let shape = Shape {
        keys: &["uuid"],
        expensive: &[],
        fields: catalogue::JOBS,
    };
    match rest {
        [] => {
            let recs = w.jobs.iter().filter(visible).map(job_json).collect();
            Ok(Reply::ok(collection(
                "/api/cluster/jobs",
                &ctx.query,
                recs,
                &shape,
            )?))
        }
        [id] => {
            check_uuid(id)?;
            let j = w
                .jobs
                .iter()
                .filter(visible)
                .find(|j| j.uuid == *id)
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "Job \"{id}\" not found. Finished jobs are removed after a while."
                    ))
                    .target("uuid")
                })?;
            Ok(Reply::ok(instance(&job_json(j), &ctx.query, &shape)?))
        }
        _ => Err(not_allowed(ctx)),
    }
}
