//! `/api/snapmirror/policies` and `/api/snapmirror/relationships` (with
//! `/transfers`): SVM-DR relationships and their state machine
//! (`docs/ontap-rest.md` §11.3).
//!
//! | from \ PATCH state | snapmirrored | paused | broken_off |
//! |---|---|---|---|
//! | uninitialized | initialize (transfer → snapmirrored) | 13303809 | 13303808 |
//! | snapmirrored | no-op | quiesce | break (13303808 while transferring, or `full` identity with the source SVM running) |
//! | paused | resume | no-op | break |
//! | broken_off | resync (destination SVM stopped, common snapshot; discards destination writes) | 13303809 | no-op |
//!
//! A break flips the destination SVM to `default`, its volumes to `rw`, and
//! starts it when the source SVM is not running. A resync flips them back to
//! `dp_destination`/`dp`. Replication while either cluster is down fails:
//! the relationship turns unhealthy and `lag_time` keeps growing.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::schedules::check_transfer_schedule;
use super::svm::{check_can_serve, peered_cluster};
use super::timefmt::format_duration;
use super::world::{Policy, Relationship, Svm, SvmPeer, Volume, World, new_uuid, ts};

const REL_SHAPE: Shape<'static> = Shape {
    keys: &["uuid"],
    expensive: &["svmdr_volumes"],
};
const POLICY_SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
};
const IDENTITIES: &[&str] = &[
    "exclude_network_and_protocol_config",
    "exclude_network_config",
    "full",
];

fn identity_rank(v: &str) -> usize {
    IDENTITIES.iter().position(|x| *x == v).unwrap_or(0)
}

// ---- policies ---------------------------------------------------------------

fn policy_json(p: &Policy) -> Value {
    let mut v = json!({
        "uuid": p.uuid, "name": p.name, "type": p.ptype, "scope": "cluster", "comment": p.comment,
        "network_compression_enabled": false, "throttle": 0,
        "_links": {"self": {"href": format!("/api/snapmirror/policies/{}", p.uuid)}},
    });
    if let Some(ip) = &p.identity_preservation {
        v["identity_preservation"] = json!(ip);
    }
    if p.ptype == "sync" {
        v["sync_type"] = json!(if p.name == "StrictSync" {
            "strict_sync"
        } else {
            "sync"
        });
    }
    v
}

/// Routes `/api/snapmirror/policies`.
pub fn policies(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .policies
                .iter()
                .filter(|p| p.cluster == ctx.cluster)
                .map(policy_json)
                .collect();
            Ok(Reply::ok(collection(
                "/api/snapmirror/policies",
                &ctx.query,
                recs,
                &POLICY_SHAPE,
            )?))
        }
        (&Method::POST, []) => {
            ctx.require_cluster_admin()?;
            let name = ctx.req("name")?.to_string();
            if w.policies
                .iter()
                .any(|p| p.cluster == ctx.cluster && p.name == name)
            {
                return Err(ApiError::duplicate(format!(
                    "SnapMirror policy \"{name}\" already exists."
                ))
                .target("name"));
            }
            let ptype = ctx.s("type").unwrap_or("async").to_string();
            if !matches!(ptype.as_str(), "async" | "sync" | "continuous") {
                return Err(
                    ApiError::invalid(format!("Invalid policy type \"{ptype}\".")).target("type"),
                );
            }
            let identity = match ctx.s("identity_preservation") {
                Some(v) if IDENTITIES.contains(&v) => Some(v.to_string()),
                Some(v) => {
                    return Err(ApiError::invalid(format!(
                        "Invalid identity_preservation \"{v}\"."
                    ))
                    .target("identity_preservation"));
                }
                None => {
                    (ptype == "async").then(|| "exclude_network_and_protocol_config".to_string())
                }
            };
            let p = Policy {
                uuid: new_uuid(),
                cluster: ctx.cluster.clone(),
                name,
                ptype,
                identity_preservation: identity,
                comment: ctx.s("comment").unwrap_or("").to_string(),
            };
            let href = format!("/api/snapmirror/policies/{}", p.uuid);
            let job = ctx.job(
                w,
                None,
                None,
                Box::new(move |w: &mut World| {
                    w.policies.push(p);
                    Ok(())
                }),
                None,
            );
            Ok(Reply::Job {
                uuid: job,
                done_status: StatusCode::CREATED,
                location: Some(href),
                records: None,
            })
        }
        (m, [id]) => {
            check_uuid(id)?;
            let i = w
                .policies
                .iter()
                .position(|p| p.uuid == *id && p.cluster == ctx.cluster)
                .ok_or_else(|| {
                    ApiError::not_found(format!("SnapMirror policy \"{id}\" not found."))
                })?;
            match *m {
                Method::GET => Ok(Reply::ok(instance(
                    &policy_json(&w.policies[i]),
                    &ctx.query,
                    &POLICY_SHAPE,
                ))),
                Method::PATCH => {
                    ctx.require_cluster_admin()?;
                    let uuid = w.policies[i].uuid.clone();
                    let new_identity = ctx.s("identity_preservation").map(str::to_string);
                    if let Some(ni) = &new_identity {
                        if !IDENTITIES.contains(&ni.as_str()) {
                            return Err(ApiError::invalid(format!(
                                "Invalid identity_preservation \"{ni}\"."
                            ))
                            .target("identity_preservation"));
                        }
                        let cur = w.policies[i]
                            .identity_preservation
                            .clone()
                            .unwrap_or_default();
                        if identity_rank(ni) > identity_rank(&cur) {
                            return Err(ApiError::invalid(format!("identity_preservation can only be lowered (from \"{cur}\" to \"{ni}\" is a raise).")).target("identity_preservation"));
                        }
                    }
                    let comment = ctx.s("comment").map(str::to_string);
                    let job = ctx.job(
                        w,
                        None,
                        None,
                        Box::new(move |w: &mut World| {
                            if let Some(p) = w.policies.iter_mut().find(|p| p.uuid == uuid) {
                                if let Some(ni) = new_identity {
                                    p.identity_preservation = Some(ni);
                                }
                                if let Some(c) = comment {
                                    p.comment = c;
                                }
                            }
                            Ok(())
                        }),
                        None,
                    );
                    Ok(Ctx::job_reply(job))
                }
                Method::DELETE => {
                    ctx.require_cluster_admin()?;
                    let name = w.policies[i].name.clone();
                    if super::world::World::is_builtin_policy(&name) {
                        return Err(ApiError::invalid(format!(
                            "Built-in policy \"{name}\" cannot be deleted."
                        )));
                    }
                    let uuid = w.policies[i].uuid.clone();
                    let job = ctx.job(
                        w,
                        None,
                        None,
                        Box::new(move |w: &mut World| {
                            w.policies.retain(|p| p.uuid != uuid);
                            Ok(())
                        }),
                        None,
                    );
                    Ok(Ctx::job_reply(job))
                }
                _ => Err(not_allowed(ctx)),
            }
        }
        _ => Err(not_allowed(ctx)),
    }
}

