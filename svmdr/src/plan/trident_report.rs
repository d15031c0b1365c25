//! What a plan observed of the DR cluster's Trident backends (a leaf: the
//! observation holds it, and [`super::trident`] reads it).

use serde::{Deserialize, Serialize};

use crate::trident::backend::Backend;

/// What the plan knows about the DR cluster's Trident backends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum TridentReport {
    /// Not asked (no step needed it).
    #[default]
    NotObserved,
    /// The DR cluster's Kubernetes API is not configured: cannot be asked.
    NotConfigured,
    /// The TridentBackends.
    Listed {
        /// Every ONTAP backend in the Trident namespace (as
        /// [`crate::trident::cluster::list_backends`] lists them: not the ones being deleted).
        backends: Vec<Backend>,
    },
    /// The LIST failed.
    Failed {
        /// The error.
        error: String,
    },
}

impl TridentReport {
    /// The backends of `svm` (pure).
    pub fn of_svm<'a>(&'a self, svm: &'a str) -> impl Iterator<Item = &'a Backend> + 'a {
        let all: &[Backend] = match self {
            TridentReport::Listed { backends } => backends,
            _ => &[],
        };
        all.iter().filter(move |b| b.svm.as_deref() == Some(svm))
    }
}
