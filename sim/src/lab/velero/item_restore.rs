//! One restore's item loop, as `pkg/restore/restore.go` runs it: items in
//! priority order ([`rules::order`]), filtered by the Restore's resource
//! and namespace lists (`getOrderedResourceCollection`), each through
//! `restoreItem`: the filters again, completed pods skipped, each item
//! once, the PV decision ([`pv_decision`]), the metadata reset, the
//! applicable actions (Velero's built-ins, then the plugin's) with their
//! additional items restored on the spot, the PVC fix-up, the restore
//! labels, and create (or the existing-item warning).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

use serde_json::{Value, json};

use super::action::{ActionEnv, ActionOutput, ItemRef};
use super::backup::BackupContents;
use super::builtin_actions::{Builtin, volume_backups_for_pod};
use super::filters::{
    IncludesExcludes, filters, include_cluster_resources, must_have, select_items,
};
use super::pv_decision::{PvDecision, VolumeEvidence, pv_decision};
use super::rules::{
    self, Selector, add_restore_labels, reset_metadata_and_status, reset_volume_binding_info,
};
use super::run_state::{RestoreResult, RunnerConfig, set_status};
use crate::kube::KubeHandle;
use crate::lab::fields::str_at as s;
use crate::lab::simulated::{SIMULATED_LABEL, mark};
use crate::velero::PluginHost;

/// An action the restore runs: one of Velero's or one of the plugin's.
#[derive(Debug, Clone)]
pub enum Action {
    /// Velero's own.
    Builtin(Builtin),
    /// A third-party RestoreItemAction (name, selector).
    Plugin(String, Selector),
}

impl Action {
    fn name(&self) -> &str {
        match self {
            Self::Builtin(b) => b.name(),
            Self::Plugin(n, _) => n,
        }
    }

    fn applies(&self, item: &Value) -> bool {
        match self {
            Self::Builtin(b) => b.applies_to().applies(item),
            Self::Plugin(_, s) => s.applies(item),
        }
    }
}

/// A PVC whose pod volume the node-agent will restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodVolume {
    /// The restored pod's namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The pod's volume name.
    pub volume: String,
    /// The backup's snapshot of it.
    pub snapshot_id: String,
}

/// The state of one restore's item loop.
pub struct Restorer<'a> {
    /// The DR cluster.
    pub kube: &'a KubeHandle,
    /// Runner configuration.
    pub cfg: &'a RunnerConfig,
    /// The Restore.
    pub restore: Value,
    /// The backup's contents.
    pub contents: BackupContents,
    /// The running plugin, if any.
    pub host: Option<&'a PluginHost>,
    /// Actions in Velero's order.
    pub actions: Vec<Action>,
    /// Results so far.
    pub res: RestoreResult,
    /// `pvsToProvision`.
    pub pvs_to_provision: BTreeSet<String>,
    /// Item keys seen (`restoredItems`).
    pub seen: BTreeSet<(String, String, String)>,
    /// Async operations started by actions (their `creates`).
    pub operations: Vec<(String, Value)>,
    /// Pod volumes to restore with PodVolumeRestores.
    pub pod_volumes: Vec<PodVolume>,
    /// PVCs created by this restore (`ns/name`).
    pub restored_pvcs: BTreeSet<String>,
    resources: IncludesExcludes,
    namespaces: IncludesExcludes,
}

type ItemFuture<'b> = Pin<Box<dyn Future<Output = bool> + Send + 'b>>;

fn random5() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut r = rand::rng();
    (0..5)
        .map(|_| CHARS[r.random_range(0..CHARS.len())] as char)
        .collect()
}

impl<'a> Restorer<'a> {
    /// A restore of `contents` for `restore`.
    pub fn new(
        kube: &'a KubeHandle,
        cfg: &'a RunnerConfig,
        restore: Value,
        contents: BackupContents,
        host: Option<&'a PluginHost>,
        plugin_actions: Vec<(String, Selector)>,
    ) -> Self {
        let (resources, namespaces) = filters(&restore);
        let mut actions: Vec<Action> = Builtin::ALL.into_iter().map(Action::Builtin).collect();
        actions.extend(
            plugin_actions
                .into_iter()
                .map(|(n, s)| Action::Plugin(n, s)),
        );
        Self {
            kube,
            cfg,
            restore,
            contents,
            host,
            actions,
            res: RestoreResult::default(),
            pvs_to_provision: BTreeSet::new(),
            seen: BTreeSet::new(),
            operations: Vec::new(),
            pod_volumes: Vec::new(),
            restored_pvcs: BTreeSet::new(),
            resources,
            namespaces,
        }
    }

    fn ns(&self) -> &str {
        rules::namespace(&self.restore)
    }

