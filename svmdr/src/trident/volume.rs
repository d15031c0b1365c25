//! The ONTAP volume behind a Trident PV or PVC, and Trident's naming rule.
//!
//! Pure parsing of Kubernetes JSON, no I/O:
//! - [`TridentVolumeRef::from_pv`]: a CSI PV provisioned by Trident
//!   (`spec.csi.driver: csi.trident.netapp.io`, with `volumeAttributes`
//!   `backendUUID`, `internalName`, `name`, `protocol`), a legacy pre-CSI
//!   Trident NFS PV (`spec.nfs` with annotation `pv.kubernetes.io/provisioned-by:
//!   netapp.io/trident`), or anything else.
//! - [`TridentClaim::from_pvc`]: a PVC bound to (or provisioned by) Trident.
//! - [`ontap_volume_name`]: Trident's `<storagePrefix><name>` rule (and
//!   [`internal_volume_name`] for older releases).

use serde_json::Value;

/// Trident's CSI driver name.
pub const CSI_DRIVER: &str = "csi.trident.netapp.io";
/// The provisioner name of pre-CSI (legacy) Trident.
pub const LEGACY_PROVISIONER: &str = "netapp.io/trident";
/// Default `storagePrefix` of Trident's ONTAP drivers.
pub const DEFAULT_STORAGE_PREFIX: &str = "trident_";

/// Annotation: the ONTAP volume Trident should import for a PVC.
pub const ANN_IMPORT_ORIGINAL_NAME: &str = "trident.netapp.io/importOriginalName";
/// Annotation: the backend (UUID) holding the volume to import.
pub const ANN_IMPORT_BACKEND_UUID: &str = "trident.netapp.io/importBackendUUID";
/// Annotation: `"true"` makes Trident import the volume as not managed.
pub const ANN_NOT_MANAGED: &str = "trident.netapp.io/notManaged";
/// Annotation: `"true"` keeps the ONTAP name on import.
pub const ANN_IMPORT_NO_RENAME: &str = "trident.netapp.io/importNoRename";

/// How Trident attaches a volume (`volumeAttributes.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `file`: NFS (ontap-nas drivers).
    File,
    /// `block`: iSCSI (ontap-san drivers).
    Block,
}

impl Protocol {
    /// Parses Trident's `protocol` attribute (`file`, `block`); `None` otherwise.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "file" | "nfs" => Some(Self::File),
            "block" | "iscsi" => Some(Self::Block),
            _ => None,
        }
    }

    /// The protocol a Trident ONTAP driver serves (`ontap-san*` is block).
    pub fn for_driver(driver: &str) -> Self {
        if driver.starts_with("ontap-san") {
            Self::Block
        } else {
            Self::File
        }
    }

    /// Trident's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Block => "block",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::File => "NFS",
            Self::Block => "iSCSI",
        })
    }
}

/// A Trident CSI volume as the PV describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsiVolume {
    /// PV name (`metadata.name`).
    pub pv_name: String,
    /// `volumeAttributes.backendUUID`: the backend on the cluster that made it.
    pub backend_uuid: String,
    /// `volumeAttributes.internalName`: the ONTAP volume (FlexVol) name.
    pub internal_name: String,
    /// `volumeAttributes.name`: Trident's volume name (= PV name).
    pub name: String,
    /// `volumeAttributes.protocol`.
    pub protocol: Protocol,
    /// `storageClassName`, when set.
    pub storage_class: Option<String>,
}

/// A pre-CSI Trident NFS volume (static `spec.nfs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyNfsVolume {
    /// PV name.
    pub pv_name: String,
    /// `spec.nfs.server`: the data LIF address (IP or name).
    pub server: String,
    /// `spec.nfs.path`: the junction path.
    pub path: String,
}

/// What a PV says about the Trident volume behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TridentVolumeRef {
    /// A Trident CSI PV.
    Csi(CsiVolume),
    /// A legacy (pre-CSI) Trident NFS PV.
    LegacyNfs(LegacyNfsVolume),
    /// Not a Trident PV (or not a PV at all).
    NotTrident,
}

/// Why a PV that claims to be Trident's cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("PersistentVolume {pv}: {detail}")]
pub struct VolumeRefError {
    /// PV name.
    pub pv: String,
    /// What is missing or wrong.
    pub detail: String,
}

