//! The lab's sample application as Trident and Velero leave it on the
//! primary site: namespace `shop`, Deployment `web` with one running Pod
//! mounting two PVCs, their Trident CSI PVs (one with reclaim policy
//! `Retain`, one with `Delete`, so both of Velero's PV paths are
//! exercised), the TridentVolumes, and the items of a Velero backup of the
//! namespace. Every object carries [`SIMULATED_LABEL`].

use anyhow::Context as _;
use serde_json::{Value, json};

use super::simulated::mark;
use super::velero::{BackupContents, BackupKind};
use crate::kube::fixtures::{
    TridentSite, trident_csi_pv, trident_pvc, trident_volume, velero_backup,
};

/// The application namespace.
pub const NAMESPACE: &str = "shop";
/// The application's Deployment.
pub const DEPLOYMENT: &str = "web";
/// The Velero backup of the namespace.
pub const BACKUP: &str = "shop-nightly";
/// Velero's namespace on both sites.
pub const VELERO_NAMESPACE: &str = "velero";
/// When the backup completed: 30 minutes before the lab started (a nightly
/// schedule's last run, fresh against an hourly RPO while the lab is new).
pub fn backup_time() -> String {
    ago(30)
}

/// When the other backup variants ([`backup_contents`]) completed: after
/// [`BACKUP`], so a seeded variant is the newest Completed backup.
pub fn variant_backup_time() -> String {
    ago(10)
}

fn ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One volume of the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppVolume {
    /// PVC name.
    pub claim: &'static str,
    /// PV name (`pvc-<uid>`, as Trident names it).
    pub pv: &'static str,
    /// ONTAP volume (`trident_` + PV name with `-` → `_`); it exists on
    /// svm1 in `Topology::two_sites`.
    pub volume: &'static str,
    /// Size.
    pub size: &'static str,
    /// PV reclaim policy.
    pub reclaim_policy: &'static str,
}

/// The application's volumes: `data` is restored as-is (Retain), `uploads`
/// is re-provisioned by Velero and imported by Trident (Delete).
pub const VOLUMES: [AppVolume; 2] = [
    AppVolume {
        claim: "data",
        pv: "pvc-0b6f4a2e-6c1d-4f6b-9d3a-2f1e5c7a8b90",
        volume: "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90",
        size: "10Gi",
        reclaim_policy: "Retain",
    },
    AppVolume {
        claim: "uploads",
        pv: "pvc-3c9e1b7d-8a2f-4e5c-b1d0-6a4f3e2d1c0b",
        volume: "trident_pvc_3c9e1b7d_8a2f_4e5c_b1d0_6a4f3e2d1c0b",
        size: "20Gi",
        reclaim_policy: "Delete",
    },
];

/// The objects of the running application on the primary site (backend
/// `site`), as Kubernetes and Trident hold them.
pub fn primary_objects(site: &TridentSite) -> Vec<Value> {
    let mut out =
        vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})];
    for v in VOLUMES {
        let mut pv = trident_csi_pv(
            v.pv,
            &site.backend_uuid,
            v.volume,
            "file",
            v.size,
            NAMESPACE,
            v.claim,
            v.reclaim_policy,
        );
        pv["spec"]["storageClassName"] = json!(site.storage_class);
        pv["spec"]["claimRef"]["uid"] = json!(format!("uid-{}", v.claim));
        out.push(pv);
        out.push(trident_pvc(
            NAMESPACE,
            v.claim,
            v.pv,
            &site.storage_class,
            v.size,
        ));
        out.push(trident_volume(
            &site.namespace,
            v.pv,
            &site.backend_uuid,
            v.volume,
            "file",
            v.size,
            "127.0.0.1",
            &format!("/{}", v.volume),
        ));
    }
    let labels = json!({"app": DEPLOYMENT});
    let volumes: Vec<Value> = VOLUMES
        .iter()
        .map(|v| json!({"name": v.claim, "persistentVolumeClaim": {"claimName": v.claim}}))
        .collect();
    let mounts: Vec<Value> = VOLUMES
        .iter()
        .map(|v| json!({"name": v.claim, "mountPath": format!("/var/lib/{}", v.claim)}))
        .collect();
    let pod_spec = json!({
        "containers": [{"name": "web", "image": "nginx:1.27", "volumeMounts": mounts}],
        "volumes": volumes,
    });
    out.push(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                   "readyReplicas": 1, "availableReplicas": 1},
    }));
    // Scheduled on the primary (Velero's velero.io/pod action clears it).
    let mut scheduled_spec = pod_spec.clone();
    scheduled_spec["nodeName"] = json!(crate::kube::fixtures::PRIMARY_NODES[0].0);
    out.push(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{DEPLOYMENT}-7d4b9c6f5-x2k8p"), "namespace": NAMESPACE, "labels": labels},
        "spec": scheduled_spec,
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "web", "image": "nginx:1.27", "ready": true,
                       "restartCount": 0, "started": true, "state": {"running": {}}}]},
    }));
    out.push(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE, "labels": labels},
        "spec": {"selector": labels, "ports": [{"port": 80, "protocol": "TCP"}]},
    }));
    out.into_iter().map(mark).collect()
}

/// What the Velero backup of [`NAMESPACE`] holds: the namespace's objects
/// and the PVs its PVCs are bound to (not Trident's own CRs).
pub fn backup_items(site: &TridentSite) -> Vec<Value> {
    primary_objects(site)
        .into_iter()
        .filter(|o| o["kind"] != "TridentVolume")
        .collect()
}

