//! `/api/network/ip/interfaces`: intercluster and data LIFs. `services` is
//! derived from the service policy; `state` is operational (the cluster, the
//! SVM and the lab's LIF-down switch all count).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::world::{Lif, World, new_uuid, policy_services};

const SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::IP_INTERFACES,
};

/// One LIF, every field.
pub fn lif_json(w: &World, l: &Lif) -> Value {
    let family = if l.ip.contains(':') { "ipv6" } else { "ipv4" };
    let mut v = json!({
        "uuid": l.uuid,
        "name": l.name,
        "ip": {"address": l.ip, "netmask": l.netmask, "family": family},
        "state": if w.lif_up(l) { "up" } else { "down" },
        "enabled": l.enabled,
        "scope": if l.svm.is_some() { "svm" } else { "cluster" },
        "service_policy": {"name": l.service_policy},
        "services": policy_services(&l.service_policy),
        "ipspace": {"name": l.ipspace},
        "location": {
            "home_node": {"name": l.home_node},
            "home_port": {"name": l.home_port, "node": {"name": l.home_node}},
            "node": {"name": l.home_node},
            "port": {"name": l.home_port, "node": {"name": l.home_node}},
            "is_home": true,
            "auto_revert": true,
            "failover": "default",
            "broadcast_domain": {"name": "Default"},
        },
        "vip": false,
        "_links": {"self": {"href": format!("/api/network/ip/interfaces/{}", l.uuid)}},
    });
    if let Some(svm) = &l.svm {
        v["svm"] = json!({"name": w.svm_name(svm), "uuid": svm});
    }
    v
}

fn visible(w: &World, ctx: &Ctx, l: &Lif) -> bool {
    if l.cluster != ctx.cluster {
        return false;
    }
    match ctx.scope_svm() {
        None => true,
        Some(s) => l.svm.as_ref().is_some_and(|u| w.svm_name(u) == s),
    }
}

/// Routes the LIF endpoints.
pub fn handle(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .lifs
                .iter()
                .filter(|l| visible(w, ctx, l))
                .map(|l| lif_json(w, l))
                .collect();
            Ok(Reply::ok(collection(
                "/api/network/ip/interfaces",
                &ctx.query,
                recs,
                &SHAPE,
            )?))
        }
        (&Method::POST, []) => create(w, ctx),
        (m, [id]) => {
            check_uuid(id)?;
            let idx = w
                .lifs
                .iter()
                .position(|l| l.uuid == *id && visible(w, ctx, l))
                .ok_or_else(|| ApiError::not_found(format!("IP interface \"{id}\" not found.")))?;
            match *m {
                Method::GET => Ok(Reply::ok(instance(
                    &lif_json(w, &w.lifs[idx]),
                    &ctx.query,
                    &SHAPE,
                )?)),
                Method::PATCH => {
                    if w.lifs[idx].svm.is_none() {
                        ctx.require_cluster_admin()?;
                    }
                    patch(w, ctx, idx)
                }
                Method::DELETE => {
                    if w.lifs[idx].svm.is_none() {
                        ctx.require_cluster_admin()?;
                    }
                    w.lifs.remove(idx);
                    Ok(Reply::empty())
                }
                _ => Err(not_allowed(ctx)),
            }
        }
        _ => Err(not_allowed(ctx)),
    }
}

fn check_ip(w: &World, ctx: &Ctx, ip: &str, except: Option<&str>) -> Result<(), ApiError> {
    if ip.parse::<std::net::IpAddr>().is_err() {
        return Err(ApiError::invalid(format!("Invalid IP address \"{ip}\".")).target("ip.address"));
    }
    if let Some(other) = w.lifs.iter().find(|l| {
        l.cluster == ctx.cluster
            && l.ip == ip
            && Some(l.uuid.as_str()) != except
            && l.ipspace == "Default"
    }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            1376963,
            format!(
                "Duplicate IP address {ip}: LIF \"{}\" already uses it.",
                other.name
            ),
        )
        .target("ip.address"));
    }
    Ok(())
}