// ---- relationships -----------------------------------------------------------------

/// The alias `cluster` uses for SVM `svm` (its SVM peer name), or the real name.
fn alias_on(w: &World, cluster: &str, svm: &str) -> String {
    w.svm_peers
        .iter()
        .find(|p| p.cluster == cluster && p.peer_svm == svm)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| w.svm_name(svm))
}

/// A relationship as seen from `view` (its destination or source cluster).
pub fn rel_json(w: &World, r: &Relationship, view: &str) -> Value {
    let on_dst = view == r.dst_cluster;
    let src_name = if on_dst {
        r.src_alias.clone()
    } else {
        w.svm_name(&r.src_svm)
    };
    let dst_name = if on_dst {
        w.svm_name(&r.dst_svm)
    } else {
        alias_on(w, view, &r.dst_svm)
    };
    let policy_uuid = w
        .policies
        .iter()
        .find(|p| p.cluster == r.dst_cluster && p.name == r.policy)
        .map(|p| p.uuid.clone())
        .unwrap_or_default();
    let vols: Vec<Value> = w
        .volumes
        .iter()
        .filter(|v| v.svm == r.src_svm && !v.is_svm_root)
        .map(|v| json!({"name": v.name}))
        .collect();
    let mut v = json!({
        "uuid": r.uuid,
        "source": {
            "path": format!("{src_name}:"),
            "svm": {"name": src_name, "uuid": r.src_svm},
            "cluster": {"name": w.cluster_name(&r.src_cluster), "uuid": w.cluster_uuid(&r.src_cluster)},
        },
        "destination": {
            "path": format!("{dst_name}:"),
            "svm": {"name": dst_name, "uuid": r.dst_svm},
            "cluster": {"name": w.cluster_name(&r.dst_cluster), "uuid": w.cluster_uuid(&r.dst_cluster)},
        },
        "policy": {"name": r.policy, "uuid": policy_uuid, "type": r.policy_type},
        "state": r.state,
        "healthy": r.healthy,
        "identity_preservation": r.identity,
        "group_type": "svm_dr",
        "throttle": r.throttle,
        "total_transfer_bytes": r.total_bytes,
        "svmdr_volumes": vols,
        "_links": {"self": {"href": format!("/api/snapmirror/relationships/{}", r.uuid)}},
    });
    if !r.healthy {
        v["unhealthy_reason"] = json!(r.unhealthy);
    } else if r.state == "snapmirrored" && w.is_down(&r.src_cluster) {
        // ONTAP keeps polling the source; an unreachable source shows up as
        // an unhealthy mirror even before the next update fails.
        let src = w.cluster_name(&r.src_cluster);
        v["healthy"] = json!(false);
        v["unhealthy_reason"] = json!([{
            "code": "6621444",
            "message": format!("Source cluster \"{src}\" is unreachable: the relationship cannot be updated."),
            "arguments": [src],
        }]);
    }
    if let Some(t) = r.snapshot_time {
        let lag = (Utc::now() - t).num_seconds().max(0) as u64;
        v["lag_time"] = json!(format_duration(lag));
    }
    if let Some(s) = &r.snapshot_name {
        v["exported_snapshot"] = json!(s);
    }
    if let Some(s) = &r.schedule {
        v["transfer_schedule"] = json!({"name": s});
    }
    if let Some(t) = &r.last_transfer_type {
        v["last_transfer_type"] = json!(t);
    }
    if let Some(t) = &r.transfer {
        let mut tj = json!({
            "state": t.state,
            "type": t.ttype,
            "bytes_transferred": t.bytes,
            "last_updated_time": ts(Utc::now()),
        });
        if t.active() {
            tj["uuid"] = json!(t.uuid);
        }
        if let Some(e) = t.end_time {
            tj["end_time"] = json!(ts(e));
            tj["total_duration"] = json!(format_duration(
                (e - t.start_time).num_seconds().max(0) as u64
            ));
        }
        v["transfer"] = tj;
    }
    v
}

fn transfer_json(r: &Relationship) -> Option<Value> {
    let t = r.transfer.as_ref()?;
    let mut v = json!({
        "uuid": t.uuid, "state": t.state, "bytes_transferred": t.bytes,
        "relationship": {"uuid": r.uuid},
        "snapshot": t.snapshot_name,
        "_links": {"self": {"href": format!("/api/snapmirror/relationships/{}/transfers/{}", r.uuid, t.uuid)}},
    });
    if let Some(e) = t.end_time {
        v["end_time"] = json!(ts(e));
    }
    Some(v)
}

