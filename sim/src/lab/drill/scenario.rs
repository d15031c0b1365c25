//! `lab drill --scenario`: the situations that real Trident and Velero
//! make different from the plain drill (see `docs/trident.md` and
//! `docs/velero-restore.md`). Each one sets the lab up, says how the restore
//! runs and what it must end in; the drill's checks then look at the
//! simulated clusters and storage.

use anyhow::Context as _;
use serde_json::json;

use crate::kube::fixtures::{PRIMARY_NODES, storage_class};
use crate::lab::velero::BackupKind;
use crate::lab::{Lab, LabOptions, PRIMARY_SVM};

/// `--scenario`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// A `Retain` and a `Delete` PV: both come back through a Trident import,
    /// and the Pod attaches and runs.
    #[default]
    Standard,
    /// The replicated export policy admits only the primary's nodes: the
    /// plugin refuses the PVCs, naming the policy, the rule and the nodes.
    ExportPrimaryOnly,
    /// A backup with file-system (pod volume) backups: `restore` refuses;
    /// `--force` shows the plugin keeping the old data off the volumes.
    FsBackup,
    /// A backup with CSI snapshots: `restore` refuses; `--force` shows the
    /// plugin refusing PVCs Velero would provision from the snapshots.
    CsiSnapshot,
    /// Velero's change-storage-class maps the primary's class to a DR
    /// class: the import goes through the new class.
    ChangeStorageClass,
    /// A restore without cluster resources: PVCs come without their PVs
    /// and are imported all the same.
    PvcWithoutPv,
    /// Trident 25.06 on both sites: no importNoRename; the import renames
    /// the FlexVols and the plugin warns that failback needs the names back.
    #[value(name = "trident-25.06")]
    Trident2506,
    /// The DR backend has another storagePrefix: the import still finds
    /// the replicated volumes (they keep the primary's names).
    DrStoragePrefix,
    /// svmdr-watcher (two replicas, a heartbeat, the witness): the primary
    /// is lost (ONTAP, Kubernetes and the heartbeat); after the grace
    /// period the watcher fails over once and the restore completes.
    WatcherPrimaryLost,
    /// svmdr-watcher: DR cannot reach the primary, but the heartbeat still
    /// renews the witness: no failover; an alert metric and an Event.
    WatcherPartition,
    /// svmdr-watcher: the primary (and its heartbeat) down and up within
    /// the grace period, repeatedly: no failover.
    WatcherFlapping,
    /// svmdr-watcher: the primary lost and the witness down: no quorum, no
    /// automatic action; a human is paged.
    WatcherWitnessDown,
    /// svmdr-watcher: the primary lost with more lag than maxDataLoss: no
    /// automatic action; a human is paged.
    WatcherDataLoss,
    /// svmdr-watcher: the leader killed mid-failover: the other replica
    /// takes over and the plan's resumability finishes the one failover.
    WatcherLeaderLost,
    /// svmdr-watcher in `observe`, then `notify` mode, the primary lost:
    /// nothing changes; notify pages a human.
    WatcherObserveNotify,
}

/// `lab drill --fault`: a fault the drill injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DrillFault {
    /// The primary site is lost while a SnapMirror transfer is running
    /// (the writes it carried are in the data-loss window).
    PrimaryDownMidSync,
    /// The DR SVM's NFS data LIF goes down when the Velero restore starts
    /// (the plugin must refuse the PVs and PVCs on it).
    DataLifDownDuringRestore,
}

/// The DR StorageClass of the change-storage-class scenario.
pub const DR_CLASS: &str = "ontap-nas-dr";

/// How the restore is expected to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Completed, the app running on imported volumes.
    Running,
    /// The plugin refuses the PVCs (PartiallyFailed) for a storage reason.
    PluginRefuses,
    /// `restore` itself refuses the backup (exit 3); `--force` then runs it.
    CliRefuses,
}

impl Scenario {
    /// A scenario of the in-cluster watcher (run by `svmdr-watcher`, not by
    /// the drill's own failover).
    pub fn is_watcher(self) -> bool {
        matches!(
            self,
            Self::WatcherPrimaryLost
                | Self::WatcherPartition
                | Self::WatcherFlapping
                | Self::WatcherWitnessDown
                | Self::WatcherDataLoss
                | Self::WatcherLeaderLost
                | Self::WatcherObserveNotify
        )
    }

