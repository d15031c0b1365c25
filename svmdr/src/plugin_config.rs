//! The svmdr Velero plugin's configuration, read from a ConfigMap by
//! Velero's plugin-config convention: in the Velero namespace, labelled
//! `velero.io/plugin-config: ""` and `svmdr.netapp.io/trident-storage:
//! RestoreItemAction` ([`SELECTOR`]). No ConfigMap means the defaults; more
//! than one, or a bad value, is an error naming the ConfigMap, the key and
//! what is allowed. Pure: the plugin and the CLI (which sizes its restore
//! wait by `waitForReady`) list the ConfigMaps each their own way and parse
//! them here ([`PluginConfig::from_configmaps`]).
//!
//! Keys (all optional; see the plugin's `deploy/configmap.yaml`):
//! `mode` (`enforce`|`warn`|`off`), `waitForReady` (e.g. `2m`, `0` = no
//! wait, at most [`MAX_WAIT`]), `retryInterval`, `importManaged`,
//! `importNoRename`, `tridentNamespace`, `backendMapping`, `tcpProbe`,
//! `probeTimeout`, `nfsProbePort`, `iscsiProbePort`, `nvmeProbePort`,
//! `smbProbePort`, `ontapCA`, `ontapTimeout`, `cacheTTL`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::readiness::Transport;
use crate::trident::volume::Protocol;

/// The label every plugin ConfigMap carries.
pub const PLUGIN_CONFIG_LABEL: &str = "velero.io/plugin-config";
/// The label selector of the plugin's ConfigMap: Velero's plugin-config
/// label and the plugin's name (`svmdr.netapp.io/trident-storage`) with
/// its kind as value.
pub const SELECTOR: &str =
    "velero.io/plugin-config,svmdr.netapp.io/trident-storage=RestoreItemAction";
/// Longest accepted `waitForReady` (a wait blocks Velero's item loop).
pub const MAX_WAIT: Duration = Duration::from_secs(30 * 60);

/// What to do when storage is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fail the item (Velero does not create it).
    Enforce,
    /// Log a warning and restore the item anyway.
    Warn,
    /// Do nothing: every item comes back unchanged, without any check.
    Off,
}

/// The parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    /// `mode`, default `enforce`.
    pub mode: Mode,
    /// `waitForReady`: keep retrying a not-ready volume this long (default 0).
    pub wait_for_ready: Duration,
    /// `retryInterval` between retries (default 5 s).
    pub retry_interval: Duration,
    /// `importManaged`: Trident manages imported volumes (default true, so
    /// `trident.netapp.io/notManaged: "false"`).
    pub import_managed: bool,
    /// `importNoRename`: keep the ONTAP name on import (default true).
    pub import_no_rename: bool,
    /// `tridentNamespace` (default `trident`).
    pub trident_namespace: String,
    /// `backendMapping`: `<from>=<to>` entries, comma or newline separated.
    /// `<from>` is a backend UUID from the backup (PVs) or a StorageClass name
    /// (PVCs); `<to>` a restore-cluster backend name, TBC name or UUID.
    pub backend_mapping: BTreeMap<String, String>,
    /// `tcpProbe`: probe data LIFs over TCP (default true).
    pub tcp_probe: bool,
    /// `probeTimeout` (default 3 s).
    pub probe_timeout: Duration,
    /// `nfsProbePort` (default 2049).
    pub nfs_probe_port: u16,
    /// `iscsiProbePort` (default 3260).
    pub iscsi_probe_port: u16,
    /// `nvmeProbePort`: NVMe/TCP backends (`sanType: nvme`, default 4420).
    pub nvme_probe_port: u16,
    /// `smbProbePort`: SMB backends (`nasType: smb`, default 445).
    pub smb_probe_port: u16,
    /// `ontapCA`: PEM (or base64 of PEM) CA trusted for every ONTAP cluster;
    /// when unset, each backend's `trustedCACertificate`, else public roots.
    pub ontap_ca: Option<String>,
    /// `ontapTimeout`: one ONTAP request (default 15 s).
    pub ontap_timeout: Duration,
    /// `cacheTTL`: how long ONTAP facts are reused within a restore (default 30 s).
    pub cache_ttl: Duration,
    /// Where the values came from, e.g. `ConfigMap velero/svmdr` or `defaults`.
    pub source: String,
}