/// Relationships visible on this cluster: destination view, or the source
/// view with `list_destinations_only=true`.
fn visible(w: &World, ctx: &Ctx, r: &Relationship, source_view: bool) -> bool {
    let (present, cluster, svm) = if source_view {
        (r.src_present, &r.src_cluster, &r.src_svm)
    } else {
        (r.dst_present, &r.dst_cluster, &r.dst_svm)
    };
    present && *cluster == ctx.cluster && ctx.sees_svm(&w.svm_name(svm))
}

/// Routes `/api/snapmirror/relationships`.
pub fn relationships(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    let source_view = ctx.query.flag("list_destinations_only")?;
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .relationships
                .iter()
                .filter(|r| visible(w, ctx, r, source_view))
                .map(|r| rel_json(w, r, &ctx.cluster))
                .collect();
            Ok(Reply::ok(collection(
                "/api/snapmirror/relationships",
                &ctx.query,
                recs,
                &REL_SHAPE,
            )?))
        }
        (&Method::POST, []) => {
            ctx.require_cluster_admin()?;
            create(w, ctx)
        }
        (m, [id, rest @ ..]) => {
            check_uuid(id)?;
            let find = |src: bool| {
                w.relationships
                    .iter()
                    .position(|r| r.uuid == *id && visible(w, ctx, r, src))
            };
            let on_dst = find(false);
            let i = match (m, on_dst) {
                (_, Some(i)) => i,
                (&Method::GET | &Method::DELETE, None) => {
                    find(true).ok_or_else(|| not_found_rel(id))?
                }
                _ => return Err(not_found_rel(id)),
            };
            match (m, rest) {
                (&Method::GET, []) => Ok(Reply::ok(instance(
                    &rel_json(w, &w.relationships[i], &ctx.cluster),
                    &ctx.query,
                    &REL_SHAPE,
                ))),
                (&Method::PATCH, []) => {
                    ctx.require_cluster_admin()?;
                    patch(w, ctx, i)
                }
                (&Method::DELETE, []) => {
                    ctx.require_cluster_admin()?;
                    delete(w, ctx, i, on_dst.is_some())
                }
                (_, ["transfers", trest @ ..]) if on_dst.is_some() => transfers(w, ctx, i, trest),
                _ => Err(not_allowed(ctx)),
            }
        }
        _ => Err(not_allowed(ctx)),
    }
}

fn not_found_rel(id: &str) -> ApiError {
    ApiError::not_found(format!("SnapMirror relationship \"{id}\" not found on this cluster (relationships are listed on the destination cluster; use list_destinations_only=true on the source).")).target("uuid")
}

fn svm_path(w: &str, target: &str) -> Result<String, ApiError> {
    let Some((svm, rest)) = w.split_once(':') else {
        return Err(ApiError::bad(13303852, format!("Invalid path \"{w}\": an SVM-DR endpoint is written \"<svm>:\" (with the trailing colon).")).target(target));
    };
    if !rest.is_empty() {
        return Err(ApiError::invalid(format!("Path \"{w}\" names a volume: the simulator models SVM-DR relationships only (\"<svm>:\").")).target(target));
    }
    if svm.is_empty() {
        return Err(ApiError::invalid(format!("Path \"{w}\" has no SVM name.")).target(target));
    }
    Ok(svm.to_string())
}

struct CreatePlan {
    src_cluster: String,
    src_svm: String,
    src_alias: String,
    dst_svm: Option<String>,
    dst_name: String,
    policy: String,
    policy_type: String,
    identity: String,
    identity_explicit: bool,
    initialize: bool,
    reverse_of: Option<usize>,
}

