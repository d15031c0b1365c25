//! The watcher's policy, read from a ConfigMap (`svmdr-watcher-policy`) so
//! that people change it with `kubectl edit` and the watcher picks it up on
//! its next cycle. Every key is optional; a bad value is an error that
//! names the key (the watcher keeps its last good policy).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// Name of the policy ConfigMap (in the watcher's namespace).
pub const POLICY_CONFIGMAP: &str = "svmdr-watcher-policy";

/// What the watcher may do when it finds the primary lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Watch, export metrics and status; never change anything (default).
    Observe,
    /// As observe, and page a human (an Event and the `page` metric) when
    /// a failover would be needed.
    Notify,
    /// Fail over on its own, once, when armed and every condition holds.
    Automatic,
}

impl Mode {
    /// Its name in the ConfigMap and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Observe => "observe",
            Self::Notify => "notify",
            Self::Automatic => "automatic",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "observe" => Some(Self::Observe),
            "notify" => Some(Self::Notify),
            "automatic" => Some(Self::Automatic),
            _ => None,
        }
    }
}

/// The policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `mode`.
    pub mode: Mode,
    /// `interval`: time between observations.
    #[serde(with = "humantime_serde_secs")]
    pub interval: Duration,
    /// `gracePeriod`: how long every view must agree that the primary is
    /// lost before the watcher acts.
    #[serde(with = "humantime_serde_secs")]
    pub grace_period: Duration,
    /// `witnessMaxAge`: a witness Lease not renewed for this long (by the
    /// watcher's own clock) is stale.
    #[serde(with = "humantime_serde_secs")]
    pub witness_max_age: Duration,
    /// `maxDataLoss`: the largest replication lag an automatic failover
    /// accepts; above it (or unknown) a human is paged instead.
    #[serde(with = "humantime_serde_secs")]
    pub max_data_loss: Duration,
    /// `restoreFromBackup`: the Velero backup restored after an automatic
    /// failover (`latest`, a name, or empty for none).
    pub restore_from_backup: Option<String>,
    /// `veleroNamespace`.
    pub velero_namespace: String,
    /// `svm`: the primary SVM of the pair (default: the only SVM-DR
    /// relationship on DR).
    pub svm: Option<String>,
    /// `drSvm`.
    pub dr_svm: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: Mode::Observe,
            interval: Duration::from_secs(30),
            grace_period: Duration::from_secs(180),
            witness_max_age: Duration::from_secs(90),
            max_data_loss: Duration::from_secs(3600),
            restore_from_backup: Some("latest".into()),
            velero_namespace: "velero".into(),
            svm: None,
            dr_svm: None,
        }
    }
}

/// A policy key with a bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ConfigMap {POLICY_CONFIGMAP}, key {key}: {message}")]
pub struct PolicyError {
    /// The key.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Keys the policy knows (anything else is an error: a typo must not
/// silently leave a default in force).
const KEYS: &[&str] = &[
    "mode",
    "interval",
    "gracePeriod",
    "witnessMaxAge",
    "maxDataLoss",
    "restoreFromBackup",
    "veleroNamespace",
    "svm",
    "drSvm",
];

impl Policy {
    /// How far back the history must reach for a decision under this
    /// policy: the witness going stale, then the whole grace period, with
    /// room for a few late observations.
    pub fn history_window(&self) -> Duration {
        self.witness_max_age + self.grace_period + 4 * self.interval
    }

