//! The registry of resource types the simulated API server serves: group,
//! version, kind, plural, scope, short names and whether `/status` is a
//! subresource.
//!
//! Built-in Kubernetes types, Trident's CRDs and Velero's CRDs are registered
//! at start; another type is one line:
//!
//! ```
//! use sim::kube::ResourceType;
//! let widgets = ResourceType::namespaced("example.com/v1", "Widget", "widgets").short_names(&["wd"]);
//! assert_eq!(widgets.group, "example.com");
//! ```

use std::collections::BTreeMap;

/// The verbs every served resource supports.
const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource type (one group/version/plural).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the core group.
    pub group: String,
    /// Version within the group, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `TridentBackend`.
    pub kind: String,
    /// Plural resource name used in paths, e.g. `tridentbackends`.
    pub plural: String,
    /// Singular resource name, lower-case kind unless set.
    pub singular: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl short names, e.g. `tbe`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `trident` or `all`.
    pub categories: Vec<String>,
    /// Whether `status` is a separate subresource (writes to the main
    /// resource then leave `.status` alone, and `/status` writes change only it).
    pub status_subresource: bool,
    /// Whether the type is served through a CustomResourceDefinition (it
    /// then appears in `customresourcedefinitions`).
    pub custom: bool,
    /// Whether `metadata.generation` is maintained.
    pub generation: bool,
    /// Verbs offered in discovery.
    pub verbs: Vec<String>,
}

impl ResourceType {
    fn new(api_version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        let (group, version) = split_api_version(api_version);
        let custom = !is_builtin_group(&group);
        Self {
            group,
            version,
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: kind.to_ascii_lowercase(),
            namespaced,
            short_names: Vec::new(),
            categories: Vec::new(),
            status_subresource: false,
            custom,
            generation: custom,
            verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// A namespaced type, e.g. `namespaced("velero.io/v1", "Backup", "backups")`.
    pub fn namespaced(api_version: &str, kind: &str, plural: &str) -> Self {
        Self::new(api_version, kind, plural, true)
    }

    /// A cluster-scoped type, e.g. `cluster("v1", "PersistentVolume", "persistentvolumes")`.
    pub fn cluster(api_version: &str, kind: &str, plural: &str) -> Self {
        Self::new(api_version, kind, plural, false)
    }

    /// Sets the kubectl short names.
    pub fn short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sets the categories.
    pub fn categories(mut self, categories: &[&str]) -> Self {
        self.categories = categories.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Makes `status` a subresource.
    pub fn with_status(mut self) -> Self {
        self.status_subresource = true;
        self
    }

    /// Turns `metadata.generation` bookkeeping on.
    pub fn with_generation(mut self) -> Self {
        self.generation = true;
        self
    }

    /// Restricts the verbs offered in discovery and accepted by the server.
    pub fn verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|s| s.to_string()).collect();
        self
    }

    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` (or `plural` for core), as the API server names a
    /// resource in its error messages.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The storage key shared by every version of this group/plural.
    pub(crate) fn storage_key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    /// The subresources served besides the object itself: `status` where it
    /// is one, `scale` (as `autoscaling/v1` Scale) for the workload types,
    /// `log` for pods.
    pub fn subresources(&self) -> Vec<Subresource> {
        let own = (self.group.clone(), self.version.clone(), self.kind.clone());
        let mut out = Vec::new();
        if self.status_subresource {
            out.push(Subresource {
                name: "status",
                response: own.clone(),
                verbs: &["get", "patch", "update"],
            });
        }
        if self.group == "apps"
            && matches!(
                self.plural.as_str(),
                "deployments" | "statefulsets" | "replicasets"
            )
        {
            out.push(Subresource {
                name: "scale",
                response: ("autoscaling".into(), "v1".into(), "Scale".into()),
                verbs: &["get", "patch", "update"],
            });
        }
        if self.group.is_empty() && self.plural == "pods" {
            out.push(Subresource {
                name: "log",
                response: own,
                verbs: &["get"],
            });
        }
        out
    }

    /// Whether `name` is one of [`ResourceType::subresources`].
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources().iter().any(|s| s.name == name)
    }

    /// Whether the verb is allowed.
    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// A subresource of a type, as discovery lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subresource {
    /// `status`, `scale`, `log`.
    pub name: &'static str,
    /// The (group, version, kind) it answers with.
    pub response: (String, String, String),
    /// Its verbs.
    pub verbs: &'static [&'static str],
}

/// Splits `group/version` (or a bare core `version`).
pub(crate) fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), api_version.to_string()),
    }
}

fn is_builtin_group(group: &str) -> bool {
    group.is_empty()
        || group.ends_with(".k8s.io")
        || matches!(group, "apps" | "batch" | "autoscaling" | "policy")
}

/// The resource types served by one simulated cluster.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    types: Vec<ResourceType>,
}

impl Registry {
    /// The built-in, Trident and Velero types.
    pub fn standard() -> Self {
        let mut r = Self::default();
        for t in builtin_types()
            .into_iter()
            .chain(trident_types())
            .chain(velero_types())
        {
            r.register(t);
        }
        r
    }

    /// Adds (or replaces, by group/version/plural) a type.
    pub fn register(&mut self, t: ResourceType) {
        if let Some(existing) = self
            .types
            .iter_mut()
            .find(|e| e.group == t.group && e.version == t.version && e.plural == t.plural)
        {
            *existing = t;
        } else {
            self.types.push(t);
        }
    }

    /// Removes a type by group/version/plural.
    pub fn unregister(&mut self, group: &str, version: &str, plural: &str) {
        self.types
            .retain(|e| !(e.group == group && e.version == version && e.plural == plural));
    }

    /// Every registered type, in registration order.
    pub fn all(&self) -> &[ResourceType] {
        &self.types
    }

    /// Finds a type by the path parts `group`, `version`, `plural`.
    pub fn by_plural(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Finds a type by `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        let (group, version) = split_api_version(api_version);
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.kind == kind)
    }

    /// Groups with their versions, in registration order (core group `""` included).
    pub fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in &self.types {
            let versions = out.entry(t.group.clone()).or_default();
            if !versions.contains(&t.version) {
                versions.push(t.version.clone());
            }
        }
        out
    }

    /// Types served at `group/version`.
    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceType> + 'a {
        self.types
            .iter()
            .filter(move |t| t.group == group && t.version == version)
    }
}

