//! `/api/svm/svms`: SVM create, start/stop, change and delete (as jobs), and
//! the rule that two SVMs never serve one data address.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::ontap::api::{Ctx, Reply, check_uuid, not_allowed};
use crate::ontap::catalogue;
use crate::ontap::error::ApiError;
use crate::ontap::query::{Shape, collection, instance};
use crate::ontap::world::{Svm, World, new_uuid, policy_services};

const SVM_SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::SVMS,
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
        // ONTAP's defaults for an SVM created without them (every SVM has
        // a snapshot policy; `default` unless set).
        "snapshot_policy": {"name": "default"},
        "max_volumes": "unlimited",
        "s3": {"enabled": false, "allowed": true},
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
            )?))
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
            // Every SVM has a root volume and a `default` export policy.
            w.add_svm_root(&cluster, &svm.uuid, &svm.name);
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
    let on_running: Option<crate::ontap::world::JobHook> = transitional.map(|t| {
        Box::new(move |w: &mut World| {
            if let Some(s) = w.svm_mut(&u1) {
                if s.state != *"running" || t == "stopping" {
                    s.state = t;
                } else if t == "starting" && s.state == "running" {
                    // already running: nothing to do
                }
            }
        }) as crate::ontap::world::JobHook
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
