//! `/api/storage/volumes`: FlexVol volumes with `state`, `type` (rw/dp),
//! `size` and `space.*` (bytes), `nas.path` (only while mounted and online),
//! `nas.export_policy{name,id}`, `is_svm_root` and `snapmirror.is_protected`.
//! POST, PATCH (state, size, nas.path, name, nas.export_policy.name) and
//! DELETE run as jobs. ONTAP's defaults for what the model does not vary:
//! `language` (the SVM's `c.utf_8`), `snapshot_policy` `default`,
//! `tiering.policy` `none`, `guarantee` `volume`, `access_time_enabled`,
//! `snapshot_directory_access_enabled`, `snaplock.type` `non_snaplock`,
//! `create_time`, and `aggregates`: one per volume,
//! `<first node>_aggr1` (the lab has no aggregates of its own).

use axum::http::Method;
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::topology::parse_size;
use super::world::{Volume, World, new_uuid, ts};

const SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::VOLUMES,
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
        "size": v.size,
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
        "create_time": ts(v.created),
        "language": "c.utf_8",
        "snapshot_policy": {"name": "default"},
        "tiering": {"policy": "none"},
        "guarantee": {"type": "volume", "honored": true},
        "aggregates": [{"name": aggregate(w, &v.cluster)}],
        "access_time_enabled": true,
        "snapshot_directory_access_enabled": true,
        "snaplock": {"type": "non_snaplock"},
        "snapmirror": {"is_protected": protected},
        "_links": {"self": {"href": format!("/api/storage/volumes/{}", v.uuid)}},
    });
    let policy_id = w.export_policy(&v.svm, &v.export_policy).map(|p| p.id);
    out["nas"] = json!({"export_policy": {"name": v.export_policy, "id": policy_id}});
    if v.state == "online"
        && let Some(j) = &v.junction
    {
        out["nas"]["path"] = json!(j);
    }
    out
}

/// The aggregate the lab reports a volume on: the first node's `aggr1`
/// (ONTAP aggregate names take no `-`).
fn aggregate(w: &World, cluster: &str) -> String {
    let node = w
        .cluster_idx(cluster)
        .and_then(|i| w.clusters[i].nodes.first())
        .map(|n| n.name.replace('-', "_"))
        .unwrap_or_default();
    format!("{node}_aggr1")
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
        (&Method::POST, []) => create(w, ctx),
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
                )?)),
                Method::PATCH => patch(w, ctx, i),
                Method::DELETE => delete(w, ctx, i),
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
    let size = size_of(ctx.v("size").or(ctx.v("space.size")))?;
    let path = ctx.v("nas.path").map(|p| p.as_str().map(str::to_string));
    if w.volumes[i].vtype == "dp" && (path.is_some() || size.is_some()) {
        return Err(ApiError::invalid(
            "The volume is a SnapMirror destination (type dp): it is read-only until the relationship is broken.",
        ));
    }
    let uuid = w.volumes[i].uuid.clone();
    let svm = (w.svm_name(&w.volumes[i].svm), w.volumes[i].svm.clone());
    let rename = ctx.s("name").map(str::to_string);
    let export_policy = ctx.s("nas.export_policy.name").map(str::to_string);
    if let Some(p) = &export_policy
        && w.export_policy(&svm.1, p).is_none()
    {
        return Err(ApiError::not_found(format!(
            "Export policy \"{p}\" does not exist in SVM \"{}\".",
            svm.0
        ))
        .target("nas.export_policy.name"));
    }
    if let Some(n) = &rename
        && w.volumes
            .iter()
            .any(|v| v.svm == svm.1 && v.name == *n && v.uuid != uuid)
    {
        return Err(ApiError::duplicate(format!(
            "Volume \"{n}\" already exists in SVM \"{}\".",
            svm.0
        ))
        .target("name"));
    }
    let job = ctx.job(
        w,
        Some(svm),
        None,
        Box::new(move |w: &mut World| {
            if let Some(n) = rename {
                w.rename_volume(&uuid, &n)?;
            }
            let v = w
                .volumes
                .iter_mut()
                .find(|v| v.uuid == uuid)
                .ok_or_else(|| ApiError::not_found("The volume no longer exists."))?;
            if let Some(p) = export_policy {
                v.export_policy = p;
            }
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

fn size_of(v: Option<&Value>) -> Result<Option<u64>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_u64()),
        Some(Value::String(s)) => parse_size(s)
            .map(Some)
            .map_err(|e| ApiError::invalid(format!("{e:#}")).target("size")),
        Some(_) => Err(ApiError::invalid("Invalid size.").target("size")),
    }
}

fn create(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let name = ctx.req("name")?.to_string();
    let svm = ctx.body_svm(w, "volumes")?;
    let vtype = ctx.s("type").unwrap_or("rw").to_string();
    if !matches!(vtype.as_str(), "rw" | "dp") {
        return Err(ApiError::invalid(format!("Invalid volume type \"{vtype}\".")).target("type"));
    }
    if svm.subtype == "dp_destination" && vtype == "rw" {
        return Err(ApiError::invalid(format!(
            "SVM \"{}\" is a dp_destination: only type dp volumes can be created in it.",
            svm.name
        ))
        .target("type"));
    }
    if w.volumes
        .iter()
        .any(|v| v.svm == svm.uuid && v.name == name)
    {
        return Err(ApiError::duplicate(format!(
            "Volume \"{name}\" already exists in SVM \"{}\".",
            svm.name
        ))
        .target("name"));
    }
    let size = size_of(ctx.v("size").or(ctx.v("space.size")))?.unwrap_or(20 << 20);
    let uuid = new_uuid();
    let vol = Volume {
        uuid: uuid.clone(),
        cluster: ctx.cluster.clone(),
        svm: svm.uuid.clone(),
        name: name.clone(),
        size,
        vtype,
        state: ctx.s("state").unwrap_or("online").to_string(),
        junction: ctx.s("nas.path").map(str::to_string),
        is_svm_root: false,
        writes: vec![],
        export_policy: ctx
            .s("nas.export_policy.name")
            .unwrap_or("default")
            .to_string(),
        created: chrono::Utc::now(),
    };
    let job = ctx.job(
        w,
        Some((svm.name.clone(), svm.uuid.clone())),
        None,
        Box::new(move |w: &mut World| {
            if w.volumes
                .iter()
                .any(|v| v.svm == vol.svm && v.name == vol.name)
            {
                return Err(ApiError::duplicate(format!(
                    "Volume \"{}\" already exists.",
                    vol.name
                )));
            }
            w.volumes.push(vol);
            Ok(())
        }),
        None,
    );
    let records = ctx.query.flag("return_records")?.then(|| {
        json!({"num_records": 1, "records": [{"uuid": uuid, "name": name, "_links": {"self": {"href": format!("/api/storage/volumes/{uuid}")}}}]})
    });
    Ok(Reply::Job {
        uuid: job,
        done_status: axum::http::StatusCode::CREATED,
        location: Some(format!("/api/storage/volumes/{uuid}")),
        records,
    })
}

fn delete(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let v = &w.volumes[i];
    if v.is_svm_root {
        return Err(ApiError::invalid(format!(
            "Volume \"{}\" is the SVM root volume: delete the SVM instead.",
            v.name
        )));
    }
    let uuid = v.uuid.clone();
    let svm = (w.svm_name(&v.svm), v.svm.clone());
    let job = ctx.job(
        w,
        Some(svm),
        None,
        Box::new(move |w: &mut World| {
            w.volumes.retain(|v| v.uuid != uuid);
            Ok(())
        }),
        None,
    );
    Ok(Ctx::job_reply(job))
}