impl Default for PluginConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            wait_for_ready: Duration::ZERO,
            retry_interval: Duration::from_secs(5),
            import_managed: true,
            import_no_rename: true,
            trident_namespace: "trident".into(),
            backend_mapping: BTreeMap::new(),
            tcp_probe: true,
            probe_timeout: Duration::from_secs(3),
            nfs_probe_port: crate::readiness::NFS_PORT,
            iscsi_probe_port: crate::readiness::ISCSI_PORT,
            nvme_probe_port: crate::readiness::NVME_TCP_PORT,
            smb_probe_port: crate::readiness::SMB_PORT,
            ontap_ca: None,
            ontap_timeout: Duration::from_secs(15),
            cache_ttl: Duration::from_secs(30),
            source: "defaults".into(),
        }
    }
}

/// A bad plugin configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A key has a value that cannot be used.
    #[error(
        "plugin ConfigMap {configmap}: key {key}: {value:?} {expected}; fix the ConfigMap (see the plugin README)"
    )]
    BadValue {
        /// `namespace/name`.
        configmap: String,
        /// The key.
        key: String,
        /// The value given (never a secret: `ontapCA` is public).
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// More than one ConfigMap matches the selector.
    #[error(
        "more than one plugin ConfigMap in namespace {namespace} is labelled {SELECTOR}: {names}; keep one"
    )]
    Ambiguous {
        /// The Velero namespace.
        namespace: String,
        /// Their names.
        names: String,
    },
}

/// The label selector of the plugin's ConfigMap ([`SELECTOR`]).
pub fn selector() -> String {
    SELECTOR.to_string()
}

fn parse_bool(source: &str, key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(bad(source, key, v, "is not a boolean (true or false)")),
    }
}

fn parse_duration(
    source: &str,
    key: &str,
    v: &str,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let t = v.trim();
    let d = if t == "0" {
        Duration::ZERO
    } else {
        humantime::parse_duration(t)
            .map_err(|_| bad(source, key, v, "is not a duration (e.g. 30s, 2m, 1h30m)"))?
    };
    if d > max {
        return Err(bad(
            source,
            key,
            v,
            &format!(
                "is longer than the allowed {}",
                humantime::format_duration(max)
            ),
        ));
    }
    Ok(d)
}

fn parse_port(source: &str, key: &str, v: &str) -> Result<u16, ConfigError> {
    match v.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(bad(source, key, v, "is not a TCP port (1-65535)")),
    }
}

fn bad(source: &str, key: &str, value: &str, expected: &str) -> ConfigError {
    let mut value = value.to_string();
    if value.len() > 200 {
        value.truncate(
            value
                .char_indices()
                .nth(200)
                .map_or(value.len(), |(i, _)| i),
        );
        value.push('…');
    }
    ConfigError::BadValue {
        configmap: source.to_string(),
        key: key.to_string(),
        value,
        expected: expected.to_string(),
    }
}

