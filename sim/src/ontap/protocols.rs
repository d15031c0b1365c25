//! `/api/protocols/nfs/services` and `/api/protocols/san/iscsi/services`:
//! one record per SVM with the protocol configured, keyed by `svm.uuid`.
//! The NFS `state` is `online` only while the SVM serves (running, not a
//! dp_destination, cluster up) and the service is enabled; ONTAP's iSCSI
//! service has no `state` (`enabled` only).

use axum::http::Method;
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::world::{Svm, World};

const NFS_SHAPE: Shape<'static> = Shape {
    keys: &["svm"],
    expensive: &[],
    fields: catalogue::NFS_SERVICES,
};
const ISCSI_SHAPE: Shape<'static> = Shape {
    keys: &["svm"],
    expensive: &[],
    fields: catalogue::ISCSI_SERVICES,
};

fn online(w: &World, s: &Svm) -> bool {
    w.svm_serving(&s.uuid) && s.subtype != "dp_destination"
}

fn nfs_json(w: &World, s: &Svm) -> Value {
    json!({
        "svm": {"name": s.name, "uuid": s.uuid},
        "enabled": s.nfs,
        "state": if s.nfs && online(w, s) { "online" } else { "offline" },
        "protocol": {"v3_enabled": true, "v4_id_domain": "defaultv4iddomain.com", "v40_enabled": true, "v41_enabled": true},
        "transport": {"tcp_enabled": true, "udp_enabled": false},
        // ONTAP's defaults for a service created without them.
        "showmount_enabled": true,
        "vstorage_enabled": false,
        "rquota_enabled": false,
        "auth_sys_extended_groups_enabled": false,
        "extended_groups_limit": 32,
        "_links": {"self": {"href": format!("/api/protocols/nfs/services/{}", s.uuid)}},
    })
}

fn iscsi_json(_: &World, s: &Svm) -> Value {
    json!({
        "svm": {"name": s.name, "uuid": s.uuid},
        "enabled": s.iscsi,
        "target": {
            "name": format!("iqn.1992-08.com.netapp:sn.{}:vs.{}", s.iscsi_target_sn, s.name),
            "alias": s.name,
        },
        "_links": {"self": {"href": format!("/api/protocols/san/iscsi/services/{}", s.uuid)}},
    })
}

fn serve(
    w: &mut World,
    ctx: &Ctx,
    rest: &[&str],
    base: &str,
    has: fn(&Svm) -> bool,
    render: fn(&World, &Svm) -> Value,
    shape: &Shape<'_>,
) -> Result<Reply, ApiError> {
    let svms: Vec<&Svm> = w
        .svms
        .iter()
        .filter(|s| s.cluster == ctx.cluster && ctx.sees_svm(&s.name) && has(s))
        .collect();
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = svms.iter().map(|s| render(w, s)).collect();
            Ok(Reply::ok(collection(base, &ctx.query, recs, shape)?))
        }
        (&Method::GET, [id]) => {
            check_uuid(id)?;
            let s = svms.iter().find(|s| s.uuid == *id).ok_or_else(|| {
                ApiError::not_found(format!("No service configured for SVM \"{id}\"."))
            })?;
            Ok(Reply::ok(instance(&render(w, s), &ctx.query, shape)?))
        }
        _ => Err(not_allowed(ctx)),
    }
}

/// `/api/protocols/nfs/services[/{svm.uuid}]`.
pub fn nfs(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    serve(
        w,
        ctx,
        rest,
        "/api/protocols/nfs/services",
        |s| s.nfs,
        nfs_json,
        &NFS_SHAPE,
    )
}

/// `/api/protocols/san/iscsi/services[/{svm.uuid}]`.
pub fn iscsi(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    serve(
        w,
        ctx,
        rest,
        "/api/protocols/san/iscsi/services",
        |s| s.iscsi,
        iscsi_json,
        &ISCSI_SHAPE,
    )
}