fn builtin_types() -> Vec<ResourceType> {
    use ResourceType as R;
    vec![
        R::cluster("v1", "Namespace", "namespaces")
            .short_names(&["ns"])
            .with_status()
            .verbs(&[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ]),
        R::namespaced("v1", "Secret", "secrets"),
        R::namespaced("v1", "ConfigMap", "configmaps").short_names(&["cm"]),
        R::cluster("v1", "PersistentVolume", "persistentvolumes")
            .short_names(&["pv"])
            .with_status(),
        R::namespaced("v1", "PersistentVolumeClaim", "persistentvolumeclaims")
            .short_names(&["pvc"])
            .with_status(),
        R::namespaced("v1", "Event", "events").short_names(&["ev"]),
        R::namespaced("v1", "Pod", "pods")
            .short_names(&["po"])
            .categories(&["all"])
            .with_status(),
        R::namespaced("v1", "Service", "services")
            .short_names(&["svc"])
            .categories(&["all"])
            .with_status(),
        R::namespaced("v1", "ServiceAccount", "serviceaccounts").short_names(&["sa"]),
        R::cluster("v1", "Node", "nodes")
            .short_names(&["no"])
            .with_status(),
        R::cluster("storage.k8s.io/v1", "StorageClass", "storageclasses").short_names(&["sc"]),
        R::cluster("storage.k8s.io/v1", "VolumeAttachment", "volumeattachments").with_status(),
        R::cluster("storage.k8s.io/v1", "CSIDriver", "csidrivers"),
        R::namespaced("apps/v1", "Deployment", "deployments")
            .short_names(&["deploy"])
            .categories(&["all"])
            .with_status()
            .with_generation(),
        R::namespaced("apps/v1", "StatefulSet", "statefulsets")
            .short_names(&["sts"])
            .categories(&["all"])
            .with_status()
            .with_generation(),
        R::namespaced("apps/v1", "ReplicaSet", "replicasets")
            .short_names(&["rs"])
            .categories(&["all"])
            .with_status()
            .with_generation(),
        R::namespaced("events.k8s.io/v1", "Event", "events").short_names(&["ev"]),
        // Answered, never stored (`kubectl auth can-i`, `kubectl auth whoami`).
        R::cluster(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
        )
        .verbs(&["create"]),
        R::cluster(
            "authentication.k8s.io/v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
        )
        .verbs(&["create"]),
        R::namespaced("coordination.k8s.io/v1", "Lease", "leases"),
        R::cluster(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
        )
        .short_names(&["crd", "crds"])
        .with_status()
        .with_generation(),
    ]
}

