//! The `/api` dispatch table: which resource handler serves a path.

use axum::http::StatusCode;

use super::api::{Ctx, Reply};
use super::error::ApiError;
use super::world::World;
use super::{
    cluster, exports, luns, network, peers, protocols, schedules, snapmirror, svm, volumes,
};

/// Routes an `/api` request to its resource.
pub fn dispatch(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let segs: Vec<&str> = ctx.segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["cluster"] => cluster::cluster(w, ctx),
        ["cluster", "nodes", rest @ ..] => cluster::nodes(w, ctx, rest),
        ["cluster", "jobs", rest @ ..] => cluster::jobs(w, ctx, rest),
        ["cluster", "schedules", rest @ ..] => schedules::handle(w, ctx, rest),
        ["cluster", "peers", rest @ ..] => peers::handle(w, ctx, rest),
        ["network", "ip", "interfaces", rest @ ..] => network::handle(w, ctx, rest),
        ["svm", "svms", rest @ ..] => svm::svms(w, ctx, rest),
        ["svm", "peers", rest @ ..] => svm::peers(w, ctx, rest),
        ["svm", "peer-permissions", rest @ ..] => svm::permissions(w, ctx, rest),
        ["snapmirror", "policies", rest @ ..] => snapmirror::policies(w, ctx, rest),
        ["snapmirror", "relationships", rest @ ..] => snapmirror::relationships(w, ctx, rest),
        ["storage", "volumes", rest @ ..] => volumes::handle(w, ctx, rest),
        ["protocols", "nfs", "services", rest @ ..] => protocols::nfs(w, ctx, rest),
        ["protocols", "nfs", "export-policies", rest @ ..] => exports::handle(w, ctx, rest),
        ["storage", "luns", rest @ ..] => luns::handle(w, ctx, rest),
        ["protocols", "san", "iscsi", "services", rest @ ..] => protocols::iscsi(w, ctx, rest),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            3,
            format!("API not found: {}", ctx.path),
        )),
    }
}