fn plan_create(w: &World, ctx: &Ctx) -> Result<CreatePlan, ApiError> {
    if ctx.b("restore") == Some(true) {
        return Err(ApiError::bad(
            13303853,
            "Restore relationships are not supported for SVM-DR.",
        )
        .target("restore"));
    }
    let src_path = ctx.req("source.path")?;
    let dst_path = ctx.req("destination.path")?;
    let dst_name = svm_path(dst_path, "destination.path")?;
    let src_alias = svm_path(src_path, "source.path")?;
    let create_destination = ctx.b("create_destination.enabled").unwrap_or(false);
    let state = ctx.s("state");
    if state.is_some() && !create_destination {
        return Err(ApiError::bad(13303873, "\"state\" can only be given together with create_destination.enabled=true; create the relationship, then initialize it with a PATCH.").target("state"));
    }
    if let Some(s) = state
        && s != "snapmirrored"
    {
        return Err(ApiError::invalid(format!(
            "Invalid state \"{s}\" for a create: only snapmirrored."
        ))
        .target("state"));
    }
    let src_cluster_name = ctx
        .s("source.cluster.name")
        .or(ctx.s("source.cluster.uuid"));
    let Some(src_cluster_name) = src_cluster_name else {
        return Err(if create_destination {
            ApiError::bad(
                13303879,
                "source.cluster.name (or uuid) is required to provision the destination SVM.",
            )
        } else {
            ApiError::bad(
                13303877,
                "source.cluster.name must be specified for an SVM-DR relationship.",
            )
        }
        .target("source.cluster.name"));
    };
    let local = w
        .cluster(&ctx.cluster)
        .map(|c| (c.name.clone(), c.uuid.clone()))
        .unwrap_or_default();
    if src_cluster_name == local.0 || src_cluster_name == local.1 {
        return Err(ApiError::bad(
            13303880,
            "The source cluster must be a remote cluster: intracluster SVM-DR is not supported.",
        )
        .target("source.cluster.name"));
    }
    let src_cluster = peered_cluster(w, &ctx.cluster, src_cluster_name)
        .map_err(|e| e.target("source.cluster.name"))?;
    // Version gate for relationship-level identity preservation.
    let version = w
        .cluster(&ctx.cluster)
        .map(|c| c.version)
        .unwrap_or((9, 14, 1));
    let policy = ctx.s("policy.name").map(str::to_string).unwrap_or_else(|| {
        if version < (9, 7, 0) {
            "MirrorAndVault".into()
        } else {
            "Asynchronous".into()
        }
    });
    let pol = w
        .policies
        .iter()
        .find(|p| p.cluster == ctx.cluster && p.name == policy)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "SnapMirror policy \"{policy}\" not found on cluster \"{}\".",
                local.0
            ))
            .target("policy.name")
        })?;
    if pol.ptype != "async" {
        return Err(ApiError::invalid(format!(
            "Policy \"{policy}\" is of type {}: SVM-DR needs an async policy.",
            pol.ptype
        ))
        .target("policy.name"));
    }
    let (identity, identity_explicit) = match ctx.s("identity_preservation") {
        Some(v) => {
            if !IDENTITIES.contains(&v) {
                return Err(
                    ApiError::invalid(format!("Invalid identity_preservation \"{v}\"."))
                        .target("identity_preservation"),
                );
            }
            if version < (9, 11, 1) {
                return Err(ApiError::invalid("identity_preservation on a relationship needs ONTAP 9.11.1 or later: set it on the policy.").target("identity_preservation"));
            }
            (v.to_string(), true)
        }
        None => (
            pol.identity_preservation
                .clone()
                .unwrap_or_else(|| IDENTITIES[0].to_string()),
            false,
        ),
    };
    // Source SVM: through the SVM peer alias, or (create_destination) by name.
    let peer: Option<&SvmPeer> = w
        .svm_peers
        .iter()
        .find(|p| p.cluster == ctx.cluster && p.peer_cluster == src_cluster && p.name == src_alias);
    let src_svm = match (peer, create_destination) {
        (Some(p), _) => p.peer_svm.clone(),
        (None, true) => w
            .svm_by_name(&src_cluster, &src_alias)
            .map(|s| s.uuid.clone())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "SVM \"{src_alias}\" not found on cluster \"{src_cluster_name}\"."
                ))
                .target("source.path")
            })?,
        (None, false) => {
            return Err(ApiError::invalid(format!(
                "SVM \"{src_alias}\" on cluster \"{src_cluster_name}\" is not peered with an SVM of this cluster: create the SVM peer relationship (application snapmirror) first."
            )).target("source.path"));
        }
    };
    if let Some(s) = w.svm(&src_svm)
        && s.subtype == "dp_destination"
        && !create_destination
    {
        return Err(ApiError::invalid(format!(
            "Source SVM \"{}\" is a dp_destination SVM.",
            s.name
        ))
        .target("source.path"));
    }
    let dst = w.svm_by_name(&ctx.cluster, &dst_name).cloned();
    if let Some(p) = peer {
        let dst_uuid = dst.as_ref().map(|d| d.uuid.clone()).unwrap_or_default();
        if p.svm != dst_uuid {
            return Err(ApiError::invalid(format!(
                "SVM \"{src_alias}\" is peered with \"{}\", not with \"{dst_name}\".",
                w.svm_name(&p.svm)
            ))
            .target("destination.path"));
        }
        if p.state != "peered" {
            return Err(ApiError::invalid(format!("The SVM peer relationship {src_alias} ↔ {dst_name} is {}: accept it on the peer cluster first.", p.state)).target("source.path"));
        }
        if !p.applications.iter().any(|a| a == "snapmirror") {
            return Err(ApiError::invalid(
                "The SVM peer relationship does not include the snapmirror application.",
            )
            .target("source.path"));
        }
    }
    if w.relationships.iter().any(|r| {
        r.dst_present
            && r.dst_cluster == ctx.cluster
            && dst.as_ref().is_some_and(|d| d.uuid == r.dst_svm)
    }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            6619637,
            format!("A relationship with destination \"{dst_name}:\" already exists."),
        )
        .target("destination.path"));
    }
    if w.relationships
        .iter()
        .any(|r| r.src_present && r.src_svm == src_svm && r.dst_present)
    {
        return Err(ApiError::bad(
            13303976,
            format!("Source SVM \"{src_alias}\" is already in an SVM-DR relationship."),
        )
        .target("source.path"));
    }
    let mut reverse_of = None;
    match (&dst, create_destination) {
        (Some(_), true) => {
            return Err(ApiError::duplicate(format!(
                "SVM \"{dst_name}\" already exists: drop create_destination or choose a new name."
            ))
            .target("destination.path"));
        }
        (None, true) => {
            let allowed = w.permissions.iter().any(|p| {
                p.cluster == src_cluster
                    && p.peer_cluster == ctx.cluster
                    && (p.svm == "*" || p.svm == src_alias)
                    && p.applications.iter().any(|a| a == "snapmirror")
            });
            if !allowed {
                return Err(ApiError::bad(
                    13303886,
                    format!(
                        "No SVM peer permission on cluster \"{src_cluster_name}\" lets SVM \"{src_alias}\" peer with this cluster: POST /api/svm/peer-permissions there first."
                    ),
                ));
            }
        }
        (None, false) => {
            return Err(ApiError::not_found(format!(
                "SVM \"{dst_name}\" not found on cluster \"{}\".",
                local.0
            ))
            .target("destination.path"));
        }
        (Some(d), false) => {
            if d.subtype != "dp_destination" {
                reverse_of = w.relationships.iter().position(|r| {
                    r.src_svm == d.uuid && r.dst_svm == src_svm && r.common.is_some()
                });
                if reverse_of.is_none() {
                    return Err(ApiError::invalid(format!("Destination SVM \"{dst_name}\" has subtype {}: an SVM-DR destination must be dp_destination (or the former source of a broken-off relationship, for a reverse resync).", d.subtype)).target("destination.path"));
                }
            }
        }
    }
    Ok(CreatePlan {
        src_cluster,
        src_svm,
        src_alias,
        dst_svm: dst.map(|d| d.uuid),
        dst_name,
        policy,
        policy_type: pol.ptype.clone(),
        identity,
        identity_explicit,
        initialize: state.is_some(),
        reverse_of,
    })
}

