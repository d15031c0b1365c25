//! `POST /api/snapmirror/relationships`: validating and creating an SVM-DR
//! relationship (and its destination SVM peer checks).

use axum::http::StatusCode;
use serde_json::json;

use crate::ontap::api::{Ctx, Reply};
use crate::ontap::error::ApiError;
use crate::ontap::schedules::check_transfer_schedule;
use crate::ontap::svm::peered_cluster;
use crate::ontap::world::{Relationship, Svm, SvmPeer, World, new_uuid};

use super::fields::{svm_path, throttle_value};
use super::policies::IDENTITIES;

pub(super) struct CreatePlan {
    src_cluster: String,
    src_svm: String,
    src_alias: String,
    dst_svm: Option<String>,
    dst_name: String,
    policy: String,
    policy_type: String,
    identity: String,
    identity_explicit: bool,
    initialize: bool,
    reverse_of: Option<usize>,
}

pub(super) fn plan_create(w: &World, ctx: &Ctx) -> Result<CreatePlan, ApiError> {
    if ctx.b("restore") == Some(true) {
        return Err(ApiError::bad(
            13303853,
            "Restore relationships are not supported for SVM-DR.",
        )
        .target("restore"));
    }
    let src_path = ctx.req("source.path")?;
    let dst_path = ctx.req("destination.path")?;
    let dst_name = svm_path(dst_path, "destination.path")?;
    let src_alias = svm_path(src_path, "source.path")?;
    let create_destination = ctx.b("create_destination.enabled").unwrap_or(false);
    let state = ctx.s("state");
    if state.is_some() && !create_destination {
        return Err(ApiError::bad(13303873, "\"state\" can only be given together with create_destination.enabled=true; create the relationship, then initialize it with a PATCH.").target("state"));
    }
    if let Some(s) = state
        && s != "snapmirrored"
    {
        return Err(ApiError::invalid(format!(
            "Invalid state \"{s}\" for a create: only snapmirrored."
        ))
        .target("state"));
    }
    // NetApp's Ansible collection sends the cluster as a bare name
    // (`source: {path, cluster: "<name>"}`, `na_ontap_snapmirror`
    // `get_create_body`, for ONTAP 9.7 and later); it names the cluster
    // as `cluster.name` does.
    let src_cluster_name = ctx
        .s("source.cluster.name")
        .or(ctx.s("source.cluster.uuid"))
        .or(ctx.s("source.cluster"));
    let Some(src_cluster_name) = src_cluster_name else {
        return Err(if create_destination {
            ApiError::bad(
                13303879,
                "source.cluster.name (or uuid) is required to provision the destination SVM.",
            )
        } else {
            ApiError::bad(
                13303877,
                "source.cluster.name must be specified for an SVM-DR relationship.",
            )
        }
        .target("source.cluster.name"));
    };
    let local = w
        .cluster(&ctx.cluster)
        .map(|c| (c.name.clone(), c.uuid.clone()))
        .unwrap_or_default();
    if src_cluster_name == local.0 || src_cluster_name == local.1 {
        return Err(ApiError::bad(
            13303880,
            "The source cluster must be a remote cluster: intracluster SVM-DR is not supported.",
        )
        .target("source.cluster.name"));
    }
    let src_cluster = peered_cluster(w, &ctx.cluster, src_cluster_name)
        .map_err(|e| e.target("source.cluster.name"))?;
    // Version gate for relationship-level identity preservation.
    let version = w
        .cluster(&ctx.cluster)
        .map(|c| c.version)
        .unwrap_or((9, 14, 1));
    let policy = ctx.s("policy.name").map(str::to_string).unwrap_or_else(|| {
        if version < (9, 7, 0) {
            "MirrorAndVault".into()
        } else {
            "Asynchronous".into()
        }
    });
    let pol = w
        .policies
        .iter()
        .find(|p| p.cluster == ctx.cluster && p.name == policy)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "SnapMirror policy \"{policy}\" not found on cluster \"{}\".",
                local.0
            ))
            .target("policy.name")
        })?;
    if pol.ptype != "async" {
        return Err(ApiError::invalid(format!(
            "Policy \"{policy}\" is of type {}: SVM-DR needs an async policy.",
            pol.ptype
        ))
        .target("policy.name"));
    }
    let (identity, identity_explicit) = match ctx.s("identity_preservation") {
        Some(v) => {
            if !IDENTITIES.contains(&v) {
                return Err(
                    ApiError::invalid(format!("Invalid identity_preservation \"{v}\"."))
                        .target("identity_preservation"),
                );
            }
            if version < (9, 11, 1) {
                return Err(ApiError::invalid("identity_preservation on a relationship needs ONTAP 9.11.1 or later: set it on the policy.").target("identity_preservation"));
            }
            (v.to_string(), true)
        }
        None => (
            pol.identity_preservation
                .clone()
                .unwrap_or_else(|| IDENTITIES[0].to_string()),
            false,
        ),
    };
    // Source SVM: through the SVM peer alias, or (create_destination) by name.
    let peer: Option<&SvmPeer> = w
        .svm_peers
        .iter()
        .find(|p| p.cluster == ctx.cluster && p.peer_cluster == src_cluster && p.name == src_alias);
    let src_svm = match (peer, create_destination) {
        (Some(p), _) => p.peer_svm.clone(),
        (None, true) => w
            .svm_by_name(&src_cluster, &src_alias)
            .map(|s| s.uuid.clone())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "SVM \"{src_alias}\" not found on cluster \"{src_cluster_name}\"."
                ))
                .target("source.path")
            })?,
        (None, false) => {
            return Err(ApiError::invalid(format!(
                "SVM \"{src_alias}\" on cluster \"{src_cluster_name}\" is not peered with an SVM of this cluster: create the SVM peer relationship (application snapmirror) first."
            )).target("source.path"));
        }
    };
    if let Some(s) = w.svm(&src_svm)
        && s.subtype == "dp_destination"
        && !create_destination
    {
        return Err(ApiError::invalid(format!(
            "Source SVM \"{}\" is a dp_destination SVM.",
            s.name
        ))
        .target("source.path"));
    }
    let dst = w.svm_by_name(&ctx.cluster, &dst_name).cloned();
    if let Some(p) = peer {
        let dst_uuid = dst.as_ref().map(|d| d.uuid.clone()).unwrap_or_default();
        if p.svm != dst_uuid {
            return Err(ApiError::invalid(format!(
                "SVM \"{src_alias}\" is peered with \"{}\", not with \"{dst_name}\".",
                w.svm_name(&p.svm)
            ))
            .target("destination.path"));
        }
        if p.state != "peered" {
            return Err(ApiError::invalid(format!("The SVM peer relationship {src_alias} ↔ {dst_name} is {}: accept it on the peer cluster first.", p.state)).target("source.path"));
        }
        if !p.applications.iter().any(|a| a == "snapmirror") {
            return Err(ApiError::invalid(
                "The SVM peer relationship does not include the snapmirror application.",
            )
            .target("source.path"));
        }
    }
    if w.relationships.iter().any(|r| {
        r.dst_present
            && r.dst_cluster == ctx.cluster
            && dst.as_ref().is_some_and(|d| d.uuid == r.dst_svm)
    }) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            6619637,
            format!("A relationship with destination \"{dst_name}:\" already exists."),
        )
        .target("destination.path"));
    }
    if w.relationships
        .iter()
        .any(|r| r.src_present && r.src_svm == src_svm && r.dst_present)
    {
        return Err(ApiError::bad(
            13303976,
            format!("Source SVM \"{src_alias}\" is already in an SVM-DR relationship."),
        )
        .target("source.path"));
    }
    let mut reverse_of = None;
    match (&dst, create_destination) {
        (Some(_), true) => {
            return Err(ApiError::duplicate(format!(
                "SVM \"{dst_name}\" already exists: drop create_destination or choose a new name."
            ))
            .target("destination.path"));
        }
        (None, true) => {
            let allowed = w.permissions.iter().any(|p| {
                p.cluster == src_cluster
                    && p.peer_cluster == ctx.cluster
                    && (p.svm == "*" || p.svm == src_alias)
                    && p.applications.iter().any(|a| a == "snapmirror")
            });
            if !allowed {
                return Err(ApiError::bad(
                    13303886,
                    format!(
                        "No SVM peer permission on cluster \"{src_cluster_name}\" lets SVM \"{src_alias}\" peer with this cluster: POST /api/svm/peer-permissions there first."
                    ),
                ));
            }
        }
        (None, false) => {
            return Err(ApiError::not_found(format!(
                "SVM \"{dst_name}\" not found on cluster \"{}\".",
                local.0
            ))
            .target("destination.path"));
        }
        (Some(d), false) => {
            if d.subtype != "dp_destination" {
                reverse_of = w.relationships.iter().position(|r| {
                    r.src_svm == d.uuid && r.dst_svm == src_svm && r.common.is_some()
                });
                if reverse_of.is_none() {
                    return Err(ApiError::invalid(format!("Destination SVM \"{dst_name}\" has subtype {}: an SVM-DR destination must be dp_destination (or the former source of a broken-off relationship, for a reverse resync).", d.subtype)).target("destination.path"));
                }
            }
        }
    }
    Ok(CreatePlan {
        src_cluster,
        src_svm,
        src_alias,
        dst_svm: dst.map(|d| d.uuid),
        dst_name,
        policy,
        policy_type: pol.ptype.clone(),
        identity,
        identity_explicit,
        initialize: state.is_some(),
        reverse_of,
    })
}

