//! `/api/snapmirror/policies` and `/api/snapmirror/relationships` records.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::{NamedRef, de, ontap_enum};

ontap_enum! {
    /// Policy type; SVM-DR needs `async`.
    pub enum PolicyType {
        /// Asynchronous.
        Async => "async",
        /// Synchronous.
        Sync => "sync",
        /// Continuous (S3).
        Continuous => "continuous",
    }
}

ontap_enum! {
    /// How much SVM configuration SVM-DR replicates.
    pub enum IdentityPreservation {
        /// Everything, LIFs included (same IPs on both sides).
        Full => "full",
        /// Everything but network config.
        ExcludeNetworkConfig => "exclude_network_config",
        /// Neither network nor protocol config.
        ExcludeNetworkAndProtocolConfig => "exclude_network_and_protocol_config",
    }
}

ontap_enum! {
    /// Relationship state. `paused` is the CLI's "Quiesced".
    pub enum RelationshipState {
        /// Broken off (destination writable).
        BrokenOff => "broken_off",
        /// Quiesced.
        Paused => "paused",
        /// Mirrored (async).
        Snapmirrored => "snapmirrored",
        /// Created, never transferred.
        Uninitialized => "uninitialized",
        /// Sync only.
        InSync => "in_sync",
        /// Sync only.
        OutOfSync => "out_of_sync",
        /// Sync only.
        Synchronizing => "synchronizing",
        /// Sync only.
        Expanding => "expanding",
        /// Sync only.
        Shrinking => "shrinking",
    }
}

ontap_enum! {
    /// Relationship group type.
    pub enum GroupType {
        /// A plain volume relationship.
        None => "none",
        /// SVM-DR.
        SvmDr => "svm_dr",
        /// Consistency group.
        ConsistencyGroup => "consistency_group",
        /// FlexGroup.
        Flexgroup => "flexgroup",
        /// Coordination group.
        CoordinationGroup => "coordination_group",
    }
}

ontap_enum! {
    /// Transfer state.
    pub enum TransferState {
        /// Aborted.
        Aborted => "aborted",
        /// Failed.
        Failed => "failed",
        /// Aborted without restart checkpoint.
        HardAborted => "hard_aborted",
        /// Queued.
        Queued => "queued",
        /// Finished.
        Success => "success",
        /// Running.
        Transferring => "transferring",
    }
}

ontap_enum! {
    /// Transfer type.
    pub enum TransferType {
        /// Baseline.
        Initialize => "initialize",
        /// Incremental.
        Update => "update",
        /// Resync.
        Resync => "resync",
        /// Restore.
        Restore => "restore",
    }
}

/// A SnapMirror policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapmirrorPolicy {
    /// Policy UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Policy name.
    #[serde(default)]
    pub name: Option<String>,
    /// Type.
    #[serde(rename = "type", default)]
    pub kind: Option<PolicyType>,
    /// Identity preservation (9.6–9.10 keep it here).
    #[serde(default)]
    pub identity_preservation: Option<IdentityPreservation>,
    /// `svm` or `cluster`.
    #[serde(default)]
    pub scope: Option<String>,
    /// Owning SVM (absent for system policies).
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// Transfer schedule.
    #[serde(default)]
    pub transfer_schedule: Option<NamedRef>,
}

/// One end of a relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationshipEndpoint {
    /// `svm:` for SVM-DR, `svm:vol` for a volume.
    #[serde(default)]
    pub path: Option<String>,
    /// SVM.
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// Cluster.
    #[serde(default)]
    pub cluster: Option<NamedRef>,
}

/// The relationship's policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationshipPolicy {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Type.
    #[serde(rename = "type", default)]
    pub kind: Option<PolicyType>,
}

/// Why a relationship is unhealthy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnhealthyReason {
    /// ONTAP code.
    #[serde(default, deserialize_with = "de::opt_code")]
    pub code: Option<String>,
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
    /// Message arguments.
    #[serde(default)]
    pub arguments: Vec<String>,
}

/// The current or last transfer, as embedded in a relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferSummary {
    /// UUID (only while active).
    #[serde(default)]
    pub uuid: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<TransferState>,
    /// Type.
    #[serde(rename = "type", default)]
    pub kind: Option<TransferType>,
    /// Bytes moved.
    #[serde(default)]
    pub bytes_transferred: Option<u64>,
    /// Elapsed.
    #[serde(default, deserialize_with = "de::opt_duration", skip_serializing)]
    pub total_duration: Option<Duration>,
    /// End.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub end_time: Option<DateTime<FixedOffset>>,
    /// Last progress update.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub last_updated_time: Option<DateTime<FixedOffset>>,
}