fn create(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let plan = plan_create(w, ctx)?;
    if ctx.query.flag("validate_only")? {
        return Ok(Reply::ok(json!({})));
    }
    let uuid = new_uuid();
    let dst_cluster = ctx.cluster.clone();
    let schedule = ctx.s("transfer_schedule.name").map(str::to_string);
    if let Some(s) = &schedule {
        check_transfer_schedule(s)?;
    }
    let throttle = match ctx.v("throttle") {
        Some(v) => throttle_value(v)?,
        None => 0,
    };
    let u = uuid.clone();
    let svm_info = plan.dst_svm.clone().map(|d| (plan.dst_name.clone(), d));
    let job = ctx.job(
        w,
        svm_info,
        None,
        Box::new(move |w: &mut World| {
            if w.is_down(&plan.src_cluster) {
                return Err(ApiError::bad(
                    13303939,
                    format!(
                        "Cannot reach source cluster \"{}\".",
                        w.cluster_name(&plan.src_cluster)
                    ),
                ));
            }
            let dst_svm = match plan.dst_svm {
                Some(d) => {
                    if w.relationships
                        .iter()
                        .any(|r| r.dst_present && r.dst_svm == d)
                    {
                        return Err(ApiError::new(
                            StatusCode::CONFLICT,
                            6619637,
                            "A relationship with that destination already exists.",
                        ));
                    }
                    d
                }
                None => {
                    let svm_uuid = new_uuid();
                    w.svms.push(Svm {
                        uuid: svm_uuid.clone(),
                        cluster: dst_cluster.clone(),
                        name: plan.dst_name.clone(),
                        state: "stopped".into(),
                        subtype: "dp_destination".into(),
                        comment: String::new(),
                        ipspace: "Default".into(),
                        nfs: false,
                        iscsi: false,
                        cifs: false,
                        nvme: false,
                        fcp: false,
                        iscsi_target_sn: new_uuid().replace('-', ""),
                    });
                    w.volumes.push(Volume {
                        uuid: new_uuid(),
                        cluster: dst_cluster.clone(),
                        svm: svm_uuid.clone(),
                        name: format!("{}_root", plan.dst_name.replace('-', "_")),
                        size: 1 << 30,
                        vtype: "rw".into(),
                        state: "online".into(),
                        junction: Some("/".into()),
                        is_svm_root: true,
                        writes: vec![],
                        export_policy: "default".into(),
                    });
                    w.ensure_export_policy(&dst_cluster, &svm_uuid, "default");
                    let peer_uuid = new_uuid();
                    let src_name = w.svm_name(&plan.src_svm);
                    w.svm_peers.push(SvmPeer {
                        uuid: peer_uuid.clone(),
                        cluster: dst_cluster.clone(),
                        svm: svm_uuid.clone(),
                        peer_cluster: plan.src_cluster.clone(),
                        peer_svm: plan.src_svm.clone(),
                        name: plan.src_alias.clone(),
                        state: "peered".into(),
                        applications: vec!["snapmirror".into()],
                    });
                    w.svm_peers.push(SvmPeer {
                        uuid: peer_uuid,
                        cluster: plan.src_cluster.clone(),
                        svm: plan.src_svm.clone(),
                        peer_cluster: dst_cluster.clone(),
                        peer_svm: svm_uuid.clone(),
                        name: plan.dst_name.clone(),
                        state: "peered".into(),
                        applications: vec!["snapmirror".into()],
                    });
                    let _ = src_name;
                    svm_uuid
                }
            };
            let (state, common, snap_time, snap_name) =
                match plan.reverse_of.and_then(|i| w.relationships.get(i)) {
                    Some(orig) => (
                        "broken_off",
                        orig.common.clone(),
                        orig.snapshot_time,
                        orig.snapshot_name.clone(),
                    ),
                    None => ("uninitialized", None, None, None),
                };
            w.relationships.push(Relationship {
                uuid: u.clone(),
                src_cluster: plan.src_cluster,
                src_svm: plan.src_svm,
                src_alias: plan.src_alias,
                dst_cluster,
                dst_svm,
                policy: plan.policy,
                policy_type: plan.policy_type,
                identity: plan.identity,
                identity_explicit: plan.identity_explicit,
                state: state.into(),
                healthy: true,
                unhealthy: vec![],
                transfer: None,
                last_transfer_type: None,
                snapshot_time: snap_time,
                snapshot_name: snap_name,
                common,
                schedule,
                throttle,
                total_bytes: 0,
                dst_present: true,
                src_present: true,
            });
            if plan.initialize {
                let i = w.relationships.len() - 1;
                w.start_transfer(i, "initialize", "snapmirrored");
            }
            Ok(())
        }),
        None,
    );
    let records = ctx.query.flag("return_records")?.then(|| {
        json!({"num_records": 1, "records": [{"uuid": uuid, "_links": {"self": {"href": format!("/api/snapmirror/relationships/{uuid}")}}}]})
    });
    Ok(Reply::Job {
        uuid: job,
        done_status: StatusCode::CREATED,
        location: Some(format!("/api/snapmirror/relationships/{uuid}")),
        records,
    })
}

/// What a PATCH does once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Noop,
    Initialize,
    Resume,
    Quiesce,
    Break { start_destination: bool },
    Resync,
    Failback,
}

