//! Faults a person can put into a running lab (`kubectl svmdr lab fault`),
//! the same ones the drill uses: the primary site lost and back, the DR
//! SVM's NFS data LIF down and up.

use anyhow::{Result, bail};

use super::Lab;

/// A fault (or its repair).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabFault {
    /// The primary site is lost: its ONTAP cluster and Kubernetes API stop answering.
    PrimaryDown,
    /// The primary site answers again.
    PrimaryUp,
    /// The DR SVM's NFS data LIF goes down.
    DrLifDown,
    /// The DR SVM's NFS data LIF is up again.
    DrLifUp,
}

impl LabFault {
    /// Every fault, with its name.
    pub const ALL: [(Self, &'static str); 4] = [
        (Self::PrimaryDown, "primary-down"),
        (Self::PrimaryUp, "primary-up"),
        (Self::DrLifDown, "dr-lif-down"),
        (Self::DrLifUp, "dr-lif-up"),
    ];

    /// Its name (`primary-down`, ...).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, n)| n)
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == s.trim())
            .map(|(f, _)| *f)
    }
}

impl Lab {
    /// The primary site down (or up): its ONTAP cluster and its Kubernetes API.
    pub fn set_primary_down(&self, down: bool) {
        self.ontap.control().set_cluster_down("primary", down);
        self.primary_kube.set_down(down);
    }

    /// Applies `fault`; returns what changed, one line.
    ///
    /// # Errors
    /// The DR SVM has no NFS data LIF yet (before `peer`).
    pub fn apply_fault(&self, fault: LabFault) -> Result<String> {
        Ok(match fault {
            LabFault::PrimaryDown | LabFault::PrimaryUp => {
                let down = fault == LabFault::PrimaryDown;
                self.set_primary_down(down);
                format!(
                    "primary ONTAP cluster and Kubernetes API {}",
                    if down {
                        "down (not answering)"
                    } else {
                        "up again"
                    }
                )
            }
            LabFault::DrLifDown | LabFault::DrLifUp => {
                let Some(lif) = self.dr_nfs_lif() else {
                    bail!(
                        "the DR SVM {} has no NFS data LIF yet: run `kubectl svmdr peer` first",
                        super::DR_SVM
                    );
                };
                let down = fault == LabFault::DrLifDown;
                self.ontap.control().set_lif_down("dr", &lif, down);
                format!("DR data LIF {lif} {}", if down { "down" } else { "up" })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (f, n) in LabFault::ALL {
            assert_eq!(LabFault::parse(n), Some(f));
            assert_eq!(f.name(), n);
        }
        assert_eq!(LabFault::parse("nope"), None);
    }
}