impl PluginConfig {
    /// Parses a ConfigMap's `data` (pure). `source` names it in errors.
    /// Unknown keys are returned for a warning, not rejected.
    ///
    /// # Errors
    /// [`ConfigError::BadValue`] for the first bad key.
    pub fn from_data(
        source: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let mut c = PluginConfig {
            source: source.to_string(),
            ..Default::default()
        };
        let mut unknown = Vec::new();
        for (key, value) in data {
            let v = value.trim();
            match key.as_str() {
                "mode" => {
                    c.mode = match v.to_ascii_lowercase().as_str() {
                        "enforce" => Mode::Enforce,
                        "warn" => Mode::Warn,
                        "off" => Mode::Off,
                        _ => {
                            return Err(bad(
                                source,
                                key,
                                value,
                                "is not one of enforce, warn, off",
                            ));
                        }
                    }
                }
                "waitForReady" => c.wait_for_ready = parse_duration(source, key, v, MAX_WAIT)?,
                "retryInterval" => {
                    c.retry_interval = parse_duration(source, key, v, Duration::from_secs(600))?;
                    if c.retry_interval < Duration::from_millis(100) {
                        return Err(bad(source, key, value, "is shorter than 100ms"));
                    }
                }
                "importManaged" => c.import_managed = parse_bool(source, key, v)?,
                "importNoRename" => c.import_no_rename = parse_bool(source, key, v)?,
                "tridentNamespace" => {
                    let ok = !v.is_empty()
                        && v.len() <= 63
                        && v.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                    if !ok {
                        return Err(bad(source, key, value, "is not a namespace name"));
                    }
                    c.trident_namespace = v.to_string();
                }
                "backendMapping" => {
                    for entry in v
                        .split([',', '\n', ';'])
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                    {
                        let Some((from, to)) = entry.split_once('=') else {
                            return Err(bad(
                                source,
                                key,
                                entry,
                                "is not <backendUUID or StorageClass>=<backend>",
                            ));
                        };
                        let (from, to) = (from.trim(), to.trim());
                        if from.is_empty() || to.is_empty() {
                            return Err(bad(
                                source,
                                key,
                                entry,
                                "is not <backendUUID or StorageClass>=<backend>",
                            ));
                        }
                        c.backend_mapping.insert(from.to_string(), to.to_string());
                    }
                }
                "tcpProbe" => c.tcp_probe = parse_bool(source, key, v)?,
                "probeTimeout" => {
                    c.probe_timeout = parse_duration(source, key, v, Duration::from_secs(60))?;
                    if c.probe_timeout.is_zero() {
                        return Err(bad(source, key, value, "must be more than 0"));
                    }
                }
                "nfsProbePort" => c.nfs_probe_port = parse_port(source, key, v)?,
                "iscsiProbePort" => c.iscsi_probe_port = parse_port(source, key, v)?,
                "nvmeProbePort" => c.nvme_probe_port = parse_port(source, key, v)?,
                "smbProbePort" => c.smb_probe_port = parse_port(source, key, v)?,
                "ontapCA" => {
                    c.ontap_ca = if v.is_empty() {
                        None
                    } else {
                        Some(ca_pem(v).ok_or_else(|| {
                            bad(
                                source,
                                key,
                                "<certificate>",
                                "is neither a PEM certificate nor base64 of one",
                            )
                        })?)
                    }
                }
                "ontapTimeout" => {
                    c.ontap_timeout = parse_duration(source, key, v, Duration::from_secs(120))?;
                    if c.ontap_timeout.is_zero() {
                        return Err(bad(source, key, value, "must be more than 0"));
                    }
                }
                "cacheTTL" => {
                    c.cache_ttl = parse_duration(source, key, v, Duration::from_secs(3600))?
                }
                _ => unknown.push(key.clone()),
            }
        }
        Ok((c, unknown))
    }

