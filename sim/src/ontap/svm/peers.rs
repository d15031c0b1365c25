//! `/api/svm/peers`: SVM peer create, accept, change and delete (as jobs).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::ontap::api::{Ctx, Reply, check_uuid, not_allowed};
use crate::ontap::catalogue;
use crate::ontap::error::ApiError;
use crate::ontap::query::{Shape, collection, instance};
use crate::ontap::world::{SvmPeer, World, new_uuid};

const PEER_SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::SVM_PEERS,
};

/// One SVM peer record, every field.
pub fn svm_peer_json(w: &World, p: &SvmPeer) -> Value {
    json!({
        "uuid": p.uuid,
        "name": p.name,
        "state": p.state,
        "svm": {"name": w.svm_name(&p.svm), "uuid": p.svm},
        "peer": {
            "svm": {"name": w.svm_name(&p.peer_svm), "uuid": p.peer_svm},
            "cluster": {"name": w.cluster_name(&p.peer_cluster), "uuid": w.cluster_uuid(&p.peer_cluster)},
        },
        "applications": p.applications,
        "_links": {"self": {"href": format!("/api/svm/peers/{}", p.uuid)}},
    })
}

/// Routes `/api/svm/peers`.
pub fn peers(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .svm_peers
                .iter()
                .filter(|p| p.cluster == ctx.cluster && ctx.sees_svm(&w.svm_name(&p.svm)))
                .map(|p| svm_peer_json(w, p))
                .collect();
            Ok(Reply::ok(collection(
                "/api/svm/peers",
                &ctx.query,
                recs,
                &PEER_SHAPE,
            )?))
        }
        (&Method::POST, []) => {
            ctx.require_cluster_admin()?;
            create_peer(w, ctx)
        }
        (m, [id]) => {
            check_uuid(id)?;
            let i = w
                .svm_peers
                .iter()
                .position(|p| {
                    p.uuid == *id && p.cluster == ctx.cluster && ctx.sees_svm(&w.svm_name(&p.svm))
                })
                .ok_or_else(|| ApiError::not_found(format!("SVM peer \"{id}\" not found.")))?;
            match *m {
                Method::GET => Ok(Reply::ok(instance(
                    &svm_peer_json(w, &w.svm_peers[i]),
                    &ctx.query,
                    &PEER_SHAPE,
                )?)),
                Method::PATCH => {
                    ctx.require_cluster_admin()?;
                    patch_peer(w, ctx, i)
                }
                Method::DELETE => {
                    ctx.require_cluster_admin()?;
                    delete_peer(w, ctx, i)
                }
                _ => Err(not_allowed(ctx)),
            }
        }
        _ => Err(not_allowed(ctx)),
    }
}

/// The remote cluster key for a cluster-peer name (local alias or real name),
/// requiring a healthy peering.
pub fn peered_cluster(w: &World, local: &str, name: &str) -> Result<String, ApiError> {
    let p = w
        .cluster_peers
        .iter()
        .find(|p| p.cluster == local && (p.name == name || w.cluster_name(&p.remote) == name || w.cluster_uuid(&p.remote) == name))
        .ok_or_else(|| ApiError::not_found(format!("Cluster \"{name}\" is not a peer of cluster \"{}\": create the cluster peer relationship first.", w.cluster_name(local))).target("peer.cluster.name"))?;
    if p.auth != "ok" {
        return Err(ApiError::bad(2, format!("The cluster peer relationship with \"{name}\" is not available yet (authentication {}): finish it on both clusters.", p.auth)).target("peer.cluster.name"));
    }
    Ok(p.remote.clone())
}

fn preauthorized(
    w: &World,
    remote: &str,
    remote_svm: &str,
    initiator_cluster: &str,
    apps: &[String],
) -> bool {
    let by_permission = w.permissions.iter().any(|p| {
        p.cluster == remote
            && p.peer_cluster == initiator_cluster
            && (p.svm == "*" || p.svm == remote_svm)
            && apps.iter().all(|a| p.applications.contains(a))
    });
    let by_initial = w.cluster_peers.iter().any(|p| {
        p.cluster == remote
            && p.remote == initiator_cluster
            && p.initial_allowed_svms
                .iter()
                .any(|s| s == remote_svm || s == "*")
    });
    by_permission || by_initial
}

