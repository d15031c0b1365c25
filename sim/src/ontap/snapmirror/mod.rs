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
//!
//! - [`policies`]: the policies and the identity preservation levels.
//! - `create`, `state_change`, `delete`, `transfers`: the relationship verbs.
//! - `view`: a relationship's JSON from either cluster; `fields`: shared checks.

mod create;
mod delete;
mod fields;
mod policies;
mod state_change;
mod transfers;
mod view;

use axum::http::Method;

use crate::ontap::api::{Ctx, Reply, check_uuid, not_allowed};
use crate::ontap::catalogue;
use crate::ontap::error::ApiError;
use crate::ontap::query::{Shape, collection, instance};
use crate::ontap::world::{Relationship, World};

use create::create;
use delete::delete;
use fields::not_found_rel;
pub use policies::policies;
use state_change::patch;
use transfers::transfers;
pub use view::rel_json;

const REL_SHAPE: Shape<'static> = Shape {
    keys: &["uuid"],
    expensive: &["svmdr_volumes"],
    fields: catalogue::SNAPMIRROR_RELATIONSHIPS,
};

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
                )?)),
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
