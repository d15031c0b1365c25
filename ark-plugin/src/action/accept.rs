//! Trident's own acceptance rules for an import, checked before the PVC is
//! annotated so that a refusal names the reason here instead of leaving a
//! Pending PVC (see `docs/trident.md` §3). Pure functions.
//!
//! Upstream: `core/orchestrator_core.go` (`validateImportVolume`: size,
//! already managed, class fits a pool of the backend, protocol),
//! `core/common.go` (`getProtocol`), `storage/backend.go` (user state),
//! and the drivers' `Import` (economy drivers by version).

use serde_json::Value;
use svmdr::readiness::SvmFacts;
use svmdr::trident::backend::Backend;
use svmdr::trident::version::TridentVersion;
use svmdr::trident::volume::Protocol;

/// A Kubernetes quantity (`10Gi`, `500M`, `1073741824`) in bytes; `None`
/// when it has a form this does not read (fractions, exponents).
pub fn quantity_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit {
        "" => 1,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "P" => 1_000_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// The backend takes imports now: online and not suspended.
///
/// # Errors
/// Its state and reason, with the fix.
pub fn backend_usable(b: &Backend, trident_ns: &str) -> Result<(), String> {
    if b.is_suspended() {
        return Err(format!(
            "Trident backend {} is suspended (userState suspended); resume it with \
             `tridentctl update backend state {} --user-state normal -n {trident_ns}`",
            b.name, b.name
        ));
    }
    if !b.online || b.state != "online" {
        let reason = if b.state_reason.is_empty() {
            String::new()
        } else {
            format!(": {}", b.state_reason)
        };
        return Err(format!(
            "Trident backend {} is {} (online={}){reason}; after a failover the DR SVM must be \
             running with a data LIF up, then Trident brings the backend online \
             (`kubectl svmdr failover` waits for it; check `tridentctl get backend -n {trident_ns}`)",
            b.name, b.state, b.online
        ));
    }
    Ok(())
}

/// Economy drivers keep each volume in a qtree or LUN of a shared FlexVol,
/// which Trident imports as `<flexvol>/<name>` (`ontap_san_economy.go` and
/// `ontap_nas_qtree.go` Import; san-economy from 24.06, nas-economy from
/// 26.06). The PV does not name the FlexVol, so such a PVC is refused with
/// the command to import it by hand.
///
/// # Errors
/// An economy backend.
pub fn not_economy(
    b: &Backend,
    version: Option<TridentVersion>,
    trident_ns: &str,
) -> Result<(), String> {
    if !b.driver.ends_with("-economy") {
        return Ok(());
    }
    let by_hand = format!(
        "import it by hand (`tridentctl import volume {} <flexvol>/<name> -f <pvc.yaml> -n {trident_ns}`)",
        b.name
    );
    Err(match version {
        Some(v) if !v.imports_on(&b.driver) => format!(
            "backend {} is {}, and Trident {v} cannot import on it (san-economy imports from 24.06, \
             nas-economy from 26.06): upgrade Trident, then {by_hand}",
            b.name, b.driver
        ),
        _ => format!(
            "backend {} is {}: Trident imports a qtree or LUN of a shared FlexVol as \
             `<flexvol>/<name>`, and the PV does not name the FlexVol; {by_hand}",
            b.name, b.driver
        ),
    })
}

/// `getProtocol`: the PVC's volume mode, access modes and requested
/// protocol (annotation `trident.netapp.io/protocol`) against the backend's.
///
/// # Errors
/// The combination Trident refuses, or a backend of the other protocol.
pub fn protocol_fits(pvc: &Value, backend: &Backend) -> Result<(), String> {
    let block_mode = pvc.pointer("/spec/volumeMode").and_then(Value::as_str) == Some("Block");
    let modes: Vec<&str> = pvc
        .pointer("/spec/accessModes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let rwx = modes.contains(&"ReadWriteMany");
    let requested = pvc
        .pointer("/metadata/annotations/trident.netapp.io~1protocol")
        .and_then(Value::as_str)
        .and_then(Protocol::parse);
    let backend_protocol = Protocol::for_driver(&backend.driver);
    let resolved = match (block_mode, rwx, requested) {
        (true, _, Some(Protocol::File)) => {
            return Err("a Block volume mode cannot use the file protocol".into());
        }
        (true, _, _) => Some(Protocol::Block),
        (false, true, Some(Protocol::Block)) => {
            return Err("a ReadWriteMany Filesystem volume cannot use the block protocol".into());
        }
        (false, true, _) => Some(Protocol::File),
        (false, false, p) => p,
    };
    match resolved {
        Some(p) if p != backend_protocol => Err(format!(
            "volume mode {}, access modes [{}] need the {} protocol, but backend {} ({}) serves {}",
            if block_mode { "Block" } else { "Filesystem" },
            modes.join(","),
            p.as_str(),
            backend.name,
            backend.driver,
            backend_protocol.as_str()
        )),
        _ => Ok(()),
    }
}

/// `validateImportVolume`: the requested size must not exceed the volume's.
///
/// # Errors
/// Requested more than the volume has.
pub fn size_fits(requested: Option<&str>, actual_bytes: Option<u64>) -> Result<(), String> {
    match (requested.and_then(quantity_bytes), actual_bytes) {
        (Some(r), Some(a)) if a < r => Err(format!(
            "the PVC requests {} but the ONTAP volume is {a} bytes; Trident refuses with \
             \"requested size is more than actual size\": lower the request or grow the volume",
            requested.unwrap_or_default()
        )),
        _ => Ok(()),
    }
}

/// A SAN import (`ontap_san.go` GetVolumeForImport and Import): the FlexVol
/// holds exactly one LUN, online. Trident addresses the LUN of a volume as
/// `/vol/<volume>/lun0` (`lunPath`); only a managed import without
/// `importNoRename` renames it so, so otherwise (`keeps_names`) it must
/// already be `lun0`.
///
/// # Errors
/// No LUN, several, offline, or misnamed when the import keeps names.
pub fn san_lun_fits(facts: &SvmFacts, volume: &str, keeps_names: bool) -> Result<(), String> {
    if let Some(e) = &facts.luns_error {
        return Err(format!(
            "the LUNs of SVM {} could not be read ({e}); Trident needs volume {volume} to hold one online LUN",
            facts.svm
        ));
    }
    let luns: Vec<_> = facts.luns_in(volume).collect();
    let lun = match luns.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "volume {volume} on SVM {} holds no LUN; Trident imports a SAN volume with exactly one",
                facts.svm
            ));
        }
        many => {
            return Err(format!(
                "volume {volume} on SVM {} holds {} LUNs ({}); Trident imports a SAN volume with exactly one",
                facts.svm,
                many.len(),
                many.iter()
                    .map(|l| l.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    };
    if !lun.is_online() {
        return Err(format!(
            "LUN {} is {} (enabled={}); bring it online (`lun online -vserver {} -path {}`)",
            lun.path, lun.state, lun.enabled, facts.svm, lun.path
        ));
    }
    if keeps_names && lun.name != "lun0" {
        return Err(format!(
            "LUN {} is named {}; an import that keeps names (unmanaged, or importNoRename) needs it \
             named lun0, the path Trident uses (`lun rename -vserver {} -path {} -new-path \
             /vol/{volume}/lun0`), or import it managed without importNoRename",
            lun.path, lun.name, facts.svm, lun.path
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn backend(driver: &str) -> Backend {
        Backend {
            name: "dr".into(),
            driver: driver.into(),
            state: "online".into(),
            online: true,
            user_state: "normal".into(),
            ..Backend::default()
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity_bytes("10Gi"), Some(10 << 30));
        assert_eq!(quantity_bytes("500M"), Some(500_000_000));
        assert_eq!(quantity_bytes("42"), Some(42));
        assert_eq!(quantity_bytes("1.5Gi"), None);
        assert_eq!(quantity_bytes("99999999999Pi"), None);
    }

    #[test]
    fn backend_states() {
        assert!(backend_usable(&backend("ontap-nas"), "trident").is_ok());
        let mut b = backend("ontap-nas");
        b.user_state = "suspended".into();
        assert!(
            backend_usable(&b, "trident")
                .unwrap_err()
                .contains("suspended")
        );
        let mut b = backend("ontap-nas");
        b.state = "offline".into();
        b.online = false;
        b.state_reason = "SVM svm1_dr is stopped".into();
        let e = backend_usable(&b, "trident").unwrap_err();
        assert!(
            e.contains("offline") && e.contains("svm1_dr is stopped"),
            "{e}"
        );
    }

    #[test]
    fn economy_backends_are_imported_by_hand() {
        let v = |s| TridentVersion::parse(s);
        let old = not_economy(&backend("ontap-nas-economy"), v("25.06.0"), "trident").unwrap_err();
        assert!(
            old.contains("upgrade Trident") && old.contains("tridentctl import volume"),
            "{old}"
        );
        let new = not_economy(&backend("ontap-nas-economy"), v("26.06.0"), "trident").unwrap_err();
        assert!(
            !new.contains("upgrade") && new.contains("<flexvol>/<name>"),
            "{new}"
        );
        assert!(not_economy(&backend("ontap-san-economy"), None, "trident").is_err());
        assert!(not_economy(&backend("ontap-nas"), None, "trident").is_ok());
    }

    #[test]
    fn protocol_table() {
        let pvc = |mode: &str, access: &str| json!({"spec": {"volumeMode": mode, "accessModes": [access]}});
        let nas = backend("ontap-nas");
        let san = backend("ontap-san");
        assert!(protocol_fits(&pvc("Filesystem", "ReadWriteOnce"), &nas).is_ok());
        assert!(protocol_fits(&pvc("Filesystem", "ReadWriteOnce"), &san).is_ok());
        assert!(protocol_fits(&pvc("Filesystem", "ReadWriteMany"), &nas).is_ok());
        assert!(protocol_fits(&pvc("Filesystem", "ReadWriteMany"), &san).is_err());
        assert!(protocol_fits(&pvc("Block", "ReadWriteOnce"), &san).is_ok());
        let e = protocol_fits(&pvc("Block", "ReadWriteMany"), &nas).unwrap_err();
        assert!(e.contains("block"), "{e}");
        let mut p = pvc("Block", "ReadWriteOnce");
        p["metadata"] = json!({"annotations": {"trident.netapp.io/protocol": "file"}});
        assert!(protocol_fits(&p, &san).is_err());
    }

    #[test]
    fn san_luns() {
        use svmdr::readiness::LunFacts;
        let lun = |name: &str, state: &str| LunFacts {
            path: format!("/vol/v1/{name}"),
            volume: "v1".into(),
            name: name.into(),
            state: state.into(),
            enabled: true,
            size_bytes: None,
        };
        let mut f = SvmFacts {
            svm: "svm1_dr".into(),
            ..SvmFacts::default()
        };
        assert!(san_lun_fits(&f, "v1", true).unwrap_err().contains("no LUN"));
        f.luns = vec![lun("lun0", "online")];
        assert!(san_lun_fits(&f, "v1", true).is_ok());
        f.luns = vec![lun("data", "online")];
        assert!(
            san_lun_fits(&f, "v1", false).is_ok(),
            "a managed rename makes it lun0"
        );
        assert!(san_lun_fits(&f, "v1", true).unwrap_err().contains("lun0"));
        f.luns = vec![lun("lun0", "offline")];
        assert!(
            san_lun_fits(&f, "v1", true)
                .unwrap_err()
                .contains("offline")
        );
        f.luns = vec![lun("lun0", "online"), lun("lun1", "online")];
        assert!(san_lun_fits(&f, "v1", true).unwrap_err().contains("2 LUNs"));
    }

    #[test]
    fn sizes() {
        assert!(size_fits(Some("10Gi"), Some(10 << 30)).is_ok());
        assert!(size_fits(Some("20Gi"), Some(10 << 30)).is_err());
        assert!(size_fits(None, Some(1)).is_ok());
        assert!(size_fits(Some("10Gi"), None).is_ok());
    }
}