fn create_peer(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let svm_name = ctx.req("svm.name")?.to_string();
    let local_svm = w
        .svm_by_name(&ctx.cluster, &svm_name)
        .map(|s| s.uuid.clone())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "SVM \"{svm_name}\" not found on cluster \"{}\".",
                w.cluster_name(&ctx.cluster)
            ))
            .target("svm.name")
        })?;
    let peer_svm_name = ctx.req("peer.svm.name")?.to_string();
    let local_name = w.cluster_name(&ctx.cluster);
    let peer_cluster = match ctx.s("peer.cluster.name") {
        None => ctx.cluster.clone(),
        Some(n) if n == local_name => ctx.cluster.clone(),
        Some(n) => peered_cluster(w, &ctx.cluster, n)?,
    };
    let apps: Vec<String> = ctx
        .strs("applications")
        .unwrap_or_else(|| vec!["snapmirror".into()]);
    for a in &apps {
        if !matches!(
            a.as_str(),
            "snapmirror" | "file_copy" | "lun_copy" | "flexcache"
        ) {
            return Err(
                ApiError::invalid(format!("Invalid application \"{a}\".")).target("applications")
            );
        }
        if a == "lun_copy" && peer_cluster != ctx.cluster {
            return Err(ApiError::bad(
                9895996,
                "The lun_copy application is not supported for intercluster SVM peers.",
            )
            .target("applications"));
        }
    }
    let remote_svm = w
        .svm_by_name(&peer_cluster, &peer_svm_name)
        .map(|s| s.uuid.clone())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "SVM \"{peer_svm_name}\" not found on cluster \"{}\".",
                w.cluster_name(&peer_cluster)
            ))
            .target("peer.svm.name")
        })?;
    if remote_svm == local_svm {
        return Err(ApiError::invalid("An SVM cannot peer with itself.").target("peer.svm.name"));
    }
    let alias = match ctx.s("name") {
        Some(n) => n.to_string(),
        None => {
            if peer_cluster != ctx.cluster && w.svm_by_name(&ctx.cluster, &peer_svm_name).is_some()
            {
                return Err(ApiError::bad(9896086, format!("Peer SVM name \"{peer_svm_name}\" conflicts with a local SVM: supply \"name\" with a local alias.")).target("name"));
            }
            peer_svm_name.clone()
        }
    };
    if w.svm_peers
        .iter()
        .any(|p| p.cluster == ctx.cluster && p.svm == local_svm && p.peer_svm == remote_svm)
    {
        return Err(ApiError::duplicate(format!(
            "SVM \"{svm_name}\" is already peered with \"{peer_svm_name}\"."
        )));
    }
    let uuid = new_uuid();
    let (initiator, remote) = (ctx.cluster.clone(), peer_cluster.clone());
    let (u, a) = (uuid.clone(), apps.clone());
    let initiator_svm_name = svm_name.clone();
    let job = ctx.job(
        w,
        Some((svm_name.clone(), local_svm.clone())),
        None,
        Box::new(move |w: &mut World| {
            if w.is_down(&remote) {
                return Err(ApiError::bad(13303939, format!("Could not create the SVM peer relationship: cluster \"{}\" is unreachable.", w.cluster_name(&remote))));
            }
            let intra = initiator == remote;
            let auto = intra || preauthorized(w, &remote, &w.svm_name(&remote_svm), &initiator, &a);
            w.svm_peers.push(SvmPeer {
                uuid: u.clone(),
                cluster: initiator.clone(),
                svm: local_svm.clone(),
                peer_cluster: remote.clone(),
                peer_svm: remote_svm.clone(),
                name: alias,
                state: if auto { "peered" } else { "initiated" }.into(),
                applications: a.clone(),
            });
            w.svm_peers.push(SvmPeer {
                uuid: if intra { new_uuid() } else { u },
                cluster: remote,
                svm: remote_svm,
                peer_cluster: initiator,
                peer_svm: local_svm,
                name: initiator_svm_name,
                state: if auto { "peered" } else { "pending" }.into(),
                applications: a,
            });
            Ok(())
        }),
        None,
    );
    let records = ctx.query.flag("return_records")?.then(|| {
        json!({"num_records": 1, "records": [{"uuid": uuid, "name": peer_svm_name, "_links": {"self": {"href": format!("/api/svm/peers/{uuid}")}}}]})
    });
    Ok(Reply::Job {
        uuid: job,
        done_status: StatusCode::CREATED,
        location: Some(format!("/api/svm/peers/{uuid}")),
        records,
    })
}

