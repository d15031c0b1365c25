//! `/api/storage/volumes`: FlexVol volumes with `state`, `type` (rw/dp),
//! `nas.path` (only while mounted and online), `space.*`, `is_svm_root` and
//! `snapmirror.is_protected`. PATCH (state, size, nas.path) runs as a job.

use axum::http::Method;
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::topology::parse_size;
use super::world::{Volume, World};

const SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
};

/// One volume, every field.
pub fn volume_json(w: &World, v: &Volume) -> Value {
    let used = v.used();
    let available = v.size.saturating_sub(used);
    let protected = w
        .relationships
        .iter()
        .any(|r| r.src_svm == v.svm && r.src_present && !v.is_svm_root);
    let mut out = json!({
        "uuid": v.uuid,
        "name": v.name,
        "svm": {"name": w.svm_name(&v.svm), "uuid": v.svm},
        "state": v.state,
        "type": v.vtype,
        "style": "flexvol",
        "is_svm_root": v.is_svm_root,
        "space": {
            "size": v.size,
            "used": used,
            "available": available,
            "percent_used": (used * 100).checked_div(v.size).unwrap_or(0),
            "available_percent": (available * 100).checked_div(v.size).unwrap_or(0),
        },
        "error_state": {"has_bad_blocks": false, "is_inconsistent": false},
        "snapmirror": {"is_protected": protected},
        "_links": {"self": {"href": format!("/api/storage/volumes/{}", v.uuid)}},
    });
    if v.state == "online"
        && let Some(j) = &v.junction
    {
        out["nas"] = json!({"path": j});
    }
    out
}

fn visible(w: &World, ctx: &Ctx, v: &Volume) -> bool {
    v.cluster == ctx.cluster && ctx.sees_svm(&w.svm_name(&v.svm))
}

/// Routes `/api/storage/volumes`.
pub fn handle(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .volumes
                .iter()
                .filter(|v| visible(w, ctx, v))
                .map(|v| volume_json(w, v))
                .collect();
            Ok(Reply::ok(collection(
                "/api/storage/volumes",
                &ctx.query,
                recs,
                &SHAPE,
            )?))
        }
        (m, [id]) => {
            check_uuid(id)?;
            let i = w
                .volumes
                .iter()
                .position(|v| v.uuid == *id && visible(w, ctx, v))
                .ok_or_else(|| ApiError::not_found(format!("Volume \"{id}\" not found.")))?;
            match *m {
                Method::GET => Ok(Reply::ok(instance(
                    &volume_json(w, &w.volumes[i]),
                    &ctx.query,
                    &SHAPE,
                ))),
                Method::PATCH => patch(w, ctx, i),
                _ => Err(not_allowed(ctx)),
            }
        }
        _ => Err(not_allowed(ctx)),
    }
}

fn patch(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let state = ctx.s("state").map(str::to_string);
    if let Some(s) = &state
        && !matches!(s.as_str(), "online" | "offline" | "restricted")
    {
        return Err(ApiError::invalid(format!("Invalid volume state \"{s}\".")).target("state"));
    }
    let size = match ctx.v("size").or(ctx.v("space.size")) {
        None => None,
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => {
            Some(parse_size(s).map_err(|e| ApiError::invalid(format!("{e:#}")).target("size"))?)
        }
        Some(_) => return Err(ApiError::invalid("Invalid size.").target("size")),
    };
    let path = ctx.v("nas.path").map(|p| p.as_str().map(str::to_string));
    if w.volumes[i].vtype == "dp" && (path.is_some() || size.is_some()) {
        return Err(ApiError::invalid(
            "The volume is a SnapMirror destination (type dp): it is read-only until the relationship is broken.",
        ));
    }
    let uuid = w.volumes[i].uuid.clone();
    let svm = (w.svm_name(&w.volumes[i].svm), w.volumes[i].svm.clone());
    let job = ctx.job(
        w,
        Some(svm),
        None,
        Box::new(move |w: &mut World| {
            let v = w
                .volumes
                .iter_mut()
                .find(|v| v.uuid == uuid)
                .ok_or_else(|| ApiError::not_found("The volume no longer exists."))?;
            if let Some(s) = state {
                v.state = s;
            }
            if let Some(s) = size {
                v.size = s;
            }
            if let Some(p) = path {
                v.junction = p.filter(|p| !p.is_empty());
            }
            Ok(())
        }),
        None,
    );
    Ok(Ctx::job_reply(job))
}
