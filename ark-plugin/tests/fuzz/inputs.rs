//! Generators: Kubernetes objects shaped like what Velero sends (PV, PVC,
//! Restore, the plugin ConfigMap) whose every field may be the usual value,
//! a value of another type or absent; odd strings and numbers; deep nesting;
//! raw bytes; and serialized objects with bytes cut, flipped or inserted.

use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value};

/// Values the plugin matches on, so that generated input reaches its branches.
const KNOWN: &[&str] = &[
    "csi.trident.netapp.io",
    "netapp.io/trident",
    "ebs.csi.aws.com",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Restore",
    "ConfigMap",
    "file",
    "block",
    "Block",
    "Filesystem",
    "ReadWriteOnce",
    "ReadWriteMany",
    "ReadOnlyMany",
    "enforce",
    "warn",
    "off",
    "true",
    "false",
    "ontap-nas",
    "ontap-san",
    "ontap-nas-economy",
    "trident",
    "velero",
    "1Gi",
    "0",
    "-1",
    "pvc-3bedd23c-46a8-4ac9-9d0e-8c3bb3a0a6f1",
    "trident_pvc_3bedd23c_46a8_4ac9_9d0e_8c3bb3a0a6f1",
    "-----BEGIN CERTIFICATE-----",
];

/// Put around known values: whitespace, NUL, zero-width and bidi marks, a
/// BOM, letters whose case mapping changes their length.
const DECOR: &[&str] = &[
    " ", "\t", "\n", "\0", "\u{200b}", "\u{202e}", "\u{feff}", "İ", "ß", "😀", "\\", "\"",
];

/// Keys the plugin reads somewhere, used as random object keys too.
const KEYS: &[&str] = &[
    "kind",
    "apiVersion",
    "metadata",
    "spec",
    "status",
    "name",
    "namespace",
    "uid",
    "annotations",
    "labels",
    "csi",
    "driver",
    "volumeAttributes",
    "backendUUID",
    "internalName",
    "protocol",
    "nfs",
    "server",
    "path",
    "volumeName",
    "storageClassName",
    "volumeMode",
    "accessModes",
    "capacity",
    "storage",
    "backupName",
    "data",
];

/// Annotations the plugin reads or writes.
const ANNOTATIONS: &[&str] = &[
    "pv.kubernetes.io/provisioned-by",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    "trident.netapp.io/importOriginalName",
    "trident.netapp.io/importBackendUUID",
    "trident.netapp.io/notManaged",
    "trident.netapp.io/protocol",
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
];

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

/// A string as anyone might write it, or one of the plugin's own values
/// dressed up, or a very long one.
pub fn odd_string() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-z0-9.-]{0,20}",
        2 => "\\PC{0,16}",
        1 => any::<String>(),
        3 => select(KNOWN).prop_map(String::from),
        2 => (select(KNOWN), select(DECOR), any::<bool>()).prop_map(|(k, d, both)| {
            if both { format!("{d}{k}{d}") } else { format!("{k}{d}") }
        }),
        1 => (any::<char>(), 0usize..3_000).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        1 => quantity(),
        1 => duration_text(),
    ]
    .boxed()
}

fn s(strategy: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    strategy.prop_map(Value::String).boxed()
}

fn known(values: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        4 => select(values).prop_map(Value::from),
        1 => odd_string().prop_map(Value::String),
    ]
    .boxed()
}

/// Numbers at the edges: the extremes of i64, u64 and f64, tiny and negative zero.
pub fn odd_number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(vec![
            Value::from(i64::MIN),
            Value::from(u64::MAX),
            Value::from(f64::MAX),
            Value::from(-0.0),
            Value::from(5e-324),
            Value::from(0),
            Value::from(-1),
        ]),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep, with the plugin's keys among random ones.
pub fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        odd_number(),
        odd_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(KEYS).prop_map(String::from),
        1 => select(ANNOTATIONS).prop_map(String::from),
        2 => odd_string(),
    ]
    .boxed()
}

/// Arrays or objects nested 1 to 300 deep (serde_json stops at 128).
pub fn deep() -> BoxedStrategy<Value> {
    (1usize..300, any::<bool>(), any_json())
        .prop_map(|(depth, arrays, core)| {
            (0..depth).fold(core, |v, _| {
                if arrays {
                    Value::Array(vec![v])
                } else {
                    let mut m = Map::new();
                    m.insert("spec".into(), v);
                    Value::Object(m)
                }
            })
        })
        .boxed()
}

