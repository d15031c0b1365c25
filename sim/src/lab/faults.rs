//! Faults a person can put into a running lab (`kubectl svmdr lab fault`),
//! the same ones the drill uses: the primary site lost and back (whole, or
//! only its ONTAP cluster or only its Kubernetes API), the DR SVM's NFS
//! data LIF down and up, and the witness cluster's API down and up.

use anyhow::{Result, bail};

use super::Lab;

/// A fault (or its repair).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabFault {
    /// The primary site is lost: its ONTAP cluster and Kubernetes API stop answering.
    PrimaryDown,
    /// The primary site answers again.
    PrimaryUp,
    /// Only the primary ONTAP cluster stops answering.
    PrimaryOntapDown,
    /// The primary ONTAP cluster answers again.
    PrimaryOntapUp,
    /// Only the primary Kubernetes API stops answering.
    PrimaryKubeDown,
    /// The primary Kubernetes API answers again.
    PrimaryKubeUp,
    /// The DR SVM's NFS data LIF goes down.
    DrLifDown,
    /// The DR SVM's NFS data LIF is up again.
    DrLifUp,
    /// The witness cluster's Kubernetes API stops answering.
    WitnessDown,
    /// The witness cluster's Kubernetes API answers again.
    WitnessUp,
}

impl LabFault {
    /// Every fault, with its name and a one-line description (the CLI's help).
    pub const ALL: [(Self, &'static str, &'static str); 10] = [
        (
            Self::PrimaryDown,
            "primary-down",
            "The primary site is lost: its ONTAP cluster and Kubernetes API stop answering",
        ),
        (
            Self::PrimaryUp,
            "primary-up",
            "The primary site answers again",
        ),
        (
            Self::PrimaryOntapDown,
            "primary-ontap-down",
            "Only the primary ONTAP cluster stops answering",
        ),
        (
            Self::PrimaryOntapUp,
            "primary-ontap-up",
            "The primary ONTAP cluster answers again",
        ),
        (
            Self::PrimaryKubeDown,
            "primary-kube-down",
            "Only the primary Kubernetes API stops answering",
        ),
        (
            Self::PrimaryKubeUp,
            "primary-kube-up",
            "The primary Kubernetes API answers again",
        ),
        (
            Self::DrLifDown,
            "dr-lif-down",
            "The DR SVM's NFS data LIF goes down (Velero restores are refused)",
        ),
        (
            Self::DrLifUp,
            "dr-lif-up",
            "The DR SVM's NFS data LIF is up again",
        ),
        (
            Self::WitnessDown,
            "witness-down",
            "The witness cluster's Kubernetes API stops answering",
        ),
        (
            Self::WitnessUp,
            "witness-up",
            "The witness cluster's Kubernetes API answers again",
        ),
    ];

    fn entry(self) -> Option<&'static (Self, &'static str, &'static str)> {
        Self::ALL.iter().find(|(f, _, _)| *f == self)
    }

    /// Its name (`primary-down`, ...).
    pub fn name(self) -> &'static str {
        self.entry().map_or("?", |e| e.1)
    }

    /// What it does, one line.
    pub fn about(self) -> &'static str {
        self.entry().map_or("?", |e| e.2)
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == s.trim())
            .map(|(f, _, _)| *f)
    }

    /// Every name, separated by `|`.
    pub fn names() -> String {
        Self::ALL.map(|e| e.1).join("|")
    }
}

fn down_or_up(down: bool) -> &'static str {
    if down {
        "down (not answering)"
    } else {
        "up again"
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
        use LabFault as F;
        let down = matches!(
            fault,
            F::PrimaryDown
                | F::PrimaryOntapDown
                | F::PrimaryKubeDown
                | F::DrLifDown
                | F::WitnessDown
        );
        Ok(match fault {
            F::PrimaryDown | F::PrimaryUp => {
                self.set_primary_down(down);
                format!(
                    "primary ONTAP cluster and Kubernetes API {}",
                    down_or_up(down)
                )
            }
            F::PrimaryOntapDown | F::PrimaryOntapUp => {
                self.ontap.control().set_cluster_down("primary", down);
                format!("primary ONTAP cluster {}", down_or_up(down))
            }
            F::PrimaryKubeDown | F::PrimaryKubeUp => {
                self.primary_kube.set_down(down);
                format!("primary Kubernetes API {}", down_or_up(down))
            }
            F::WitnessDown | F::WitnessUp => {
                self.witness_kube.set_down(down);
                format!("witness Kubernetes API {}", down_or_up(down))
            }
            F::DrLifDown | F::DrLifUp => {
                let Some(lif) = self.dr_nfs_lif() else {
                    bail!(
                        "the DR SVM {} has no NFS data LIF yet: run `kubectl svmdr peer` first",
                        super::DR_SVM
                    );
                };
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
    fn names_round_trip_and_come_in_pairs() {
        for (f, n, about) in LabFault::ALL {
            assert_eq!(LabFault::parse(n), Some(f));
            assert_eq!(f.name(), n);
            assert_eq!(f.about(), about);
            let pair = match n.strip_suffix("-down") {
                Some(base) => format!("{base}-up"),
                None => format!("{}-down", n.trim_end_matches("-up")),
            };
            assert!(LabFault::parse(&pair).is_some(), "{n} has no pair");
        }
        assert_eq!(LabFault::parse("nope"), None);
        assert!(LabFault::names().starts_with("primary-down|primary-up|"));
    }

    /// Whether something accepts connections at `url`'s host and port.
    async fn answers(url: &str) -> bool {
        let addr = url.trim_start_matches("https://");
        tokio::net::TcpStream::connect(addr).await.is_ok()
    }

    #[tokio::test]
    async fn each_fault_takes_down_only_its_api() {
        let lab = Lab::start(super::super::LabOptions::default())
            .await
            .expect("lab");
        let ns = lab
            .witness_kube
            .get("v1", "Namespace", None, super::super::WITNESS_NAMESPACE);
        assert!(ns.is_some(), "the witness namespace is created");
        let kubeconfig = std::fs::read_to_string(&lab.files.kubeconfig).expect("kubeconfig");
        assert!(kubeconfig.contains(&lab.witness_kube.url()), "{kubeconfig}");
        assert!(kubeconfig.contains("name: lab-witness"), "{kubeconfig}");

        let ontap = lab.ontap.url("primary");
        let state = async || {
            [
                answers(&ontap).await,
                !lab.primary_kube.is_down(),
                !lab.witness_kube.is_down(),
                !lab.dr_kube.is_down(),
            ]
        };
        assert_eq!(state().await, [true; 4]);
        let cases = [
            (LabFault::WitnessDown, [true, true, false, true]),
            (LabFault::WitnessUp, [true; 4]),
            (LabFault::PrimaryKubeDown, [true, false, true, true]),
            (LabFault::PrimaryKubeUp, [true; 4]),
            (LabFault::PrimaryOntapDown, [false, true, true, true]),
            (LabFault::PrimaryOntapUp, [true; 4]),
            (LabFault::PrimaryDown, [false, false, true, true]),
            (LabFault::PrimaryUp, [true; 4]),
        ];
        for (fault, want) in cases {
            let what = lab.apply_fault(fault).expect("applies");
            assert_eq!(state().await, want, "after {}: {what}", fault.name());
        }
        assert!(answers(&lab.witness_kube.url()).await);
    }
}