    /// The items the Restore selects, in Velero's order.
    pub fn selected(&self) -> Vec<Value> {
        select_items(&self.contents.items, &self.restore)
    }

    fn env_for(&self, item: &Value) -> ActionEnv {
        let vns = self.ns();
        let backup_name = s(&self.restore, "/spec/backupName");
        let exists = item["kind"] == "PersistentVolumeClaim"
            && self
                .kube
                .get(
                    "v1",
                    "PersistentVolumeClaim",
                    Some(rules::namespace(item)),
                    rules::name(item),
                )
                .is_some();
        ActionEnv {
            restore: self.restore.clone(),
            backup: self
                .kube
                .get("velero.io/v1", "Backup", Some(vns), backup_name),
            configmaps: self.kube.list("v1", "ConfigMap", Some(vns)),
            storage_classes: self
                .kube
                .list("storage.k8s.io/v1", "StorageClass", None)
                .iter()
                .map(|c| rules::name(c).to_string())
                .collect(),
            pod_volume_backups: self.pod_volume_backups(),
            pvc_exists: exists,
            random: random5(),
        }
    }

    /// The backup's PodVolumeBackups in Velero's namespace (the restore
    /// controller lists them by `velero.io/backup-name`).
    pub fn pod_volume_backups(&self) -> Vec<Value> {
        let want = rules::get_valid_name(s(&self.restore, "/spec/backupName"));
        self.kube
            .list("velero.io/v1", "PodVolumeBackup", Some(self.ns()))
            .into_iter()
            .filter(|b| {
                b.pointer("/metadata/labels/velero.io~1backup-name")
                    .and_then(Value::as_str)
                    == Some(want.as_str())
            })
            .collect()
    }

    fn data_upload_results(&self, pv: &Value) -> Vec<Value> {
        let uid = rules::get_valid_name(s(&self.restore, "/metadata/uid"));
        let claim = rules::get_valid_name(&format!(
            "{}.{}",
            s(pv, "/spec/claimRef/namespace"),
            s(pv, "/spec/claimRef/name")
        ));
        self.kube
            .list("v1", "ConfigMap", Some(self.ns()))
            .into_iter()
            .filter(|c| {
                let l = |k: &str| {
                    c.pointer(&format!("/metadata/labels/{}", k.replace('/', "~1")))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                l("velero.io/restore-uid") == uid
                    && l("velero.io/pvc-namespace-name") == claim
                    && l("velero.io/resource-usage") == "DataUpload"
            })
            .collect()
    }

    fn error(&mut self, msg: String) {
        self.res.errors.push(msg);
    }

    fn progress(&self) {
        set_status(
            self.kube,
            self.ns(),
            rules::name(&self.restore),
            json!({"progress": {"totalItems": self.res.total_items,
                                "itemsRestored": self.res.items_restored}}),
        );
    }

    /// Restores every selected item.
    pub async fn run(&mut self) {
        let items = self.selected();
        self.res.total_items = items.len();
        self.progress();
        for item in items {
            self.restore_item(item).await;
        }
    }

    /// `restoreItem`; true when the item exists in the cluster afterwards.
    pub fn restore_item(&mut self, item: Value) -> ItemFuture<'_> {
        Box::pin(async move { self.restore_item_inner(item).await })
    }

