//! `/api/svm/peer-permissions`: which peer clusters may peer with an SVM
//! without an accept.

use axum::http::Method;
use serde_json::{Value, json};

use crate::ontap::api::{Ctx, Reply, not_allowed};
use crate::ontap::catalogue;
use crate::ontap::error::ApiError;
use crate::ontap::query::{Shape, collection};
use crate::ontap::world::{PeerPermission, World};

fn permission_json(w: &World, p: &PeerPermission) -> Value {
    let cp = w
        .cluster_peers
        .iter()
        .find(|c| c.cluster == p.cluster && c.remote == p.peer_cluster);
    let svm_uuid = w
        .svm_by_name(&p.cluster, &p.svm)
        .map(|s| s.uuid.clone())
        .unwrap_or_else(|| "*".into());
    json!({
        "cluster_peer": {"name": cp.map(|c| c.name.clone()).unwrap_or_default(), "uuid": cp.map(|c| c.uuid.clone()).unwrap_or_default()},
        "svm": {"name": p.svm, "uuid": svm_uuid},
        "applications": p.applications,
        "_links": {"self": {"href": format!("/api/svm/peer-permissions/{}/{}", cp.map(|c| c.uuid.clone()).unwrap_or_default(), svm_uuid)}},
    })
}

/// Routes `/api/svm/peer-permissions`.
pub fn permissions(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    let shape = Shape {
        keys: &["cluster_peer", "svm"],
        expensive: &[],
        fields: catalogue::SVM_PEER_PERMISSIONS,
    };
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .permissions
                .iter()
                .filter(|p| p.cluster == ctx.cluster && ctx.sees_svm(&p.svm))
                .map(|p| permission_json(w, p))
                .collect();
            Ok(Reply::ok(collection(
                "/api/svm/peer-permissions",
                &ctx.query,
                recs,
                &shape,
            )?))
        }
        (&Method::POST, []) => {
            ctx.require_cluster_admin()?;
            let cp_name = ctx
                .s("cluster_peer.name")
                .or(ctx.s("cluster_peer.uuid"))
                .ok_or_else(|| {
                    ApiError::invalid("Missing value for required field \"cluster_peer.name\".")
                        .target("cluster_peer.name")
                })?;
            let cp = w
                .cluster_peers
                .iter()
                .find(|p| p.cluster == ctx.cluster && (p.name == cp_name || p.uuid == cp_name))
                .ok_or_else(|| {
                    ApiError::not_found(format!("Cluster peer \"{cp_name}\" not found."))
                        .target("cluster_peer.name")
                })?;
            let peer_cluster = cp.remote.clone();
            let svm = ctx.req("svm.name")?.to_string();
            if svm != "*" && w.svm_by_name(&ctx.cluster, &svm).is_none() {
                return Err(
                    ApiError::not_found(format!("SVM \"{svm}\" not found.")).target("svm.name")
                );
            }
            let apps: Vec<String> = ctx.strs("applications").ok_or_else(|| {
                ApiError::invalid("Missing value for required field \"applications\".")
                    .target("applications")
            })?;
            if w.permissions
                .iter()
                .any(|p| p.cluster == ctx.cluster && p.peer_cluster == peer_cluster && p.svm == svm)
            {
                return Err(ApiError::duplicate(
                    "That SVM peer permission already exists.",
                ));
            }
            let perm = PeerPermission {
                cluster: ctx.cluster.clone(),
                peer_cluster,
                svm,
                applications: apps,
            };
            let rec = permission_json(w, &perm);
            let href = rec["_links"]["self"]["href"]
                .as_str()
                .unwrap_or("")
                .to_string();
            w.permissions.push(perm);
            Ok(Reply::created(
                json!({"num_records": 1, "records": [rec]}),
                href,
            ))
        }
        (&Method::DELETE, [cp_uuid, svm_uuid]) => {
            ctx.require_cluster_admin()?;
            let before = w.permissions.len();
            let peer_cluster = w
                .cluster_peers
                .iter()
                .find(|p| p.cluster == ctx.cluster && p.uuid == *cp_uuid)
                .map(|p| p.remote.clone());
            let svm_name = if *svm_uuid == "*" {
                "*".to_string()
            } else {
                w.svm(svm_uuid).map(|s| s.name.clone()).unwrap_or_default()
            };
            w.permissions.retain(|p| {
                !(p.cluster == ctx.cluster
                    && Some(&p.peer_cluster) == peer_cluster.as_ref()
                    && p.svm == svm_name)
            });
            if w.permissions.len() == before {
                return Err(ApiError::not_found("SVM peer permission not found."));
            }
            Ok(Reply::empty())
        }
        _ => Err(not_allowed(ctx)),
    }
}
