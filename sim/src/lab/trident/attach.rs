//! Attaching and mounting a Trident CSI volume on a node.
//!
//! - Attach (Trident's CSIDriver has `attachRequired: true`, so the
//!   external-attacher calls ControllerPublishVolume; Trident:
//!   `frontend/csi/controller_server.go` ControllerPublishVolume,
//!   `core/orchestrator_core.go` getVolume / PublishVolume,
//!   `storage/backend.go` PublishVolume → ensureOnlineOrDeleting): the PV's
//!   `volumeHandle` must name a TridentVolume ("volume … was not found",
//!   NotFound), the volume's own backend (not the PV's `backendUUID`) must
//!   exist and be online. With `autoExportPolicy` a managed NAS volume gets
//!   a per-volume export policy allowing the node
//!   (`storage_drivers/ontap/ontap_nas.go` publishFlexVolShare).
//! - Mount (NodePublishVolume): for NFS the ONTAP volume must exist and be
//!   online, and ONTAP must let the node mount it read-write: the simulated
//!   ONTAP's own export-rule evaluation decides ([`OntapWrites::nfs_mount`],
//!   `sim/src/ontap/mount.rs`); for SAN the volume's LUN must be online.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::backends::{self, Backend};
use super::ontap_view::{OntapView, OntapWrites};
use super::{TRIDENT_API, s};
use crate::kube::KubeHandle;
use crate::kube::fixtures::TRIDENT_CSI_DRIVER;

/// Why a volume cannot be used by a Pod on a node yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeProblem {
    /// ControllerPublishVolume failed: the gRPC error text.
    Attach(String),
    /// NodePublishVolume failed: the error text.
    Mount(String),
}

/// A node's addresses as Kubernetes reports them (`status.addresses`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeAddresses {
    /// `InternalIP` addresses, in order.
    pub internal_ips: Vec<IpAddr>,
    /// The `Hostname` address, if any.
    pub hostname: Option<String>,
}

/// The node's `InternalIP`s and host name.
pub fn node_addresses(node: &Value) -> NodeAddresses {
    let mut n = NodeAddresses::default();
    for a in node
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let addr = a["address"].as_str().unwrap_or("");
        match a["type"].as_str().unwrap_or("") {
            "InternalIP" => n.internal_ips.extend(addr.parse::<IpAddr>().ok()),
            "Hostname" if n.hostname.is_none() => n.hostname = Some(addr.to_string()),
            _ => {}
        }
    }
    n
}

/// What Trident and the node do before a Pod on `node` can use `pv`;
/// `Ok` for PVs that are not Trident CSI volumes.
pub fn check_volume(
    kube: &KubeHandle,
    ns: &str,
    view: &OntapView,
    ontap: &dyn OntapWrites,
    pv: &Value,
    node: &Value,
) -> Result<(), VolumeProblem> {
    if s(pv, "/spec/csi/driver") != TRIDENT_CSI_DRIVER {
        return Ok(());
    }
    let handle = s(pv, "/spec/csi/volumeHandle");
    let Some(tv) = kube.get(TRIDENT_API, "TridentVolume", Some(ns), handle) else {
        return Err(VolumeProblem::Attach(format!(
            "rpc error: code = NotFound desc = volume {handle} was not found"
        )));
    };
    let uuid = s(&tv, "/backendUUID");
    let Some(b) = backends::by_uuid(kube, ns, uuid) else {
        return Err(VolumeProblem::Attach(format!(
            "rpc error: code = Unknown desc = backend {uuid} not found"
        )));
    };
    if !matches!(b.state(), "online" | "deleting") {
        return Err(VolumeProblem::Attach(format!(
            "rpc error: code = Unknown desc = backend {} is not Online or Deleting",
            b.name
        )));
    }
    if b.is_san() {
        return check_lun(view, &b, &tv);
    }
    let addrs = node_addresses(node);
    auto_export(view, ontap, &b, &tv, &addrs);
    // The policy may just have changed: read ONTAP again.
    let fresh;
    let view = if b.auto_export_policy() {
        fresh = OntapView::from_snapshot(ontap.snapshot());
        &fresh
    } else {
        view
    };
    check_nfs_mount(view, ontap, &b, &tv, node, &addrs)
}

fn internal_name(tv: &Value) -> &str {
    s(tv, "/config/internalName")
}

