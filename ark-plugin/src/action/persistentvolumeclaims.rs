//! PVCs bound to Trident volumes that Velero re-provisions: after the same
//! storage checks, add Trident's import annotations so Trident imports the
//! replicated ONTAP volume instead of provisioning an empty one.
//!
//! Trident refuses an import unless the backend is one of the restore
//! cluster's, the PVC's StorageClass is Trident's and fits that backend, no
//! TridentVolume already uses the ONTAP volume, and the volume is rw. Each
//! is checked here first, and the error says which one fails.

use serde_json::{Map, Value};
use svmdr::trident::backend::Backend;
use svmdr::trident::volume::{
    ANN_IMPORT_BACKEND_UUID, ANN_IMPORT_NO_RENAME, ANN_IMPORT_ORIGINAL_NAME, ANN_NOT_MANAGED,
    Protocol, TridentClaim, ontap_volume_name,
};

use super::locate::{self, Located};
use super::ready::{VolumeSel, ensure_ready};
use super::{ActionError, Outcome, RestoreInfo};
use crate::config::Mode;
use crate::storage::{Storage, storage_class_matches};

/// Handles one PVC whose provisioner is Trident.
///
/// # Errors
/// See [`ActionError`]; in `warn` mode storage problems are logged instead.
pub async fn handle(
    storage: &Storage,
    restore: &RestoreInfo,
    item: Value,
    from_backup: Option<&Value>,
    claim: TridentClaim,
) -> Result<Outcome, ActionError> {
    let subject = format!("PersistentVolumeClaim {}/{}", claim.namespace, claim.name);
    let has_import = item
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ANN_IMPORT_ORIGINAL_NAME))
        .is_some();
    if has_import {
        tracing::debug!("{subject}: already carries {ANN_IMPORT_ORIGINAL_NAME}; left as is");
        return Ok(Outcome::Unchanged);
    }
    let pv_name = from_backup
        .and_then(|b| b.pointer("/spec/volumeName"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or(claim.volume_name.clone());
    let Some(pv_name) = pv_name else {
        tracing::debug!("{subject}: was never bound; Trident provisions it as usual");
        return Ok(Outcome::Unchanged);
    };
    let cluster_err = |source| ActionError::Cluster {
        subject: subject.clone(),
        source,
    };
    let cfg = storage.config(&restore.key).await.map_err(cluster_err)?;
    if cfg.mode == Mode::Off {
        return Ok(Outcome::Unchanged);
    }
    // Restored as-is (our PV action passed it, or it already exists): Velero
    // binds the claim to it and there is nothing to import.
    if storage.pv_checked(&restore.key, &pv_name)
        || storage.pv_exists(&pv_name).await.map_err(cluster_err)?
    {
        tracing::debug!(
            "{subject}: its PersistentVolume {pv_name} is restored as-is; no import needed"
        );
        return Ok(Outcome::Unchanged);
    }
    let result = import(storage, restore, &cfg, item, &claim, &pv_name, &subject).await;
    result.or_else(|e| super::soften(&cfg, e))
}

async fn import(
    storage: &Storage,
    restore: &RestoreInfo,
    cfg: &crate::config::PluginConfig,
    mut item: Value,
    claim: &TridentClaim,
    pv_name: &str,
    subject: &str,
) -> Result<Outcome, ActionError> {
    let cluster_err = |source| ActionError::Cluster {
        subject: subject.to_string(),
        source,
    };
    let not_importable = |volume: &str, reason: String| ActionError::NotImportable {
        subject: subject.to_string(),
        volume: volume.to_string(),
        reason,
    };
    let backends = storage
        .backends(&restore.key, cfg)
        .await
        .map_err(cluster_err)?;
    let default_name = ontap_volume_name(None, pv_name);

    // 1. The StorageClass is Trident's and exists here.
    let Some(sc_name) = claim.storage_class.as_deref() else {
        return Err(not_importable(
            &default_name,
            "the PVC has no storageClassName; Trident imports only through one of its StorageClasses".into(),
        ));
    };
    let Some(sc) = storage
        .storage_class(&restore.key, sc_name)
        .await
        .map_err(cluster_err)?
    else {
        return Err(not_importable(
            &default_name,
            format!(
                "StorageClass {sc_name} does not exist in the restore cluster; restore or create it first"
            ),
        ));
    };

    // 2. Candidate backends: the mapped one, else those the class fits.
    let mut rejected = Vec::new();
    let candidates: Vec<&Backend> = match locate::mapped(cfg, &backends, sc_name) {
        Some(Ok(b)) => {
            if b.driver.ends_with("-economy") {
                return Err(not_importable(
                    &ontap_volume_name(Some(&b.storage_prefix), pv_name),
                    format!(
                        "backendMapping names backend {} ({}); Trident does not import volumes on economy backends",
                        b.name, b.driver
                    ),
                ));
            }
            if let Err(why) = storage_class_matches(&sc, b) {
                return Err(not_importable(
                    &ontap_volume_name(Some(&b.storage_prefix), pv_name),
                    format!(
                        "StorageClass {sc_name} does not match backend {} named by backendMapping: {why}",
                        b.name
                    ),
                ));
            }
            vec![b]
        }
        Some(Err(detail)) => {
            return Err(ActionError::NoBackend {
                subject: subject.to_string(),
                detail,
            });
        }
        None => backends
            .iter()
            .filter(|b| !b.driver.ends_with("-economy"))
            .filter(|b| match storage_class_matches(&sc, b) {
                Ok(()) => true,
                Err(why) => {
                    rejected.push(format!("{}: {why}", b.name));
                    false
                }
            })
            .collect(),
    };
    if candidates.is_empty() {
        return Err(not_importable(
            &default_name,
            format!(
                "StorageClass {sc_name} matches none of the restore cluster's Trident backends ({}); \
                 fix the class or set backendMapping ({sc_name}=<backend>)",
                if rejected.is_empty() {
                    "there are none".to_string()
                } else {
                    rejected.join("; ")
                }
            ),
        ));
    }

    // 3. The ONTAP volume, named by Trident's rule on each candidate backend.
    let (backend, volume) = match locate::search(storage, restore, cfg, &candidates, |b| {
        ontap_volume_name(Some(&b.storage_prefix), pv_name)
    })
    .await
    {
        Located::Found(b, v) | Located::Only(b, v) => (b, v),
        Located::Missing(notes) => {
            return Err(ActionError::NoBackend {
                subject: subject.to_string(),
                detail: format!(
                    "the volume of PersistentVolume {pv_name} is on none of the backends StorageClass {sc_name} fits ({notes}); \
                         check that SVM-DR replicates it"
                ),
            });
        }
        Located::Ambiguous(hits) => {
            return Err(ActionError::NoBackend {
                subject: subject.to_string(),
                detail: format!(
                    "the volume of PersistentVolume {pv_name} exists on several SVMs ({hits}); \
                         set backendMapping ({sc_name}=<backend>) to pick one"
                ),
            });
        }
    };

    // 4. Storage ready (SVM running, volume online and rw, LIF up, TCP).
    let protocol = Protocol::for_driver(&backend.driver);
    let data_lif = if protocol == Protocol::File {
        backend.data_lif.as_deref()
    } else {
        None
    };
    let checked = ensure_ready(
        storage,
        restore,
        cfg,
        &backend,
        VolumeSel::Name(&volume),
        protocol,
        data_lif,
    )
    .await
    .map_err(|(source, waited)| ActionError::NotReady {
        subject: subject.to_string(),
        backend: locate::describe(&backend),
        source: Box::new(source),
        waited,
    })?;

    // 5. Trident's own conditions: backend online, name not taken.
    if !backend.online || backend.state != "online" {
        return Err(not_importable(
            &volume,
            format!(
                "Trident backend {} is {} (online={}); fix the backend (`tridentctl get backend -n {}`) first",
                backend.name, backend.state, backend.online, cfg.trident_namespace
            ),
        ));
    }
    let tvols = storage
        .trident_volumes(&restore.key, &cfg.trident_namespace)
        .await
        .map_err(cluster_err)?;
    if let Some(tv) = tvols.iter().find(|t| {
        t.internal_name == volume && (t.backend_uuid.is_empty() || t.backend_uuid == backend.uuid)
    }) {
        return Err(not_importable(
            &volume,
            format!(
                "TridentVolume {} already uses it on backend {}; Trident refuses a second import. \
                 Delete that volume's PVC (with the reclaim policy Retain) or restore into it",
                tv.name, backend.name
            ),
        ));
    }

    // 6. Annotate.
    let meta = item
        .as_object_mut()
        .ok_or_else(|| ActionError::BadItem {
            detail: format!("{subject}: not a JSON object"),
        })?
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let meta = meta.as_object_mut().ok_or_else(|| ActionError::BadItem {
        detail: format!("{subject}: metadata is not an object"),
    })?;
    let ann = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if ann.is_null() {
        *ann = Value::Object(Map::new());
    }
    let ann = ann.as_object_mut().ok_or_else(|| ActionError::BadItem {
        detail: format!("{subject}: metadata.annotations is not an object"),
    })?;
    ann.insert(
        ANN_IMPORT_ORIGINAL_NAME.into(),
        Value::String(volume.clone()),
    );
    ann.insert(
        ANN_IMPORT_BACKEND_UUID.into(),
        Value::String(backend.uuid.clone()),
    );
    ann.insert(
        ANN_NOT_MANAGED.into(),
        Value::String((!cfg.import_managed).to_string()),
    );
    if cfg.import_no_rename {
        ann.insert(ANN_IMPORT_NO_RENAME.into(), Value::String("true".into()));
    } else {
        ann.remove(ANN_IMPORT_NO_RENAME);
    }
    tracing::info!(
        restore = %restore.name, backend = %backend.name,
        "{subject}: Trident will import ONTAP volume {volume} from backend {} ({})",
        backend.name, checked.ready
    );
    Ok(Outcome::Changed(item))
}