fn rel_idx(w: &World, uuid: &str) -> Result<usize, ApiError> {
    w.relationships
        .iter()
        .position(|r| r.uuid == uuid && r.dst_present)
        .ok_or_else(|| not_found_rel(uuid))
}

/// Validates a state change against the relationship as it is now.
fn plan_op(
    w: &World,
    uuid: &str,
    target: Option<&str>,
    failover: bool,
    failback: bool,
    force: bool,
) -> Result<Op, ApiError> {
    let i = rel_idx(w, uuid)?;
    let r = &w.relationships[i];
    let transferring = r.transfer.as_ref().is_some_and(|t| t.active());
    let src_name = w.svm_name(&r.src_svm);
    let dst_name = w.svm_name(&r.dst_svm);
    let src_cluster = w.cluster_name(&r.src_cluster);
    if failover {
        let target_ok = target.is_none();
        if !target_ok {
            return Err(ApiError::bad(
                13304156,
                "Use either state=broken_off or failover=true for an SVM-DR failover, not both.",
            )
            .target("state"));
        }
    }
    if failback && target != Some("snapmirrored") {
        return Err(
            ApiError::invalid("failback=true needs {\"state\":\"snapmirrored\"}.").target("state"),
        );
    }
    let breaking = failover || target == Some("broken_off");
    if breaking {
        match r.state.as_str() {
            "uninitialized" => {
                return Err(ApiError::bad(
                    13303808,
                    format!(
                        "Transition to broken_off failed: relationship {src_name}: → {dst_name}: is uninitialized; initialize it first."
                    ),
                ));
            }
            "broken_off" => return Ok(Op::Noop),
            _ => {}
        }
        if transferring {
            return Err(ApiError::bad(
                13303808,
                format!(
                    "Transition to broken_off failed: a transfer is in progress on {dst_name}:. Wait for it or abort it (PATCH the transfer with state=aborted)."
                ),
            ));
        }
        let src_reachable = !w.is_down(&r.src_cluster);
        let src_running = w.svm(&r.src_svm).is_some_and(|s| s.state == "running");
        if r.identity == "full" && src_reachable && src_running {
            return Err(ApiError::bad(
                13303808,
                format!(
                    "Transition to broken_off failed: the relationship preserves full identity and source SVM \"{src_name}\" on cluster \"{src_cluster}\" is running. Stop the source SVM first (PATCH /api/svm/svms/{{uuid}} state=stopped on \"{src_cluster}\")."
                ),
            ));
        }
        if failover && !force {
            let d = w.svm(&r.dst_svm);
            let serves_protocol = d.is_some_and(|d| d.nfs || d.iscsi);
            if !serves_protocol {
                return Err(ApiError::bad(
                    13303856,
                    format!(
                        "Failover validation failed: destination SVM \"{dst_name}\" has no data protocol configured (use force_failover to skip)."
                    ),
                ));
            }
            if !w
                .lifs
                .iter()
                .any(|l| l.svm.as_deref() == Some(r.dst_svm.as_str()))
            {
                return Err(ApiError::bad(
                    13303857,
                    format!(
                        "Failover validation failed: destination SVM \"{dst_name}\" has no network interface."
                    ),
                ));
            }
        }
        return Ok(Op::Break {
            start_destination: failover || !(src_reachable && src_running),
        });
    }
    match (target, r.state.as_str()) {
        (None, _) => Ok(Op::Noop),
        (Some("snapmirrored"), "uninitialized") => {
            if transferring {
                return Err(ApiError::bad(
                    13303810,
                    "Transition to snapmirrored failed: the initialize transfer is already running.",
                ));
            }
            Ok(Op::Initialize)
        }
        (Some("snapmirrored"), "snapmirrored") => Ok(Op::Noop),
        (Some("snapmirrored"), "paused") => Ok(Op::Resume),
        (Some("snapmirrored"), "broken_off") => {
            if w.is_down(&r.src_cluster) {
                return Err(ApiError::bad(
                    13303810,
                    format!(
                        "Transition to snapmirrored failed: source cluster \"{src_cluster}\" is unreachable."
                    ),
                ));
            }
            if failback {
                return Ok(Op::Failback);
            }
            if transferring {
                return Err(ApiError::bad(
                    13303810,
                    "Transition to snapmirrored failed: a transfer is in progress.",
                ));
            }
            if w.svm(&r.dst_svm).is_some_and(|s| s.state != "stopped") {
                return Err(ApiError::bad(
                    13303810,
                    format!(
                        "Transition to snapmirrored failed: destination SVM \"{dst_name}\" must be stopped before a resync (it becomes dp_destination again)."
                    ),
                ));
            }
            if r.common.is_none() {
                return Err(ApiError::bad(
                    13303810,
                    "Transition to snapmirrored failed: no common snapshot between source and destination; delete and re-initialize the relationship.",
                ));
            }
            Ok(Op::Resync)
        }
        (Some("paused"), "snapmirrored") => Ok(Op::Quiesce),
        (Some("paused"), "paused") => Ok(Op::Noop),
        (Some("paused"), other) => Err(ApiError::bad(
            13303809,
            format!("Transition to paused failed: relationship is {other}."),
        )),
        (Some(t @ ("snapmirrored" | "broken_off")), other) => Err(ApiError::bad(
            13303818,
            format!("Invalid state transition from {other} to {t}."),
        )),
        (
            Some(t @ ("in_sync" | "out_of_sync" | "synchronizing" | "expanding" | "shrinking")),
            _,
        ) => Err(ApiError::bad(
            13303828,
            format!("State {t} is not possible for an SVM relationship (async policy)."),
        ))
        .map_err(|e| e.target("state")),
        (Some(t), other) => Err(ApiError::bad(
            13303818,
            format!("Invalid state transition from {other} to {t}."),
        )
        .target("state")),
    }
}