    async fn restore_item_inner(&mut self, item: Value) -> bool {
        let gr = rules::group_resource(&item);
        let ns = rules::namespace(&item).to_string();
        let name = rules::name(&item).to_string();
        let id = format!("{gr}/{}", rules::resource_id(&item));
        if !self.resources.should_include_resource(&gr) && !must_have(&gr) {
            self.res.log.push(format!(
                "{id}: Not restoring item because resource is excluded"
            ));
            return false;
        }
        if !ns.is_empty() {
            if !self.namespaces.should_include(&ns) && !must_have(&gr) {
                self.res.log.push(format!(
                    "{id}: Not restoring item because namespace is excluded"
                ));
                return false;
            }
            self.ensure_namespace(&ns);
        } else if include_cluster_resources(&self.restore) == Some(false) {
            self.res.log.push(format!(
                "{id}: Not restoring item because it's cluster-scoped"
            ));
            return false;
        }
        let from_backup = item.clone();
        // isCompleted: Pods that Succeeded or Failed, Jobs with a completionTime.
        let phase = s(&item, "/status/phase");
        if (gr == "pods" && matches!(phase, "Succeeded" | "Failed"))
            || (gr == "jobs.batch" && !s(&item, "/status/completionTime").is_empty())
        {
            self.res.log.push(format!(
                "{id}: {} is complete - skipping",
                rules::resource_id(&item)
            ));
            return false;
        }
        let key = (gr.clone(), ns.clone(), name.clone());
        if !self.seen.insert(key) {
            self.res
                .log
                .push(format!("Skipping {id} because it's already been restored."));
            return self.exists(&item);
        }
        if gr == "pods" && !rules::annotation(&item, "kubernetes.io/config.mirror").is_empty() {
            self.res
                .log
                .push(format!("{id}: Not restoring pod because it's a mirror pod"));
            return false;
        }
        let mut obj = item;
        if gr == "persistentvolumes" {
            let pvbs = self.pod_volume_backups();
            let dur = self.data_upload_results(&obj);
            let ev = VolumeEvidence {
                volume_infos: &self.contents.volume_infos,
                native_snapshots: &self.contents.native_snapshots,
                pod_volume_backups: &pvbs,
                csi_volume_snapshots: &self.contents.csi_volume_snapshots,
                data_upload_results: &dur,
            };
            let decision = pv_decision(&obj, &ev);
            self.res.log.push(format!("{id}: {}", decision.log_line()));
            match decision {
                PvDecision::NativeSnapshot => {
                    self.error(format!(
                        "error executing PVAction for {id}: the lab's Velero has no VolumeSnapshotter plugin (simulated)"
                    ));
                    return false;
                }
                d if d.reprovisions() => {
                    self.pvs_to_provision.insert(name);
                    return false;
                }
                _ => reset_volume_binding_info(&mut obj),
            }
        }
        let mut obj = match reset_metadata_and_status(&obj) {
            Ok(o) => o,
            Err(e) => {
                self.error(format!("{id}: {e}"));
                return false;
            }
        };
        let restore_bytes = serde_json::to_vec(&self.restore).unwrap_or_default();
        let backup_bytes = serde_json::to_vec(&from_backup).unwrap_or_default();
        let applicable: Vec<Action> = self
            .actions
            .iter()
            .filter(|a| a.applies(&obj))
            .cloned()
            .collect();
        for action in applicable {
            if let Action::Builtin(b) = &action
                && b.skipped(&self.cfg.features)
            {
                self.res.log.push(format!(
                    "{id}: Skip action {}, because the CSI feature is not enabled.",
                    b.name()
                ));
                continue;
            }
            let out = match &action {
                Action::Builtin(b) => {
                    let env = self.env_for(&obj);
                    b.execute(&obj, &from_backup, &env)
                }
                Action::Plugin(n, _) => {
                    let Some(host) = self.host else { continue };
                    self.res.executed.push(id.clone());
                    let bytes = serde_json::to_vec(&obj).unwrap_or_default();
                    match host.execute(n, &bytes, &restore_bytes, &backup_bytes).await {
                        Ok(r) => plugin_output(r),
                        Err(st) => Err(format!(
                            "rpc error: code = {:?} desc = {}",
                            st.code(),
                            st.message()
                        )),
                    }
                }
            };
            let out = match out {
                Ok(o) => o,
                Err(e) => {
                    self.error(format!("error preparing {id}: {e}"));
                    return false;
                }
            };
            for l in &out.log {
                self.res.log.push(format!("{id}: {}: {l}", action.name()));
            }
            for c in &out.creates {
                if let Err(e) = self.kube.apply(mark(c.clone())) {
                    self.error(format!("error preparing {id}: {}: {e:#}", action.name()));
                    return false;
                }
            }
            if let Some(op) = &out.operation_id {
                self.operations.push((
                    op.clone(),
                    out.creates.first().cloned().unwrap_or(Value::Null),
                ));
            }
            if out.skip_restore {
                self.res.log.push(format!(
                    "{id}: Skipping restore because a registered plugin discarded it ({})",
                    action.name()
                ));
                return false;
            }
            if out.item.get("kind").is_none() {
                self.error(format!(
                    "error preparing {id}: {} returned an item without a kind",
                    action.name()
                ));
                return false;
            }
            obj = out.item;
            for add in out.additional_items {
                self.restore_additional(&add).await;
            }
        }
        if gr == "persistentvolumeclaims" {
            let log = rules::pvc_after_actions(&mut obj, &self.pvs_to_provision, &BTreeMap::new());
            self.res
                .log
                .extend(log.into_iter().map(|l| format!("{id}: {l}")));
        }
        add_restore_labels(
            &mut obj,
            rules::name(&self.restore),
            s(&self.restore, "/spec/backupName"),
        );
        if let Some(l) = obj
            .pointer_mut("/metadata/labels")
            .and_then(Value::as_object_mut)
        {
            l.insert(SIMULATED_LABEL.into(), json!("true"));
        }
        self.create(obj, &id, &gr, &from_backup)
    }

    fn exists(&self, item: &Value) -> bool {
        let ns = rules::namespace(item);
        self.kube
            .get(
                s(item, "/apiVersion"),
                s(item, "/kind"),
                (!ns.is_empty()).then_some(ns),
                rules::name(item),
            )
            .is_some()
    }