/// The Velero Backup object (Completed), as the DR site's Velero sees it
/// once it has synced the shared backup storage location: made by the
/// Schedule [`velero_schedule`] (Velero labels each backup a Schedule makes
/// with `velero.io/schedule-name`: `pkg/apis/velero/v1/labels_annotations.go`).
pub fn backup_object() -> Value {
    let mut b = velero_backup(
        BACKUP,
        VELERO_NAMESPACE,
        "Completed",
        Some(&backup_time()),
        &[NAMESPACE],
    );
    b["metadata"]["labels"]["velero.io/schedule-name"] = json!(BACKUP);
    // As SVM-DR needs it: no volume data in the backup (the Schedule's template).
    b["spec"]["snapshotVolumes"] = json!(false);
    mark(b)
}

/// The Velero objects both sites have besides the backup: the shared
/// BackupStorageLocation `default` (Available) and the Schedule that makes
/// [`BACKUP`] every night (`pkg/apis/velero/v1/backupstoragelocation_types.go`,
/// `schedule_types.go`).
pub fn velero_objects() -> [Value; 2] {
    [
        mark(json!({
            "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": "default", "namespace": VELERO_NAMESPACE},
            "spec": {"provider": "aws", "default": true,
                     "objectStorage": {"bucket": "svmdr-lab-backups"}},
            "status": {"phase": "Available", "lastValidationTime": backup_time()},
        })),
        mark(json!({
            "apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": {"name": BACKUP, "namespace": VELERO_NAMESPACE},
            "spec": {"schedule": "0 3 * * *", "template": {
                "includedNamespaces": [NAMESPACE], "storageLocation": "default",
                "snapshotVolumes": false, "defaultVolumesToFsBackup": false}},
            "status": {"phase": "Enabled", "lastBackup": backup_time()},
        })),
    ]
}

/// The name of the backup taken with `kind`: [`BACKUP`] for a plain one,
/// `shop-nightly-<kind>` otherwise.
pub fn backup_name(kind: BackupKind) -> String {
    match kind {
        BackupKind::Plain => BACKUP.into(),
        k => format!("{BACKUP}-{}", k.as_str()),
    }
}

/// The backup of the application (backend `site`) taken with `kind`: its
/// Backup object, items and volume records.
pub fn backup_contents(site: &TridentSite, kind: BackupKind) -> BackupContents {
    if kind == BackupKind::Plain {
        return BackupContents::of_kind(
            kind,
            backup_object(),
            backup_items(site),
            VELERO_NAMESPACE,
        );
    }
    let backup = mark(velero_backup(
        &backup_name(kind),
        VELERO_NAMESPACE,
        "Completed",
        Some(&variant_backup_time()),
        &[NAMESPACE],
    ));
    BackupContents::of_kind(kind, backup, backup_items(site), VELERO_NAMESPACE)
}

/// Seeds both sites as the lab starts them: Velero's namespace, the backup
/// and Velero's own objects on each, and the sample application on the
/// primary (the one copy `Lab::start` and the watcher's bench use).
///
/// # Errors
/// An API refused an object.
pub fn seed(
    primary: &crate::kube::KubeSim,
    dr: &crate::kube::KubeSim,
    primary_trident: &TridentSite,
) -> anyhow::Result<()> {
    for k in [primary, dr] {
        k.apply(mark(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": VELERO_NAMESPACE}})))?;
        k.apply(backup_object())?;
        for o in velero_objects() {
            k.apply(o)?;
        }
    }
    for o in primary_objects(primary_trident) {
        primary.apply(o).context("seeding the sample application")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::simulated::SIMULATED_LABEL;

    #[test]
    fn every_object_is_marked_simulated_and_volumes_follow_tridents_names() {
        let site = TridentSite::new("b", "https://127.0.0.1:1", "svm1");
        for o in primary_objects(&site).iter().chain([&backup_object()]) {
            assert_eq!(o["metadata"]["labels"][SIMULATED_LABEL], "true", "{o}");
        }
        for v in VOLUMES {
            assert_eq!(
                crate::kube::fixtures::internal_name("trident_", v.pv),
                v.volume
            );
        }
        let items = backup_items(&site);
        assert!(items.iter().all(|o| o["kind"] != "TridentVolume"));
        assert_eq!(
            items
                .iter()
                .filter(|o| o["kind"] == "PersistentVolume")
                .count(),
            2
        );
    }

    #[test]
    fn backup_variants_carry_their_volume_data_records() {
        let site = TridentSite::new("b", "https://127.0.0.1:1", "svm1");
        let plain = backup_contents(&site, BackupKind::Plain);
        assert_eq!(plain.name(), BACKUP);
        assert!(plain.pod_volume_backups.is_empty());
        let fs = backup_contents(&site, BackupKind::FsBackup);
        assert_eq!(fs.name(), "shop-nightly-fs-backup");
        assert_eq!(fs.pod_volume_backups.len(), VOLUMES.len());
        // The variant completed after the plain backup: it is the newest.
        let at = |b: &serde_json::Value| {
            b["status"]["completionTimestamp"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            at(&fs.backup) > at(&plain.backup),
            "{} {}",
            at(&fs.backup),
            at(&plain.backup)
        );
        let csi = backup_contents(&site, BackupKind::CsiSnapshot);
        assert_eq!(csi.csi_volume_snapshots.len(), VOLUMES.len());
        let dm = backup_contents(&site, BackupKind::DataMover);
        assert_eq!(
            dm.items
                .iter()
                .filter(|i| i["kind"] == "DataUpload")
                .count(),
            VOLUMES.len()
        );
    }
}
