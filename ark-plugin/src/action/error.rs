//! [`ActionError`]: why an item is refused. Velero shows the message in the
//! restore log ("error preparing <item>: <message>"), so every variant names
//! the item and, for storage, the SVM, volume, LIF and what to do.

use std::time::Duration;

use svmdr::readiness::NotReady;
use svmdr::trident::volume::VolumeRefError;

use crate::storage::ClusterError;

/// The item was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The item is not a JSON object with a `kind`.
    #[error("item is not a valid Kubernetes object: {detail}")]
    BadItem {
        /// The parser's message.
        detail: String,
    },
    /// The Restore is not JSON.
    #[error("restore is not valid JSON: {detail}")]
    BadRestore {
        /// The parser's message.
        detail: String,
    },
    /// A Trident PV lacks what Trident always writes.
    #[error("{0}")]
    BadVolume(VolumeRefError),
    /// The restore cluster (config, Trident records) could not be read.
    #[error("{subject}: {source}")]
    Cluster {
        /// `PersistentVolume <name>` or `PersistentVolumeClaim <ns>/<name>`.
        subject: String,
        /// What failed.
        #[source]
        source: ClusterError,
    },
    /// No Trident backend of the restore cluster holds the volume.
    #[error("{subject}: {detail}")]
    NoBackend {
        /// The item.
        subject: String,
        /// Which backends were searched and why none fits.
        detail: String,
    },
    /// The storage behind the item is not ready.
    #[error("{subject} (Trident backend {backend}): {source}{}; not restoring it, so that nothing is created on storage that is not there", waited_note(*waited))]
    NotReady {
        /// The item.
        subject: String,
        /// The restore cluster's backend.
        backend: String,
        /// Why.
        #[source]
        source: Box<NotReady>,
        /// How long the plugin waited (`waitForReady`), if at all.
        waited: Option<Duration>,
    },
    /// Trident would refuse to import the volume for this PVC.
    #[error("{subject}: Trident cannot import ONTAP volume {volume}: {reason}")]
    NotImportable {
        /// The item.
        subject: String,
        /// The ONTAP volume.
        volume: String,
        /// Which of Trident's import conditions fails, and what to do.
        reason: String,
    },
}

fn waited_note(waited: Option<Duration>) -> String {
    match waited {
        Some(w) if !w.is_zero() => format!(
            " (still not ready after waiting {})",
            humantime::format_duration(w)
        ),
        _ => String::new(),
    }
}
