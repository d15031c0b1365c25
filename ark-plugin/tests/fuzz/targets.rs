//! The four targets: what each generates and what each case must answer.
//!
//! Execute contract (`Actions::execute`): an answer is a complete JSON
//! object with its `kind`; an error has a message and, with no Kubernetes
//! configuration, is malformed input or the setup error of the plugin's
//! first Kubernetes call. ConfigMap contract (`PluginConfig::from_data`):
//! accepted values are within their documented limits; a refusal names the
//! ConfigMap.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ark_plugin::action::{ActionError, Actions, ExecuteInput, RestoreInfo};
use ark_plugin::config::{ConfigError, MAX_WAIT, PluginConfig};
use ark_plugin::storage::{ClusterError, DrStorage};
use proptest::prelude::*;
use serde_json::Value;

use crate::{inputs, shapes};

/// What is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Execute's `item`: PVs, PVCs, other objects, bytes.
    Item,
    /// Execute's `itemFromBackup`, beside a Trident PVC item.
    ItemFromBackup,
    /// Execute's `restore`, beside a Trident PV or PVC item.
    Restore,
    /// The plugin ConfigMap (an object as the API server returns it, or bytes).
    ConfigMap,
}

impl Target {
    /// Every target, in the order of the long run.
    pub const ALL: [Target; 4] = [
        Target::Item,
        Target::ItemFromBackup,
        Target::Restore,
        Target::ConfigMap,
    ];

    /// The inputs of this target.
    pub fn strategy(self) -> BoxedStrategy<Input> {
        match self {
            Target::Item => {
                let item = prop_oneof![
                    2 => shapes::pv().prop_map(json),
                    2 => shapes::trident_pv().prop_map(json),
                    2 => shapes::pvc().prop_map(json),
                    2 => shapes::trident_pvc().prop_map(json),
                    1 => inputs::any_json().prop_map(json),
                    1 => inputs::deep().prop_map(json),
                    2 => inputs::bytes(prop_oneof![shapes::trident_pv(), shapes::pvc()].boxed()),
                ];
                let from_backup = prop_oneof![
                    2 => Just(Vec::new()),
                    1 => Just(TRIDENT_PVC_FROM_BACKUP.to_vec()),
                ];
                (item, from_backup)
                    .prop_map(|(item, item_from_backup)| {
                        Input::Execute(ExecuteInput {
                            item,
                            restore: RESTORE.to_vec(),
                            item_from_backup,
                        })
                    })
                    .boxed()
            }
            Target::ItemFromBackup => {
                let item = prop_oneof![
                    3 => Just(TRIDENT_PVC_ITEM.to_vec()),
                    1 => shapes::pvc().prop_map(json),
                ];
                let from_backup = prop_oneof![
                    3 => shapes::trident_pvc().prop_map(json),
                    2 => shapes::pvc().prop_map(json),
                    1 => shapes::pv().prop_map(json),
                    1 => inputs::any_json().prop_map(json),
                    1 => inputs::deep().prop_map(json),
                    3 => inputs::bytes(shapes::trident_pvc()),
                ];
                (item, from_backup)
                    .prop_map(|(item, item_from_backup)| {
                        Input::Execute(ExecuteInput {
                            item,
                            restore: RESTORE.to_vec(),
                            item_from_backup,
                        })
                    })
                    .boxed()
            }
            Target::Restore => {
                let item = prop_oneof![
                    Just((TRIDENT_PV.to_vec(), Vec::new())),
                    Just((TRIDENT_PVC_ITEM.to_vec(), TRIDENT_PVC_FROM_BACKUP.to_vec())),
                    Just((TRIDENT_PVC_ITEM.to_vec(), Vec::new())),
                ];
                let restore = prop_oneof![
                    4 => shapes::restore().prop_map(json),
                    1 => inputs::any_json().prop_map(json),
                    1 => inputs::deep().prop_map(json),
                    3 => inputs::bytes(shapes::restore()),
                ];
                (item, restore)
                    .prop_map(|((item, item_from_backup), restore)| {
                        Input::Execute(ExecuteInput {
                            item,
                            restore,
                            item_from_backup,
                        })
                    })
                    .boxed()
            }
            Target::ConfigMap => prop_oneof![
                4 => shapes::configmap().prop_map(Input::ConfigMap),
                1 => inputs::bytes(shapes::configmap()).prop_map(Input::ConfigMapBytes),
            ]
            .boxed(),
        }
    }
}

