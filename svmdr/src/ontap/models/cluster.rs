//! `/api/cluster` and `/api/cluster/nodes` records.

use serde::{Deserialize, Serialize};

/// The cluster's identity (`GET /api/cluster`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// Cluster name.
    #[serde(default)]
    pub name: Option<String>,
    /// Cluster UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// ONTAP release (the lowest across nodes on a mixed cluster).
    #[serde(default)]
    pub version: Option<Version>,
    /// All-SAN Array: SVM-DR must use `exclude_network_and_protocol_config`.
    #[serde(default)]
    pub san_optimized: Option<bool>,
}

/// An ONTAP release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// e.g. `NetApp Release 9.14.1: ...`.
    #[serde(default)]
    pub full: Option<String>,
    /// The `9` in 9.14.1.
    #[serde(default)]
    pub generation: Option<u32>,
    /// The `14` in 9.14.1.
    #[serde(default)]
    pub major: Option<u32>,
    /// The `1` in 9.14.1.
    #[serde(default)]
    pub minor: Option<u32>,
}

impl Version {
    /// `(generation, major, minor)`, when all three are known.
    pub fn triple(&self) -> Option<(u32, u32, u32)> {
        Some((self.generation?, self.major?, self.minor?))
    }

    /// Whether this release is at least `generation.major.minor`. Unknown
    /// versions answer `false`.
    pub fn at_least(&self, generation: u32, major: u32, minor: u32) -> bool {
        self.triple()
            .is_some_and(|v| v >= (generation, major, minor))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.triple() {
            Some((g, m, n)) => write!(f, "{g}.{m}.{n}"),
            None => f.write_str(self.full.as_deref().unwrap_or("unknown")),
        }
    }
}

/// A cluster node (`GET /api/cluster/nodes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Node UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Node name.
    #[serde(default)]
    pub name: Option<String>,
    /// Node ONTAP release.
    #[serde(default)]
    pub version: Option<Version>,
    /// `up`, `down`, `taken_over`, ... (kept as text: a long, growing enum).
    #[serde(default)]
    pub state: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cluster_and_compares_versions() {
        let c: Cluster = serde_json::from_str(
            r#"{"name":"ontap-a","uuid":"u1","version":{"full":"NetApp Release 9.14.1","generation":9,"major":14,"minor":1},"_links":{}}"#,
        )
        .unwrap();
        let v = c.version.unwrap();
        assert!(v.at_least(9, 11, 1));
        assert!(!v.at_least(9, 15, 0));
        assert_eq!(v.to_string(), "9.14.1");
        let empty: Cluster = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.name, None);
        assert!(!Version::default().at_least(9, 6, 0));
    }
}
