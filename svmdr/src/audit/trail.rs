//! The trail itself: entries, their outcome, and where they are kept (an
//! Event and the history ConfigMap in the Trident namespace).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{ConfigMap, Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, PostParams};
use serde::{Deserialize, Serialize};

/// Name of the history ConfigMap.
pub const HISTORY_CONFIGMAP: &str = "svmdr-history";
/// Entries kept in the ConfigMap.
pub const MAX_ENTRIES: usize = 200;

/// How a run ended: the same verdict as the command's exit code (a run that
/// exits 1 is never recorded `succeeded`). Stored and shown in kebab-case
/// (`partially-failed`); entries written by older releases in snake_case
/// (`timed_out`, `dry_run`) are still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    /// Everything done (exit 0).
    Succeeded,
    /// A Velero restore ended `PartiallyFailed` (exit 1): some items were
    /// not restored (`velero restore logs`).
    PartiallyFailed,
    /// Every step succeeded but what it left is not ready (exit 1): the DR
    /// SVM's export policy refuses the DR nodes, or a restore did not
    /// complete. The message says which.
    Unhealthy,
    /// Stopped on an error (exit 2).
    Failed,
    /// Refused for safety, or declined at the prompt (exit 3).
    Refused,
    /// Interrupted (Ctrl-C, exit 130).
    Interrupted,
    /// Only in entries written by older releases: a `--dry-run` is no
    /// longer recorded.
    #[serde(alias = "dry_run")]
    DryRun,
    /// Stopped waiting; the work goes on elsewhere (a Velero restore past
    /// `--restore-timeout`, exit 2).
    #[serde(alias = "timed_out")]
    TimedOut,
}

impl AuditOutcome {
    /// The outcome of a restore that failed so: timed out (Velero still
    /// runs it), refused (a backup with volume data, a second restore not
    /// confirmed), or failed.
    pub fn of_restore(e: &crate::restore::RestoreError) -> Self {
        use crate::restore::RestoreError;
        match e {
            RestoreError::Timeout { .. } => Self::TimedOut,
            RestoreError::VolumeData { .. } | RestoreError::AlreadyRestored { .. } => Self::Refused,
            _ => Self::Failed,
        }
    }

    /// Kebab-case name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::PartiallyFailed => "partially-failed",
            Self::Unhealthy => "unhealthy",
            Self::Failed => "failed",
            Self::Refused => "refused",
            Self::Interrupted => "interrupted",
            Self::DryRun => "dry-run",
            Self::TimedOut => "timed-out",
        }
    }
}

/// One step in an audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditStep {
    /// Step id.
    pub id: String,
    /// `succeeded`, `skipped`, `failed`.
    pub status: String,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// The command (`failover`, `switchover`, `resync --direction reverse`, `restore`, ...).
    pub workflow: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Kubernetes user who ran it.
    pub user: String,
    /// Outcome.
    pub outcome: AuditOutcome,
    /// One-line summary (the error, with its step, when it failed).
    pub message: String,
    /// The SVMs involved (`svm1 → svm1_dr`).
    #[serde(default)]
    pub svms: String,
    /// Steps and durations.
    #[serde(default)]
    pub steps: Vec<AuditStep>,
    /// What a run started by the watcher rested on: each view of the
    /// primary, with times (empty for a person's run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl AuditEntry {
    /// Total duration.
    pub fn duration(&self) -> Duration {
        (self.finished_at - self.started_at)
            .to_std()
            .unwrap_or_default()
    }

    /// The Event reason: `Svmdr` + the workflow in CamelCase.
    pub fn reason(&self) -> String {
        let mut out = String::from("Svmdr");
        let first = self.workflow.split_whitespace().next().unwrap_or("Run");
        for part in first.split('-') {
            let mut c = part.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        }
        out
    }
}

/// Why recording or reading the history failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A Kubernetes call failed.
    #[error("audit: {what} in namespace {namespace}: {source}")]
    Kube {
        /// What we were doing.
        what: String,
        /// Namespace.
        namespace: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
    /// The ConfigMap kept changing under us.
    #[error(
        "audit: ConfigMap {namespace}/{HISTORY_CONFIGMAP} changed {attempts} times while updating it; try again"
    )]
    Conflict {
        /// Namespace.
        namespace: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// The user name of `context` (or the current context) in a kubeconfig.
pub fn kube_user(kubeconfig: &kube::config::Kubeconfig, context: Option<&str>) -> Option<String> {
    let ctx_name = context.or(kubeconfig.current_context.as_deref())?;
    let ctx = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == ctx_name)?
        .context
        .as_ref()?;
    ctx.user.clone().filter(|u| !u.is_empty())
}

