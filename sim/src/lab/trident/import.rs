//! Importing an existing ONTAP volume for a PVC annotated with
//! `trident.netapp.io/importOriginalName` and `importBackendUUID`, in the
//! order Trident checks (Trident: `frontend/csi/controller_server.go`
//! CreateVolume → `core/orchestrator_core.go` ImportVolume,
//! validateImportVolume; `core/common.go` getProtocol; `storage/backend.go`
//! ImportVolume; `storage_drivers/ontap/ontap_nas.go` and `ontap_san.go`
//! Import; `storage_class/storage_class.go` via [`super::pools`]).
//!
//! A refusal is reported as the external-provisioner does, an Event
//! `ProvisioningFailed` on the PVC: `failed to provision volume with
//! StorageClass "<sc>": rpc error: code = <code> desc = <Trident's message>`;
//! the PVC stays Pending and is retried on the next pass.
//!
//! On success: ONTAP renamed as Trident does for the version (managed
//! import without an honoured `importNoRename`: `<storagePrefix>pvc_<uid>`;
//! unmanaged or honoured no-rename: kept), the export policy set to
//! `<storagePrefix>empty` for a managed NAS import with `autoExportPolicy`,
//! a PV `pvc-<pvc uid>`, its TridentVolume, and the PVC bound.

use serde_json::{Value, json};

use super::backends::{self, Backend};
use super::ontap_view::{OntapView, OntapWrites};
use super::pools::{ClassConfig, pools};
use super::{
    ANN_IMPORT_BACKEND_UUID, ANN_IMPORT_NO_RENAME, ANN_IMPORT_ORIGINAL_NAME, ANN_NOT_MANAGED,
    TRIDENT_API, annotation, honours_no_rename, installed_version, internal_volume_name, s,
};
use crate::kube::KubeHandle;
use crate::kube::fixtures::{PROVISIONED_BY, TRIDENT_CSI_DRIVER, quantity_bytes};

/// A gRPC status as Trident's CSI controller returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// gRPC code name (`NotFound`, `OutOfRange`, `AlreadyExists`, `Unknown`).
    pub code: &'static str,
    /// Trident's message.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// What an import request asks for, from the PVC.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// `importOriginalName`.
    pub original: String,
    /// `importBackendUUID`.
    pub backend_uuid: String,
    /// `notManaged: "true"`.
    pub not_managed: bool,
    /// `importNoRename: "true"` (honoured only on Trident ≥ 25.10.0).
    pub no_rename: bool,
    /// `pvc-<pvc uid>`.
    pub pv_name: String,
    /// Requested bytes.
    pub requested: u64,
    /// `Filesystem` or `Block`.
    pub volume_mode: String,
    /// The first access mode.
    pub access_mode: String,
}

impl ImportRequest {
    /// The request a PVC makes; `None` if it asks for no import.
    pub fn from_pvc(pvc: &Value) -> Option<Self> {
        let original = annotation(pvc, ANN_IMPORT_ORIGINAL_NAME);
        if original.is_empty() {
            return None;
        }
        let mode = match s(pvc, "/spec/volumeMode") {
            "" => "Filesystem",
            m => m,
        };
        Some(Self {
            original: original.to_string(),
            backend_uuid: annotation(pvc, ANN_IMPORT_BACKEND_UUID).to_string(),
            not_managed: annotation(pvc, ANN_NOT_MANAGED).eq_ignore_ascii_case("true"),
            no_rename: annotation(pvc, ANN_IMPORT_NO_RENAME).eq_ignore_ascii_case("true"),
            pv_name: format!("pvc-{}", s(pvc, "/metadata/uid")),
            requested: quantity_bytes(s(pvc, "/spec/resources/requests/storage")).unwrap_or(0),
            volume_mode: mode.to_string(),
            access_mode: s(pvc, "/spec/accessModes/0").to_string(),
        })
    }
}

/// The ONTAP facts an import found.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The backend.
    pub backend: Backend,
    /// ONTAP cluster key.
    pub cluster: String,
    /// The volume's name after the import.
    pub internal_name: String,
    /// Actual size in bytes (0 when the simulator does not report it).
    pub size: u64,
    /// The export policy Trident recorded (`""`: not changed).
    pub export_policy: String,
    /// NFS data LIF address.
    pub nfs_server: String,
}

/// Trident: `core/common.go` getProtocol and validateImportVolume's
/// "incompatible with the backend" check.
fn check_protocol(req: &ImportRequest, b: &Backend) -> Result<(), Refusal> {
    let rwx = req.access_mode == "ReadWriteMany";
    let wanted = match (req.volume_mode.as_str(), rwx) {
        ("Block", _) => "block",
        (_, true) => "file",
        _ => "",
    };
    if !wanted.is_empty() && wanted != b.protocol() {
        return Err(refuse(
            "Unknown",
            format!(
                "requested volume mode ({}), access mode ({}), protocol ({wanted}) are incompatible with the backend {}",
                req.volume_mode, req.access_mode, b.name
            ),
        ));
    }
    Ok(())
}