/// A field: usually its usual value, sometimes any JSON (a wrong type),
/// sometimes absent.
fn field(usual: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        12 => usual.prop_map(Some),
        2 => any_json().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// An object of these fields (absent ones left out) and a few random keys.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let (names, values): (Vec<_>, Vec<_>) = fields.into_iter().map(|(n, v)| (n, field(v))).unzip();
    let extra = prop::collection::vec((key(), any_json()), 0..3);
    (values, extra)
        .prop_map(move |(values, extra)| {
            let mut m = Map::new();
            for (name, v) in names.iter().zip(values) {
                if let Some(v) = v {
                    m.insert((*name).to_string(), v);
                }
            }
            for (k, v) in extra {
                m.entry(k).or_insert(v);
            }
            Value::Object(m)
        })
        .boxed()
}

fn string_list(values: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop::collection::vec(known(values), 0..4)
        .prop_map(Value::Array)
        .boxed()
}

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

/// A Kubernetes quantity, usual or not: huge, negative, fractional, exponents, odd units.
pub fn quantity() -> BoxedStrategy<String> {
    prop_oneof![
        (
            any::<u64>(),
            select(
                &[
                    "", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m",
                    "gi", " Gi"
                ][..]
            )
        )
            .prop_map(|(n, u)| format!("{n}{u}")),
        (any::<i64>(), select(&["Gi", "Mi", ""][..])).prop_map(|(n, u)| format!("{n}{u}")),
        "[0-9]{20,40}(Gi|Ti|)",
        "[0-9]{0,3}\\.[0-9]{0,3}(Gi|e3|E9|)",
        select(
            &[
                "1e400", "+1Gi", "١٢Gi", "0x10", "1_000", "", " ", "Gi", "NaN", "inf"
            ][..]
        )
        .prop_map(String::from),
    ]
    .boxed()
}

fn quantity_value() -> BoxedStrategy<Value> {
    prop_oneof![4 => s(quantity()), 1 => odd_number()].boxed()
}

/// A duration as a ConfigMap might give it: usual, huge, negative, odd units.
pub fn duration_text() -> BoxedStrategy<String> {
    prop_oneof![
        "[0-9]{1,25}(ns|us|ms|s|m|h|d|w|M|y|)",
        "[0-9]{1,3}h[0-9]{1,3}m[0-9]{1,3}s",
        "-[0-9]{1,5}(s|m)",
        "[0-9]{0,3}\\.[0-9]{0,3}s",
        select(
            &[
                "0",
                "",
                " 2m ",
                "1e3s",
                "99999999999999999999999h",
                "18446744073709551615s",
                "1 h",
                "P1D",
                "∞"
            ][..]
        )
        .prop_map(String::from),
    ]
    .boxed()
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

/// Raw bytes: random, JSON-looking fragments, or a structured object
/// serialized and then cut, flipped or stuffed.
pub fn bytes(shape: BoxedStrategy<Value>) -> BoxedStrategy<Vec<u8>> {
    let edits = prop::collection::vec((any::<Index>(), any::<u8>(), 0u8..4, 1usize..8), 0..4);
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..512),
        1 => prop::collection::vec(select(FRAGMENTS), 0..12).prop_map(|f| f.concat().into_bytes()),
        1 => (1usize..5_000, any::<bool>()).prop_map(|(n, arrays)| {
            let open = if arrays { "[" } else { "{\"spec\":" };
            open.repeat(n).into_bytes()
        }),
        4 => (shape, edits).prop_map(|(v, edits)| {
            let mut b = serde_json::to_vec(&v).unwrap_or_default();
            for (at, byte, op, len) in edits {
                if b.is_empty() {
                    b.push(byte);
                    continue;
                }
                let i = at.index(b.len());
                match op {
                    0 => b.truncate(i),
                    1 => b[i] = byte,
                    2 => b.insert(i, byte),
                    _ => {
                        let end = (i + len).min(b.len());
                        let copy = b[i..end].to_vec();
                        b.splice(i..i, copy);
                    }
                }
            }
            b
        }),
    ]
    .boxed()
}

/// JSON text pieces that parsers get wrong: lone surrogates, huge numbers,
/// duplicate keys, a BOM, comments, NaN.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"kind\"",
    "\"PersistentVolume\"",
    "\"PersistentVolumeClaim\"",
    "\"csi.trident.netapp.io\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\u0000\"",
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "-0",
    "NaN",
    "\u{feff}",
    "/* c */",
    "null",
    "true",
    "{\"kind\":\"PersistentVolume\",\"kind\":3}",
    "{\"kind\":\"PersistentVolumeClaim\",\"spec\":{\"volumeName\":\"v\"}}",
    "\"\\x41\"",
];