/// A SnapMirror relationship (read it on the destination cluster).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    /// UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Source end (its SVM name is the local alias of the peer SVM).
    #[serde(default)]
    pub source: Option<RelationshipEndpoint>,
    /// Destination end.
    #[serde(default)]
    pub destination: Option<RelationshipEndpoint>,
    /// Policy.
    #[serde(default)]
    pub policy: Option<RelationshipPolicy>,
    /// State.
    #[serde(default)]
    pub state: Option<RelationshipState>,
    /// Healthy.
    #[serde(default)]
    pub healthy: Option<bool>,
    /// Why not healthy.
    #[serde(default)]
    pub unhealthy_reason: Option<Vec<UnhealthyReason>>,
    /// Lag since the last exported snapshot (absent before the first
    /// transfer).
    #[serde(default, deserialize_with = "de::opt_duration", skip_serializing)]
    pub lag_time: Option<Duration>,
    /// Identity preservation (9.11.1+ on the relationship).
    #[serde(default)]
    pub identity_preservation: Option<IdentityPreservation>,
    /// `svm_dr` for SVM-DR.
    #[serde(default)]
    pub group_type: Option<GroupType>,
    /// Current or last transfer.
    #[serde(default)]
    pub transfer: Option<TransferSummary>,
    /// Type of the last transfer.
    #[serde(default)]
    pub last_transfer_type: Option<TransferType>,
    /// The last snapshot exported to the destination.
    #[serde(default)]
    pub exported_snapshot: Option<String>,
    /// Schedule overriding the policy's.
    #[serde(default)]
    pub transfer_schedule: Option<NamedRef>,
    /// Bytes moved in all.
    #[serde(default)]
    pub total_transfer_bytes: Option<u64>,
    /// Transfer throttle in KB/s (`0`: unlimited).
    #[serde(default)]
    pub throttle: Option<u64>,
    /// Constituent volumes of an SVM-DR relationship (ask by name).
    #[serde(default)]
    pub svmdr_volumes: Option<Vec<NamedRef>>,
}

impl Relationship {
    /// `source.path`, or `""`.
    pub fn source_path(&self) -> &str {
        self.source
            .as_ref()
            .and_then(|e| e.path.as_deref())
            .unwrap_or("")
    }

    /// `destination.path`, or `""`.
    pub fn destination_path(&self) -> &str {
        self.destination
            .as_ref()
            .and_then(|e| e.path.as_deref())
            .unwrap_or("")
    }

    /// The transfer state, if any.
    pub fn transfer_state(&self) -> Option<TransferState> {
        self.transfer.as_ref().and_then(|t| t.state)
    }

    /// Whether a transfer is queued or running.
    pub fn is_transferring(&self) -> bool {
        matches!(
            self.transfer_state(),
            Some(TransferState::Transferring | TransferState::Queued)
        )
    }

    /// A one-line summary for progress output and wait errors:
    /// `state=snapmirrored healthy=true transfer=success lag=PT5M`.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "state={} healthy={}",
            self.state.map_or("?", |s| s.as_str()),
            self.healthy.map_or("?".to_string(), |h| h.to_string())
        );
        if let Some(t) = self.transfer_state() {
            s.push_str(&format!(" transfer={t}"));
        }
        if let Some(lag) = self.lag_time {
            s.push_str(&format!(" lag={}", super::format_iso8601_duration(lag)));
        }
        if let Some(reasons) = &self.unhealthy_reason {
            for r in reasons {
                s.push_str(&format!(
                    " reason=[{}] {}",
                    r.code.as_deref().unwrap_or("?"),
                    r.message.as_deref().unwrap_or("")
                ));
            }
        }
        s
    }
}

/// The attribute changes of a relationship PATCH (`policy`,
/// `transfer_schedule`, `throttle`, `identity_preservation`); `None` leaves
/// an attribute as it is. See ONTAP's `PATCH /snapmirror/relationships/{uuid}`
/// and Ansible's `na_ontap_snapmirror.py`
/// (`snapmirror_mod_init_resync_break_quiesce_resume_rest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelationshipChange {
    /// New policy name.
    pub policy: Option<String>,
    /// New cron schedule name; `Some(None)` removes the relationship's own.
    pub transfer_schedule: Option<Option<String>>,
    /// New throttle in KB/s (`0`: unlimited).
    pub throttle: Option<u64>,
    /// New identity preservation (ONTAP only lowers it).
    pub identity_preservation: Option<IdentityPreservation>,
}

