//! The Trident version running in a cluster, and the behaviours that depend
//! on it (see `docs/trident.md` §8). Dates of the gates come from
//! the release tags of `NetApp/trident` that first contain the change.

use std::fmt;

use serde_json::Value;

/// A Trident release, `YY.MM.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TridentVersion {
    /// Year (e.g. 25).
    pub major: u32,
    /// Month (e.g. 10).
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl fmt::Display for TridentVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}.{}", self.major, self.minor, self.patch)
    }
}

impl TridentVersion {
    /// A version.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `25.10.0`, `v25.10.0`, `25.10.0-custom+abc`, `25.10`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().trim_start_matches('v');
        let core = s.split(['-', '+']).next()?;
        let mut it = core.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = match it.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        Some(Self::new(major, minor, patch))
    }

    /// From a `TridentVersion` CR (`trident_version`, as in Trident's
    /// `persistent_store/crd/apis/netapp/v1/types.go`) or a
    /// `TridentOrchestrator` (`status.version`).
    pub fn from_object(obj: &Value) -> Option<Self> {
        obj.get("trident_version")
            .or_else(|| obj.pointer("/status/version"))
            .and_then(Value::as_str)
            .and_then(Self::parse)
    }

    /// `trident.netapp.io/importNoRename` is honoured (v25.10.0, commit
    /// d42c60fc "supporting trident managed import without renaming volumes");
    /// older releases ignore it and rename a managed import.
    pub fn honours_import_no_rename(self) -> bool {
        self >= Self::new(25, 10, 0)
    }

    /// Internal names collapse `__` until none is left (v24.10.0, commit
    /// 46b43058); older releases made one pass.
    pub fn collapses_repeatedly(self) -> bool {
        self >= Self::new(24, 10, 0)
    }

    /// Whether driver `driver` can import volumes: ontap-san-economy since
    /// 24.06 (`ontap_san_economy.go` Import), ontap-nas-economy since 26.06
    /// (`ontap_nas_qtree.go` Import); the other ONTAP drivers always could.
    pub fn imports_on(self, driver: &str) -> bool {
        match driver {
            "ontap-san-economy" => self >= Self::new(24, 6, 0),
            "ontap-nas-economy" => self >= Self::new(26, 6, 0),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_gates() {
        let v = TridentVersion::parse("v25.06.2-custom").unwrap();
        assert_eq!(v, TridentVersion::new(25, 6, 2));
        assert_eq!(v.to_string(), "25.06.2");
        assert!(!v.honours_import_no_rename());
        assert!(v.collapses_repeatedly());
        assert!(
            TridentVersion::parse("25.10.0")
                .unwrap()
                .honours_import_no_rename()
        );
        assert!(
            !TridentVersion::parse("24.06")
                .unwrap()
                .collapses_repeatedly()
        );
        assert!(!v.imports_on("ontap-nas-economy"));
        assert!(v.imports_on("ontap-san-economy"));
        assert!(
            TridentVersion::parse("26.06.0")
                .unwrap()
                .imports_on("ontap-nas-economy")
        );
        assert_eq!(TridentVersion::parse("x"), None);
        let cr = json!({"kind": "TridentVersion", "trident_version": "26.06.0"});
        assert_eq!(
            TridentVersion::from_object(&cr),
            Some(TridentVersion::new(26, 6, 0))
        );
        let torc = json!({"status": {"version": "24.10.1"}});
        assert_eq!(
            TridentVersion::from_object(&torc),
            Some(TridentVersion::new(24, 10, 1))
        );
    }
}
