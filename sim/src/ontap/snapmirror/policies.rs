//! `/api/snapmirror/policies`: SnapMirror policies, and the identity
//! preservation levels a policy and a relationship may name.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::ontap::api::{Ctx, Reply, check_uuid, not_allowed};
use crate::ontap::catalogue;
use crate::ontap::error::ApiError;
use crate::ontap::query::{Shape, collection, instance};
use crate::ontap::world::{Policy, World, new_uuid};

pub(super) const POLICY_SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::SNAPMIRROR_POLICIES,
};
pub(super) const IDENTITIES: &[&str] = &[
    "exclude_network_and_protocol_config",
    "exclude_network_config",
    "full",
];

pub(super) fn identity_rank(v: &str) -> usize {
    IDENTITIES.iter().position(|x| *x == v).unwrap_or(0)
}

pub(super) fn policy_json(p: &Policy) -> Value {
    let mut v = json!({
        "uuid": p.uuid, "name": p.name, "type": p.ptype, "scope": "cluster", "comment": p.comment,
        "network_compression_enabled": false, "throttle": 0,
        "_links": {"self": {"href": format!("/api/snapmirror/policies/{}", p.uuid)}},
    });
    if let Some(ip) = &p.identity_preservation {
        v["identity_preservation"] = json!(ip);
    }
    match (p.ptype.as_str(), p.name.as_str()) {
        ("sync", name) => {
            v["sync_type"] = json!(match name {
                "StrictSync" => "strict_sync",
                "AutomatedFailOver" => "automated_failover",
                "AutomatedFailOverDuplex" => "automated_failover_duplex",
                _ => "sync",
            });
        }
        // The CLI's async-mirror (with and without all_source_snapshots)
        // and vault built-ins, as REST spells them; mirror-vault has none.
        ("async", "MirrorAllSnapshots" | "MirrorAllSnapshotsDiscardNetwork") => {
            v["copy_all_source_snapshots"] = json!(true);
        }
        ("async", "MirrorLatest") => v["copy_latest_source_snapshot"] = json!(true),
        ("async", "XDPDefault" | "DailyBackup" | "CloudBackupDefault") => {
            v["create_snapshot_on_source"] = json!(false);
        }
        _ => {}
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
                )?)),
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
                    if crate::ontap::world::World::is_builtin_policy(&name) {
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