fn json(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap_or_default()
}

/// A Trident CSI PV, as Trident writes it.
const TRIDENT_PV: &[u8] = br#"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pvc-1"},"spec":{"capacity":{"storage":"1Gi"},"csi":{"driver":"csi.trident.netapp.io","volumeHandle":"pvc-1","volumeAttributes":{"backendUUID":"b-1","internalName":"trident_pvc_1","name":"pvc-1","protocol":"file"}},"storageClassName":"gold"}}"#;
/// A bound PVC after Velero's own PVC action (provisioner annotations gone).
const TRIDENT_PVC_ITEM: &[u8] = br#"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"shop"},"spec":{"volumeName":"pvc-1","storageClassName":"gold","accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}"#;
/// The same PVC as backed up, with Trident's provisioner annotation.
const TRIDENT_PVC_FROM_BACKUP: &[u8] = br#"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"shop","annotations":{"volume.kubernetes.io/storage-provisioner":"csi.trident.netapp.io"}},"spec":{"volumeName":"pvc-1","storageClassName":"gold"}}"#;
/// A Restore.
const RESTORE: &[u8] = br#"{"apiVersion":"velero.io/v1","kind":"Restore","metadata":{"name":"r1","namespace":"velero","uid":"u-1"},"spec":{"backupName":"b1"}}"#;

/// One generated case.
#[derive(Debug, Clone)]
pub enum Input {
    /// An Execute call.
    Execute(ExecuteInput),
    /// A ConfigMap object.
    ConfigMap(Value),
    /// ConfigMap bytes (the API server's answer, garbled).
    ConfigMapBytes(Vec<u8>),
}

impl Input {
    /// The input, readable and short, for a failure report.
    pub fn describe(&self) -> String {
        fn cut(b: &[u8]) -> String {
            let s = String::from_utf8_lossy(b);
            let short: String = s.chars().take(600).collect();
            if short.len() < s.len() {
                format!("{short:?}… ({} bytes)", b.len())
            } else {
                format!("{short:?}")
            }
        }
        match self {
            Input::Execute(e) => format!(
                "item {} restore {} itemFromBackup {}",
                cut(&e.item),
                cut(&e.restore),
                cut(&e.item_from_backup)
            ),
            Input::ConfigMap(v) => format!("configmap {}", cut(&json(v.clone()))),
            Input::ConfigMapBytes(b) => format!("configmap bytes {}", cut(b)),
        }
    }
}

/// Runs cases: the action with no Kubernetes configuration, on one thread.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    actions: Actions,
}

impl Harness {
    /// The action as the plugin builds it.
    pub fn new() -> Self {
        Self {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
            actions: Actions::new(Arc::new(DrStorage::new("velero".into()))),
        }
    }

    /// One case: the outcome's name, or how the answer broke the contract.
    pub fn check(&self, input: &Input) -> Result<&'static str, String> {
        match input {
            Input::Execute(e) => {
                if !e.restore.is_empty() {
                    restore_info(&e.restore)?;
                }
                self.execute(e)
            }
            Input::ConfigMap(v) => configmap(v),
            Input::ConfigMapBytes(b) => match serde_json::from_slice::<Value>(b) {
                Ok(v) => configmap(&v),
                Err(_) => Ok("configmap: not JSON"),
            },
        }
    }

    fn execute(&self, input: &ExecuteInput) -> Result<&'static str, String> {
        match self.runtime.block_on(self.actions.execute(input.clone())) {
            Ok(out) => {
                answer_is_an_object_with_a_kind(&out.item)?;
                Ok(if out.skip_restore {
                    "skipped"
                } else if out.item == input.item {
                    "unchanged"
                } else {
                    "changed"
                })
            }
            Err(e) => {
                if e.to_string().trim().is_empty() {
                    return Err(format!("an error without a message: {e:?}"));
                }
                match e {
                    ActionError::BadItem { .. } => Ok("error: bad item"),
                    ActionError::BadRestore { .. } => Ok("error: bad restore"),
                    ActionError::BadVolume(_) => Ok("error: bad Trident PV"),
                    ActionError::Cluster {
                        source: ClusterError::Setup(_),
                        ..
                    } => Ok("parsed, then no Kubernetes"),
                    other => Err(format!(
                        "unexpected error with no Kubernetes configuration: {other}"
                    )),
                }
            }
        }
    }
}

