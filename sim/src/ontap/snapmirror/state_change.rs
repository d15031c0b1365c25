//! `PATCH /api/snapmirror/relationships/{uuid}`: the state machine (see the
//! table in the module header) and the policy, schedule and throttle changes.

use chrono::Utc;
use serde_json::{Value, json};

use crate::ontap::api::{Ctx, Reply};
use crate::ontap::error::ApiError;
use crate::ontap::schedules::check_transfer_schedule;
use crate::ontap::svm::check_can_serve;
use crate::ontap::world::World;

use super::fields::{rel_idx, throttle_value};
use super::policies::{IDENTITIES, identity_rank};

/// What a PATCH does once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Noop,
    Initialize,
    Resume,
    Quiesce,
    Break { start_destination: bool },
    Resync,
    Failback,
}

/// Validates a state change against the relationship as it is now.
pub(super) fn plan_op(
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

pub(super) fn set_dst_role(w: &mut World, dst_svm: &str, destination: bool) {
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

pub(super) fn apply_op(w: &mut World, uuid: &str, op: Op) -> Result<(), ApiError> {
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
            let data: Vec<(String, Vec<crate::ontap::world::WriteRec>)> = w
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

pub(super) fn patch(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let uuid = w.relationships[i].uuid.clone();
    let failover = ctx.query.flag("failover")? || ctx.query.flag("force_failover")?;
    let force = ctx.query.flag("force")? || ctx.query.flag("force_failover")?;
    let failback = ctx.query.flag("failback")?;
    let target = ctx.s("state").map(str::to_string);
    if ctx.v("source").is_some() || ctx.v("destination").is_some() {
        return Err(ApiError::bad(13303828, "Reversing an SVM-DR relationship by swapping source and destination in a PATCH is not supported by the simulator: create the reverse relationship on the original source cluster and resync it (docs/ontap-rest.md §12.5), or use failback=true.").target("source.path"));
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