/// The earliest Trident that imports with an economy driver
/// (`ontap_san_economy.go` Import since 24.06, `ontap_nas_qtree.go` since 26.06).
fn economy_min(driver: &str) -> Option<(u32, u32, u32)> {
    match driver {
        "ontap-san-economy" => Some((24, 6, 0)),
        "ontap-nas-economy" => Some((26, 6, 0)),
        _ => None,
    }
}

/// Runs Trident's validations and the driver import `req` asks for.
///
/// # Errors
/// The refusal Trident would return.
pub fn import(
    kube: &KubeHandle,
    ns: &str,
    view: &OntapView,
    ontap: &dyn OntapWrites,
    sc: &Value,
    req: &ImportRequest,
) -> Result<Imported, Refusal> {
    let version = installed_version(kube, ns);
    if req.backend_uuid.is_empty() {
        return Err(refuse("Unknown", "no backend specified for import"));
    }
    let Some(b) = backends::by_uuid(kube, ns, &req.backend_uuid) else {
        return Err(refuse(
            "NotFound",
            format!("backend {} not found", req.backend_uuid),
        ));
    };
    if let Some(min) = economy_min(b.driver()) {
        let why = if version < min {
            format!(
                "import is not supported by the {} driver before Trident {}.{:02}",
                b.driver(),
                min.0,
                min.1
            )
        } else {
            format!("the lab does not model {} (qtree/LUN) imports", b.driver())
        };
        return Err(refuse("Unknown", why));
    }
    let cluster = b.cluster(view).unwrap_or_default();
    let svm = b.svm().to_string();
    // validateImportVolume: GetVolumeForImport.
    let vol = view
        .volume(&cluster, &svm, &req.original)
        .filter(|_| !view.cluster_down(&cluster))
        .cloned();
    let Some(vol) = vol else {
        return Err(refuse(
            "NotFound",
            format!("volume {} was not found", req.original),
        ));
    };
    let lun = b
        .is_san()
        .then(|| {
            view.luns_in(&cluster, &svm, &req.original)
                .first()
                .cloned()
                .cloned()
        })
        .flatten();
    let actual = match (&lun, b.is_san()) {
        (Some(l), true) => l["size"].as_u64(),
        _ => vol["size"].as_u64(),
    };
    if let Some(actual) = actual
        && actual < req.requested
    {
        return Err(refuse(
            "OutOfRange",
            "requested size is more than actual size",
        ));
    }
    if let Some(tv) = kube
        .list(TRIDENT_API, "TridentVolume", Some(ns))
        .into_iter()
        .find(|v| s(v, "/config/internalName") == req.original && s(v, "/backendUUID") == b.uuid)
    {
        return Err(refuse(
            "AlreadyExists",
            format!(
                "PV {} already exists for volume {}",
                req.original,
                s(&tv, "/metadata/name")
            ),
        ));
    }
    let sc_name = s(sc, "/metadata/name");
    let class = ClassConfig::from_storage_class(sc).map_err(|e| refuse("Unknown", e))?;
    if !pools(view, &b).iter().any(|p| class.matches(p)) {
        return Err(refuse(
            "Unknown",
            format!(
                "storageClass {sc_name} does not match any storage pools for backend {}",
                b.name
            ),
        ));
    }
    check_protocol(req, &b)?;
    let wrap = |e: String| {
        refuse(
            "Unknown",
            format!(
                "failed to import volume {} on backend {}: {e}",
                req.original, b.uuid
            ),
        )
    };
    // storage/backend.go ImportVolume.
    if !b.is_online() {
        return Err(wrap(format!("backend {} is not Online", b.name)));
    }
    if b.is_suspended() {
        return Err(wrap(format!(
            "volume is not imported because the backend {} is suspended",
            b.name
        )));
    }
    let no_rename = req.no_rename && honours_no_rename(version);
    let internal = if req.not_managed || no_rename {
        req.original.clone()
    } else {
        internal_volume_name(&b.storage_prefix(), &req.pv_name, version)
    };
    let driver_err = |e: String| wrap(format!("driver import volume failed: {e}"));
    let vtype = vol["type"].as_str().unwrap_or("");
    if !vtype.is_empty() && vtype != "rw" {
        return Err(driver_err(format!(
            "volume {} type is {vtype}, not rw",
            req.original
        )));
    }
    if b.is_san() && view.has_luns() {
        let Some(l) = &lun else {
            return Err(driver_err(format!(
                "LUN /vol/{}/* was not found",
                req.original
            )));
        };
        if l["state"] != "online" {
            return Err(driver_err(format!("LUN {} is not online", s(l, "/name"))));
        }
        let lun0 = format!("/vol/{}/lun0", req.original);
        if req.not_managed && s(l, "/name") != lun0 {
            return Err(driver_err(format!(
                "could not import volume, LUN is nammed incorrectly: {}",
                s(l, "/name")
            )));
        }
    }
    if internal != req.original && !ontap.rename_volume(&cluster, &svm, &req.original, &internal) {
        return Err(driver_err(format!(
            "volume {} rename to {internal} failed",
            req.original
        )));
    }
    let mut export_policy = String::new();
    if !b.is_san() && b.auto_export_policy() && !req.not_managed {
        export_policy = format!("{}empty", b.storage_prefix());
        if view.export_rules(&cluster, &svm, &export_policy).is_none() {
            ontap.set_export_rules(&cluster, &svm, &export_policy, Vec::new());
        }
        ontap.set_volume_export_policy(&cluster, &svm, &internal, &export_policy);
    }
    let nfs_server = match b.conf("dataLIF") {
        "" => view
            .up_data_lifs(&cluster, &svm, b.data_protocol())
            .into_iter()
            .next()
            .unwrap_or_default(),
        lif => lif.to_string(),
    };
    Ok(Imported {
        backend: b,
        cluster,
        internal_name: internal,
        size: actual.unwrap_or(0),
        export_policy,
        nfs_server,
    })
}

