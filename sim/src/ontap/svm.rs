//! `/api/svm/svms`, `/api/svm/peers` and `/api/svm/peer-permissions`.
//!
//! SVM create/start/stop/delete and SVM peer create/accept/delete run as
//! jobs: the change is applied when the job succeeds. Start and stop pass
//! through `starting`/`stopping` while the job runs.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::world::{PeerPermission, Svm, SvmPeer, Volume, World, new_uuid, policy_services};

const SVM_SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
};
const PEER_SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
};

/// One SVM, every field.
pub fn svm_json(w: &World, s: &Svm) -> Value {
    let lifs: Vec<Value> = w
        .lifs
        .iter()
        .filter(|l| l.svm.as_deref() == Some(s.uuid.as_str()))
        .map(|l| json!({"name": l.name, "uuid": l.uuid, "ip": {"address": l.ip}, "services": policy_services(&l.service_policy)}))
        .collect();
    let rel = w
        .relationships
        .iter()
        .find(|r| (r.src_svm == s.uuid && r.src_present) || (r.dst_svm == s.uuid && r.dst_present));
    let protected_count = w
        .volumes
        .iter()
        .filter(|v| v.svm == s.uuid && !v.is_svm_root)
        .count();
    let mut v = json!({
        "uuid": s.uuid,
        "name": s.name,
        "state": s.state,
        "subtype": s.subtype,
        "comment": s.comment,
        "language": "c.utf_8",
        "ipspace": {"name": s.ipspace},
        "aggregates": [],
        "ip_interfaces": lifs,
        "snapmirror": {
            "is_protected": rel.is_some_and(|r| r.src_svm == s.uuid),
            "protected_volumes_count": if rel.is_some_and(|r| r.src_svm == s.uuid) { protected_count } else { 0 },
            "protected_consistency_group_count": 0,
        },
        "_links": {"self": {"href": format!("/api/svm/svms/{}", s.uuid)}},
    });
    if rel.is_some_and(|r| r.src_svm == s.uuid) {
        v["snapmirror"]["protection_type"] = json!("svmdr");
    }
    if s.state != "stopped" {
        v["nfs"] = json!({"enabled": s.nfs, "allowed": true});
        v["iscsi"] = json!({"enabled": s.iscsi, "allowed": true});
        v["cifs"] = json!({"enabled": s.cifs, "allowed": true});
        v["nvme"] = json!({"enabled": s.nvme, "allowed": true});
        v["fcp"] = json!({"enabled": s.fcp, "allowed": true});
    }
    v
}

fn find_svm(w: &World, ctx: &Ctx, id: &str) -> Result<usize, ApiError> {
    check_uuid(id)?;
    w.svms
        .iter()
        .position(|s| s.uuid == id && s.cluster == ctx.cluster && ctx.sees_svm(&s.name))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "SVM \"{id}\" not found on cluster \"{}\".",
                w.cluster_name(&ctx.cluster)
            ))
            .target("uuid")
        })
}

/// Routes `/api/svm/svms`.
pub fn svms(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .svms
                .iter()
                .filter(|s| s.cluster == ctx.cluster && ctx.sees_svm(&s.name))
                .map(|s| svm_json(w, s))
                .collect();
            Ok(Reply::ok(collection(
                "/api/svm/svms",
                &ctx.query,
                recs,
                &SVM_SHAPE,
            )?))
        }
        (&Method::GET, [id]) => {
            let i = find_svm(w, ctx, id)?;
            Ok(Reply::ok(instance(
                &svm_json(w, &w.svms[i]),
                &ctx.query,
                &SVM_SHAPE,
            )))
        }
        (&Method::POST, []) => {
            ctx.require_cluster_admin()?;
            create_svm(w, ctx)
        }
        (&Method::PATCH, [id]) => {
            ctx.require_cluster_admin()?;
            let i = find_svm(w, ctx, id)?;
            patch_svm(w, ctx, i)
        }
        (&Method::DELETE, [id]) => {
            ctx.require_cluster_admin()?;
            let i = find_svm(w, ctx, id)?;
            delete_svm(w, ctx, i)
        }
        _ => Err(not_allowed(ctx)),
    }
}

