//! Value generators: odd strings and numbers, any JSON, deep nesting, and
//! the pieces the shapes are built of (a field that may have another type
//! or be absent, an object of such fields); raw bytes, and serialized
//! objects with bytes cut, flipped or inserted.

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
pub const ANNOTATIONS: &[&str] = &[
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

pub fn s(strategy: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    strategy.prop_map(Value::String).boxed()
}

pub fn known(values: &'static [&'static str]) -> BoxedStrategy<Value> {
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
pub fn field(usual: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        12 => usual.prop_map(Some),
        2 => any_json().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// An object of these fields (absent ones left out) and a few random keys.
pub fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
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

pub fn string_list(values: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop::collection::vec(known(values), 0..4)
        .prop_map(Value::Array)
        .boxed()
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

pub fn quantity_value() -> BoxedStrategy<Value> {
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
