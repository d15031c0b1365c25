//! The lab's simulated Trident, rule by rule from Trident's source
//! (`NetApp/trident`; each file cites the upstream file it models):
//! [`backends`] (backend state, the periodic state poll, TridentBackendConfig
//! updates and deletion, finalizers), [`pools`] (StorageClass ↔ pool
//! matching), [`import`] (volume import) and [`attach`]
//! (ControllerPublishVolume and the NFS mount, whose export-policy check is
//! the ONTAP simulator's own, `Control::nfs_mount_check`).
//!
//! The simulated Trident reads its version from the cluster's
//! `TridentVersion` CR ([`installed_version`]).

pub mod attach;
pub mod backends;
pub mod import;
pub mod ontap_view;
pub mod pools;

use serde_json::Value;

use crate::kube::KubeHandle;
use crate::lab::fields::str_at as s;

/// Trident's PVC import annotations
/// (Trident: `frontend/csi/controller_helpers/kubernetes/config.go`).
pub const ANN_IMPORT_ORIGINAL_NAME: &str = "trident.netapp.io/importOriginalName";
/// Backend (UUID) to import from.
pub const ANN_IMPORT_BACKEND_UUID: &str = "trident.netapp.io/importBackendUUID";
/// `"true"`: unmanaged import (never renamed, never deleted by Trident).
pub const ANN_NOT_MANAGED: &str = "trident.netapp.io/notManaged";
/// `"true"`: managed import keeping the ONTAP name (Trident ≥ 25.10.0).
pub const ANN_IMPORT_NO_RENAME: &str = "trident.netapp.io/importNoRename";
/// The finalizer Trident puts on its CRs
/// (Trident: `persistent_store/crd/apis/netapp/v1/types.go` TridentFinalizerName).
pub const TRIDENT_FINALIZER: &str = "trident.netapp.io";
/// Trident's CRD API version.
pub const TRIDENT_API: &str = "trident.netapp.io/v1";
/// The lab's default Trident version.
pub const DEFAULT_TRIDENT_VERSION: &str = "26.06.0";

/// A Trident release as `(year, month, patch)`, e.g. `26.06.0` → (26, 6, 0);
/// `None` if it does not parse. A leading `v` and a `-suffix` are ignored.
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let v = v.split(['-', '+']).next().unwrap_or(v);
    let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
    let major = it.next()??;
    let minor = it.next().flatten().unwrap_or(0);
    let patch = it.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// The version the cluster's Trident reports (`TridentVersion` CR,
/// `trident_version`), or [`DEFAULT_TRIDENT_VERSION`] without one.
pub fn installed_version(kube: &KubeHandle, ns: &str) -> (u32, u32, u32) {
    kube.list(TRIDENT_API, "TridentVersion", Some(ns))
        .iter()
        .find_map(|v| v["trident_version"].as_str().and_then(parse_version))
        .or_else(|| parse_version(DEFAULT_TRIDENT_VERSION))
        .unwrap_or((26, 6, 0))
}

/// Whether Trident `version` honours `importNoRename` (added in 25.10.0,
/// Trident commit d42c60fc; older releases ignore the annotation).
pub fn honours_no_rename(version: (u32, u32, u32)) -> bool {
    version >= (25, 10, 0)
}

/// The ONTAP volume name Trident gives volume `name` on a backend with
/// `storage_prefix` (no `nameTemplate`): prefix + name, `-` and `.` → `_`,
/// then `__` collapsed. Trident ≥ 24.10 collapses repeatedly (commit
/// 46b43058); older releases make one non-overlapping pass
/// (Trident: `storage_drivers/ontap/ontap_common.go` getInternalVolumeNameCommon).
pub fn internal_volume_name(storage_prefix: &str, name: &str, version: (u32, u32, u32)) -> String {
    let mut out = format!("{storage_prefix}{name}").replace(['-', '.'], "_");
    if version >= (24, 10, 0) {
        while out.contains("__") {
            out = out.replace("__", "_");
        }
    } else {
        out = out.replace("__", "_");
    }
    out
}

/// An annotation of `obj`, `""` when absent.
pub(crate) fn annotation<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A Trident string-or-bool option set to true (`"true"`, `true`).
pub(crate) fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_names() {
        assert_eq!(parse_version("26.06.0"), Some((26, 6, 0)));
        assert_eq!(parse_version("v25.10.1-custom"), Some((25, 10, 1)));
        assert_eq!(parse_version("x"), None);
        assert!(honours_no_rename((25, 10, 0)));
        assert!(!honours_no_rename((25, 6, 2)));
        // ≥ 24.10 collapses every run of underscores; older releases one pass.
        assert_eq!(
            internal_volume_name("dr__", "pvc-1", (24, 10, 0)),
            "dr_pvc_1"
        );
        assert_eq!(
            internal_volume_name("dr___", "pvc-1", (24, 6, 0)),
            "dr__pvc_1"
        );
        assert_eq!(
            internal_volume_name("trident_", "pvc-ab.c", (26, 6, 0)),
            "trident_pvc_ab_c"
        );
    }
}

#[cfg(test)]
mod rule_tests;

#[cfg(test)]
mod attach_tests;
