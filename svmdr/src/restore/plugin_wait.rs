//! How long the svmdr Velero plugin may hold a restore, so the CLI waits
//! longer.
//!
//! Velero puts no deadline on a RestoreItemAction's Execute (Velero:
//! `pkg/restore/restore.go`, the item action loop). The plugin retries a
//! not-ready volume for up to `waitForReady` once per backend (SVM) in a
//! restore (`ark-plugin/src/action/ready.rs`), so its worst case is
//! `waitForReady` × the DR cluster's Trident backends. Its ConfigMap is found
//! as the plugin finds it (`ark-plugin/src/config.rs`): in the Velero
//! namespace, labelled `velero.io/plugin-config` and
//! `svmdr.netapp.io/trident-storage=RestoreItemAction`; `tridentNamespace`
//! (default `trident`) says where the backends are.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde::{Deserialize, Serialize};

/// The CLI's own allowance for a restore (objects, images, pods), added to
/// the plugin's worst case.
pub const BASE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The plugin ConfigMap's selector (`ark-plugin/src/config.rs` `selector`).
pub const PLUGIN_CONFIG_SELECTOR: &str =
    "velero.io/plugin-config,svmdr.netapp.io/trident-storage=RestoreItemAction";

/// What the plugin's configuration allows it to wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginWait {
    /// `waitForReady` (0 when unset or no ConfigMap).
    #[serde(with = "humantime_serde_secs")]
    pub wait_for_ready: Duration,
    /// Where it came from: `ConfigMap velero/svmdr-plugin` or `defaults`.
    pub source: String,
    /// Trident backends (distinct SVMs) on the DR cluster the plugin may wait for.
    pub backends: u32,
    /// Problems met while reading (an unparsable value, several ConfigMaps).
    pub warnings: Vec<String>,
}

mod humantime_serde_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

impl PluginWait {
    /// The plugin's longest possible wait in one restore.
    pub fn worst_case(&self) -> Duration {
        self.wait_for_ready.saturating_mul(self.backends.max(1))
    }

    /// The CLI's default restore timeout: [`BASE_TIMEOUT`] plus the
    /// plugin's worst case.
    pub fn default_timeout(&self) -> Duration {
        BASE_TIMEOUT.saturating_add(self.worst_case())
    }
}

/// Parses `waitForReady` as the plugin does (`0` or a humantime duration).
pub fn parse_wait(v: &str) -> Option<Duration> {
    let t = v.trim();
    if t == "0" {
        Some(Duration::ZERO)
    } else {
        humantime::parse_duration(t).ok()
    }
}

/// Reads the plugin ConfigMap(s) in `velero_namespace` and counts the DR
/// Trident backends' SVMs. Every failure degrades to a warning: this only
/// sizes a wait.
pub async fn read(client: &kube::Client, velero_namespace: &str) -> PluginWait {
    let mut out = PluginWait {
        wait_for_ready: Duration::ZERO,
        source: "defaults".into(),
        backends: 0,
        warnings: Vec::new(),
    };
    let mut trident_ns = "trident".to_string();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), velero_namespace);
    match cms
        .list(&ListParams::default().labels(PLUGIN_CONFIG_SELECTOR))
        .await
    {
        Ok(list) => {
            if list.items.len() > 1 {
                out.warnings.push(format!(
                    "{} plugin ConfigMaps in {velero_namespace}; using the longest waitForReady",
                    list.items.len()
                ));
            }
            for cm in &list.items {
                let name = cm.metadata.name.clone().unwrap_or_default();
                let data = cm.data.clone().unwrap_or_default();
                if let Some(v) = data.get("waitForReady") {
                    match parse_wait(v) {
                        Some(d) if d >= out.wait_for_ready => {
                            out.wait_for_ready = d;
                            out.source = format!("ConfigMap {velero_namespace}/{name}");
                        }
                        Some(_) => {}
                        None => out.warnings.push(format!(
                            "ConfigMap {velero_namespace}/{name}: waitForReady {v:?} is not a duration"
                        )),
                    }
                }
                if let Some(ns) = data
                    .get("tridentNamespace")
                    .filter(|n| !n.trim().is_empty())
                {
                    trident_ns = ns.trim().to_string();
                }
            }
        }
        Err(e) => out.warnings.push(format!(
            "could not read the plugin ConfigMap in {velero_namespace}: {e}"
        )),
    }
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "trident.netapp.io",
        "v1",
        "TridentBackend",
    ));
    let tbes: Api<DynamicObject> = Api::namespaced_with(client.clone(), &trident_ns, &ar);
    match tbes.list(&ListParams::default()).await {
        Ok(list) => {
            let svms: BTreeSet<String> = list
                .items
                .iter()
                .map(|b| {
                    b.data
                        .pointer("/config/ontap_config/svm")
                        .and_then(|v| v.as_str())
                        .map(String::from)
                        .unwrap_or_else(|| b.metadata.name.clone().unwrap_or_default())
                })
                .collect();
            out.backends = u32::try_from(svms.len()).unwrap_or(u32::MAX);
        }
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => out.warnings.push(format!(
            "could not list Trident backends in {trident_ns}: {e}"
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_exceeds_the_plugin_worst_case() {
        let w = PluginWait {
            wait_for_ready: Duration::from_secs(30 * 60),
            source: "ConfigMap velero/svmdr".into(),
            backends: 2,
            warnings: vec![],
        };
        assert_eq!(w.worst_case(), Duration::from_secs(60 * 60));
        assert_eq!(w.default_timeout(), Duration::from_secs(90 * 60));
        let none = PluginWait {
            wait_for_ready: Duration::ZERO,
            source: "defaults".into(),
            backends: 0,
            warnings: vec![],
        };
        assert_eq!(none.default_timeout(), BASE_TIMEOUT);
    }

    #[test]
    fn waits_parse_like_the_plugin() {
        assert_eq!(parse_wait("0"), Some(Duration::ZERO));
        assert_eq!(parse_wait(" 2m "), Some(Duration::from_secs(120)));
        assert_eq!(parse_wait("soon"), None);
    }
}
