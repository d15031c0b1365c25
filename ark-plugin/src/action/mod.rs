//! The RestoreItemAction logic, independent of gRPC: parse the item, hand
//! Trident PVs and PVCs to their handlers, echo everything else unchanged
//! (byte for byte, without any network call).
//!
//! Every Trident CSI volume comes back through a Trident import: the PV
//! action checks the storage, records what the PV said and tells Velero to
//! skip it (a PV object alone is no Trident volume and never attaches); the
//! PVC action then writes Trident's import annotations. See
//! `docs/trident.md` and `docs/velero-restore.md`.

mod accept;
mod data_restore;
mod error;
mod exports;
mod locate;
mod persistentvolumeclaims;
mod persistentvolumes;
mod ready;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use svmdr::trident::volume::TridentVolumeRef;

pub use error::ActionError;

use crate::storage::DrStorage;

/// One Execute call's payload, as Velero sends it.
#[derive(Debug, Clone, Default)]
pub struct ExecuteInput {
    /// The item as it will be created (JSON).
    pub item: Vec<u8>,
    /// The velero.io/v1 Restore (JSON; apiVersion/kind may be absent).
    pub restore: Vec<u8>,
    /// The item as it was backed up (JSON; empty from Ark).
    pub item_from_backup: Vec<u8>,
}

/// What Execute answers: the item to create, or Velero is told to skip it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteOutput {
    /// The item (JSON).
    pub item: Vec<u8>,
    /// `skipRestore`: Velero does not create the item.
    pub skip_restore: bool,
}

/// The bits of the Restore the action uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreInfo {
    /// Cache key: the Restore's UID (else namespace/name).
    pub key: String,
    /// `namespace/name`, for messages.
    pub name: String,
    /// `spec.backupName`, when given.
    pub backup: Option<String>,
}

impl RestoreInfo {
    /// Parses the Restore leniently; empty bytes give an anonymous restore.
    ///
    /// # Errors
    /// [`ActionError::BadRestore`] when the bytes are not a JSON object.
    pub fn parse(bytes: &[u8]) -> Result<Self, ActionError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                key: "-".into(),
                name: "<unnamed restore>".into(),
                backup: None,
            });
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Meta {
            uid: Option<String>,
            name: Option<String>,
            namespace: Option<String>,
        }
        #[derive(Deserialize, Default)]
        #[serde(default, rename_all = "camelCase")]
        struct Spec {
            backup_name: Option<Value>,
        }
        #[derive(Deserialize)]
        struct R {
            #[serde(default)]
            metadata: Option<Meta>,
            #[serde(default)]
            spec: Option<Spec>,
        }
        let r: R = serde_json::from_slice(bytes).map_err(|e| ActionError::BadRestore {
            detail: e.to_string(),
        })?;
        let m = r.metadata.unwrap_or_default();
        let name = format!(
            "{}/{}",
            m.namespace.as_deref().unwrap_or("-"),
            m.name.as_deref().unwrap_or("<unnamed>")
        );
        let key = m
            .uid
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| name.clone());
        let backup = r
            .spec
            .and_then(|s| s.backup_name)
            .and_then(|b| b.as_str().map(str::to_string))
            .filter(|b| !b.is_empty());
        Ok(Self { key, name, backup })
    }
}

/// What a handler decided.
#[derive(Debug)]
pub enum Outcome {
    /// Return the request item as it came.
    Unchanged,
    /// Return this item instead.
    Changed(Value),
    /// Tell Velero not to create the item (`skipRestore`).
    Skip,
}

/// The action engine (shared by all Execute calls of the process).
pub struct Actions {
    storage: Arc<DrStorage>,
}

#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    kind: Option<Value>,
}

impl Actions {
    /// An engine over `storage` (which does no I/O until needed).
    pub fn new(storage: Arc<DrStorage>) -> Self {
        Self { storage }
    }

    /// The shared state (for tests and debug counters).
    pub fn storage(&self) -> &DrStorage {
        &self.storage
    }

