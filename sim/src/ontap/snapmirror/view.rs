//! A relationship's JSON as its destination or source cluster shows it.

use chrono::Utc;
use serde_json::{Value, json};

use crate::ontap::timefmt::format_duration;
use crate::ontap::world::{Relationship, World, ts};

/// The alias `cluster` uses for SVM `svm` (its SVM peer name), or the real name.
pub(super) fn alias_on(w: &World, cluster: &str, svm: &str) -> String {
    w.svm_peers
        .iter()
        .find(|p| p.cluster == cluster && p.peer_svm == svm)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| w.svm_name(svm))
}

/// A relationship as seen from `view` (its destination or source cluster).
pub fn rel_json(w: &World, r: &Relationship, view: &str) -> Value {
    let on_dst = view == r.dst_cluster;
    let src_name = if on_dst {
        r.src_alias.clone()
    } else {
        w.svm_name(&r.src_svm)
    };
    let dst_name = if on_dst {
        w.svm_name(&r.dst_svm)
    } else {
        alias_on(w, view, &r.dst_svm)
    };
    let policy_uuid = w
        .policies
        .iter()
        .find(|p| p.cluster == r.dst_cluster && p.name == r.policy)
        .map(|p| p.uuid.clone())
        .unwrap_or_default();
    let vols: Vec<Value> = w
        .volumes
        .iter()
        .filter(|v| v.svm == r.src_svm && !v.is_svm_root)
        .map(|v| json!({"name": v.name}))
        .collect();
    let mut v = json!({
        "uuid": r.uuid,
        "source": {
            "path": format!("{src_name}:"),
            "svm": {"name": src_name, "uuid": r.src_svm},
            "cluster": {"name": w.cluster_name(&r.src_cluster), "uuid": w.cluster_uuid(&r.src_cluster)},
        },
        "destination": {
            "path": format!("{dst_name}:"),
            "svm": {"name": dst_name, "uuid": r.dst_svm},
            "cluster": {"name": w.cluster_name(&r.dst_cluster), "uuid": w.cluster_uuid(&r.dst_cluster)},
        },
        "policy": {"name": r.policy, "uuid": policy_uuid, "type": r.policy_type},
        "state": r.state,
        "healthy": r.healthy,
        "identity_preservation": r.identity,
        "group_type": "svm_dr",
        "throttle": r.throttle,
        "total_transfer_bytes": r.total_bytes,
        "svmdr_volumes": vols,
        "_links": {"self": {"href": format!("/api/snapmirror/relationships/{}", r.uuid)}},
    });
    if !r.healthy {
        v["unhealthy_reason"] = json!(r.unhealthy);
    } else if r.state == "snapmirrored" && w.is_down(&r.src_cluster) {
        // ONTAP keeps polling the source; an unreachable source shows up as
        // an unhealthy mirror even before the next update fails.
        let src = w.cluster_name(&r.src_cluster);
        v["healthy"] = json!(false);
        v["unhealthy_reason"] = json!([{
            "code": "6621444",
            "message": format!("Source cluster \"{src}\" is unreachable: the relationship cannot be updated."),
            "arguments": [src],
        }]);
    }
    if let Some(t) = r.snapshot_time {
        let lag = (Utc::now() - t).num_seconds().max(0) as u64;
        v["lag_time"] = json!(format_duration(lag));
    }
    if let Some(s) = &r.snapshot_name {
        v["exported_snapshot"] = json!(s);
    }
    if let Some(s) = &r.schedule {
        v["transfer_schedule"] = json!({"name": s});
    }
    if let Some(t) = &r.last_transfer_type {
        v["last_transfer_type"] = json!(t);
    }
    if let Some(t) = &r.transfer {
        let mut tj = json!({
            "state": t.state,
            "type": t.ttype,
            "bytes_transferred": t.bytes,
            "last_updated_time": ts(Utc::now()),
        });
        if t.active() {
            tj["uuid"] = json!(t.uuid);
        }
        if let Some(e) = t.end_time {
            tj["end_time"] = json!(ts(e));
            tj["total_duration"] = json!(format_duration(
                (e - t.start_time).num_seconds().max(0) as u64
            ));
        }
        v["transfer"] = tj;
    }
    v
}

pub(super) fn transfer_json(r: &Relationship) -> Option<Value> {
    let t = r.transfer.as_ref()?;
    let mut v = json!({
        "uuid": t.uuid, "state": t.state, "bytes_transferred": t.bytes,
        "relationship": {"uuid": r.uuid},
        "snapshot": t.snapshot_name,
        "throttle": r.throttle,
        "last_updated_time": ts(t.end_time.unwrap_or_else(Utc::now)),
        "_links": {"self": {"href": format!("/api/snapmirror/relationships/{}/transfers/{}", r.uuid, t.uuid)}},
    });
    if let Some(e) = t.end_time {
        v["end_time"] = json!(ts(e));
        v["total_duration"] = json!(format_duration(
            (e - t.start_time).num_seconds().max(0) as u64
        ));
    }
    Some(v)
}