    /// The configuration from the plugin ConfigMaps found in `namespace`
    /// (name and `data` of each, pure): the defaults when there is none,
    /// [`PluginConfig::from_data`] of the one, an error when there are more.
    ///
    /// # Errors
    /// [`ConfigError::Ambiguous`] for more than one ConfigMap,
    /// [`ConfigError::BadValue`] for a bad key.
    pub fn from_configmaps(
        namespace: &str,
        configmaps: &[(String, BTreeMap<String, String>)],
    ) -> Result<(Self, Vec<String>), ConfigError> {
        match configmaps {
            [] => Ok((Self::default(), Vec::new())),
            [(name, data)] => Self::from_data(&format!("{namespace}/{name}"), data),
            many => Err(ConfigError::Ambiguous {
                namespace: namespace.to_string(),
                names: many
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The probe port for `protocol`'s default transport (NFS, iSCSI).
    pub fn probe_port(&self, protocol: Protocol) -> u16 {
        match protocol {
            Protocol::File => self.nfs_probe_port,
            Protocol::Block => self.iscsi_probe_port,
        }
    }

    /// The probe port for `transport`; `None` for FC (no TCP to probe).
    pub fn transport_probe_port(&self, transport: Transport) -> Option<u16> {
        match transport {
            Transport::Nfs => Some(self.nfs_probe_port),
            Transport::Smb => Some(self.smb_probe_port),
            Transport::Iscsi => Some(self.iscsi_probe_port),
            Transport::NvmeTcp => Some(self.nvme_probe_port),
            Transport::Fc => None,
        }
    }
}

/// Accepts a PEM certificate or base64 of one.
fn ca_pem(v: &str) -> Option<String> {
    use base64::Engine as _;
    if v.contains("-----BEGIN CERTIFICATE-----") {
        return Some(v.to_string());
    }
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.contains("-----BEGIN CERTIFICATE-----").then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let (c, unknown) = PluginConfig::from_data("cm", &BTreeMap::new()).unwrap();
        assert_eq!(c.mode, Mode::Enforce);
        assert!(c.import_managed && c.import_no_rename && c.tcp_probe);
        assert_eq!(c.nfs_probe_port, 2049);
        assert_eq!(c.iscsi_probe_port, 3260);
        assert_eq!(c.nvme_probe_port, 4420);
        assert_eq!(c.smb_probe_port, 445);
        assert_eq!(c.trident_namespace, "trident");
        assert!(unknown.is_empty());
    }

    #[test]
    fn every_key() {
        let (c, unknown) = PluginConfig::from_data(
            "velero/svmdr",
            &data(&[
                ("mode", "warn"),
                ("waitForReady", "2m"),
                ("retryInterval", "500ms"),
                ("importManaged", "false"),
                ("importNoRename", "no"),
                ("tridentNamespace", "trident-system"),
                (
                    "backendMapping",
                    "6b1f4d3e-aaaa=nas-dr, ontap-gold = san-dr\nx=y",
                ),
                ("tcpProbe", "off"),
                ("probeTimeout", "1s"),
                ("nfsProbePort", "12049"),
                ("iscsiProbePort", "13260"),
                ("nvmeProbePort", "14420"),
                ("smbProbePort", "10445"),
                ("ontapTimeout", "5s"),
                ("cacheTTL", "0"),
                ("colour", "blue"),
            ]),
        )
        .unwrap();
        assert_eq!(c.mode, Mode::Warn);
        assert_eq!(c.wait_for_ready, Duration::from_secs(120));
        assert_eq!(c.retry_interval, Duration::from_millis(500));
        assert!(!c.import_managed && !c.import_no_rename && !c.tcp_probe);
        assert_eq!(c.trident_namespace, "trident-system");
        assert_eq!(
            c.backend_mapping.get("ontap-gold").map(String::as_str),
            Some("san-dr")
        );
        assert_eq!(c.backend_mapping.len(), 3);
        assert_eq!(c.nfs_probe_port, 12049);
        assert_eq!(c.iscsi_probe_port, 13260);
        assert_eq!(c.transport_probe_port(Transport::Nfs), Some(12049));
        assert_eq!(c.transport_probe_port(Transport::Iscsi), Some(13260));
        assert_eq!(c.transport_probe_port(Transport::NvmeTcp), Some(14420));
        assert_eq!(c.transport_probe_port(Transport::Smb), Some(10445));
        assert_eq!(c.transport_probe_port(Transport::Fc), None);
        assert_eq!(c.cache_ttl, Duration::ZERO);
        assert_eq!(unknown, vec!["colour".to_string()]);
    }

    #[test]
    fn bad_values_name_key_value_and_configmap() {
        for (k, v) in [
            ("mode", "enforcing"),
            ("waitForReady", "soon"),
            ("waitForReady", "5h"),
            ("nfsProbePort", "0"),
            ("nfsProbePort", "70000"),
            ("nvmeProbePort", "0"),
            ("smbProbePort", "x"),
            ("tcpProbe", "maybe"),
            ("backendMapping", "nas-dr"),
            ("tridentNamespace", "Trident"),
            ("ontapCA", "not a cert"),
            ("probeTimeout", "0"),
        ] {
            let e = PluginConfig::from_data("velero/svmdr", &data(&[(k, v)])).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("velero/svmdr") && msg.contains(k), "{msg}");
        }
    }

    #[test]
    fn one_configmap_or_the_defaults_or_an_error() {
        let (c, _) = PluginConfig::from_configmaps("velero", &[]).unwrap();
        assert_eq!(c, PluginConfig::default());
        let one = [("svmdr".to_string(), data(&[("waitForReady", "2m")]))];
        let (c, _) = PluginConfig::from_configmaps("velero", &one).unwrap();
        assert_eq!(c.wait_for_ready, Duration::from_secs(120));
        assert_eq!(c.source, "velero/svmdr");
        let two = [
            ("a".to_string(), data(&[("waitForReady", "1m")])),
            ("b".to_string(), data(&[("waitForReady", "2m")])),
        ];
        let e = PluginConfig::from_configmaps("velero", &two).unwrap_err();
        assert!(matches!(&e, ConfigError::Ambiguous { names, .. } if names == "a, b"));
        assert!(e.to_string().contains(SELECTOR), "{e}");
    }

    #[test]
    fn wait_for_ready_is_capped() {
        let e =
            PluginConfig::from_data("velero/svmdr", &data(&[("waitForReady", "31m")])).unwrap_err();
        assert!(e.to_string().contains("longer than the allowed 30m"), "{e}");
        let (c, _) =
            PluginConfig::from_data("velero/svmdr", &data(&[("waitForReady", "30m")])).unwrap();
        assert_eq!(c.wait_for_ready, MAX_WAIT);
    }
}