fn patch_peer(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let rec = w.svm_peers[i].clone();
    let state = ctx.s("state").map(str::to_string);
    if let Some(st) = &state {
        if !matches!(st.as_str(), "peered" | "rejected" | "suspended") {
            return Err(ApiError::bad(
                26345576,
                format!("Invalid state \"{st}\": a PATCH may set peered, rejected or suspended."),
            )
            .target("state"));
        }
        let ok = match (rec.state.as_str(), st.as_str()) {
            ("pending", "peered" | "rejected") => true,
            ("peered", "suspended") | ("suspended", "peered") => true,
            (a, b) => a == b,
        };
        if !ok {
            return Err(ApiError::bad(
                26345576,
                format!(
                    "Cannot change the SVM peer state from {} to {st}{}.",
                    rec.state,
                    if rec.state == "initiated" {
                        ": accept the request on the peer cluster"
                    } else {
                        ""
                    }
                ),
            )
            .target("state"));
        }
    }
    let alias = ctx.s("name").map(str::to_string);
    if state.as_deref() == Some("peered")
        && rec.state == "pending"
        && alias.is_none()
        && rec.peer_cluster != rec.cluster
        && w.svm_by_name(&rec.cluster, &rec.name).is_some()
    {
        return Err(ApiError::bad(9896088, format!("Peer SVM name \"{}\" conflicts with a local SVM: supply \"name\" with a local alias when accepting.", rec.name)).target("name"));
    }
    let uuid = rec.uuid.clone();
    let here = ctx.cluster.clone();
    let job = ctx.job(
        w,
        Some((w.svm_name(&rec.svm), rec.svm.clone())),
        None,
        Box::new(move |w: &mut World| {
            if let Some(st) = &state {
                if w.is_down(&rec.peer_cluster) {
                    return Err(ApiError::bad(
                        2,
                        format!(
                            "Cluster \"{}\" is unreachable.",
                            w.cluster_name(&rec.peer_cluster)
                        ),
                    ));
                }
                for p in w.svm_peers.iter_mut().filter(|p| p.uuid == uuid) {
                    p.state = st.clone();
                }
            }
            if let Some(a) = alias
                && let Some(p) = w
                    .svm_peers
                    .iter_mut()
                    .find(|p| p.uuid == uuid && p.cluster == here)
            {
                p.name = a;
            }
            Ok(())
        }),
        None,
    );
    Ok(Ctx::job_reply(job))
}

fn delete_peer(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let rec = w.svm_peers[i].clone();
    if w.relationships.iter().any(|r| {
        (r.src_svm == rec.svm && r.dst_svm == rec.peer_svm)
            || (r.dst_svm == rec.svm && r.src_svm == rec.peer_svm)
    }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            8,
            "SnapMirror relationships exist between these SVMs: delete them first.",
        ));
    }
    let force = ctx.b("force").unwrap_or(false);
    let job = ctx.job(
        w,
        Some((w.svm_name(&rec.svm), rec.svm.clone())),
        None,
        Box::new(move |w: &mut World| {
            let remote_down = w.is_down(&rec.peer_cluster);
            if remote_down && !force {
                return Err(ApiError::bad(
                    2,
                    format!(
                        "Cluster \"{}\" is unreachable: delete with \"force\": true.",
                        w.cluster_name(&rec.peer_cluster)
                    ),
                ));
            }
            w.svm_peers
                .retain(|p| !(p.uuid == rec.uuid && (p.cluster == rec.cluster || !remote_down)));
            if rec.peer_cluster == rec.cluster {
                w.svm_peers
                    .retain(|p| !(p.svm == rec.peer_svm && p.peer_svm == rec.svm));
            }
            Ok(())
        }),
        None,
    );
    Ok(Ctx::job_reply(job))
}