/// With `autoExportPolicy`, a managed volume on the empty policy or its own
/// gets its own policy with a rule for the node's IPs.
fn auto_export(
    view: &OntapView,
    ontap: &dyn OntapWrites,
    b: &Backend,
    tv: &Value,
    n: &NodeAddresses,
) {
    if !b.auto_export_policy() || tv.pointer("/config/importNotManaged") == Some(&json!(true)) {
        return;
    }
    let Some(cluster) = b.cluster(view) else {
        return;
    };
    let flexvol = internal_name(tv);
    let Some(vol) = view.volume(&cluster, b.svm(), flexvol) else {
        return;
    };
    let current = vol["export_policy"].as_str().unwrap_or("default");
    let empty = format!("{}empty", b.storage_prefix());
    if current != empty && current != flexvol {
        return;
    }
    let mut rules = view
        .export_rules(&cluster, b.svm(), flexvol)
        .unwrap_or_default();
    let mut changed = current != flexvol;
    for ip in &n.internal_ips {
        let covered = rules.iter().any(|r| {
            r["clients"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|m| m["match"] == ip.to_string())
        });
        if !covered {
            rules.push(json!({"index": rules.len() + 1, "clients": [{"match": ip.to_string()}],
                "protocols": ["nfs"], "ro_rule": ["any"], "rw_rule": ["any"], "superuser": ["any"]}));
            changed = true;
        }
    }
    if changed {
        ontap.set_export_rules(&cluster, b.svm(), flexvol, rules);
        ontap.set_volume_export_policy(&cluster, b.svm(), flexvol, flexvol);
    }
}

fn check_nfs_mount(
    view: &OntapView,
    ontap: &dyn OntapWrites,
    b: &Backend,
    tv: &Value,
    node: &Value,
    addrs: &NodeAddresses,
) -> Result<(), VolumeProblem> {
    let cluster = b.cluster(view).unwrap_or_default();
    let flexvol = internal_name(tv);
    let server = match s(tv, "/config/accessInformation/nfsServerIp") {
        "" => b.conf("dataLIF").to_string(),
        ip => ip.to_string(),
    };
    let path = match s(tv, "/config/accessInformation/nfsPath") {
        "" => format!("/{flexvol}"),
        p => p.to_string(),
    };
    let target = format!("{server}:{path}");
    let node_name = s(node, "/metadata/name");
    let vol = view.volume(&cluster, b.svm(), flexvol);
    if vol.is_none_or(|v| v["state"] != "online") {
        return Err(VolumeProblem::Mount(format!(
            "rpc error: code = Internal desc = mount.nfs: mounting {target} failed, reason given by server: No such file or directory (simulated ONTAP: volume {flexvol} on SVM {} is {})",
            b.svm(),
            vol.map_or("missing", |v| v["state"].as_str().unwrap_or("unknown"))
        )));
    }
    let denied = |why: String| {
        VolumeProblem::Mount(format!(
            "rpc error: code = Internal desc = mount.nfs: access denied by server while mounting {target} (simulated ONTAP: {why})"
        ))
    };
    // An NFS mount comes from one source address: the node's first
    // InternalIP stands for it (the lab's nodes have one each).
    let Some(ip) = addrs.internal_ips.first() else {
        return Err(denied(format!(
            "node {node_name} has no InternalIP address"
        )));
    };
    // The Pod mounts read-write, so a rule granting read-only access fails
    // the mount as a refusal does.
    ontap
        .nfs_mount(
            &cluster,
            b.svm(),
            flexvol,
            &ip.to_string(),
            addrs.hostname.as_deref(),
            true,
        )
        .map_err(|why| denied(format!("node {node_name} ({ip}): {why}")))
}

fn check_lun(view: &OntapView, b: &Backend, tv: &Value) -> Result<(), VolumeProblem> {
    if !view.has_luns() {
        return Ok(());
    }
    let cluster = b.cluster(view).unwrap_or_default();
    let flexvol = internal_name(tv);
    let luns = view.luns_in(&cluster, b.svm(), flexvol);
    match luns.first() {
        Some(l) if l["state"] == "online" => Ok(()),
        Some(l) => Err(VolumeProblem::Mount(format!(
            "rpc error: code = Internal desc = LUN {} is not online",
            s(l, "/name")
        ))),
        None => Err(VolumeProblem::Mount(format!(
            "rpc error: code = Internal desc = no LUN found in volume {flexvol} on SVM {}",
            b.svm()
        ))),
    }
}