/// Trident's CRDs (`trident.netapp.io/v1`, all namespaced), short names as
/// Trident's CRD YAML declares them.
fn trident_types() -> Vec<ResourceType> {
    let t = |kind: &str, plural: &str, short: &[&str]| {
        ResourceType::namespaced("trident.netapp.io/v1", kind, plural)
            .short_names(short)
            .categories(&["trident", "trident-internal"])
    };
    vec![
        t(
            "TridentBackendConfig",
            "tridentbackendconfigs",
            &["tbc", "tbconfig", "tbackendconfig"],
        )
        .categories(&["trident", "trident-external"])
        .with_status(),
        t("TridentBackend", "tridentbackends", &["tbe", "tbackend"]),
        t("TridentVolume", "tridentvolumes", &["tvol", "tvolume"]),
        t(
            "TridentStorageClass",
            "tridentstorageclasses",
            &["tsc", "tstorageclass"],
        ),
        t(
            "TridentMirrorRelationship",
            "tridentmirrorrelationships",
            &["tmr", "tmrelationship", "tmirrorrelationship"],
        )
        .categories(&["trident", "trident-external"])
        .with_status(),
        t(
            "TridentActionMirrorUpdate",
            "tridentactionmirrorupdates",
            &["tamu", "tamupdate", "tamirrorupdate"],
        )
        .categories(&["trident", "trident-external"]),
        t(
            "TridentSnapshotInfo",
            "tridentsnapshotinfos",
            &["tsi", "tsinfo", "tsnapshotinfo"],
        )
        .categories(&["trident", "trident-external"])
        .with_status(),
        t(
            "TridentVolumePublication",
            "tridentvolumepublications",
            &[
                "tvp",
                "tvpub",
                "tvolpub",
                "tvolumepub",
                "tvolumepublication",
            ],
        ),
        t("TridentNode", "tridentnodes", &["tnode"]),
        t(
            "TridentSnapshot",
            "tridentsnapshots",
            &["tss", "tsnap", "tsnapshot"],
        ),
        t("TridentVersion", "tridentversions", &["tver", "tversion"]),
    ]
}

/// Velero's CRDs (`velero.io/v1`, namespaced, in the Velero namespace).
/// Backup and Restore have no status subresource: Velero patches the whole
/// object.
fn velero_types() -> Vec<ResourceType> {
    let v = |kind: &str, plural: &str| {
        ResourceType::namespaced("velero.io/v1", kind, plural).categories(&["velero"])
    };
    vec![
        v("Backup", "backups"),
        v("Restore", "restores"),
        v("Schedule", "schedules").with_status(),
        v("BackupStorageLocation", "backupstoragelocations")
            .short_names(&["bsl"])
            .with_status(),
        v("VolumeSnapshotLocation", "volumesnapshotlocations")
            .short_names(&["vsl"])
            .with_status(),
        v("DeleteBackupRequest", "deletebackuprequests"),
        v("PodVolumeBackup", "podvolumebackups"),
        v("PodVolumeRestore", "podvolumerestores"),
        v("ServerStatusRequest", "serverstatusrequests").short_names(&["ssr"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_types_by_plural_and_kind() {
        let r = Registry::standard();
        let tbe = r
            .by_plural("trident.netapp.io", "v1", "tridentbackends")
            .unwrap();
        assert_eq!(tbe.kind, "TridentBackend");
        assert!(tbe.namespaced && tbe.custom);
        assert_eq!(tbe.short_names, ["tbe", "tbackend"]);
        let pv = r.by_kind("v1", "PersistentVolume").unwrap();
        assert!(!pv.namespaced && !pv.custom);
        assert_eq!(pv.group_resource(), "persistentvolumes");
        assert_eq!(tbe.group_resource(), "tridentbackends.trident.netapp.io");
        assert!(r.by_kind("v1", "Nope").is_none());
    }

    #[test]
    fn register_replaces_by_plural() {
        let mut r = Registry::standard();
        let n = r.all().len();
        r.register(ResourceType::namespaced(
            "example.com/v1",
            "Widget",
            "widgets",
        ));
        r.register(ResourceType::namespaced("example.com/v1", "Widget", "widgets").with_status());
        assert_eq!(r.all().len(), n + 1);
        assert!(
            r.by_kind("example.com/v1", "Widget")
                .unwrap()
                .status_subresource
        );
        assert_eq!(r.groups()["example.com"], ["v1"]);
    }
}