/// The PV, TridentVolume and bound PVC of a successful import.
pub fn objects(
    ns: &str,
    pvc: &Value,
    sc: &Value,
    req: &ImportRequest,
    done: &Imported,
) -> (Value, Value, Value) {
    let (claim_ns, claim_name, uid) = (
        s(pvc, "/metadata/namespace"),
        s(pvc, "/metadata/name"),
        s(pvc, "/metadata/uid"),
    );
    // The external-provisioner turns CSI's capacity_bytes into a binary-SI
    // quantity (Kubernetes `resource.NewQuantity(bytes, BinarySI)`): `20Gi`.
    let size = if done.size > 0 {
        binary_si(done.size)
    } else {
        s(pvc, "/spec/resources/requests/storage").to_string()
    };
    let protocol = done.backend.protocol();
    let reclaim = match s(sc, "/reclaimPolicy") {
        "" => "Delete",
        p => p,
    };
    let access_modes = pvc
        .pointer("/spec/accessModes")
        .cloned()
        .unwrap_or_else(|| json!(["ReadWriteOnce"]));
    let pv = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": req.pv_name,
            "annotations": {PROVISIONED_BY: TRIDENT_CSI_DRIVER},
            "finalizers": ["kubernetes.io/pv-protection"]},
        "spec": {
            "accessModes": access_modes,
            "capacity": {"storage": size},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "namespace": claim_ns, "name": claim_name, "uid": uid},
            "csi": {"driver": TRIDENT_CSI_DRIVER,
                "fsType": if protocol == "file" { "nfs" } else { "ext4" },
                "volumeHandle": req.pv_name,
                "volumeAttributes": {"backendUUID": done.backend.uuid,
                    "internalName": done.internal_name, "name": req.pv_name,
                    "protocol": protocol}},
            "persistentVolumeReclaimPolicy": reclaim,
            "storageClassName": s(sc, "/metadata/name"),
            "volumeMode": req.volume_mode,
        },
        "status": {"phase": "Bound"},
    });
    let mut access = json!({});
    if protocol == "file" {
        access["nfsServerIp"] = json!(done.nfs_server);
        access["nfsPath"] = json!(format!("/{}", req.original));
    }
    let tv = json!({
        "apiVersion": TRIDENT_API, "kind": "TridentVolume",
        "metadata": {"name": req.pv_name, "namespace": ns, "finalizers": [super::TRIDENT_FINALIZER]},
        "config": {"version": "1", "name": req.pv_name, "internalName": done.internal_name,
            "size": size, "protocol": protocol, "storageClass": s(sc, "/metadata/name"),
            "volumeMode": req.volume_mode, "accessMode": req.access_mode,
            "importOriginalName": req.original, "importBackendUUID": req.backend_uuid,
            "importNotManaged": req.not_managed, "importNoRename": req.no_rename,
            "exportPolicy": done.export_policy, "accessInformation": access},
        "backendUUID": done.backend.uuid,
        "pool": "",
        "orphaned": false,
        "state": "online",
    });
    let mut claim = pvc.clone();
    claim["spec"]["volumeName"] = json!(req.pv_name);
    claim["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = json!("yes");
    claim["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] = json!("yes");
    claim["status"] = json!({"phase": "Bound", "capacity": {"storage": size},
        "accessModes": pvc["spec"]["accessModes"]});
    (pv, tv, claim)
}

/// `bytes` as Kubernetes prints a BinarySI quantity: the largest of Ki, Mi,
/// Gi, Ti, Pi that divides it exactly, else plain bytes.
fn binary_si(bytes: u64) -> String {
    for (shift, unit) in [(50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod quantity_tests {
    #[test]
    fn binary_si_like_kubernetes() {
        assert_eq!(super::binary_si(20 << 30), "20Gi");
        assert_eq!(super::binary_si(1536 << 20), "1536Mi");
        assert_eq!(super::binary_si(1000), "1000");
    }
}