    /// Runs the action on one item and returns the item to create: always a
    /// complete JSON object with its `kind`.
    ///
    /// # Errors
    /// Malformed JSON, or (for Trident PVs and PVCs, in `enforce` mode)
    /// storage that is not ready, with the PV/PVC, SVM, volume, LIF and reason.
    pub async fn execute(&self, input: ExecuteInput) -> Result<ExecuteOutput, ActionError> {
        let unchanged = |item: Vec<u8>| ExecuteOutput {
            item,
            skip_restore: false,
        };
        // serde would read a struct from a JSON array too: insist on an object.
        if input.item.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ActionError::BadItem {
                detail: "the item is not a JSON object".into(),
            });
        }
        // JSON is UTF-8 (RFC 8259 §8.1), and the item may go back as it came:
        // serde_json does not check the strings it skips, so check here.
        let text = std::str::from_utf8(&input.item).map_err(|e| ActionError::BadItem {
            detail: format!("the item is not UTF-8: {e}"),
        })?;
        // A cheap pass first: only the kind is kept, nothing else allocated.
        let head: Head = serde_json::from_str(text).map_err(|e| ActionError::BadItem {
            detail: e.to_string(),
        })?;
        let kind = match head.kind {
            Some(Value::String(k)) if !k.is_empty() => k,
            Some(other) if !other.is_null() => {
                return Err(ActionError::BadItem {
                    detail: format!("`kind` is not a string: {other}"),
                });
            }
            _ => {
                return Err(ActionError::BadItem {
                    detail: "the item has no `kind`".into(),
                });
            }
        };
        match kind.as_str() {
            "PersistentVolume" | "PersistentVolumeClaim" => {}
            _ => return Ok(unchanged(input.item)),
        }
        let item: Value =
            serde_json::from_slice(&input.item).map_err(|e| ActionError::BadItem {
                detail: e.to_string(),
            })?;
        let outcome = if kind == "PersistentVolume" {
            match TridentVolumeRef::from_pv(&item).map_err(ActionError::BadVolume)? {
                TridentVolumeRef::NotTrident => Outcome::Unchanged,
                vref => {
                    let restore = RestoreInfo::parse(&input.restore)?;
                    persistentvolumes::handle(&self.storage, &restore, item, vref).await?
                }
            }
        } else {
            // Velero's own velero.io/pvc action ran first and stripped the
            // provisioner annotations from the item: the backup copy keeps them.
            let from_backup = parse_optional(&input.item_from_backup)?;
            let restore = RestoreInfo::parse(&input.restore)?;
            persistentvolumeclaims::handle(&self.storage, &restore, item, from_backup.as_ref())
                .await?
        };
        match outcome {
            Outcome::Unchanged => Ok(unchanged(input.item)),
            Outcome::Skip => Ok(ExecuteOutput {
                item: input.item,
                skip_restore: true,
            }),
            Outcome::Changed(v) => {
                serde_json::to_vec(&v)
                    .map(unchanged)
                    .map_err(|e| ActionError::BadItem {
                        detail: e.to_string(),
                    })
            }
        }
    }
}

/// In `warn` mode, storage problems become a warning and the item is
/// restored unchanged; configuration and malformed-input errors stay errors.
fn soften(cfg: &crate::config::PluginConfig, e: ActionError) -> Result<Outcome, ActionError> {
    let storage_problem = match &e {
        ActionError::NotReady { .. }
        | ActionError::NoBackend { .. }
        | ActionError::NotImportable { .. } => true,
        ActionError::Cluster { source, .. } => {
            !matches!(source, crate::storage::ClusterError::Config(_))
        }
        _ => false,
    };
    if cfg.mode == crate::config::Mode::Warn && storage_problem {
        tracing::warn!(
            mode = "warn",
            "{e}; restoring the item unchanged because the plugin mode is warn"
        );
        return Ok(Outcome::Unchanged);
    }
    Err(e)
}

fn parse_optional(bytes: &[u8]) -> Result<Option<Value>, ActionError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes)
        .map(Some)
        .map_err(|e| ActionError::BadItem {
            detail: format!("itemFromBackup: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions() -> Actions {
        Actions::new(Arc::new(DrStorage::new("velero".into())))
    }

    async fn run(item: &[u8]) -> Result<Vec<u8>, ActionError> {
        actions()
            .execute(ExecuteInput {
                item: item.to_vec(),
                restore: b"{}".to_vec(),
                item_from_backup: Vec::new(),
            })
            .await
            .map(|o| o.item)
    }

    #[tokio::test]
    async fn other_kinds_come_back_byte_for_byte() {
        let item =
            br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"},"data":{"a":"<&>"}}"#;
        assert_eq!(run(item).await.unwrap(), item.to_vec());
    }

    #[tokio::test]
    async fn non_trident_pvs_and_pvcs_come_back_unchanged_without_io() {
        // No kube configuration exists in unit tests: any I/O would fail.
        let pv = br#"{"kind":"PersistentVolume","apiVersion":"v1","metadata":{"name":"p"},"spec":{"csi":{"driver":"ebs.csi.aws.com"}}}"#;
        assert_eq!(run(pv).await.unwrap(), pv.to_vec());
        let pvc = br#"{"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":"c"},"spec":{}}"#;
        assert_eq!(run(pvc).await.unwrap(), pvc.to_vec());
    }

    #[tokio::test]
    async fn malformed_items_are_clear_errors() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            b"{\"kind\":3}",
            b"{\"apiVersion\":\"v1\"}",
            b"\xff",
            // Found by tests/fuzz: bytes that are not UTF-8 in a field the
            // cheap pass skips came back as the answer.
            b"{\"kind\":\"ConfigMap\",\"data\":{\"a\":\"\xff\"}}",
            b"{\"kind\":\"Secret\",\"x\":[\"\xe2\x82\"]}",
        ] {
            let e = run(bad).await.unwrap_err();
            assert!(e.to_string().starts_with("item"), "{e}");
        }
    }

    #[test]
    fn restore_parsing_is_lenient() {
        let r =
            RestoreInfo::parse(br#"{"metadata":{"name":"r1","namespace":"velero","uid":"u-1"}}"#)
                .unwrap();
        assert_eq!(r.key, "u-1");
        assert_eq!(r.name, "velero/r1");
        let r = RestoreInfo::parse(
            br#"{"metadata":{"name":"r1","namespace":"velero"},"spec":{"backupName":"b1"}}"#,
        )
        .unwrap();
        assert_eq!(r.key, "velero/r1");
        assert_eq!(r.backup.as_deref(), Some("b1"));
        assert_eq!(RestoreInfo::parse(b"").unwrap().key, "-");
        assert!(RestoreInfo::parse(b"{oops").is_err());
    }
}
