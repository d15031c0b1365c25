//! Trident PVs in the backup. A Trident CSI PV is never restored as-is: the
//! restore cluster's Trident has no TridentVolume for it, and
//! `ControllerPublishVolume` (`frontend/csi/controller_server.go`) answers
//! NotFound, so its Pod would never attach. The action finds the ONTAP
//! volume behind it on the restore cluster's backends, checks SVM, volume,
//! data LIF (and TCP), records what the PV said for its PVC (which imports
//! the volume), and tells Velero to skip the PV.
//! Legacy (pre-CSI) NFS PVs are static NFS mounts and are restored as-is
//! after the SVM and LIF checks, found by their NFS server address.

use serde_json::Value;
use svmdr::trident::backend::Backend;
use svmdr::trident::volume::{CsiVolume, LegacyNfsVolume, Protocol, TridentVolumeRef};

use super::locate::{self, Located};
use super::ready::{Checked, VolumeSel, ensure_ready};
use super::{ActionError, Outcome, RestoreInfo};
use crate::config::{Mode, PluginConfig};
use crate::storage::{DrStorage, PvRecord};

/// Handles one Trident PV.
///
/// # Errors
/// See [`ActionError`]; in `warn` mode storage problems are logged instead.
pub async fn handle(
    storage: &DrStorage,
    restore: &RestoreInfo,
    item: Value,
    vref: TridentVolumeRef,
) -> Result<Outcome, ActionError> {
    let pv_name = vref.pv_name().unwrap_or("<unnamed>").to_string();
    let subject = format!("PersistentVolume {pv_name}");
    let cfg = storage
        .config(&restore.key)
        .await
        .map_err(|source| ActionError::Cluster {
            subject: subject.clone(),
            source,
        })?;
    if cfg.mode == Mode::Off {
        return Ok(Outcome::Unchanged);
    }
    let result = match &vref {
        TridentVolumeRef::Csi(c) => csi(storage, restore, &cfg, &item, c, &subject).await,
        TridentVolumeRef::LegacyNfs(l) => legacy(storage, restore, &cfg, l, &subject).await,
        TridentVolumeRef::NotTrident => Ok(Outcome::Unchanged),
    };
    result.or_else(|e| super::soften(&cfg, e))
}

/// One line per PV, at info (Velero parses and keeps every plugin line, so
/// a PV costs one line, without fields repeating the message).
fn log_ready(subject: &str, restore: &RestoreInfo, backend: &Backend, c: &Checked, then: &str) {
    let lif = if c.probed {
        format!("{} ({})", c.lif.0, c.lif.1)
    } else {
        "not probed".to_string()
    };
    tracing::info!(
        restore = %restore.name, backend = %backend.name, probed = %lif,
        "{subject}: storage ready: {}{then}", c.ready
    );
}

