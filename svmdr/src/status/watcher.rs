//! The watcher's half of `status`: what the in-cluster `svmdr-watcher`
//! last saw and decided, read from its status ConfigMap on the DR cluster
//! (one GET). Absent when no watcher is deployed. A watcher that has not
//! published for three intervals (plus a minute) is a problem: nobody is
//! watching; so is any verdict other than healthy or starting.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;

use super::StatusReport;
pub use super::report::WatcherView;

/// Name of the watcher's status ConfigMap.
pub const STATUS_CONFIGMAP: &str = "svmdr-watcher-status";

/// Reads the watcher's status object; `None` when there is none.
pub async fn collect(kube: &kube::Client, namespace: &str) -> Option<WatcherView> {
    let api: Api<ConfigMap> = Api::namespaced(kube.clone(), namespace);
    let cm = api.get_opt(STATUS_CONFIGMAP).await.ok().flatten()?;
    Some(view(namespace, &cm.data.unwrap_or_default(), Utc::now()))
}

/// The view of `data` at `now`.
pub fn view(namespace: &str, data: &BTreeMap<String, String>, now: DateTime<Utc>) -> WatcherView {
    let get = |k: &str| data.get(k).filter(|v| !v.is_empty()).cloned();
    let observed_at = get("observedAt").and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
    let observed_at = observed_at.map(|t| t.with_timezone(&Utc));
    let age = observed_at.map(|t| (now - t).to_std().unwrap_or_default());
    let interval = get("policy")
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|p| p["interval"].as_str().map(str::to_string))
        .and_then(|i| humantime::parse_duration(&i).ok())
        .unwrap_or(Duration::from_secs(30));
    let bound = interval * 3 + Duration::from_secs(60);
    let failover = get("failover")
        .and_then(|f| serde_json::from_str::<serde_json::Value>(&f).ok())
        .and_then(|f| f["outcome"].as_str().map(str::to_string));
    WatcherView {
        namespace: namespace.into(),
        verdict: get("verdict"),
        action: get("action"),
        message: get("message"),
        mode: get("mode"),
        armed: data.get("armed").is_none_or(|v| v.trim() != "false"),
        leader: get("leader"),
        observed_at,
        observed_age_seconds: age.map(|a| a.as_secs()),
        stale: age.is_none_or(|a| a > bound),
        failover,
    }
}

/// Adds the watcher to the report, with its problems.
pub fn apply(report: &mut StatusReport, view: Option<WatcherView>) {
    let Some(v) = view else {
        return;
    };
    if v.stale {
        report.problems.push(format!(
            "the watcher in namespace {} has not published an observation for {}: nobody is watching the pair; check its pods (kubectl -n {} get pods -l app.kubernetes.io/name=svmdr-watcher)",
            v.namespace,
            v.observed_age_seconds
                .map_or("ever".into(), |s| format!("{s}s")),
            v.namespace
        ));
    } else if let Some(verdict) = v.verdict.as_deref()
        && !matches!(verdict, "healthy" | "starting")
    {
        report.problems.push(format!(
            "the watcher says {verdict}: {}",
            v.message.as_deref().unwrap_or("-")
        ));
    }
    report.healthy = report.problems.is_empty();
    report.watcher = Some(v);
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
    fn a_recent_healthy_watcher_is_no_problem_and_a_silent_one_is() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let d = data(&[
            ("verdict", "healthy"),
            ("observedAt", "2026-12-07T11:59:30Z"),
            ("policy", r#"{"interval":"10s"}"#),
            ("armed", "false"),
        ]);
        let v = view("svmdr", &d, now);
        assert!(!v.stale);
        assert!(!v.armed);
        assert_eq!(v.observed_age_seconds, Some(30));
        let later = now + chrono::Duration::seconds(120);
        assert!(view("svmdr", &d, later).stale, "3 x 10s + 60s passed");
        assert!(view("svmdr", &BTreeMap::new(), now).stale);
    }
}
