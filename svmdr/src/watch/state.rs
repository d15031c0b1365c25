//! The watcher's status object: a ConfigMap (`svmdr-watcher-status`) in
//! the watcher's namespace that says what the watcher sees and decided,
//! holds the arm switch, and is the object its Events are about, so that
//! `kubectl describe configmap svmdr-watcher-status` and
//! `kubectl svmdr watcher status` show the same thing.
//!
//! Keys (strings, as ConfigMap data must be):
//! - `armed` (`true`|`false`; absent: armed), `armedBy`, `armedAt`,
//!   `disarmedReason`: the switch. An automatic failover disarms it
//!   before it starts; only a person re-arms it (`watcher arm`).
//! - `leader`, `mode`, `verdict`, `action`, `message`, `since` (the
//!   verdict's first time), `observedAt`, `evidence` (JSON list),
//!   `observation` (JSON): the newest decision and what it rests on.
//! - `failover` (JSON `{startedAt, pair, evidence, outcome, message}`):
//!   the automatic failover, `outcome: running` while it runs, so that
//!   a new leader finishes it rather than starting another.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{ConfigMap, Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde::{Deserialize, Serialize};

/// Name of the status ConfigMap.
pub use crate::status::watcher::STATUS_CONFIGMAP;

/// A status read or write failed.
#[derive(Debug, thiserror::Error)]
#[error("watcher status ConfigMap {namespace}/{STATUS_CONFIGMAP}: {what}: {source}")]
pub struct StateError {
    /// Namespace.
    pub namespace: String,
    /// What was being done.
    pub what: &'static str,
    /// The API's error.
    #[source]
    pub source: kube::Error,
}

/// The automatic failover the watcher started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverRecord {
    /// When the decision was taken.
    pub started_at: DateTime<Utc>,
    /// Who took it (the replica).
    pub by: String,
    /// The SVM pair.
    pub pair: String,
    /// Each view, with times.
    pub evidence: Vec<String>,
    /// `running`, then the audit outcome (`succeeded`, `failed`, ...).
    pub outcome: String,
    /// The outcome in one sentence.
    #[serde(default)]
    pub message: String,
    /// The replica that ran it to its end (another than `by` when the
    /// leader changed mid-run).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub finished_by: String,
}

/// The status object as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatcherState {
    /// The raw data.
    pub data: BTreeMap<String, String>,
}

impl WatcherState {
    /// The arm switch (absent: armed).
    pub fn armed(&self) -> bool {
        self.data.get("armed").is_none_or(|v| v.trim() != "false")
    }

    /// The automatic failover recorded, if any.
    pub fn failover(&self) -> Option<FailoverRecord> {
        self.data
            .get("failover")
            .and_then(|s| serde_json::from_str(s).ok())
    }

    /// A key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.data.get(key).map(String::as_str)
    }
}

/// Reads and writes the status object and its Events.
#[derive(Clone)]
pub struct StateStore {
    api: Api<ConfigMap>,
    events: Api<Event>,
    namespace: String,
}

impl StateStore {
    /// The store in `namespace`.
    pub fn new(client: kube::Client, namespace: &str) -> Self {
        Self {
            api: Api::namespaced(client.clone(), namespace),
            events: Api::namespaced(client, namespace),
            namespace: namespace.into(),
        }
    }

