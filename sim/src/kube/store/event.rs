//! A change to an object, as kept in the history and sent to live watches.

use serde_json::Value;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventKind {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the history and sent to live watches.
#[derive(Debug)]
pub struct Event {
    /// The resourceVersion this change produced.
    pub rv: u64,
    /// What happened.
    pub kind: EventKind,
    /// Storage key (`group/plural`).
    pub key: String,
    /// Namespace, `""` for cluster-scoped objects.
    pub namespace: String,
    /// The object after the change (for deletes: its last state).
    pub object: Value,
    /// The object before the change, for MODIFIED (selectors need both).
    pub old: Option<Value>,
}