pub(super) fn create(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let plan = plan_create(w, ctx)?;
    if ctx.query.flag("validate_only")? {
        return Ok(Reply::ok(json!({})));
    }
    let uuid = new_uuid();
    let dst_cluster = ctx.cluster.clone();
    let schedule = ctx.s("transfer_schedule.name").map(str::to_string);
    if let Some(s) = &schedule {
        check_transfer_schedule(s)?;
    }
    let throttle = match ctx.v("throttle") {
        Some(v) => throttle_value(v)?,
        None => 0,
    };
    let u = uuid.clone();
    let svm_info = plan.dst_svm.clone().map(|d| (plan.dst_name.clone(), d));
    let job = ctx.job(
        w,
        svm_info,
        None,
        Box::new(move |w: &mut World| {
            if w.is_down(&plan.src_cluster) {
                return Err(ApiError::bad(
                    13303939,
                    format!(
                        "Cannot reach source cluster \"{}\".",
                        w.cluster_name(&plan.src_cluster)
                    ),
                ));
            }
            let dst_svm = match plan.dst_svm {
                Some(d) => {
                    if w.relationships
                        .iter()
                        .any(|r| r.dst_present && r.dst_svm == d)
                    {
                        return Err(ApiError::new(
                            StatusCode::CONFLICT,
                            6619637,
                            "A relationship with that destination already exists.",
                        ));
                    }
                    d
                }
                None => {
                    let svm_uuid = new_uuid();
                    w.svms.push(Svm {
                        uuid: svm_uuid.clone(),
                        cluster: dst_cluster.clone(),
                        name: plan.dst_name.clone(),
                        state: "stopped".into(),
                        subtype: "dp_destination".into(),
                        comment: String::new(),
                        ipspace: "Default".into(),
                        nfs: false,
                        iscsi: false,
                        cifs: false,
                        nvme: false,
                        fcp: false,
                        iscsi_target_sn: new_uuid().replace('-', ""),
                    });
                    w.add_svm_root(&dst_cluster, &svm_uuid, &plan.dst_name);
                    let peer_uuid = new_uuid();
                    let src_name = w.svm_name(&plan.src_svm);
                    w.svm_peers.push(SvmPeer {
                        uuid: peer_uuid.clone(),
                        cluster: dst_cluster.clone(),
                        svm: svm_uuid.clone(),
                        peer_cluster: plan.src_cluster.clone(),
                        peer_svm: plan.src_svm.clone(),
                        name: plan.src_alias.clone(),
                        state: "peered".into(),
                        applications: vec!["snapmirror".into()],
                    });
                    w.svm_peers.push(SvmPeer {
                        uuid: peer_uuid,
                        cluster: plan.src_cluster.clone(),
                        svm: plan.src_svm.clone(),
                        peer_cluster: dst_cluster.clone(),
                        peer_svm: svm_uuid.clone(),
                        name: plan.dst_name.clone(),
                        state: "peered".into(),
                        applications: vec!["snapmirror".into()],
                    });
                    let _ = src_name;
                    svm_uuid
                }
            };
            let (state, common, snap_time, snap_name) =
                match plan.reverse_of.and_then(|i| w.relationships.get(i)) {
                    Some(orig) => (
                        "broken_off",
                        orig.common.clone(),
                        orig.snapshot_time,
                        orig.snapshot_name.clone(),
                    ),
                    None => ("uninitialized", None, None, None),
                };
            w.relationships.push(Relationship {
                uuid: u.clone(),
                src_cluster: plan.src_cluster,
                src_svm: plan.src_svm,
                src_alias: plan.src_alias,
                dst_cluster,
                dst_svm,
                policy: plan.policy,
                policy_type: plan.policy_type,
                identity: plan.identity,
                identity_explicit: plan.identity_explicit,
                state: state.into(),
                healthy: true,
                unhealthy: vec![],
                transfer: None,
                last_transfer_type: None,
                snapshot_time: snap_time,
                snapshot_name: snap_name,
                common,
                schedule,
                throttle,
                total_bytes: 0,
                dst_present: true,
                src_present: true,
            });
            if plan.initialize {
                let i = w.relationships.len() - 1;
                w.start_transfer(i, "initialize", "snapmirrored");
            }
            Ok(())
        }),
        None,
    );
    let records = ctx.query.flag("return_records")?.then(|| {
        json!({"num_records": 1, "records": [{"uuid": uuid, "_links": {"self": {"href": format!("/api/snapmirror/relationships/{uuid}")}}}]})
    });
    Ok(Reply::Job {
        uuid: job,
        done_status: StatusCode::CREATED,
        location: Some(format!("/api/snapmirror/relationships/{uuid}")),
        records,
    })
}
