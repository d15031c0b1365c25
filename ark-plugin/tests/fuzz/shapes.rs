//! Kubernetes objects shaped like what Velero sends (PV, PVC, Restore, the
//! plugin ConfigMap) whose every field may be the usual value, a value of
//! another type or absent.

use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

use crate::inputs::{
    ANNOTATIONS, any_json, duration_text, known, object, odd_string, quantity_value, s, string_list,
};

/// The plugin ConfigMap's keys (`ark-plugin/src/config.rs`).
const CONFIG_KEYS: &[&str] = &[
    "mode",
    "waitForReady",
    "retryInterval",
    "importManaged",
    "importNoRename",
    "tridentNamespace",
    "backendMapping",
    "tcpProbe",
    "probeTimeout",
    "nfsProbePort",
    "iscsiProbePort",
    "nvmeProbePort",
    "smbProbePort",
    "ontapCA",
    "ontapTimeout",
    "cacheTTL",
];

fn annotations() -> BoxedStrategy<Value> {
    prop::collection::vec(
        (
            prop_oneof![3 => select(ANNOTATIONS).prop_map(String::from), 1 => odd_string()],
            prop_oneof![
                4 => known(&["csi.trident.netapp.io", "netapp.io/trident", "true", "false", "file", "block"]),
                1 => any_json(),
            ],
        ),
        0..5,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().collect()))
    .boxed()
}

/// Trident's provisioner annotations (`pv.kubernetes.io/provisioned-by` on
/// PVs, `volume[.beta].kubernetes.io/storage-provisioner` on PVCs), often
/// with Trident's value, among random ones.
fn trident_annotations() -> BoxedStrategy<Value> {
    let provisioner = known(&[
        "csi.trident.netapp.io",
        "netapp.io/trident",
        "ebs.csi.aws.com",
    ]);
    (
        select(&ANNOTATIONS[..3]),
        provisioner,
        prop_oneof![4 => Just(None), 1 => known(&["pvc-1", "trident_pvc_1"]).prop_map(Some)],
        annotations(),
    )
        .prop_map(|(key, value, import, rest)| {
            let mut m = match rest {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            m.insert(key.to_string(), value);
            if let Some(name) = import {
                m.insert("trident.netapp.io/importOriginalName".into(), name);
            }
            Value::Object(m)
        })
        .boxed()
}

fn metadata() -> BoxedStrategy<Value> {
    object(vec![
        ("name", s(odd_string())),
        ("namespace", s(odd_string())),
        ("uid", s(odd_string())),
        (
            "annotations",
            prop_oneof![2 => trident_annotations(), 1 => annotations()].boxed(),
        ),
        ("labels", annotations()),
    ])
}

/// A PersistentVolume, Trident CSI, legacy Trident NFS, another driver or in between.
pub fn pv() -> BoxedStrategy<Value> {
    let csi = object(vec![
        (
            "driver",
            known(&[
                "csi.trident.netapp.io",
                "csi.trident.netapp.io",
                "ebs.csi.aws.com",
                "csi.trident.netapp.io ",
            ]),
        ),
        ("volumeHandle", s(odd_string())),
        (
            "volumeAttributes",
            object(vec![
                ("backendUUID", s(odd_string())),
                ("internalName", s(odd_string())),
                ("name", s(odd_string())),
                ("protocol", known(&["file", "block", "File", "nvme"])),
                (
                    "storage.kubernetes.io/csiProvisionerIdentity",
                    s(odd_string()),
                ),
            ]),
        ),
    ]);
    let spec = object(vec![
        ("capacity", object(vec![("storage", quantity_value())])),
        (
            "accessModes",
            string_list(&["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"]),
        ),
        ("csi", csi),
        (
            "nfs",
            object(vec![("server", s(odd_string())), ("path", s(odd_string()))]),
        ),
        ("storageClassName", s(odd_string())),
        ("volumeMode", known(&["Block", "Filesystem"])),
        (
            "claimRef",
            object(vec![
                ("namespace", s(odd_string())),
                ("name", s(odd_string())),
                ("uid", s(odd_string())),
            ]),
        ),
        (
            "persistentVolumeReclaimPolicy",
            known(&["Retain", "Delete"]),
        ),
        ("mountOptions", string_list(&["nfsvers=4.1", "ro"])),
    ]);
    object(vec![
        ("apiVersion", known(&["v1"])),
        (
            "kind",
            known(&[
                "PersistentVolume",
                "PersistentVolume",
                "PersistentVolume",
                "PersistentVolumeClaim",
            ]),
        ),
        ("metadata", metadata()),
        ("spec", spec),
    ])
}

/// A PersistentVolumeClaim, bound or not, Trident's or not.
pub fn pvc() -> BoxedStrategy<Value> {
    let spec = object(vec![
        ("volumeName", s(odd_string())),
        ("storageClassName", s(odd_string())),
        ("volumeMode", known(&["Block", "Filesystem"])),
        (
            "accessModes",
            string_list(&["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"]),
        ),
        (
            "resources",
            object(vec![(
                "requests",
                object(vec![("storage", quantity_value())]),
            )]),
        ),
        (
            "dataSource",
            object(vec![
                ("kind", known(&["VolumeSnapshot", "PersistentVolumeClaim"])),
                ("name", s(odd_string())),
            ]),
        ),
        (
            "dataSourceRef",
            object(vec![
                ("kind", known(&["VolumeSnapshot"])),
                ("name", s(odd_string())),
                ("apiGroup", s(odd_string())),
            ]),
        ),
    ]);
    object(vec![
        ("apiVersion", known(&["v1"])),
        (
            "kind",
            known(&[
                "PersistentVolumeClaim",
                "PersistentVolumeClaim",
                "PersistentVolumeClaim",
                "PersistentVolume",
            ]),
        ),
        ("metadata", metadata()),
        ("spec", spec),
        (
            "status",
            object(vec![("phase", known(&["Bound", "Pending"]))]),
        ),
    ])
}

/// A PV made Trident's (its kind, and `spec.csi.driver` unless `spec` or
/// `spec.csi` has another type), so more cases get past the first checks.
pub fn trident_pv() -> BoxedStrategy<Value> {
    pv().prop_map(|v| {
        set_path(
            v,
            "PersistentVolume",
            &["spec", "csi", "driver"],
            "csi.trident.netapp.io",
        )
    })
    .boxed()
}

/// A PVC made Trident's: its kind and the provisioner annotation.
pub fn trident_pvc() -> BoxedStrategy<Value> {
    pvc()
        .prop_map(|v| {
            set_path(
                v,
                "PersistentVolumeClaim",
                &[
                    "metadata",
                    "annotations",
                    "volume.kubernetes.io/storage-provisioner",
                ],
                "csi.trident.netapp.io",
            )
        })
        .boxed()
}

/// Sets `kind`, and the string at `path` where the objects on the way allow.
fn set_path(mut v: Value, kind: &str, path: &[&str], value: &str) -> Value {
    let Some(o) = v.as_object_mut() else {
        return v;
    };
    o.insert("kind".into(), Value::from(kind));
    let mut here = o;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            here.insert((*key).to_string(), Value::from(value));
            break;
        }
        let next = here
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        match next.as_object_mut() {
            Some(m) => here = m,
            None => break,
        }
    }
    v
}