    /// Its namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn err(&self, what: &'static str, source: kube::Error) -> StateError {
        StateError {
            namespace: self.namespace.clone(),
            what,
            source,
        }
    }

    /// Reads it (absent: empty, armed).
    ///
    /// # Errors
    /// The API failed.
    pub async fn read(&self) -> Result<WatcherState, StateError> {
        let cm = self
            .api
            .get_opt(STATUS_CONFIGMAP)
            .await
            .map_err(|e| self.err("reading", e))?;
        Ok(WatcherState {
            data: cm.and_then(|c| c.data).unwrap_or_default(),
        })
    }

    /// Sets `keys` (a merge: other keys stay), creating the object.
    ///
    /// # Errors
    /// The API failed.
    pub async fn set(&self, keys: BTreeMap<String, String>) -> Result<(), StateError> {
        let patch = serde_json::json!({ "data": keys });
        let (params, merge_patch) = (PatchParams::default(), Patch::Merge(&patch));
        let merge = || self.api.patch(STATUS_CONFIGMAP, &params, &merge_patch);
        match merge().await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => {
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(STATUS_CONFIGMAP.into()),
                        namespace: Some(self.namespace.clone()),
                        labels: Some(BTreeMap::from([(
                            "app.kubernetes.io/name".into(),
                            "svmdr-watcher".into(),
                        )])),
                        ..ObjectMeta::default()
                    },
                    data: Some(keys),
                    ..ConfigMap::default()
                };
                match self.api.create(&PostParams::default(), &cm).await {
                    Ok(_) => Ok(()),
                    // Created meanwhile by the other replica: merge again.
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        merge().await.map(drop).map_err(|e| self.err("updating", e))
                    }
                    Err(e) => Err(self.err("creating", e)),
                }
            }
            Err(e) => Err(self.err("updating", e)),
        }
    }

    /// Arms (`true`) or disarms the watcher, saying who and why.
    ///
    /// # Errors
    /// The API failed.
    pub async fn arm(&self, armed: bool, by: &str, reason: &str) -> Result<(), StateError> {
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut keys = BTreeMap::from([
            ("armed".to_string(), armed.to_string()),
            ("armedBy".to_string(), by.to_string()),
            ("armedAt".to_string(), now),
        ]);
        keys.insert(
            "disarmedReason".into(),
            if armed { String::new() } else { reason.into() },
        );
        self.set(keys).await?;
        let (reason_code, verb) = if armed {
            ("WatcherArmed", "armed")
        } else {
            ("WatcherDisarmed", "disarmed")
        };
        let message = if reason.is_empty() {
            format!("{verb} by {by}")
        } else {
            format!("{verb} by {by}: {reason}")
        };
        self.event(false, reason_code, &message, by).await
    }

    /// Posts an Event about the status object (`warning`: type Warning).
    ///
    /// # Errors
    /// The API failed.
    pub async fn event(
        &self,
        warning: bool,
        reason: &str,
        message: &str,
        instance: &str,
    ) -> Result<(), StateError> {
        let uid = self
            .api
            .get_opt(STATUS_CONFIGMAP)
            .await
            .ok()
            .flatten()
            .and_then(|c| c.metadata.uid);
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let ev = Event {
            metadata: ObjectMeta {
                generate_name: Some(format!("{STATUS_CONFIGMAP}.")),
                namespace: Some(self.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("ConfigMap".into()),
                name: Some(STATUS_CONFIGMAP.into()),
                namespace: Some(self.namespace.clone()),
                uid,
                ..ObjectReference::default()
            },
            reason: Some(reason.into()),
            message: Some(message.chars().take(1024).collect()),
            type_: Some(if warning { "Warning" } else { "Normal" }.into()),
            source: Some(EventSource {
                component: Some("svmdr-watcher".into()),
                host: None,
            }),
            reporting_component: Some("svmdr-watcher".into()),
            reporting_instance: Some(instance.into()),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now),
            count: Some(1),
            ..Event::default()
        };
        self.events
            .create(&PostParams::default(), &ev)
            .await
            .map(drop)
            .map_err(|e| self.err("posting an Event", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pairs: &[(&str, &str)]) -> WatcherState {
        WatcherState {
            data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    #[test]
    fn armed_unless_a_person_or_a_failover_said_false() {
        assert!(state(&[]).armed());
        assert!(state(&[("armed", "true")]).armed());
        assert!(!state(&[("armed", "false")]).armed());
        assert!(!state(&[("armed", " false\n")]).armed());
    }

    #[test]
    fn a_running_failover_is_the_next_leaders_to_finish() {
        let record = FailoverRecord {
            started_at: Utc::now(),
            by: "watcher-0".into(),
            pair: "svm1 → svm1_dr".into(),
            evidence: vec!["witness: stale".into()],
            outcome: "running".into(),
            message: String::new(),
            finished_by: String::new(),
        };
        let json = serde_json::to_string(&record).unwrap();
        let running = state(&[("failover", &json)]);
        assert_eq!(
            super::super::act::resume_needed(&running),
            Some(record.clone())
        );
        let done = FailoverRecord {
            outcome: "succeeded".into(),
            finished_by: "watcher-1".into(),
            ..record
        };
        let json = serde_json::to_string(&done).unwrap();
        let finished = state(&[("failover", &json)]);
        assert_eq!(finished.failover(), Some(done));
        assert_eq!(super::super::act::resume_needed(&finished), None);
        assert_eq!(
            super::super::act::resume_needed(&state(&[("failover", "{not json")])),
            None
        );
    }
}