fn text<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl TridentVolumeRef {
    /// Reads a PV (JSON). Not a Trident PV (other CSI drivers, other kinds,
    /// other provisioners) gives [`TridentVolumeRef::NotTrident`].
    ///
    /// # Errors
    /// A Trident CSI PV without `backendUUID` or `internalName`, with an
    /// unknown `protocol`, or a legacy Trident PV without `spec.nfs.server`
    /// or `path`.
    pub fn from_pv(pv: &Value) -> Result<Self, VolumeRefError> {
        if pv.get("kind").and_then(Value::as_str) != Some("PersistentVolume") {
            return Ok(Self::NotTrident);
        }
        let pv_name = text(pv, "/metadata/name")
            .unwrap_or("<unnamed>")
            .to_string();
        let err = |detail: String| VolumeRefError {
            pv: pv_name.clone(),
            detail,
        };
        if text(pv, "/spec/csi/driver") == Some(CSI_DRIVER) {
            let attr = |k: &str| {
                pv.pointer("/spec/csi/volumeAttributes")
                    .and_then(|a| a.get(k))
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let backend_uuid = attr("backendUUID")
                .ok_or_else(|| err("Trident CSI PV without volumeAttributes.backendUUID".into()))?;
            let internal_name = attr("internalName").ok_or_else(|| {
                err("Trident CSI PV without volumeAttributes.internalName".into())
            })?;
            let protocol = match attr("protocol") {
                Some(p) => Protocol::parse(p).ok_or_else(|| {
                    err(format!(
                        "unknown volumeAttributes.protocol {p:?} (expected file or block)"
                    ))
                })?,
                // Old Trident CSI PVs may lack it; the volume mode tells.
                None if text(pv, "/spec/volumeMode") == Some("Block") => Protocol::Block,
                None => Protocol::File,
            };
            let name = attr("name")
                .or_else(|| text(pv, "/spec/csi/volumeHandle"))
                .unwrap_or(&pv_name)
                .to_string();
            return Ok(Self::Csi(CsiVolume {
                pv_name: pv_name.clone(),
                backend_uuid: backend_uuid.to_string(),
                internal_name: internal_name.to_string(),
                name,
                protocol,
                storage_class: text(pv, "/spec/storageClassName").map(str::to_string),
            }));
        }
        let provisioner = text(pv, "/metadata/annotations/pv.kubernetes.io~1provisioned-by");
        if provisioner == Some(LEGACY_PROVISIONER) && pv.pointer("/spec/nfs").is_some() {
            let server = text(pv, "/spec/nfs/server")
                .ok_or_else(|| err("legacy Trident NFS PV without spec.nfs.server".into()))?;
            let path = text(pv, "/spec/nfs/path")
                .ok_or_else(|| err("legacy Trident NFS PV without spec.nfs.path".into()))?;
            return Ok(Self::LegacyNfs(LegacyNfsVolume {
                pv_name,
                server: server.to_string(),
                path: path.to_string(),
            }));
        }
        Ok(Self::NotTrident)
    }

    /// The PV name, for a Trident volume.
    pub fn pv_name(&self) -> Option<&str> {
        match self {
            Self::Csi(c) => Some(&c.pv_name),
            Self::LegacyNfs(l) => Some(&l.pv_name),
            Self::NotTrident => None,
        }
    }
}

/// A PVC whose volume Trident provisioned (or will provision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TridentClaim {
    /// PVC namespace (as in the item; may be empty).
    pub namespace: String,
    /// PVC name.
    pub name: String,
    /// The PV it was bound to (`spec.volumeName`), when known.
    pub volume_name: Option<String>,
    /// `spec.storageClassName`, when set.
    pub storage_class: Option<String>,
    /// `spec.volumeMode` is `Block`.
    pub block_mode: bool,
}

impl TridentClaim {
    /// Reads a PVC (JSON). `None` when it is not a PVC or its provisioner
    /// annotations do not name Trident (`volume.kubernetes.io/storage-provisioner`
    /// or `volume.beta.kubernetes.io/storage-provisioner`).
    pub fn from_pvc(pvc: &Value) -> Option<Self> {
        if pvc.get("kind").and_then(Value::as_str) != Some("PersistentVolumeClaim") {
            return None;
        }
        let ann = |k: &str| {
            pvc.pointer("/metadata/annotations")
                .and_then(|a| a.get(k))
                .and_then(Value::as_str)
                .map(str::trim)
        };
        let trident = [
            "volume.kubernetes.io/storage-provisioner",
            "volume.beta.kubernetes.io/storage-provisioner",
        ]
        .iter()
        .any(|k| matches!(ann(k), Some(CSI_DRIVER | LEGACY_PROVISIONER)));
        if !trident {
            return None;
        }
        Some(Self {
            namespace: text(pvc, "/metadata/namespace")
                .unwrap_or_default()
                .to_string(),
            name: text(pvc, "/metadata/name")
                .unwrap_or("<unnamed>")
                .to_string(),
            volume_name: text(pvc, "/spec/volumeName").map(str::to_string),
            storage_class: text(pvc, "/spec/storageClassName").map(str::to_string),
            block_mode: text(pvc, "/spec/volumeMode") == Some("Block"),
        })
    }
}