fn create_svm(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let name = ctx.req("name")?.to_string();
    let subtype = ctx.s("subtype").unwrap_or("default").to_string();
    match subtype.as_str() {
        "default" => {}
        "dp_destination" => {
            if let Some(obj) = ctx.body.as_object()
                && let Some(extra) = obj
                    .keys()
                    .find(|k| !matches!(k.as_str(), "name" | "comment" | "ipspace" | "subtype"))
            {
                return Err(ApiError::bad(2621580, format!("Field \"{extra}\" cannot be specified when creating an SVM with subtype dp_destination: only name, comment and ipspace may be given.")).target(extra.clone()));
            }
        }
        other => {
            return Err(ApiError::invalid(format!(
                "SVM subtype \"{other}\" cannot be created through this API."
            ))
            .target("subtype"));
        }
    }
    if w.svms
        .iter()
        .any(|s| s.cluster == ctx.cluster && s.name == name)
    {
        return Err(ApiError::duplicate(format!(
            "SVM \"{name}\" already exists on cluster \"{}\".",
            w.cluster_name(&ctx.cluster)
        ))
        .target("name"));
    }
    let running_creates = w
        .jobs
        .iter()
        .filter(|j| {
            j.cluster == ctx.cluster && j.description == "POST /api/svm/svms" && !j.state.terminal()
        })
        .count();
    if running_creates >= 5 {
        return Err(ApiError::bad(
            13434894,
            "More than five SVM create jobs are running on this cluster; retry when one finishes.",
        ));
    }
    let uuid = new_uuid();
    let svm = Svm {
        uuid: uuid.clone(),
        cluster: ctx.cluster.clone(),
        name: name.clone(),
        state: "running".into(),
        subtype,
        comment: ctx.s("comment").unwrap_or("").to_string(),
        ipspace: ctx.s("ipspace.name").unwrap_or("Default").to_string(),
        nfs: ctx.b("nfs.enabled").unwrap_or(false),
        iscsi: ctx.b("iscsi.enabled").unwrap_or(false),
        cifs: ctx.b("cifs.enabled").unwrap_or(false),
        nvme: ctx.b("nvme.enabled").unwrap_or(false),
        fcp: ctx.b("fcp.enabled").unwrap_or(false),
        iscsi_target_sn: new_uuid().replace('-', ""),
    };
    let cluster = ctx.cluster.clone();
    let job = ctx.job(
        w,
        Some((name.clone(), uuid.clone())),
        None,
        Box::new(move |w: &mut World| {
            if w.svms
                .iter()
                .any(|s| s.cluster == svm.cluster && s.name == svm.name)
            {
                return Err(ApiError::duplicate(format!(
                    "SVM \"{}\" already exists.",
                    svm.name
                )));
            }
            w.volumes.push(Volume {
                uuid: new_uuid(),
                cluster,
                svm: svm.uuid.clone(),
                name: format!("{}_root", svm.name.replace('-', "_")),
                size: 1 << 30,
                vtype: "rw".into(),
                state: "online".into(),
                junction: Some("/".into()),
                is_svm_root: true,
                writes: vec![],
                export_policy: "default".into(),
            });
            // Every SVM has a `default` export policy, created empty.
            w.ensure_export_policy(&svm.cluster, &svm.uuid, "default");
            w.svms.push(svm);
            Ok(())
        }),
        None,
    );
    let records = ctx
        .query
        .flag("return_records")?
        .then(|| json!({"num_records": 1, "records": [{"uuid": uuid, "name": name, "_links": {"self": {"href": format!("/api/svm/svms/{uuid}")}}}]}));
    Ok(Reply::Job {
        uuid: job,
        done_status: StatusCode::CREATED,
        location: Some(format!("/api/svm/svms/{uuid}")),
        records,
    })
}