/// A velero.io/v1 Restore.
pub fn restore() -> BoxedStrategy<Value> {
    object(vec![
        ("apiVersion", known(&["velero.io/v1"])),
        ("kind", known(&["Restore"])),
        ("metadata", metadata()),
        (
            "spec",
            object(vec![
                ("backupName", s(odd_string())),
                ("includedNamespaces", string_list(&["*", "shop"])),
                ("restorePVs", any::<bool>().prop_map(Value::Bool).boxed()),
                ("namespaceMapping", annotations()),
                ("existingResourcePolicy", known(&["none", "update"])),
            ]),
        ),
        (
            "status",
            object(vec![("phase", known(&["InProgress", "New"]))]),
        ),
    ])
}

fn config_value(key: &str) -> BoxedStrategy<String> {
    let pick = |v: &'static [&'static str]| {
        prop_oneof![3 => select(v).prop_map(String::from), 1 => odd_string()].boxed()
    };
    match key {
        "mode" => pick(&["enforce", "warn", "off", "Enforce", " WARN ", "İ"]),
        "waitForReady" | "retryInterval" | "probeTimeout" | "ontapTimeout" | "cacheTTL" => {
            prop_oneof![4 => duration_text(), 1 => odd_string()].boxed()
        }
        "importManaged" | "importNoRename" | "tcpProbe" => pick(&[
            "true", "false", "yes", "no", "1", "0", "on", "off", "TRUE", "ja",
        ]),
        "tridentNamespace" => pick(&["trident", "", "Trident", "a-b-c", "x"]),
        "nfsProbePort" | "iscsiProbePort" | "nvmeProbePort" | "smbProbePort" => prop_oneof![
            2 => any::<i64>().prop_map(|n| n.to_string()),
            2 => (0u32..70_000).prop_map(|n| n.to_string()),
            1 => pick(&["65535", "65536", "0", " 2049 ", "+80", "0x50", "-1"]),
        ]
        .boxed(),
        "backendMapping" => prop::collection::vec(
            (
                odd_string(),
                select(&["=", "==", "", " = "][..]),
                odd_string(),
                select(&[",", "\n", ";", ",,", ""][..]),
            ),
            0..5,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(a, eq, b, sep)| format!("{a}{eq}{b}{sep}"))
                .collect()
        })
        .boxed(),
        "ontapCA" => prop_oneof![
            "-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]{0,80}\n-----END CERTIFICATE-----",
            prop::collection::vec(any::<u8>(), 0..64)
                .prop_map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
            "[A-Za-z0-9+/= \n]{0,64}",
            Just(
                base64::engine::general_purpose::STANDARD
                    .encode("-----BEGIN CERTIFICATE-----\nx\n")
            ),
            Just(base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, 0x2d])),
            odd_string(),
        ]
        .boxed(),
        _ => odd_string(),
    }
}

fn config_data() -> BoxedStrategy<Value> {
    let entry = prop_oneof![
        6 => select(CONFIG_KEYS).prop_flat_map(|k| (Just(k.to_string()), config_value(k).prop_map(Value::String))),
        1 => (select(CONFIG_KEYS).prop_map(String::from), any_json()),
        1 => (odd_string(), any_json()),
    ];
    prop::collection::vec(entry, 0..8)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
        .boxed()
}

/// The plugin ConfigMap, labelled or not, its `data` of the plugin's keys
/// with usual, odd or wrongly typed values.
pub fn configmap() -> BoxedStrategy<Value> {
    object(vec![
        ("apiVersion", known(&["v1"])),
        ("kind", known(&["ConfigMap"])),
        ("metadata", metadata()),
        ("data", config_data()),
    ])
}