    /// Reads the ConfigMap's `data` (absent keys keep their defaults).
    ///
    /// # Errors
    /// An unknown key, a bad mode or duration, or durations that cannot
    /// work together (a grace period shorter than two intervals cannot be
    /// sustained; a witness max age shorter than an interval is always
    /// stale).
    pub fn from_data(data: &BTreeMap<String, String>) -> Result<Self, PolicyError> {
        let err = |key: &str, message: String| PolicyError {
            key: key.into(),
            message,
        };
        if let Some(k) = data.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(err(k, format!("unknown key; known: {}", KEYS.join(", "))));
        }
        let mut p = Self::default();
        let duration = |key: &str, default: Duration| -> Result<Duration, PolicyError> {
            match data.get(key) {
                None => Ok(default),
                Some(v) => humantime::parse_duration(v.trim())
                    .map_err(|e| err(key, format!("{v:?} is not a duration (e.g. 30s, 3m): {e}"))),
            }
        };
        if let Some(m) = data.get("mode") {
            p.mode = Mode::parse(m).ok_or_else(|| {
                err(
                    "mode",
                    format!("{m:?}: expected observe, notify or automatic"),
                )
            })?;
        }
        p.interval = duration("interval", p.interval)?;
        p.grace_period = duration("gracePeriod", p.grace_period)?;
        p.witness_max_age = duration("witnessMaxAge", p.witness_max_age)?;
        p.max_data_loss = duration("maxDataLoss", p.max_data_loss)?;
        if let Some(b) = data.get("restoreFromBackup") {
            let b = b.trim();
            p.restore_from_backup = (!b.is_empty() && b != "none").then(|| b.to_string());
        }
        if let Some(ns) = data.get("veleroNamespace") {
            p.velero_namespace = ns.trim().to_string();
        }
        p.svm = data.get("svm").map(|s| s.trim().to_string());
        p.dr_svm = data.get("drSvm").map(|s| s.trim().to_string());
        if p.interval < Duration::from_secs(1) {
            return Err(err("interval", "must be at least 1s".into()));
        }
        if p.grace_period < 2 * p.interval {
            return Err(err(
                "gracePeriod",
                format!(
                    "must be at least two intervals ({}), so that a decision rests on more than one look",
                    humantime::format_duration(2 * p.interval)
                ),
            ));
        }
        if p.witness_max_age <= p.interval {
            return Err(err(
                "witnessMaxAge",
                format!(
                    "must be longer than the interval ({}), or a live witness looks stale",
                    humantime::format_duration(p.interval)
                ),
            ));
        }
        Ok(p)
    }
}

/// Durations as whole seconds in JSON.
mod humantime_serde_secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn empty_is_observe_with_defaults() {
        let p = Policy::from_data(&BTreeMap::new()).unwrap();
        assert_eq!(p, Policy::default());
        assert_eq!(p.mode, Mode::Observe);
    }

    #[test]
    fn every_key_is_read() {
        let p = Policy::from_data(&data(&[
            ("mode", "automatic"),
            ("interval", "5s"),
            ("gracePeriod", "1m"),
            ("witnessMaxAge", "20s"),
            ("maxDataLoss", "15m"),
            ("restoreFromBackup", "nightly"),
            ("veleroNamespace", "backup"),
            ("svm", "svm1"),
            ("drSvm", "svm1_dr"),
        ]))
        .unwrap();
        assert_eq!(p.mode, Mode::Automatic);
        assert_eq!(p.interval, Duration::from_secs(5));
        assert_eq!(p.grace_period, Duration::from_secs(60));
        assert_eq!(p.witness_max_age, Duration::from_secs(20));
        assert_eq!(p.max_data_loss, Duration::from_secs(900));
        assert_eq!(p.restore_from_backup.as_deref(), Some("nightly"));
        assert_eq!(p.velero_namespace, "backup");
        assert_eq!(p.dr_svm.as_deref(), Some("svm1_dr"));
        let none = Policy::from_data(&data(&[("restoreFromBackup", "none")])).unwrap();
        assert_eq!(none.restore_from_backup, None);
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = Policy::from_data(&data(&[("mode", "auto")])).unwrap_err();
        assert_eq!(e.key, "mode");
        assert!(
            e.to_string().contains("observe, notify or automatic"),
            "{e}"
        );
        let e = Policy::from_data(&data(&[("gracePeriod", "soon")])).unwrap_err();
        assert_eq!(e.key, "gracePeriod");
        let e = Policy::from_data(&data(&[("gracPeriod", "1m")])).unwrap_err();
        assert_eq!(e.key, "gracPeriod");
        assert!(e.to_string().contains("unknown key"), "{e}");
    }

    #[test]
    fn durations_must_work_together() {
        let e =
            Policy::from_data(&data(&[("interval", "1m"), ("gracePeriod", "90s")])).unwrap_err();
        assert_eq!(e.key, "gracePeriod");
        let e =
            Policy::from_data(&data(&[("interval", "1m"), ("witnessMaxAge", "1m")])).unwrap_err();
        assert_eq!(e.key, "witnessMaxAge");
    }
}