/// Data LIF addresses of an SVM.
fn svm_ips(w: &World, svm: &str) -> Vec<String> {
    w.lifs
        .iter()
        .filter(|l| l.svm.as_deref() == Some(svm))
        .map(|l| l.ip.clone())
        .collect()
}

/// Refuses to start an SVM whose data addresses another serving SVM holds
/// (a full identity-preserving SVM-DR pair must never run on both sides).
pub fn check_can_serve(w: &World, svm_uuid: &str) -> Result<(), ApiError> {
    let Some(s) = w.svm(svm_uuid) else {
        return Err(ApiError::not_found("SVM not found."));
    };
    if s.subtype == "dp_destination" {
        return Ok(());
    }
    let mine = svm_ips(w, svm_uuid);
    for other in &w.svms {
        if other.uuid == svm_uuid
            || other.subtype == "dp_destination"
            || !w.svm_serving(&other.uuid)
        {
            continue;
        }
        if let Some(ip) = svm_ips(w, &other.uuid)
            .into_iter()
            .find(|ip| mine.contains(ip))
        {
            return Err(ApiError::bad(
                1376963,
                format!(
                    "Cannot start SVM \"{}\" on cluster \"{}\": its data address {ip} is in use by running SVM \"{}\" on cluster \"{}\" (identity-preserving SVM-DR pair). Stop that SVM first.",
                    s.name,
                    w.cluster_name(&s.cluster),
                    other.name,
                    w.cluster_name(&other.cluster)
                ),
            ));
        }
    }
    Ok(())
}

fn patch_svm(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let uuid = w.svms[i].uuid.clone();
    let name = w.svms[i].name.clone();
    if let Some(new_name) = ctx.s("name") {
        if ctx.body.as_object().is_some_and(|o| o.len() > 1) {
            return Err(ApiError::invalid("Rename an SVM in a PATCH of its own.").target("name"));
        }
        if w.svms
            .iter()
            .any(|s| s.cluster == ctx.cluster && s.name == new_name && s.uuid != uuid)
        {
            return Err(
                ApiError::duplicate(format!("SVM \"{new_name}\" already exists.")).target("name"),
            );
        }
    }
    let state = ctx.s("state").map(str::to_string);
    if let Some(st) = &state
        && !matches!(st.as_str(), "running" | "stopped")
    {
        return Err(ApiError::invalid(format!(
            "Invalid value \"{st}\" for state: use running or stopped."
        ))
        .target("state"));
    }
    if ctx.v("subtype").is_some() {
        return Err(ApiError::invalid("Field \"subtype\" cannot be modified.").target("subtype"));
    }
    let body = ctx.body.clone();
    let prev = w.svms[i].state.clone();
    let transitional = state.as_ref().map(|s| {
        if s == "running" {
            "starting"
        } else {
            "stopping"
        }
        .to_string()
    });
    let (u1, u2, u3) = (uuid.clone(), uuid.clone(), uuid.clone());
    let on_running: Option<super::world::JobHook> = transitional.map(|t| {
        Box::new(move |w: &mut World| {
            if let Some(s) = w.svm_mut(&u1) {
                if s.state != *"running" || t == "stopping" {
                    s.state = t;
                } else if t == "starting" && s.state == "running" {
                    // already running: nothing to do
                }
            }
        }) as super::world::JobHook
    });
    let job = ctx.job(
        w,
        Some((name, uuid.clone())),
        on_running,
        Box::new(move |w: &mut World| {
            if w.svm(&u2).is_none() {
                return Err(ApiError::not_found("The SVM no longer exists."));
            }
            if state.as_deref() == Some("running") {
                check_can_serve(w, &u2)?;
            }
            let s = w.svm_mut(&u2).ok_or_else(|| ApiError::not_found("SVM"))?;
            if let Some(st) = state {
                s.state = st;
            }
            if let Some(n) = body.get("name").and_then(Value::as_str) {
                s.name = n.to_string();
            }
            if let Some(c) = body.get("comment").and_then(Value::as_str) {
                s.comment = c.to_string();
            }
            if let Some(e) = body
                .get("nfs")
                .and_then(|n| n.get("enabled"))
                .and_then(Value::as_bool)
            {
                s.nfs = e;
            }
            if let Some(e) = body
                .get("iscsi")
                .and_then(|n| n.get("enabled"))
                .and_then(Value::as_bool)
            {
                s.iscsi = e;
            }
            for (key, flag) in [
                ("cifs", &mut s.cifs),
                ("nvme", &mut s.nvme),
                ("fcp", &mut s.fcp),
            ] {
                if let Some(e) = body
                    .get(key)
                    .and_then(|n| n.get("enabled"))
                    .and_then(Value::as_bool)
                {
                    *flag = e;
                }
            }
            Ok(())
        }),
        Some(Box::new(move |w: &mut World| {
            if let Some(s) = w.svm_mut(&u3) {
                s.state = prev;
            }
        })),
    );
    Ok(Ctx::job_reply(job))
}