fn set_dst_role(w: &mut World, dst_svm: &str, destination: bool) {
    if let Some(s) = w.svm_mut(dst_svm) {
        s.subtype = if destination {
            "dp_destination"
        } else {
            "default"
        }
        .into();
    }
    for v in w
        .volumes
        .iter_mut()
        .filter(|v| v.svm == dst_svm && !v.is_svm_root)
    {
        v.vtype = if destination { "dp" } else { "rw" }.into();
    }
}

fn apply_op(w: &mut World, uuid: &str, op: Op) -> Result<(), ApiError> {
    let i = rel_idx(w, uuid)?;
    let dst_svm = w.relationships[i].dst_svm.clone();
    let src_svm = w.relationships[i].src_svm.clone();
    match op {
        Op::Noop => {}
        Op::Initialize => {
            w.start_transfer(i, "initialize", "snapmirrored");
        }
        Op::Resume => w.relationships[i].state = "snapmirrored".into(),
        Op::Quiesce => w.relationships[i].state = "paused".into(),
        Op::Break { start_destination } => {
            w.relationships[i].state = "broken_off".into();
            set_dst_role(w, &dst_svm, false);
            if start_destination
                && check_can_serve(w, &dst_svm).is_ok()
                && let Some(s) = w.svm_mut(&dst_svm)
            {
                s.state = "running".into();
            }
        }
        Op::Resync => {
            set_dst_role(w, &dst_svm, true);
            w.start_transfer(i, "resync", "snapmirrored");
        }
        Op::Failback => {
            // Keep the data written on the destination: carry it back to the
            // source, then serve from the source again.
            let data: Vec<(String, Vec<super::world::WriteRec>)> = w
                .volumes
                .iter()
                .filter(|v| v.svm == dst_svm && !v.is_svm_root)
                .map(|v| (v.name.clone(), v.writes.clone()))
                .collect();
            for (name, writes) in &data {
                if let Some(v) = w
                    .volumes
                    .iter_mut()
                    .find(|v| v.svm == src_svm && &v.name == name)
                {
                    v.writes = writes.clone();
                }
            }
            if let Some(s) = w.svm_mut(&dst_svm) {
                s.state = "stopped".into();
            }
            set_dst_role(w, &dst_svm, true);
            if let Some(s) = w.svm_mut(&src_svm) {
                s.subtype = "default".into();
            }
            if check_can_serve(w, &src_svm).is_ok()
                && let Some(s) = w.svm_mut(&src_svm)
            {
                s.state = "running".into();
            }
            let now = Utc::now();
            let r = &mut w.relationships[i];
            r.common = Some(data.into_iter().collect());
            r.snapshot_time = Some(now);
            r.state = "snapmirrored".into();
            r.healthy = true;
            r.unhealthy.clear();
            r.last_transfer_type = Some("resync".into());
        }
    }
    Ok(())
}

fn patch(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let uuid = w.relationships[i].uuid.clone();
    let failover = ctx.query.flag("failover")? || ctx.query.flag("force_failover")?;
    let force = ctx.query.flag("force")? || ctx.query.flag("force_failover")?;
    let failback = ctx.query.flag("failback")?;
    let target = ctx.s("state").map(str::to_string);
    if ctx.v("source").is_some() || ctx.v("destination").is_some() {
        return Err(ApiError::bad(13303828, "Reversing an SVM-DR relationship by swapping source and destination in a PATCH is not supported by the simulator: create the reverse relationship on the original source cluster and resync it (§9.4), or use failback=true.").target("source.path"));
    }
    let op = plan_op(w, &uuid, target.as_deref(), failover, failback, force)?;
    let new_policy = match ctx.s("policy.name") {
        Some(p) => {
            let pol = w
                .policies
                .iter()
                .find(|x| x.cluster == ctx.cluster && x.name == p)
                .ok_or_else(|| {
                    ApiError::not_found(format!("SnapMirror policy \"{p}\" not found."))
                        .target("policy.name")
                })?;
            if pol.ptype != "async" {
                return Err(ApiError::invalid(format!("Policy \"{p}\" is not async."))
                    .target("policy.name"));
            }
            Some(p.to_string())
        }
        None => None,
    };
    let new_identity = match ctx.s("identity_preservation") {
        Some(v) => {
            if !IDENTITIES.contains(&v) {
                return Err(
                    ApiError::invalid(format!("Invalid identity_preservation \"{v}\"."))
                        .target("identity_preservation"),
                );
            }
            if identity_rank(v) > identity_rank(&w.relationships[i].identity) {
                return Err(
                    ApiError::invalid("identity_preservation can only be lowered.")
                        .target("identity_preservation"),
                );
            }
            Some(v.to_string())
        }
        None => None,
    };
    // `transfer_schedule: {name: null}` removes the relationship's own
    // schedule: what NetApp's Ansible collection sends for it
    // (`na_ontap_snapmirror.py`, `string_or_none`); a bare `null` too.
    let schedule = match ctx.body.get("transfer_schedule") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) if v.get("name").is_some_and(Value::is_null) => Some(None),
        Some(v) => {
            let name = v.get("name").and_then(Value::as_str).ok_or_else(|| {
                ApiError::invalid("transfer_schedule needs a \"name\" (or null to remove it).")
                    .target("transfer_schedule.name")
            })?;
            check_transfer_schedule(name)?;
            Some(Some(name.to_string()))
        }
    };
    let throttle = ctx.v("throttle").map(throttle_value).transpose()?;
    if ctx.query.flag("validate_only")? {
        return Ok(Reply::ok(json!({})));
    }
    let t = target.clone();
    let job = ctx.job(
        w,
        Some((
            w.svm_name(&w.relationships[i].dst_svm),
            w.relationships[i].dst_svm.clone(),
        )),
        None,
        Box::new(move |w: &mut World| {
            let op = plan_op(w, &uuid, t.as_deref(), failover, failback, force)?;
            apply_op(w, &uuid, op)?;
            let i = rel_idx(w, &uuid)?;
            let r = &mut w.relationships[i];
            if let Some(p) = new_policy {
                r.policy = p;
            }
            if let Some(id) = new_identity {
                r.identity = id;
                r.identity_explicit = true;
            }
            if let Some(s) = schedule {
                r.schedule = s;
            }
            if let Some(t) = throttle {
                r.throttle = t;
            }
            Ok(())
        }),
        None,
    );
    let _ = op;
    Ok(Ctx::job_reply(job))
}