    /// The lab as this scenario needs it.
    pub fn lab_options(self, opts: &mut LabOptions) {
        match self {
            Self::Trident2506 => opts.trident_version = Some("25.06.0".into()),
            Self::DrStoragePrefix => opts.dr_storage_prefix = Some("dr_".into()),
            _ => {}
        }
    }

    /// What the restore must end in.
    pub fn expect(self) -> Expect {
        match self {
            Self::ExportPrimaryOnly => Expect::PluginRefuses,
            Self::FsBackup | Self::CsiSnapshot => Expect::CliRefuses,
            _ => Expect::Running,
        }
    }

    /// The problem `status` must report before and after the disaster (exit
    /// 1), as words it contains: the newest backup carries volume data, or
    /// the DR SVM's export policy would refuse the DR nodes.
    pub fn expected_status_problem(self) -> Option<&'static str> {
        match self {
            Self::FsBackup | Self::CsiSnapshot => Some("carries volume data"),
            Self::ExportPrimaryOnly => Some("could not mount"),
            _ => None,
        }
    }

    /// Whether the drill goes on to resync and fail back after the restore.
    /// After Trident 25.06 renamed the replicated volumes it cannot: SVM-DR
    /// would need the names back first (what the plugin warned about).
    pub fn fails_back(self) -> bool {
        self != Self::Trident2506
    }

    /// Prepares the lab before the drill starts; returns the backup to
    /// restore and one line saying what was set up.
    ///
    /// # Errors
    /// The lab refused a seed object.
    pub fn prepare(self, lab: &Lab) -> anyhow::Result<(String, String)> {
        let plain = crate::lab::app::BACKUP.to_string();
        Ok(match self {
            Self::Standard => (plain, "a Retain and a Delete Trident PV".into()),
            Self::ExportPrimaryOnly => {
                // Replicated to the DR SVM by SVM-DR (identity preserved).
                let nodes: Vec<_> = PRIMARY_NODES
                    .iter()
                    .map(|(_, ip)| json!({"match": ip}))
                    .collect();
                lab.ontap.control().set_export_rules(
                    "primary",
                    PRIMARY_SVM,
                    "default",
                    vec![json!({"index": 1, "clients": nodes, "protocols": ["any"],
                        "ro_rule": ["sys"], "rw_rule": ["sys"], "superuser": ["sys"]})],
                );
                (
                    plain,
                    "export policy default of svm1 admits only the primary's nodes".into(),
                )
            }
            Self::FsBackup | Self::CsiSnapshot => {
                let kind = if self == Self::FsBackup {
                    BackupKind::FsBackup
                } else {
                    BackupKind::CsiSnapshot
                };
                let name = lab.seed_backup(kind).context("seeding the backup")?;
                let what = format!(
                    "backup {name} carries the volumes' data ({})",
                    kind.as_str()
                );
                (name, what)
            }
            Self::ChangeStorageClass => {
                lab.dr_kube
                    .apply(storage_class(DR_CLASS, "ontap-nas", ""))
                    .context("creating the DR StorageClass")?;
                lab.map_storage_class(&lab.primary_trident.storage_class, DR_CLASS)
                    .context("mapping the StorageClass")?;
                (
                    plain,
                    format!(
                        "Velero maps StorageClass {} to {DR_CLASS}",
                        lab.primary_trident.storage_class
                    ),
                )
            }
            Self::PvcWithoutPv => (
                plain,
                "restore with --include-cluster-resources=false".into(),
            ),
            Self::Trident2506 => (plain, "Trident 25.06.0 on both sites".into()),
            Self::DrStoragePrefix => (plain, "DR backend storagePrefix dr_".into()),
            s if s.is_watcher() => (
                plain,
                "svmdr-watcher (2 replicas), the primary's heartbeat and the witness cluster"
                    .into(),
            ),
            _ => (plain, "a Retain and a Delete Trident PV".into()),
        })
    }

    /// Extra `restore` flags.
    pub fn restore_args(self) -> &'static [&'static str] {
        match self {
            Self::PvcWithoutPv => &["--include-cluster-resources=false"],
            _ => &[],
        }
    }
}