fn key_for(entry: &AuditEntry) -> String {
    let w: String = entry
        .workflow
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let w = w
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!(
        "{}-{w}-{:04x}",
        entry.started_at.format("%Y%m%dT%H%M%S%.3fZ"),
        rand::random::<u16>()
    )
}

/// Records `entry`: an Event and a history entry.
///
/// # Errors
///
/// [`AuditError`]; the caller should warn and go on (an audit failure must
/// not hide the workflow's own result).
pub async fn record(
    client: &kube::Client,
    namespace: &str,
    entry: &AuditEntry,
) -> Result<(), AuditError> {
    let key = key_for(entry);
    let cm_uid = append_history(client, namespace, &key, entry).await?;
    post_event(client, namespace, &key, entry, cm_uid).await
}

async fn append_history(
    client: &kube::Client,
    namespace: &str,
    key: &str,
    entry: &AuditEntry,
) -> Result<Option<String>, AuditError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let value = serde_json::to_string(entry).unwrap_or_default();
    let err = |what: &str| {
        let what = what.to_string();
        let namespace = namespace.to_string();
        move |source| AuditError::Kube {
            what,
            namespace,
            source,
        }
    };
    const ATTEMPTS: u32 = 5;
    for _ in 0..ATTEMPTS {
        let current = api
            .get_opt(HISTORY_CONFIGMAP)
            .await
            .map_err(err("reading ConfigMap svmdr-history"))?;
        let result = match current {
            None => {
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(HISTORY_CONFIGMAP.into()),
                        namespace: Some(namespace.into()),
                        labels: Some(BTreeMap::from([(
                            "app.kubernetes.io/managed-by".to_string(),
                            "kubectl-svmdr".to_string(),
                        )])),
                        ..Default::default()
                    },
                    data: Some(BTreeMap::from([(key.to_string(), value.clone())])),
                    ..Default::default()
                };
                api.create(&PostParams::default(), &cm).await
            }
            Some(mut cm) => {
                let data = cm.data.get_or_insert_with(BTreeMap::new);
                data.insert(key.to_string(), value.clone());
                while data.len() > MAX_ENTRIES {
                    let Some(oldest) = data.keys().next().cloned() else {
                        break;
                    };
                    data.remove(&oldest);
                }
                api.replace(HISTORY_CONFIGMAP, &PostParams::default(), &cm)
                    .await
            }
        };
        match result {
            Ok(cm) => return Ok(cm.metadata.uid),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(err("writing ConfigMap svmdr-history")(e)),
        }
    }
    Err(AuditError::Conflict {
        namespace: namespace.into(),
        attempts: ATTEMPTS,
    })
}

async fn post_event(
    client: &kube::Client,
    namespace: &str,
    key: &str,
    entry: &AuditEntry,
    cm_uid: Option<String>,
) -> Result<(), AuditError> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let now = Time(
        k8s_openapi::jiff::Timestamp::from_millisecond(entry.finished_at.timestamp_millis())
            .unwrap_or_else(|_| k8s_openapi::jiff::Timestamp::now()),
    );
    let name: String = format!("{HISTORY_CONFIGMAP}.{key}")
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let ev = Event {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("ConfigMap".into()),
            name: Some(HISTORY_CONFIGMAP.into()),
            namespace: Some(namespace.into()),
            uid: cm_uid,
            ..Default::default()
        },
        reason: Some(entry.reason()),
        message: Some(format!(
            "{} {} by {} in {}: {}",
            entry.workflow,
            entry.outcome.as_str(),
            entry.user,
            humantime::format_duration(Duration::from_millis(
                u64::try_from(entry.duration().as_millis()).unwrap_or(u64::MAX)
            )),
            entry.message
        )),
        type_: Some(
            if matches!(
                entry.outcome,
                AuditOutcome::Succeeded | AuditOutcome::DryRun
            ) {
                "Normal"
            } else {
                "Warning"
            }
            .into(),
        ),
        source: Some(EventSource {
            component: Some("kubectl-svmdr".into()),
            host: None,
        }),
        reporting_component: Some("kubectl-svmdr".into()),
        reporting_instance: Some(entry.user.clone()),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        ..Default::default()
    };
    api.create(&PostParams::default(), &ev)
        .await
        .map_err(|source| AuditError::Kube {
            what: "creating the audit Event".into(),
            namespace: namespace.into(),
            source,
        })?;
    Ok(())
}

