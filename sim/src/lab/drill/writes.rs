//! The application's writes during the drill: one block to every app volume,
//! and which of them a site's volumes hold.

use crate::lab::app::VOLUMES;
use crate::ontap::{Control, WriteId};

use super::report::DrillCheck;

/// One write, by volume.
pub type Writes = Vec<(String, WriteId)>;

/// One write of 4 KiB to every app volume on `cluster`/`svm`.
///
/// # Errors
/// The first volume the simulator refused the write to (cluster down, SVM
/// stopped, volume read-only).
pub fn write_all(ctl: &Control, cluster: &str, svm: &str) -> anyhow::Result<Writes> {
    VOLUMES
        .iter()
        .map(|v| {
            ctl.write(cluster, svm, v.volume, 4096)
                .map(|id| (v.volume.to_string(), id))
                .map_err(|e| anyhow::anyhow!("writing to {} on {cluster}/{svm}: {e}", v.volume))
        })
        .collect()
}

/// Which of `writes` the volumes on `cluster`/`svm` hold: (held, missing names).
pub fn holds(
    ctl: &Control,
    cluster: &str,
    svm: &str,
    writes: &[(String, WriteId)],
) -> (usize, Vec<String>) {
    let mut missing = Vec::new();
    for (vol, id) in writes {
        let ok = ctl
            .volume_data(cluster, svm, vol)
            .is_some_and(|d| d.contains(*id));
        if !ok {
            missing.push(format!("write {} on {vol}", id.0));
        }
    }
    (writes.len() - missing.len(), missing)
}

/// Check `id`: every one of `writes` (`what`) is on `cluster`/`svm`.
pub fn writes_held(
    id: &str,
    ctl: &Control,
    cluster: &str,
    svm: &str,
    what: &str,
    writes: &[(String, WriteId)],
) -> DrillCheck {
    let (n, missing) = holds(ctl, cluster, svm, writes);
    let ok = missing.is_empty();
    let detail = if ok {
        format!("{n}/{} {what} found on {cluster} SVM {svm}", writes.len())
    } else {
        format!("missing on {cluster} SVM {svm}: {}", missing.join(", "))
    };
    DrillCheck::new(id, ok, detail)
}

/// Whether a SnapMirror transfer is running now (for a fault that must
/// hit one).
pub fn transfer_running(ctl: &Control) -> bool {
    ctl.snapshot()["relationships"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["transfer_state"] == "transferring")
}