fn create(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let svm_name = ctx.s("svm.name").map(str::to_string);
    let svm_uuid = match (&svm_name, ctx.s("svm.uuid")) {
        (None, None) => None,
        (name, uuid) => Some(
            w.svms
                .iter()
                .find(|s| {
                    s.cluster == ctx.cluster
                        && name.as_ref().is_none_or(|n| *n == s.name)
                        && uuid.is_none_or(|u| u == s.uuid)
                })
                .map(|s| s.uuid.clone())
                .ok_or_else(|| ApiError::not_found("SVM not found.").target("svm.name"))?,
        ),
    };
    match &svm_uuid {
        None => ctx.require_cluster_admin()?,
        Some(u) => {
            if !ctx.sees_svm(&w.svm_name(u)) {
                ctx.require_cluster_admin()?;
            }
        }
    }
    let name = ctx.req("name")?.to_string();
    let ip = ctx.req("ip.address")?.to_string();
    let netmask = ctx
        .s("ip.netmask")
        .map(str::to_string)
        .or_else(|| ctx.v("ip.netmask").map(|v| v.to_string()))
        .ok_or_else(|| {
            ApiError::invalid("Missing value for required field \"ip.netmask\".")
                .target("ip.netmask")
        })?;
    let policy = ctx
        .s("service_policy.name")
        .map(str::to_string)
        .unwrap_or_else(|| {
            if svm_uuid.is_none() {
                "default-management".into()
            } else {
                "default-data-files".into()
            }
        });
    if svm_uuid.is_none() && ctx.s("ipspace.name").is_none() && ctx.s("ipspace.uuid").is_none() {
        return Err(ApiError::invalid(
            "Field \"ipspace.name\" is required for a cluster-scoped interface.",
        )
        .target("ipspace.name"));
    }
    if w.lifs
        .iter()
        .any(|l| l.cluster == ctx.cluster && l.name == name && l.svm == svm_uuid)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            1966140,
            format!("An interface named \"{name}\" already exists."),
        )
        .target("name"));
    }
    check_ip(w, ctx, &ip, None)?;
    let nodes: Vec<String> = w
        .cluster(&ctx.cluster)
        .map(|c| c.nodes.iter().map(|n| n.name.clone()).collect())
        .unwrap_or_default();
    let home = match ctx.s("location.home_node.name") {
        Some(n) if nodes.iter().any(|x| x == n) => n.to_string(),
        Some(n) => {
            return Err(ApiError::not_found(format!("Node \"{n}\" not found."))
                .target("location.home_node.name"));
        }
        None => {
            if ctx.s("location.broadcast_domain.name").is_none()
                && ctx.s("location.home_port.name").is_none()
            {
                return Err(ApiError::invalid("Specify location.home_node with location.home_port, or location.broadcast_domain.").target("location"));
            }
            nodes.first().cloned().unwrap_or_default()
        }
    };
    let lif = Lif {
        uuid: new_uuid(),
        cluster: ctx.cluster.clone(),
        name,
        svm: svm_uuid,
        ip,
        netmask: netmask.trim_matches('"').to_string(),
        service_policy: policy,
        home_node: home,
        home_port: ctx
            .s("location.home_port.name")
            .unwrap_or("e0c")
            .to_string(),
        enabled: ctx.b("enabled").unwrap_or(true),
        sim_down: false,
        ipspace: ctx.s("ipspace.name").unwrap_or("Default").to_string(),
    };
    let href = format!("/api/network/ip/interfaces/{}", lif.uuid);
    let rec = lif_json(w, &lif);
    w.lifs.push(lif);
    let return_records = ctx.query.flag("return_records")?;
    let body = if return_records {
        json!({"num_records": 1, "records": [rec]})
    } else {
        json!({})
    };
    Ok(Reply::created(body, href))
}

fn patch(w: &mut World, ctx: &Ctx, idx: usize) -> Result<Reply, ApiError> {
    if let Some(ip) = ctx.s("ip.address") {
        let uuid = w.lifs[idx].uuid.clone();
        check_ip(w, ctx, ip, Some(&uuid))?;
    }
    let l = &mut w.lifs[idx];
    if let Some(e) = ctx.b("enabled") {
        l.enabled = e;
    }
    if let Some(n) = ctx.s("name") {
        l.name = n.to_string();
    }
    if let Some(ip) = ctx.s("ip.address") {
        l.ip = ip.to_string();
    }
    if let Some(p) = ctx.s("service_policy.name") {
        l.service_policy = p.to_string();
    }
    if let Some(n) = ctx.s("location.home_node.name") {
        l.home_node = n.to_string();
    }
    Ok(Reply::empty())
}
