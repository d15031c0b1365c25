//! `/api/snapmirror/relationships/{uuid}/transfers`: the transfer history and
//! manual updates.

use axum::http::Method;
use chrono::Utc;
use serde_json::json;

use crate::ontap::api::{Ctx, Reply, not_allowed};
use crate::ontap::catalogue;
use crate::ontap::error::ApiError;
use crate::ontap::query::{Shape, collection, instance};
use crate::ontap::world::World;

use super::view::transfer_json;

pub(super) fn transfers(
    w: &mut World,
    ctx: &Ctx,
    i: usize,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let rid = w.relationships[i].uuid.clone();
    let base = format!("/api/snapmirror/relationships/{rid}/transfers");
    let shape = Shape {
        keys: &["uuid"],
        expensive: &[],
        fields: catalogue::SNAPMIRROR_TRANSFERS,
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
            Ok(Reply::ok(instance(&t, &ctx.query, &shape)?))
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