/// JSON text (UTF-8, RFC 8259) of an object with a non-empty string
/// `kind`. Only the syntax is checked elsewhere: an item that comes back as
/// it came may hold numbers beyond f64, which JSON allows and serde_json's
/// `Value` refuses.
fn answer_is_an_object_with_a_kind(item: &[u8]) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Head {
        kind: Value,
    }
    let text = std::str::from_utf8(item).map_err(|e| format!("the answer is not UTF-8: {e}"))?;
    if !text.trim_start().starts_with('{') {
        return Err("the answer is not a JSON object".into());
    }
    let head: Head =
        serde_json::from_str(text).map_err(|e| format!("the answer is not JSON: {e}"))?;
    match head.kind {
        Value::String(k) if !k.is_empty() => Ok(()),
        other => Err(format!("the answer's kind is {other}")),
    }
}

/// The Restore as the action reads it: a key and a name, or an error.
fn restore_info(bytes: &[u8]) -> Result<(), String> {
    match RestoreInfo::parse(bytes) {
        Ok(r) if r.key.is_empty() || r.name.is_empty() => {
            Err(format!("a restore without key or name: {r:?}"))
        }
        Ok(r) if r.backup.as_deref() == Some("") => Err(format!("an empty backup name: {r:?}")),
        Ok(_) => Ok(()),
        Err(e) if e.to_string().trim().is_empty() => {
            Err("a restore error without a message".into())
        }
        Err(_) => Ok(()),
    }
}

/// The ConfigMap as `Storage::config` reads it (values that are not
/// strings count as empty), then `PluginConfig::from_data`.
fn configmap(cm: &Value) -> Result<&'static str, String> {
    let source = format!(
        "velero/{}",
        cm.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    let data: BTreeMap<String, String> = cm
        .get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    match PluginConfig::from_data(&source, &data) {
        Ok((c, unknown)) => {
            let limits = [
                (
                    c.wait_for_ready <= MAX_WAIT,
                    "waitForReady over its maximum",
                ),
                (
                    c.retry_interval >= Duration::from_millis(100),
                    "retryInterval under 100ms",
                ),
                (!c.probe_timeout.is_zero(), "probeTimeout of 0"),
                (!c.ontap_timeout.is_zero(), "ontapTimeout of 0"),
                (
                    c.cache_ttl <= Duration::from_secs(3600),
                    "cacheTTL over an hour",
                ),
                (
                    [
                        c.nfs_probe_port,
                        c.iscsi_probe_port,
                        c.nvme_probe_port,
                        c.smb_probe_port,
                    ]
                    .iter()
                    .all(|p| *p > 0),
                    "a probe port of 0",
                ),
                (
                    !c.trident_namespace.is_empty() && c.trident_namespace.len() <= 63,
                    "a tridentNamespace that is no namespace name",
                ),
                (
                    unknown.iter().all(|k| data.contains_key(k)),
                    "an unknown key not in the data",
                ),
            ];
            match limits.iter().find(|(ok, _)| !ok) {
                Some((_, what)) => Err(format!("accepted {what}: {c:?}")),
                None if unknown.is_empty() => Ok("configmap: accepted"),
                None => Ok("configmap: accepted, unknown keys"),
            }
        }
        Err(e) => {
            let msg = e.to_string();
            match e {
                ConfigError::BadValue { .. } if msg.contains(&source) => Ok("configmap: refused"),
                other => Err(format!(
                    "a refusal that does not name the ConfigMap: {other}"
                )),
            }
        }
    }
}