/// The recorded runs, newest first.
///
/// # Errors
///
/// [`AuditError::Kube`] (a missing ConfigMap is an empty history).
pub async fn history(
    client: &kube::Client,
    namespace: &str,
) -> Result<Vec<AuditEntry>, AuditError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let cm = api
        .get_opt(HISTORY_CONFIGMAP)
        .await
        .map_err(|source| AuditError::Kube {
            what: "reading ConfigMap svmdr-history".into(),
            namespace: namespace.into(),
            source,
        })?;
    Ok(parse_history(cm.and_then(|c| c.data).unwrap_or_default()))
}

/// Parses the ConfigMap data, newest first; unreadable entries are skipped.
pub fn parse_history(data: BTreeMap<String, String>) -> Vec<AuditEntry> {
    let mut entries: Vec<AuditEntry> = data
        .values()
        .filter_map(|v| serde_json::from_str(v).ok())
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.started_at));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(workflow: &str, mins_ago: i64) -> AuditEntry {
        let t = Utc::now() - chrono::Duration::minutes(mins_ago);
        AuditEntry {
            workflow: workflow.into(),
            started_at: t,
            finished_at: t + chrono::Duration::seconds(42),
            user: "alice".into(),
            outcome: AuditOutcome::Succeeded,
            message: "ok".into(),
            svms: "svm1 → svm1_dr".into(),
            steps: vec![],
            evidence: vec![],
        }
    }

    #[test]
    fn outcomes_are_stored_as_shown_and_old_names_still_read() {
        for o in [
            AuditOutcome::Succeeded,
            AuditOutcome::PartiallyFailed,
            AuditOutcome::Unhealthy,
            AuditOutcome::Failed,
            AuditOutcome::Refused,
            AuditOutcome::Interrupted,
            AuditOutcome::DryRun,
            AuditOutcome::TimedOut,
        ] {
            let json = serde_json::to_string(&o).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", o.as_str()));
        }
        let old: AuditOutcome = serde_json::from_str("\"timed_out\"").expect("old name");
        assert_eq!(old, AuditOutcome::TimedOut);
        let old: AuditOutcome = serde_json::from_str("\"dry_run\"").expect("old name");
        assert_eq!(old, AuditOutcome::DryRun);
    }

    #[test]
    fn reasons_are_camel_case() {
        assert_eq!(entry("failover", 0).reason(), "SvmdrFailover");
        assert_eq!(
            entry("resync --direction reverse", 0).reason(),
            "SvmdrResync"
        );
    }

    #[test]
    fn history_is_newest_first_and_skips_garbage() {
        let mut data = BTreeMap::new();
        for (i, e) in [entry("failover", 30), entry("failback", 1)]
            .iter()
            .enumerate()
        {
            data.insert(
                format!("k{i}"),
                serde_json::to_string(e).unwrap_or_default(),
            );
        }
        data.insert("bad".into(), "{not json".into());
        let h = parse_history(data);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].workflow, "failback");
        assert_eq!(h[0].duration(), Duration::from_secs(42));
    }

    #[test]
    fn keys_sort_by_time_and_are_configmap_safe() {
        let k = key_for(&entry("resync --direction reverse", 0));
        assert!(
            k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'),
            "{k}"
        );
        assert!(k.contains("-resync-direction-reverse-"), "{k}");
    }

    #[test]
    fn user_from_kubeconfig() {
        let kc: kube::config::Kubeconfig = serde_yaml::from_str(
            "apiVersion: v1\nkind: Config\ncurrent-context: dr\ncontexts:\n- name: dr\n  context: {cluster: c, user: bob}\n- name: p\n  context: {cluster: c, user: carol}\n",
        )
        .expect("kubeconfig");
        assert_eq!(kube_user(&kc, None).as_deref(), Some("bob"));
        assert_eq!(kube_user(&kc, Some("p")).as_deref(), Some("carol"));
        assert_eq!(kube_user(&kc, Some("zz")), None);
    }
}