async fn csi(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    item: &Value,
    c: &CsiVolume,
    subject: &str,
) -> Result<Outcome, ActionError> {
    let backends = storage
        .backends(&restore.key, cfg)
        .await
        .map_err(|source| ActionError::Cluster {
            subject: subject.to_string(),
            source,
        })?;
    let no_backend = |detail: String| ActionError::NoBackend {
        subject: subject.to_string(),
        detail,
    };
    let mapped = locate::mapped(cfg, &backends, &c.backend_uuid).or_else(|| {
        c.storage_class
            .as_deref()
            .and_then(|sc| locate::mapped(cfg, &backends, sc))
    });
    let (backend, volume) = match mapped {
        Some(Ok(b)) => (b.clone(), c.internal_name.clone()),
        Some(Err(detail)) => return Err(no_backend(detail)),
        None => match backends.iter().find(|b| b.uuid == c.backend_uuid) {
            Some(b) => (b.clone(), c.internal_name.clone()),
            None => {
                let candidates: Vec<&Backend> = backends
                    .iter()
                    .filter(|b| {
                        Protocol::for_driver(&b.driver) == c.protocol
                            && !b.driver.ends_with("-economy")
                    })
                    .collect();
                if candidates.is_empty() {
                    return Err(no_backend(format!(
                        "backend {} of the backup is not in the restore cluster, and no {} Trident backend \
                         there could hold volume {} (backends: {}); add the DR backends to Trident or set backendMapping",
                        c.backend_uuid,
                        c.protocol,
                        c.internal_name,
                        locate::list(&backends)
                    )));
                }
                let name = |_: &Backend| c.internal_name.clone();
                let find = |_: &Backend, f: &svmdr::readiness::SvmFacts| {
                    f.volumes
                        .contains_key(&c.internal_name)
                        .then(|| c.internal_name.clone())
                };
                match locate::search(storage, restore, cfg, &candidates, name, find).await {
                    Located::Found(b, v) | Located::Only(b, v) => (b, v),
                    Located::Missing(notes) => {
                        return Err(no_backend(format!(
                            "volume {} was not found on any of the restore cluster's Trident backends ({notes}); \
                             check that SVM-DR replicates it, or set backendMapping",
                            c.internal_name
                        )));
                    }
                    Located::Ambiguous(hits) => {
                        return Err(no_backend(format!(
                            "volume {} exists on several SVMs ({hits}); set backendMapping \
                             ({}=<backend>) to pick one",
                            c.internal_name, c.backend_uuid
                        )));
                    }
                }
            }
        },
    };
    let data_lif = if c.protocol == Protocol::File {
        backend.data_lif.as_deref()
    } else {
        None
    };
    // Economy backends put each PV in a qtree or LUN of a shared FlexVol:
    // the FlexVol listing cannot confirm it, so only the SVM and LIFs are checked.
    let economy = format!(
        "{volume} (qtree/LUN of an {} backend: not verified)",
        backend.driver
    );
    let sel = if backend.driver.ends_with("-economy") {
        VolumeSel::SvmOnly(&economy)
    } else {
        VolumeSel::Name(&volume)
    };
    match ensure_ready(storage, restore, cfg, &backend, sel, c.protocol, data_lif).await {
        Ok(checked) => {
            log_ready(
                subject,
                restore,
                &backend,
                &checked,
                &format!(
                    "; not restored as-is (a Trident CSI PV attaches only through a TridentVolume): \
                     its PVC imports ONTAP volume {volume} from backend {}",
                    backend.name
                ),
            );
            storage.record_pv(
                &restore.key,
                PvRecord {
                    pv_name: c.pv_name.clone(),
                    internal_name: volume,
                    source_backend_uuid: c.backend_uuid.clone(),
                    backend,
                    protocol: c.protocol,
                    capacity_bytes: item
                        .pointer("/spec/capacity/storage")
                        .and_then(Value::as_str)
                        .and_then(super::accept::quantity_bytes),
                },
            );
            Ok(Outcome::Skip)
        }
        Err((source, waited)) => Err(ActionError::NotReady {
            subject: subject.to_string(),
            backend: locate::describe(&backend),
            source: Box::new(source),
            waited,
        }),
    }
}

async fn legacy(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    l: &LegacyNfsVolume,
    subject: &str,
) -> Result<Outcome, ActionError> {
    let backends = storage
        .backends(&restore.key, cfg)
        .await
        .map_err(|source| ActionError::Cluster {
            subject: subject.to_string(),
            source,
        })?;
    let nas: Vec<&Backend> = backends
        .iter()
        .filter(|b| Protocol::for_driver(&b.driver) == Protocol::File)
        .collect();
    // The backend whose dataLIF is the server wins outright; otherwise the
    // SVM that has a LIF with that address.
    let by_data_lif = nas.iter().find(|b| {
        b.data_lif
            .as_deref()
            .is_some_and(|d| svmdr::readiness::same_address(d, &l.server))
    });
    let backend = match by_data_lif {
        Some(b) => (*b).clone(),
        None => {
            let mut notes = Vec::new();
            let mut hit = None;
            for b in &nas {
                match storage.facts(&restore.key, cfg, b).await {
                    Ok(f) if f.has_lif_address(&l.server) => {
                        hit = Some((*b).clone());
                        break;
                    }
                    Ok(f) => {
                        notes.push(format!("{}: SVM {} has no LIF {}", b.name, f.svm, l.server))
                    }
                    Err(e) => notes.push(format!("{}: {e}", b.name)),
                }
            }
            match hit {
                Some(b) => b,
                None => {
                    return Err(ActionError::NoBackend {
                        subject: subject.to_string(),
                        detail: format!(
                            "its NFS server {} is a data LIF of no SVM behind the restore cluster's NAS Trident backends ({}); \
                             with SVM-DR identity preservation the DR SVM must carry the same LIF addresses",
                            l.server,
                            if notes.is_empty() {
                                "no NAS backends".to_string()
                            } else {
                                notes.join("; ")
                            }
                        ),
                    });
                }
            }
        }
    };
    match ensure_ready(
        storage,
        restore,
        cfg,
        &backend,
        VolumeSel::Junction(&l.path),
        Protocol::File,
        Some(&l.server),
    )
    .await
    {
        Ok(checked) => {
            log_ready(subject, restore, &backend, &checked, "");
            Ok(Outcome::Unchanged)
        }
        Err((source, waited)) => Err(ActionError::NotReady {
            subject: subject.to_string(),
            backend: locate::describe(&backend),
            source: Box::new(source),
            waited,
        }),
    }
}
