//! `DELETE /api/snapmirror/relationships/{uuid}`: from the destination, or
//! the source-side release.

use axum::http::StatusCode;

use crate::ontap::api::{Ctx, Reply};
use crate::ontap::error::ApiError;
use crate::ontap::world::World;

pub(super) fn delete(w: &mut World, ctx: &Ctx, i: usize, on_dst: bool) -> Result<Reply, ApiError> {
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
