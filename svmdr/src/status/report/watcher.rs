//! The watcher's part of the status report (see [`crate::status::watcher`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What `status` shows of the watcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatcherView {
    /// Its namespace.
    pub namespace: String,
    /// `healthy`, `partition`, `primary-lost`, ...
    pub verdict: Option<String>,
    /// `none`, `alert`, `page`, `failover`.
    pub action: Option<String>,
    /// Why, one sentence.
    pub message: Option<String>,
    /// `observe`, `notify`, `automatic`.
    pub mode: Option<String>,
    /// May fail over on its own (in automatic mode).
    pub armed: bool,
    /// The replica that leads.
    pub leader: Option<String>,
    /// When it last observed.
    pub observed_at: Option<DateTime<Utc>>,
    /// Seconds since then.
    pub observed_age_seconds: Option<u64>,
    /// It has not published for longer than it should.
    pub stale: bool,
    /// The automatic failover it ran, `outcome` only.
    pub failover: Option<String>,
}
