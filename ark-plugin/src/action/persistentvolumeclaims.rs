//! PVCs of Trident volumes: after the storage checks and Trident's own
//! acceptance rules, clear the binding and add Trident's import annotations,
//! so Trident imports the replicated ONTAP volume (creating the TridentVolume
//! a Pod needs to attach) instead of provisioning an empty one.
//!
//! Which copy of the PVC says what (see `docs/velero-restore.md`):
//! - the item has already been through Velero's built-in actions: its
//!   StorageClass is the one the PVC will be created with (after a
//!   `change-storage-class` mapping), but `velero.io/pvc` stripped the
//!   provisioner and binding annotations;
//! - the backup copy (`itemFromBackup`) says which PV it was bound to and
//!   that Trident provisioned it.
//!
//! The ONTAP volume comes from what the PV action recorded (the backed-up
//! PV's `internalName`); when the PV is not part of the restore, from the
//! volume on the candidate SVMs whose name ends with the PV's `pvc_<uid>`.

use serde_json::{Map, Value};
use svmdr::trident::backend::Backend;
use svmdr::trident::pools::ClassSpec;
use svmdr::trident::version::TridentVersion;
use svmdr::trident::volume::{
    ANN_IMPORT_BACKEND_UUID, ANN_IMPORT_NO_RENAME, ANN_IMPORT_ORIGINAL_NAME, ANN_NOT_MANAGED,
    CSI_DRIVER, LEGACY_PROVISIONER, Protocol, TridentClaim,
};

use super::locate::{self, Located};
use super::ready::{VolumeSel, ensure_ready};
use super::{ActionError, Outcome, RestoreInfo, accept, data_restore};
use crate::config::{Mode, PluginConfig};
use crate::storage::DrStorage;

/// The binding annotations the PV controller sets (Velero resets them too).
const BINDING_ANNOTATIONS: &[&str] = &[
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
];

fn text<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Handles one PVC; PVCs that are not Trident's come back unchanged.
///
/// # Errors
/// See [`ActionError`]; in `warn` mode storage problems are logged instead.
pub async fn handle(
    storage: &DrStorage,
    restore: &RestoreInfo,
    item: Value,
    from_backup: Option<&Value>,
) -> Result<Outcome, ActionError> {
    let ns = text(&item, "/metadata/namespace")
        .unwrap_or_default()
        .to_string();
    let name = text(&item, "/metadata/name")
        .unwrap_or("<unnamed>")
        .to_string();
    let subject = format!("PersistentVolumeClaim {ns}/{name}");
    if item
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ANN_IMPORT_ORIGINAL_NAME))
        .is_some()
    {
        tracing::debug!("{subject}: already carries {ANN_IMPORT_ORIGINAL_NAME}; left as is");
        return Ok(Outcome::Unchanged);
    }
    let pv_name = from_backup
        .and_then(|b| text(b, "/spec/volumeName"))
        .or_else(|| text(&item, "/spec/volumeName"))
        .map(str::to_string);
    let Some(pv_name) = pv_name else {
        tracing::debug!("{subject}: was never bound; nothing to import");
        return Ok(Outcome::Unchanged);
    };
    let cluster_err = |source| ActionError::Cluster {
        subject: subject.clone(),
        source,
    };
    let by_annotation = TridentClaim::from_pvc(&item)
        .or_else(|| from_backup.and_then(TridentClaim::from_pvc))
        .is_some();
    let recorded = storage.pv_record(&restore.key, &pv_name);
    if !by_annotation && recorded.is_none() {
        // A backup copy without Trident's annotations is not Trident's claim:
        // no network call for it.
        if from_backup.is_some() {
            return Ok(Outcome::Unchanged);
        }
        // Ark sends no backup copy: the class the claim names decides.
        let class = text(&item, "/spec/storageClassName");
        let trident_class = match class {
            Some(sc) => storage
                .storage_class(&restore.key, sc)
                .await
                .map_err(cluster_err)?
                .is_some_and(|c| {
                    matches!(
                        c.get("provisioner").and_then(Value::as_str),
                        Some(CSI_DRIVER | LEGACY_PROVISIONER)
                    )
                }),
            None => false,
        };
        if !trident_class {
            return Ok(Outcome::Unchanged);
        }
    }
    let cfg = storage.config(&restore.key).await.map_err(cluster_err)?;
    if cfg.mode == Mode::Off {
        return Ok(Outcome::Unchanged);
    }
    // A PV of that name already in the restore cluster (not from this
    // backup): Velero binds the claim to it.
    if recorded.is_none() && storage.pv_exists(&pv_name).await.map_err(cluster_err)? {
        tracing::info!(
            "{subject}: PersistentVolume {pv_name} already exists in the restore cluster; the claim binds to it"
        );
        return Ok(Outcome::Unchanged);
    }
    let claim = Claim {
        ns: &ns,
        name: &name,
        pv_name: &pv_name,
        subject: &subject,
    };
    import(storage, restore, &cfg, item, &claim)
        .await
        .or_else(|e| super::soften(&cfg, e))
}

