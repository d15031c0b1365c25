//! The plugin's configuration: its ConfigMap, parsed by
//! [`svmdr::plugin_config`] (shared with the CLI, which sizes its restore
//! wait by `waitForReady`). This module only ties the ConfigMap's selector to
//! what the plugin registers, and checks the shipped example.

pub use svmdr::plugin_config::{
    ConfigError, MAX_WAIT, Mode, PLUGIN_CONFIG_LABEL, PluginConfig, SELECTOR, selector,
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::lister::{KIND_RESTORE_ITEM_ACTION, PLUGIN_NAME};

    #[test]
    fn the_shipped_example_configmap_parses_to_the_defaults() {
        let cm: serde_yaml::Value =
            serde_yaml::from_str(include_str!("../deploy/configmap.yaml")).unwrap();
        let labels = &cm["metadata"]["labels"];
        assert_eq!(labels[PLUGIN_CONFIG_LABEL].as_str(), Some(""));
        assert_eq!(labels[PLUGIN_NAME].as_str(), Some(KIND_RESTORE_ITEM_ACTION));
        let data: BTreeMap<String, String> = serde_yaml::from_value(cm["data"].clone()).unwrap();
        let (c, unknown) = PluginConfig::from_data("velero/velero-plugin-svmdr", &data).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        let d = PluginConfig::default();
        assert_eq!(
            PluginConfig {
                source: d.source.clone(),
                ..c
            },
            d,
            "the example's values are not the defaults it claims"
        );
    }

    #[test]
    fn selector_follows_velero_convention() {
        assert_eq!(
            selector(),
            "velero.io/plugin-config,svmdr.netapp.io/trident-storage=RestoreItemAction"
        );
        // The ConfigMap is labelled with what this binary registers.
        assert_eq!(
            SELECTOR,
            format!("{PLUGIN_CONFIG_LABEL},{PLUGIN_NAME}={KIND_RESTORE_ITEM_ACTION}")
        );
    }
}
