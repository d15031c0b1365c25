//! ONTAP's field names per resource, for validating `fields=`.
//!
//! The lists under `fields/` are generated from the marshmallow schemas of
//! NetApp's Python client (`sim/fidelity/ontap-fields.py`; the fidelity gate
//! regenerates and diffs them). One dotted path a line; `path.*` marks where
//! the generator stopped walking, so any name below it is accepted.

use super::error::ApiError;

/// The known field paths of one resource.
#[derive(Debug, Clone, Copy)]
pub struct Catalogue(&'static str);

macro_rules! catalogue {
    ($($(#[$doc:meta])* $name:ident = $file:literal;)*) => {
        $($(#[$doc])* pub const $name: Catalogue =
            Catalogue(include_str!(concat!("fields/", $file, ".txt")));)*
    };
}

catalogue! {
    /// `/api/cluster`.
    CLUSTER = "cluster";
    /// `/api/cluster/nodes`.
    NODES = "nodes";
    /// `/api/cluster/jobs`.
    JOBS = "jobs";
    /// `/api/cluster/schedules`.
    SCHEDULES = "schedules";
    /// `/api/cluster/peers`.
    CLUSTER_PEERS = "cluster_peers";
    /// `/api/network/ip/interfaces`.
    IP_INTERFACES = "ip_interfaces";
    /// `/api/svm/svms`.
    SVMS = "svms";
    /// `/api/svm/peers`.
    SVM_PEERS = "svm_peers";
    /// `/api/svm/peer-permissions`.
    SVM_PEER_PERMISSIONS = "svm_peer_permissions";
    /// `/api/snapmirror/policies`.
    SNAPMIRROR_POLICIES = "snapmirror_policies";
    /// `/api/snapmirror/relationships`.
    SNAPMIRROR_RELATIONSHIPS = "snapmirror_relationships";
    /// `/api/snapmirror/relationships/{uuid}/transfers`.
    SNAPMIRROR_TRANSFERS = "snapmirror_transfers";
    /// `/api/storage/volumes`.
    VOLUMES = "volumes";
    /// `/api/protocols/nfs/services`.
    NFS_SERVICES = "nfs_services";
    /// `/api/protocols/nfs/export-policies`.
    EXPORT_POLICIES = "export_policies";
    /// `/api/protocols/nfs/export-policies/{id}/rules`.
    EXPORT_RULES = "export_rules";
    /// `/api/storage/luns`.
    LUNS = "luns";
    /// `/api/protocols/san/iscsi/services`.
    ISCSI_SERVICES = "iscsi_services";
}

impl Catalogue {
    /// A catalogue over `text` (one path a line, `#` comments).
    #[cfg(test)]
    pub const fn from_text(text: &'static str) -> Self {
        Catalogue(text)
    }

    /// Checks every name of a `fields=` list (`*`, `**` and empty names
    /// aside) and reports the first one ONTAP does not know as ONTAP does:
    /// 400, code 262197, target `fields`.
    ///
    /// # Errors
    /// The first unknown name.
    pub fn check(&self, list: &str) -> Result<(), ApiError> {
        let unknown = list
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty() && *f != "*" && *f != "**")
            .find(|f| !self.knows(f));
        match unknown {
            None => Ok(()),
            Some(f) => Err(ApiError::bad(
                262_197,
                format!("The value \"{f}\" is invalid for field \"fields\" (<field,...>)"),
            )
            .target("fields")),
        }
    }

    /// The listed paths (header comment skipped).
    pub fn paths(&self) -> impl Iterator<Item = &'static str> {
        self.0
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    }

    /// The top-level field names.
    #[cfg(test)]
    pub fn top_level(&self) -> impl Iterator<Item = &'static str> {
        self.paths().filter(|p| !p.contains('.'))
    }

    /// Is `name` a field ONTAP knows: a listed path, a prefix of one
    /// (`svm` of `svm.name`), or a name under a `path.*` entry?
    pub fn knows(&self, name: &str) -> bool {
        self.paths().any(|p| {
            if let Some(open) = p.strip_suffix('*') {
                name.starts_with(open)
            } else {
                p == name || (p.starts_with(name) && p.as_bytes().get(name.len()) == Some(&b'.'))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(SVMS.knows("name"));
        assert!(SVMS.knows("snapshot_policy"));
        assert!(SVMS.knows("snapshot_policy.name"));
        assert!(SVMS.knows("_links"));
        assert!(!SVMS.knows("nam"));
        assert!(!SVMS.knows("name.x"));
        assert!(!SVMS.knows("interface.name"));
        assert!(VOLUMES.top_level().any(|f| f == "language"));
        assert!(SCHEDULES.knows("svm.aggregates.name"));
        assert!(SVMS.check("*,name,,**, uuid").is_ok());
        let e = SVMS.check("**,name,interface.name,bogus").unwrap_err();
        assert_eq!(e.code, "262197");
        assert_eq!(e.target.as_deref(), Some("fields"));
        assert_eq!(
            e.message,
            "The value \"interface.name\" is invalid for field \"fields\" (<field,...>)"
        );
    }
}