/// The PVC being imported.
struct Claim<'a> {
    ns: &'a str,
    name: &'a str,
    pv_name: &'a str,
    subject: &'a str,
}

async fn import(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    mut item: Value,
    claim: &Claim<'_>,
) -> Result<Outcome, ActionError> {
    let subject = claim.subject;
    let cluster_err = |source| ActionError::Cluster {
        subject: subject.to_string(),
        source,
    };
    let refuse = |volume: &str, reason: String| ActionError::NotImportable {
        subject: subject.to_string(),
        volume: volume.to_string(),
        reason,
    };
    let record = storage.pv_record(&restore.key, claim.pv_name);
    let shown = record
        .as_ref()
        .map(|r| r.internal_name.clone())
        .unwrap_or_else(|| format!("<volume of PersistentVolume {}>", claim.pv_name));

    // 1. Velero restoring the data itself would shadow or overwrite the import.
    let pvbs = match &restore.backup {
        Some(b) => storage
            .pod_volume_backups(&restore.key, b)
            .await
            .map_err(cluster_err)?,
        None => Default::default(),
    };
    if let Some(why) = data_restore::velero_restores_data(&item, claim.ns, claim.name, &pvbs) {
        return Err(refuse(
            &shown,
            format!(
                "{why}. Back up Trident volumes without volume data (no CSI snapshots, data mover \
                 or file-system backup for them; see the README's backup settings) and restore from that backup"
            ),
        ));
    }

    // 2. The class the PVC will be created with (after Velero's own actions).
    let Some(sc_name) = text(&item, "/spec/storageClassName").map(str::to_string) else {
        return Err(refuse(
            &shown,
            "the PVC has no storageClassName; Trident imports only through one of its StorageClasses".into(),
        ));
    };
    let Some(sc) = storage
        .storage_class(&restore.key, &sc_name)
        .await
        .map_err(cluster_err)?
    else {
        return Err(refuse(
            &shown,
            format!(
                "StorageClass {sc_name} does not exist in the restore cluster; restore or create it first"
            ),
        ));
    };
    let class = ClassSpec::from_k8s(&sc)
        .map_err(|why| refuse(&shown, format!("StorageClass {sc_name}: {why}")))?;

    // 3. The backend and the ONTAP volume.
    let backends = storage
        .backends(&restore.key, cfg)
        .await
        .map_err(cluster_err)?;
    let (backend, volume) = match &record {
        Some(r) => (r.backend.clone(), r.internal_name.clone()),
        None => locate_unrecorded(storage, restore, cfg, &backends, &sc_name, claim).await?,
    };

    // 4. Trident's rules that no wait changes: the driver, a second import,
    //    the class's pools, the protocol (refused at once).
    let version = storage
        .trident_version(&restore.key, &cfg.trident_namespace)
        .await
        .map_err(cluster_err)?;
    accept::not_economy(&backend, version, &cfg.trident_namespace)
        .map_err(|w| refuse(&volume, w))?;
    let tvols = storage
        .trident_volumes(&restore.key, &cfg.trident_namespace)
        .await
        .map_err(cluster_err)?;
    if let Some(tv) = tvols.iter().find(|t| {
        t.internal_name == volume && (t.backend_uuid.is_empty() || t.backend_uuid == backend.uuid)
    }) {
        return Err(refuse(
            &volume,
            format!(
                "TridentVolume {} already uses it on backend {}; Trident refuses a second import. \
                 Delete that volume's PVC (with the reclaim policy Retain) or restore into it",
                tv.name, backend.name
            ),
        ));
    }
    let aggregates = storage
        .facts(&restore.key, cfg, &backend)
        .await
        .map(|f| f.aggregates.clone())
        .unwrap_or_default();
    let pools = backend.pools(&aggregates);
    let fit = if pools.is_empty() {
        // The SVM lists no aggregates (or they could not be read): the pool
        // names are unknown, so only the attributes can be checked.
        let stand_in = backend.pools(&["<aggregate>".to_string()]);
        stand_in
            .first()
            .map_or(Ok(()), |p| class.fits_unknown_pools(p))
    } else {
        class.fits(&pools).map(|_| ())
    };
    fit.map_err(|why| {
        refuse(
            &volume,
            format!(
                "Trident would refuse: storageClass {sc_name} does not match any storage pools for \
                 backend {} ({why}); fix the class's storagePools/selector for the DR backend, or \
                 map the class with Velero's change-storage-class",
                backend.name
            ),
        )
    })?;
    accept::protocol_fits(&item, &backend).map_err(|w| refuse(&volume, w))?;

    // 5. The storage itself: SVM running, volume rw and online, LIF up, TCP
    //    (waited for up to waitForReady, as right after a failover).
    let protocol = Protocol::for_driver(&backend.driver);
    let data_lif = if protocol == Protocol::File {
        backend.data_lif.as_deref()
    } else {
        None
    };
    let not_ready = |(source, waited)| ActionError::NotReady {
        subject: subject.to_string(),
        backend: locate::describe(&backend),
        source: Box::new(source),
        waited,
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
    .map_err(not_ready)?;

    // 6. What Trident and the storage say once the storage is ready: the
    //    backend's state now, the size (of the LUN for SAN: `ontap_san.go`
    //    GetVolumeForImport), the LUN, the export policy.
    let facts = storage
        .facts(&restore.key, cfg, &backend)
        .await
        .map_err(|e| not_ready((e, None)))?;
    let now = storage
        .backends(&restore.key, cfg)
        .await
        .map_err(cluster_err)?
        .iter()
        .find(|b| b.uuid == backend.uuid)
        .cloned()
        .unwrap_or_else(|| backend.clone());
    accept::backend_usable(&now, &cfg.trident_namespace).map_err(|w| refuse(&volume, w))?;
    let actual = if protocol == Protocol::Block {
        facts.luns_in(&volume).next().and_then(|l| l.size_bytes)
    } else {
        facts.volumes.get(&volume).and_then(|v| v.size_bytes)
    }
    .or(record.as_ref().and_then(|r| r.capacity_bytes));
    accept::size_fits(text(&item, "/spec/resources/requests/storage"), actual)
        .map_err(|w| refuse(&volume, w))?;
    let keeps_names = !cfg.import_managed
        || (cfg.import_no_rename && version.is_none_or(TridentVersion::honours_import_no_rename));
    if protocol == Protocol::Block {
        accept::san_lun_fits(&facts, &volume, keeps_names).map_err(|w| refuse(&volume, w))?;
    }
    super::exports::check(storage, restore, cfg, &backend, &facts, &volume, protocol)
        .await
        .map_err(|w| match w {
            super::exports::Denied::Cluster(source) => cluster_err(source),
            super::exports::Denied::Policy(why) => refuse(&volume, why),
        })?;

    // 6. Annotate, and clear the binding so Trident provisions (imports).
    let no_rename = cfg.import_no_rename && cfg.import_managed;
    let rename_warning = rename_warning(cfg, version, &backend, &volume);
    annotate(
        &mut item, subject, &volume, &backend, cfg, no_rename, version,
    )?;
    if let Some(w) = rename_warning {
        tracing::warn!(restore = %restore.name, "{subject}: {w}");
    }
    tracing::info!(
        restore = %restore.name, backend = %backend.name,
        "{subject}: Trident will import ONTAP volume {volume} from backend {} ({}); \
         spec.volumeName {} cleared so the claim binds to the imported volume",
        backend.name, checked.ready, claim.pv_name
    );
    Ok(Outcome::Changed(item))
}

/// Finds the backend and volume for a PVC whose PV is not in the restore.
async fn locate_unrecorded(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    backends: &[Backend],
    sc_name: &str,
    claim: &Claim<'_>,
) -> Result<(Backend, String), ActionError> {
    let no_backend = |detail: String| ActionError::NoBackend {
        subject: claim.subject.to_string(),
        detail,
    };
    let candidates: Vec<&Backend> = match locate::mapped(cfg, backends, sc_name) {
        Some(Ok(b)) => vec![b],
        Some(Err(detail)) => return Err(no_backend(detail)),
        None => backends.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(no_backend(
            "the restore cluster has no Trident ONTAP backends; add the DR backends to Trident"
                .into(),
        ));
    }
    let pv = claim.pv_name;
    let fallback =
        |b: &Backend| svmdr::trident::volume::ontap_volume_name(Some(&b.storage_prefix), pv);
    let find = |_: &Backend, f: &svmdr::readiness::SvmFacts| locate::by_pv_name(f, pv);
    match locate::search(storage, restore, cfg, &candidates, fallback, find).await {
        Located::Found(b, v) | Located::Only(b, v) => {
            tracing::info!(
                "{}: PersistentVolume {pv} is not part of this restore; found its volume {v} on backend {} by its name",
                claim.subject,
                b.name
            );
            Ok((b, v))
        }
        Located::Missing(notes) => Err(no_backend(format!(
            "PersistentVolume {pv} is not part of this restore, and no volume named after it (…pvc_<uid>) \
             is on the restore cluster's backends ({notes}); include the PV in the restore (its \
             volumeAttributes.internalName names the volume), or check that SVM-DR replicates it"
        ))),
        Located::Ambiguous(hits) => Err(no_backend(format!(
            "the volume of PersistentVolume {pv} exists on several SVMs ({hits}); set backendMapping \
             ({sc_name}=<backend>) to pick one"
        ))),
    }
}

/// Before Trident 25.10 a managed import renames the FlexVol (and a SAN
/// LUN) to the backend's name for the new PV, whatever `importNoRename` says.
fn rename_warning(
    cfg: &PluginConfig,
    version: Option<TridentVersion>,
    backend: &Backend,
    volume: &str,
) -> Option<String> {
    if !cfg.import_managed {
        return None;
    }
    let what = match version {
        Some(v) if v.honours_import_no_rename() && cfg.import_no_rename => return None,
        Some(v) if v.honours_import_no_rename() => {
            format!("importNoRename is off in the plugin ConfigMap, so Trident {v}")
        }
        Some(v) => format!("Trident {v} ignores importNoRename (it needs 25.10.0 or later) and"),
        None => "the restore cluster's Trident version is unknown; before 25.10.0 Trident".into(),
    };
    Some(format!(
        "{what} renames ONTAP volume {volume} to {}pvc_<new PVC uid> on backend {} during the managed \
         import; SVM-DR resync and failback then need the original name back \
         (`volume rename -vserver <svm> -volume <new> -newname {volume}`), or use an unmanaged import \
         (importManaged: false)",
        backend.storage_prefix, backend.name
    ))
}

fn annotate(
    item: &mut Value,
    subject: &str,
    volume: &str,
    backend: &Backend,
    cfg: &PluginConfig,
    no_rename: bool,
    version: Option<TridentVersion>,
) -> Result<(), ActionError> {
    let bad = |detail: String| ActionError::BadItem { detail };
    let obj = item
        .as_object_mut()
        .ok_or_else(|| bad(format!("{subject}: not a JSON object")))?;
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("volumeName");
    }
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| bad(format!("{subject}: metadata is not an object")))?;
    let ann = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if ann.is_null() {
        *ann = Value::Object(Map::new());
    }
    let ann = ann
        .as_object_mut()
        .ok_or_else(|| bad(format!("{subject}: metadata.annotations is not an object")))?;
    for k in BINDING_ANNOTATIONS {
        ann.remove(*k);
    }
    ann.insert(
        ANN_IMPORT_ORIGINAL_NAME.into(),
        Value::String(volume.into()),
    );
    ann.insert(
        ANN_IMPORT_BACKEND_UUID.into(),
        Value::String(backend.uuid.clone()),
    );
    ann.insert(
        ANN_NOT_MANAGED.into(),
        Value::String((!cfg.import_managed).to_string()),
    );
    // Older Trident ignores the annotation; it is set only where it works.
    if no_rename && version.is_none_or(TridentVersion::honours_import_no_rename) {
        ann.insert(ANN_IMPORT_NO_RENAME.into(), Value::String("true".into()));
    } else {
        ann.remove(ANN_IMPORT_NO_RENAME);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_clear_the_binding_and_follow_the_version() {
        let cfg = PluginConfig::default();
        let b = Backend {
            name: "dr".into(),
            uuid: "u-dr".into(),
            storage_prefix: "trident_".into(),
            ..Backend::default()
        };
        let pvc = json!({"metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes"}},
            "spec": {"volumeName": "pvc-1", "storageClassName": "gold"}});
        let mut a = pvc.clone();
        let v2510 = TridentVersion::parse("25.10.0");
        annotate(&mut a, "s", "vol_1", &b, &cfg, true, v2510).unwrap();
        assert!(a.pointer("/spec/volumeName").is_none());
        let ann = &a["metadata"]["annotations"];
        assert!(ann.get("pv.kubernetes.io/bind-completed").is_none());
        assert_eq!(ann[ANN_IMPORT_ORIGINAL_NAME], "vol_1");
        assert_eq!(ann[ANN_IMPORT_BACKEND_UUID], "u-dr");
        assert_eq!(ann[ANN_IMPORT_NO_RENAME], "true");
        let mut old = pvc.clone();
        annotate(
            &mut old,
            "s",
            "vol_1",
            &b,
            &cfg,
            true,
            TridentVersion::parse("25.06.0"),
        )
        .unwrap();
        assert!(
            old["metadata"]["annotations"]
                .get(ANN_IMPORT_NO_RENAME)
                .is_none()
        );
        let w = rename_warning(&cfg, TridentVersion::parse("25.06.0"), &b, "vol_1").unwrap();
        assert!(
            w.contains("25.06.0") && w.contains("vol_1") && w.contains("failback"),
            "{w}"
        );
        let keep = PluginConfig {
            import_no_rename: true,
            ..PluginConfig::default()
        };
        assert!(rename_warning(&keep, v2510, &b, "vol_1").is_none());
        let rename = PluginConfig {
            import_no_rename: false,
            ..PluginConfig::default()
        };
        let w = rename_warning(&rename, v2510, &b, "vol_1").expect("warns");
        assert!(w.contains("importNoRename is off"), "{w}");
        let unmanaged = PluginConfig {
            import_managed: false,
            ..PluginConfig::default()
        };
        assert!(
            rename_warning(&unmanaged, TridentVersion::parse("25.06.0"), &b, "vol_1").is_none()
        );
    }
}