/// Trident's ONTAP volume name for a volume named `name` (the PV name) on a
/// backend with `storage_prefix`, as current Trident builds it
/// (`storage_drivers/common.go GetCommonInternalVolumeName` and
/// `storage_drivers/ontap/ontap_common.go getInternalVolumeNameCommon`):
/// `<prefix>-<name>` (just `<name>` for an empty prefix), `-` and `.` become
/// `_`, then `__` is collapsed until none is left. `None` as prefix means
/// Trident's default; `Some("")` is an explicitly empty prefix. A backend
/// with a `nameTemplate` (Trident 24.06+) names volumes otherwise: use the
/// PV's `internalName` for those.
///
/// With the default prefix, `pvc-3bedd23c-46a8-...` becomes
/// `trident_pvc_3bedd23c_46a8_...`.
pub fn ontap_volume_name(storage_prefix: Option<&str>, name: &str) -> String {
    internal_volume_name(storage_prefix, name, true)
}

/// [`ontap_volume_name`] for a given Trident release: before 24.10 the
/// `__` collapse was one left-to-right pass (Go's `strings.Replace`, so
/// `___` stayed `__`); see [`super::version::TridentVersion::collapses_repeatedly`].
pub fn internal_volume_name(storage_prefix: Option<&str>, name: &str, repeatedly: bool) -> String {
    let prefix = storage_prefix.unwrap_or(DEFAULT_STORAGE_PREFIX);
    let joined = if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}-{name}")
    };
    let mut out: String = joined
        .chars()
        .map(|c| if c == '-' || c == '.' { '_' } else { c })
        .collect();
    loop {
        let next = out.replace("__", "_");
        let done = next == out || !repeatedly;
        out = next;
        if done {
            return out;
        }
    }
}

