//! How long the svmdr Velero plugin may hold a restore, so the CLI waits
//! longer.
//!
//! Velero puts no deadline on a RestoreItemAction's Execute (Velero:
//! `pkg/restore/restore.go`, the item action loop). The plugin retries a
//! not-ready volume for up to `waitForReady` once per backend (SVM) in a
//! restore (`ark-plugin/src/action/ready.rs`), so its worst case is
//! `waitForReady` × the DR cluster's Trident backends. Its ConfigMap is
//! found and parsed as the plugin does it ([`crate::plugin_config`]): in the
//! Velero namespace, labelled [`PLUGIN_CONFIG_SELECTOR`]; `tridentNamespace`
//! (default `trident`) says where the backends are, listed as every caller
//! lists them ([`crate::trident::cluster::list_backends`]). A configuration
//! the plugin refuses (a bad value, several ConfigMaps) makes it fail items
//! at once: it waits for nothing, and the CLI says why.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};

use crate::plugin_config::PluginConfig;
use crate::trident::backend::TridentError;

/// The CLI's own allowance for a restore (objects, images, pods), added to
/// the plugin's worst case.
pub const BASE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The plugin ConfigMap's selector ([`crate::plugin_config::SELECTOR`]).
pub const PLUGIN_CONFIG_SELECTOR: &str = crate::plugin_config::SELECTOR;

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

/// What the plugin ConfigMaps in `velero_namespace` (name and `data` of
/// each) let the plugin wait, and where its Trident backends are (pure):
/// `(waitForReady, source, tridentNamespace, warnings)`.
pub fn from_configmaps(
    velero_namespace: &str,
    configmaps: &[(String, BTreeMap<String, String>)],
) -> (Duration, String, String, Vec<String>) {
    match PluginConfig::from_configmaps(velero_namespace, configmaps) {
        Ok((cfg, _unknown)) => {
            let source = if configmaps.is_empty() {
                "defaults".to_string()
            } else {
                format!("ConfigMap {}", cfg.source)
            };
            (
                cfg.wait_for_ready,
                source,
                cfg.trident_namespace,
                Vec::new(),
            )
        }
        Err(e) => (
            Duration::ZERO,
            "defaults".into(),
            PluginConfig::default().trident_namespace,
            vec![format!(
                "{e} (until then the plugin fails Trident volumes at once, without waiting)"
            )],
        ),
    }
}

/// Reads the plugin ConfigMap(s) in `velero_namespace` and counts the DR
/// Trident backends' SVMs. Every failure degrades to a warning: this only
/// sizes a wait.
pub async fn read(client: &kube::Client, velero_namespace: &str) -> PluginWait {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), velero_namespace);
    let (wait_for_ready, source, trident_ns, mut warnings) = match cms
        .list(&ListParams::default().labels(PLUGIN_CONFIG_SELECTOR))
        .await
    {
        Ok(list) => {
            let maps: Vec<(String, BTreeMap<String, String>)> = list
                .items
                .into_iter()
                .map(|cm| {
                    (
                        cm.metadata.name.unwrap_or_default(),
                        cm.data.unwrap_or_default(),
                    )
                })
                .collect();
            from_configmaps(velero_namespace, &maps)
        }
        Err(e) => (
            Duration::ZERO,
            "defaults".into(),
            PluginConfig::default().trident_namespace,
            vec![format!(
                "could not read the plugin ConfigMap in {velero_namespace}: {e}"
            )],
        ),
    };
    let mut backends = 0;
    match crate::trident::cluster::list_backends(client, &trident_ns).await {
        Ok(list) => {
            let svms: BTreeSet<String> =
                list.into_iter().map(|b| b.svm.unwrap_or(b.name)).collect();
            backends = u32::try_from(svms.len()).unwrap_or(u32::MAX);
        }
        Err(TridentError::Kube { source, .. }) if matches!(source.as_ref(), kube::Error::Api(s) if s.code == 404) =>
            {}
        Err(e) => warnings.push(format!(
            "could not list Trident backends in {trident_ns}: {e}"
        )),
    }
    PluginWait {
        wait_for_ready,
        source,
        backends,
        warnings,
    }
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

    fn cm(name: &str, pairs: &[(&str, &str)]) -> (String, BTreeMap<String, String>) {
        (
            name.to_string(),
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn waits_parse_like_the_plugin() {
        let (wait, source, ns, warnings) = from_configmaps(
            "velero",
            &[cm(
                "svmdr",
                &[("waitForReady", " 2m "), ("tridentNamespace", "tri")],
            )],
        );
        assert_eq!(wait, Duration::from_secs(120));
        assert_eq!(source, "ConfigMap velero/svmdr");
        assert_eq!(ns, "tri");
        assert!(warnings.is_empty());
        let (wait, source, ns, _) = from_configmaps("velero", &[]);
        assert_eq!(
            (wait, source.as_str(), ns.as_str()),
            (Duration::ZERO, "defaults", "trident")
        );
        let (wait, ..) = from_configmaps("velero", &[cm("svmdr", &[("waitForReady", "0")])]);
        assert_eq!(wait, Duration::ZERO);
    }

    #[test]
    fn what_the_plugin_refuses_it_does_not_wait_for() {
        // Over the plugin's 30 min cap, unparsable, or two ConfigMaps: the
        // plugin fails the items, so nothing is waited for, and the CLI says why.
        for maps in [
            vec![cm("svmdr", &[("waitForReady", "45m")])],
            vec![cm("svmdr", &[("waitForReady", "soon")])],
            vec![
                cm("a", &[("waitForReady", "1m")]),
                cm("b", &[("waitForReady", "2m")]),
            ],
        ] {
            let (wait, source, _, warnings) = from_configmaps("velero", &maps);
            assert_eq!(wait, Duration::ZERO, "{maps:?}");
            assert_eq!(source, "defaults");
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(warnings[0].contains("plugin ConfigMap"), "{warnings:?}");
        }
    }
}