/// `throttle` in KB/s: a non-negative integer (`0`: unlimited).
fn throttle_value(v: &Value) -> Result<u64, ApiError> {
    v.as_u64().ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid throttle {v}: give KB/s as a non-negative integer (0 is unlimited)."
        ))
        .target("throttle")
    })
}

fn delete(w: &mut World, ctx: &Ctx, i: usize, on_dst: bool) -> Result<Reply, ApiError> {
    let uuid = w.relationships[i].uuid.clone();
    let destination_only = ctx.query.flag("destination_only")?;
    let source_only = ctx.query.flag("source_only")? || ctx.query.flag("source_info_only")?;
    if on_dst && source_only {
        return Err(ApiError::invalid("source_only/source_info_only must be sent to the source cluster (find the relationship there with list_destinations_only=true).").target("source_only"));
    }
    if !on_dst && !source_only {
        return Err(ApiError::invalid("On the source cluster a relationship is released with source_only=true (or source_info_only=true); delete it from the destination cluster otherwise.").target("source_only"));
    }
    if on_dst
        && w.relationships[i]
            .transfer
            .as_ref()
            .is_some_and(|t| t.active())
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            8,
            "A transfer is in progress on this relationship: abort it or wait, then delete.",
        ));
    }
    let job = ctx.job(
        w,
        None,
        None,
        Box::new(move |w: &mut World| {
            let Some(i) = w.relationships.iter().position(|r| r.uuid == uuid) else {
                return Err(ApiError::not_found("The relationship no longer exists."));
            };
            if on_dst {
                if !destination_only {
                    let src = w.relationships[i].src_cluster.clone();
                    if w.is_down(&src) {
                        return Err(ApiError::bad(13303822, format!(
                            "Release of the source failed: cluster \"{}\" is unreachable. Delete with destination_only=true, then release on the source with source_only=true when it is back.",
                            w.cluster_name(&src))));
                    }
                    w.relationships[i].src_present = false;
                }
                w.relationships[i].dst_present = false;
            } else {
                w.relationships[i].src_present = false;
            }
            w.relationships.retain(|r| r.dst_present || r.src_present);
            Ok(())
        }),
        None,
    );
    Ok(Ctx::job_reply(job))
}

fn transfers(w: &mut World, ctx: &Ctx, i: usize, rest: &[&str]) -> Result<Reply, ApiError> {
    let rid = w.relationships[i].uuid.clone();
    let base = format!("/api/snapmirror/relationships/{rid}/transfers");
    let shape = Shape {
        keys: &["uuid"],
        expensive: &[],
    };
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = transfer_json(&w.relationships[i]).into_iter().collect();
            Ok(Reply::ok(collection(&base, &ctx.query, recs, &shape)?))
        }
        (&Method::GET, [tid]) => {
            let t = transfer_json(&w.relationships[i])
                .filter(|t| t["uuid"] == *tid)
                .ok_or_else(|| ApiError::not_found(format!("Transfer \"{tid}\" not found.")))?;
            Ok(Reply::ok(instance(&t, &ctx.query, &shape)))
        }
        (&Method::POST, []) => {
            let r = &w.relationships[i];
            if r.transfer.as_ref().is_some_and(|t| t.active()) {
                return Err(ApiError::bad(
                    13303812,
                    "Another transfer is in progress on this relationship.",
                ));
            }
            let ttype = match r.state.as_str() {
                "uninitialized" => "initialize",
                "snapmirrored" => "update",
                "paused" => {
                    return Err(ApiError::bad(
                        13303812,
                        "The relationship is quiesced (paused): resume it (PATCH state=snapmirrored) before a transfer.",
                    ));
                }
                other => {
                    return Err(ApiError::bad(
                        13303812,
                        format!("Cannot transfer on a {other} relationship: resync it first."),
                    ));
                }
            };
            let tid = w.start_transfer(i, ttype, "snapmirrored");
            let href = format!("{base}/{tid}");
            Ok(Reply::created(
                json!({"num_records": 1, "records": [{"uuid": tid, "_links": {"self": {"href": href}}}]}),
                href,
            ))
        }
        (&Method::PATCH, [tid]) => {
            let st = ctx.req("state")?;
            if !matches!(st, "aborted" | "hard_aborted") {
                return Err(ApiError::invalid(format!(
                    "Invalid transfer state \"{st}\": use aborted or hard_aborted."
                ))
                .target("state"));
            }
            let r = &mut w.relationships[i];
            let Some(t) = r.transfer.as_mut().filter(|t| t.uuid == *tid && t.active()) else {
                return Err(ApiError::not_found(format!(
                    "Transfer \"{tid}\" not found (it may have finished)."
                )));
            };
            t.state = st.to_string();
            t.end_time = Some(Utc::now());
            let ttype = t.ttype.clone();
            r.healthy = false;
            r.unhealthy = vec![
                json!({"code": "13303812", "message": "Transfer aborted by the user.", "arguments": []}),
            ];
            r.last_transfer_type = Some(ttype);
            Ok(Reply::empty())
        }
        _ => Err(not_allowed(ctx)),
    }
}