/// The part of Trident's internal name that comes from the PV name
/// (`pvc_<uid>` for `pvc-<uid>`): whatever the prefix, an ONTAP volume
/// Trident made for that PV ends with it. Used to find a replicated volume
/// when the PV itself is not part of the restore.
pub fn internal_name_suffix(pv_name: &str) -> String {
    internal_volume_name(Some(""), pv_name, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csi_pv() -> Value {
        json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": "pvc-3f6c1a52-8f0e-4b8a-9d3c-2f7b6e1a4c90",
                "annotations": {"pv.kubernetes.io/provisioned-by": "csi.trident.netapp.io"}},
            "spec": {"storageClassName": "ontap-nas", "csi": {
                "driver": "csi.trident.netapp.io",
                "volumeHandle": "pvc-3f6c1a52-8f0e-4b8a-9d3c-2f7b6e1a4c90",
                "volumeAttributes": {
                    "backendUUID": "6b1f4d3e-2a7c-4e8b-b1d9-0c5e7f2a9b18",
                    "internalName": "trident_pvc_3f6c1a52_8f0e_4b8a_9d3c_2f7b6e1a4c90",
                    "name": "pvc-3f6c1a52-8f0e-4b8a-9d3c-2f7b6e1a4c90",
                    "protocol": "file"}}}
        })
    }

    #[test]
    fn parses_a_csi_pv() {
        let r = TridentVolumeRef::from_pv(&csi_pv()).unwrap();
        let TridentVolumeRef::Csi(c) = r else {
            panic!("{r:?}")
        };
        assert_eq!(c.backend_uuid, "6b1f4d3e-2a7c-4e8b-b1d9-0c5e7f2a9b18");
        assert_eq!(
            c.internal_name,
            "trident_pvc_3f6c1a52_8f0e_4b8a_9d3c_2f7b6e1a4c90"
        );
        assert_eq!(c.name, "pvc-3f6c1a52-8f0e-4b8a-9d3c-2f7b6e1a4c90");
        assert_eq!(c.protocol, Protocol::File);
        assert_eq!(c.storage_class.as_deref(), Some("ontap-nas"));
    }

    #[test]
    fn block_protocol_and_missing_attributes() {
        let mut pv = csi_pv();
        pv["spec"]["csi"]["volumeAttributes"]["protocol"] = json!("block");
        let TridentVolumeRef::Csi(c) = TridentVolumeRef::from_pv(&pv).unwrap() else {
            panic!()
        };
        assert_eq!(c.protocol, Protocol::Block);
        pv["spec"]["csi"]["volumeAttributes"]["protocol"] = json!("smb3");
        let e = TridentVolumeRef::from_pv(&pv).unwrap_err();
        assert!(e.to_string().contains("smb3"), "{e}");
        let mut pv = csi_pv();
        pv["spec"]["csi"]["volumeAttributes"]
            .as_object_mut()
            .unwrap()
            .remove("internalName");
        let e = TridentVolumeRef::from_pv(&pv).unwrap_err();
        assert!(
            e.to_string().contains("internalName") && e.to_string().contains("pvc-3f6c"),
            "{e}"
        );
    }

    #[test]
    fn legacy_nfs_pv() {
        let pv = json!({"kind": "PersistentVolume",
            "metadata": {"name": "default-data-abc",
                "annotations": {"pv.kubernetes.io/provisioned-by": "netapp.io/trident"}},
            "spec": {"nfs": {"server": "10.0.0.6", "path": "/trident_default_data_abc"}}});
        assert_eq!(
            TridentVolumeRef::from_pv(&pv).unwrap(),
            TridentVolumeRef::LegacyNfs(LegacyNfsVolume {
                pv_name: "default-data-abc".into(),
                server: "10.0.0.6".into(),
                path: "/trident_default_data_abc".into(),
            })
        );
        let mut bad = pv.clone();
        bad["spec"]["nfs"].as_object_mut().unwrap().remove("path");
        assert!(TridentVolumeRef::from_pv(&bad).is_err());
    }

    #[test]
    fn everything_else_is_not_trident() {
        for v in [
            json!({"kind": "PersistentVolume", "spec": {"csi": {"driver": "ebs.csi.aws.com"}}}),
            json!({"kind": "PersistentVolume", "spec": {"nfs": {"server": "x", "path": "/"}}}),
            json!({"kind": "Pod"}),
            json!({}),
            json!(null),
            json!([1, 2]),
        ] {
            assert_eq!(
                TridentVolumeRef::from_pv(&v).unwrap(),
                TridentVolumeRef::NotTrident,
                "{v}"
            );
        }
    }

    #[test]
    fn claims() {
        let pvc = json!({"kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "shop",
                "annotations": {"volume.kubernetes.io/storage-provisioner": "csi.trident.netapp.io"}},
            "spec": {"volumeName": "pvc-1", "storageClassName": "ontap-nas"}});
        let c = TridentClaim::from_pvc(&pvc).unwrap();
        assert_eq!(c.volume_name.as_deref(), Some("pvc-1"));
        assert_eq!(c.storage_class.as_deref(), Some("ontap-nas"));
        assert!(!c.block_mode);
        let other = json!({"kind": "PersistentVolumeClaim",
            "metadata": {"annotations": {"volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}}});
        assert_eq!(TridentClaim::from_pvc(&other), None);
        assert_eq!(
            TridentClaim::from_pvc(&json!({"kind": "PersistentVolumeClaim"})),
            None
        );
    }

    #[test]
    fn trident_naming_rule() {
        assert_eq!(
            ontap_volume_name(None, "pvc-3bedd23c-46a8-4384-b12b-3c5b9a1f1a3b"),
            "trident_pvc_3bedd23c_46a8_4384_b12b_3c5b9a1f1a3b"
        );
        // The prefix and the name are joined with `-`, like Trident does.
        assert_eq!(ontap_volume_name(Some("dr"), "pvc-a.b"), "dr_pvc_a_b");
        assert_eq!(ontap_volume_name(Some("dr_"), "pvc-1"), "dr_pvc_1");
        assert_eq!(ontap_volume_name(Some("trident"), "pvc-1"), "trident_pvc_1");
        assert_eq!(ontap_volume_name(Some(""), "pvc-1"), "pvc_1");
        // Trident 24.10+ collapses `__` until none is left; older releases
        // made one pass of Go's strings.Replace, leaving `__` from `___`.
        assert_eq!(ontap_volume_name(Some(""), "a---b"), "a_b");
        assert_eq!(ontap_volume_name(Some("x__"), "a"), "x_a");
        assert_eq!(internal_volume_name(Some(""), "a---b", false), "a__b");
        assert_eq!(internal_volume_name(Some("x__"), "a", false), "x__a");
        assert_eq!(internal_name_suffix("pvc-1a-2b"), "pvc_1a_2b");
    }
}