    /// `EnsureNamespaceExistsAndIsReady`: the namespace from the backup
    /// (or a bare one) when missing.
    fn ensure_namespace(&mut self, ns: &str) {
        if self.kube.get("v1", "Namespace", None, ns).is_some() {
            return;
        }
        let from = self
            .contents
            .items
            .iter()
            .find(|i| i["kind"] == "Namespace" && rules::name(i) == ns)
            .and_then(|n| reset_metadata_and_status(n).ok())
            .unwrap_or_else(
                || json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            );
        match self.kube.apply(mark(from)) {
            Ok(_) => self.res.log.push(format!("namespaces/{ns}: created")),
            Err(e) => self.error(format!("error creating namespace {ns}: {e:#}")),
        }
    }

    async fn restore_additional(&mut self, add: &ItemRef) {
        let found = self
            .contents
            .items
            .iter()
            .find(|i| {
                rules::group_resource(i) == add.group_resource
                    && rules::namespace(i) == add.namespace
                    && rules::name(i) == add.name
            })
            .cloned();
        match found {
            Some(i) => {
                self.restore_item(i).await;
            }
            None => self.res.warnings.push(format!(
                "unable to restore additional item {}/{}/{}: not in the backup",
                add.group_resource, add.namespace, add.name
            )),
        }
    }

    /// Create, or Velero's handling of an item that already exists.
    fn create(&mut self, obj: Value, id: &str, gr: &str, from_backup: &Value) -> bool {
        let kind = s(&obj, "/kind").to_string();
        if let Some(existing) = self.kube.get(
            s(&obj, "/apiVersion"),
            &kind,
            Some(rules::namespace(&obj)).filter(|n| !n.is_empty()),
            rules::name(&obj),
        ) {
            // The in-cluster copy, reset and labelled, against what would
            // be created (`equality.Semantic.DeepEqual`).
            let mut cluster = reset_metadata_and_status(&existing).unwrap_or_default();
            add_restore_labels(
                &mut cluster,
                rules::name(&self.restore),
                s(&self.restore, "/spec/backupName"),
            );
            if cluster != obj && kind != "Namespace" {
                self.res.warnings.push(format!(
                    "could not restore, {kind}:{} already exists. Warning: the in-cluster version is different than the backed-up version",
                    rules::name(&obj)
                ));
            } else {
                self.res.log.push(format!(
                    "{id}: Restore of {} skipped: it already exists in the cluster and is the same as the backed up version",
                    rules::name(&obj)
                ));
            }
            return true;
        }
        let pod = (gr == "pods").then(|| obj.clone());
        let pvc_key = (gr == "persistentvolumeclaims")
            .then(|| format!("{}/{}", rules::namespace(&obj), rules::name(&obj)));
        match self.kube.apply(obj) {
            Ok(_) => {
                self.res.items_restored += 1;
                self.progress();
                if let Some(k) = pvc_key {
                    self.restored_pvcs.insert(k);
                }
                if let Some(pod) = pod {
                    self.pod_volumes_of(&pod, from_backup);
                }
                true
            }
            Err(e) => {
                self.error(format!("error restoring {id}: {e:#}"));
                false
            }
        }
    }

    /// A created pod's backed-up volumes, when the restore includes PVCs
    /// and PVs (`restoreItem`, "Do not create podvolumerestore when
    /// current restore excludes pv/pvc").
    fn pod_volumes_of(&mut self, pod: &Value, from_backup: &Value) {
        if !self
            .resources
            .should_include_resource("persistentvolumeclaims")
            || !self.resources.should_include_resource("persistentvolumes")
        {
            return;
        }
        let pvbs = self.pod_volume_backups();
        for (volume, snapshot_id) in
            volume_backups_for_pod(&pvbs, rules::name(pod), rules::namespace(from_backup))
        {
            self.pod_volumes.push(PodVolume {
                namespace: rules::namespace(pod).into(),
                pod: rules::name(pod).into(),
                volume,
                snapshot_id,
            });
        }
    }
}

/// The plugin's v1 answer as an [`ActionOutput`].
fn plugin_output(r: crate::velero::ExecuteResponse) -> Result<ActionOutput, String> {
    let item = if r.skip_restore {
        Value::Null
    } else {
        serde_json::from_slice::<Value>(&r.item).unwrap_or(Value::Null)
    };
    Ok(ActionOutput {
        item,
        skip_restore: r.skip_restore,
        additional_items: r
            .additional_items
            .into_iter()
            .map(|a| ItemRef {
                group_resource: if a.group.is_empty() {
                    a.resource
                } else {
                    format!("{}.{}", a.resource, a.group)
                },
                namespace: a.namespace,
                name: a.name,
            })
            .collect(),
        ..Default::default()
    })
}