fn delete_svm(w: &mut World, ctx: &Ctx, i: usize) -> Result<Reply, ApiError> {
    let uuid = w.svms[i].uuid.clone();
    let name = w.svms[i].name.clone();
    if w.relationships
        .iter()
        .any(|r| (r.src_svm == uuid && r.src_present) || (r.dst_svm == uuid && r.dst_present))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            8,
            format!(
                "SVM \"{name}\" is in a SnapMirror relationship: delete the relationship first."
            ),
        ));
    }
    if w.svm_peers.iter().any(|p| p.svm == uuid) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            8,
            format!("SVM \"{name}\" has SVM peers: delete them first."),
        ));
    }
    let u = uuid.clone();
    let job = ctx.job(
        w,
        Some((name, uuid)),
        None,
        Box::new(move |w: &mut World| {
            w.svms.retain(|s| s.uuid != u);
            w.volumes.retain(|v| v.svm != u);
            w.lifs.retain(|l| l.svm.as_deref() != Some(u.as_str()));
            w.export_policies.retain(|p| p.svm != u);
            w.luns.retain(|l| l.svm != u);
            Ok(())
        }),
        None,
    );
    Ok(Ctx::job_reply(job))
}

// ---- SVM peers ----------------------------------------------------------------

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
                ))),
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
        .v("applications")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
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

// ---- peer permissions -----------------------------------------------------------

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
            let apps: Vec<String> = ctx
                .v("applications")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .ok_or_else(|| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ontap::{Timing, Topology};

    /// Every protocol service flag of `/api/svm/svms` is reported, false
    /// unless the topology enables it; NVMe/TCP LIFs carry `data_nvme_tcp`.
    #[test]
    fn service_flags_and_nvme_lif_services() {
        let yaml = "clusters:\n- key: a\n  name: a\n  nodes: [n1]\n  svms:\n  - name: s1\n    nfs: true\n  - name: s2\n    nvme: true\n    fcp: true\n    cifs: true\n    lifs: [{name: nv, ip: 127.0.0.9, services: [data_nvme_tcp], home_node: n1}]\n";
        let topo = Topology::from_yaml(yaml).expect("topology");
        let w = World::new(&topo, Timing::fast(), 0, 0).expect("world");
        let flags = |name: &str| {
            let s = w.svm_by_name("a", name).expect("svm");
            let v = svm_json(&w, s);
            ["nfs", "cifs", "iscsi", "nvme", "fcp"].map(|k| v[k]["enabled"].as_bool())
        };
        let (t, f) = (Some(true), Some(false));
        assert_eq!(flags("s1"), [t, f, f, f, f]);
        assert_eq!(flags("s2"), [f, t, f, t, t]);
        let lif = w.lifs.iter().find(|l| l.name == "nv").expect("lif");
        assert_eq!(
            policy_services(&lif.service_policy),
            ["data_core", "data_nvme_tcp"]
        );
    }
}