impl RelationshipChange {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The PATCH body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        if let Some(p) = &self.policy {
            body.insert("policy".into(), serde_json::json!({ "name": p }));
        }
        if let Some(s) = &self.transfer_schedule {
            let v = match s {
                Some(name) => serde_json::json!({ "name": name }),
                None => serde_json::Value::Null,
            };
            body.insert("transfer_schedule".into(), v);
        }
        if let Some(t) = self.throttle {
            body.insert("throttle".into(), serde_json::json!(t));
        }
        if let Some(i) = self.identity_preservation {
            body.insert(
                "identity_preservation".into(),
                serde_json::json!(i.as_str()),
            );
        }
        serde_json::Value::Object(body)
    }
}

ontap_enum! {
    /// Job schedule type; SnapMirror transfers take only `cron` schedules.
    pub enum ScheduleType {
        /// Runs at given minutes, hours, days.
        Cron => "cron",
        /// Runs every interval.
        Interval => "interval",
    }
}

/// A job schedule (`/api/cluster/schedules`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSchedule {
    /// UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Name (`hourly`, `5min`, ...).
    #[serde(default)]
    pub name: Option<String>,
    /// `cron` or `interval`.
    #[serde(rename = "type", default)]
    pub kind: Option<ScheduleType>,
    /// Owning SVM (9.10+; absent for cluster schedules).
    #[serde(default)]
    pub svm: Option<NamedRef>,
}

/// A transfer (`/api/snapmirror/relationships/{uuid}/transfers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Transfer UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// State.
    #[serde(default)]
    pub state: Option<TransferState>,
    /// Bytes moved.
    #[serde(default)]
    pub bytes_transferred: Option<u64>,
    /// Elapsed.
    #[serde(default, deserialize_with = "de::opt_duration", skip_serializing)]
    pub total_duration: Option<Duration>,
    /// End.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub end_time: Option<DateTime<FixedOffset>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_relationship() {
        let r: Relationship = serde_json::from_str(
            r#"{"uuid":"r1","source":{"path":"svm1:","svm":{"name":"svm1"},"cluster":{"name":"ontap-a"}},
                "destination":{"path":"svm1_dr:","svm":{"name":"svm1_dr"}},
                "policy":{"name":"MirrorAllSnapshots","uuid":"p","type":"async"},
                "state":"snapmirrored","healthy":false,
                "unhealthy_reason":[{"code":"6621444","message":"Failed","arguments":["a"]}],
                "lag_time":"P1DT2H3M4.5S","identity_preservation":"full","group_type":"svm_dr",
                "transfer":{"uuid":"t","state":"transferring","type":"update","bytes_transferred":10,
                            "total_duration":"PT1M","end_time":"2026-01-01T00:00:00Z","last_updated_time":"2026-01-01T00:00:00Z"},
                "last_transfer_type":"update","exported_snapshot":"snap1","transfer_schedule":{"name":"hourly"},
                "total_transfer_bytes":100,"svmdr_volumes":[{"name":"v1"}]}"#,
        )
        .unwrap();
        assert_eq!(r.state, Some(RelationshipState::Snapmirrored));
        assert_eq!(r.lag_time, Some(Duration::from_secs_f64(93_784.5)));
        assert_eq!(r.group_type, Some(GroupType::SvmDr));
        assert!(r.is_transferring());
        assert_eq!(r.source_path(), "svm1:");
        assert_eq!(
            r.transfer.as_ref().unwrap().total_duration,
            Some(Duration::from_secs(60))
        );
        let s = r.summary();
        assert!(
            s.contains("state=snapmirrored") && s.contains("6621444"),
            "{s}"
        );
    }

    #[test]
    fn tolerates_new_enum_values_and_missing_fields() {
        let r: Relationship =
            serde_json::from_str(r#"{"uuid":"r","state":"levitating","group_type":"new"}"#)
                .unwrap();
        assert_eq!(r.state, Some(RelationshipState::Unknown));
        assert_eq!(r.lag_time, None);
        assert_eq!(r.source_path(), "");
    }

    #[test]
    fn a_bad_lag_time_is_an_error() {
        let err = serde_json::from_str::<Relationship>(r#"{"lag_time":"8 hours"}"#).unwrap_err();
        assert!(err.to_string().contains("ISO-8601"), "{err}");
    }
}
