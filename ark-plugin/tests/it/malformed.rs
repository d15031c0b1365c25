//! Malformed input never reaches Velero as a panic: each answer is a clear
//! error or a complete item with its `kind`, and the process keeps serving.

use proptest::prelude::*;
use serde_json::Value;
use sim::velero::PluginHost;

use crate::lab::{PLUGIN, binary};

fn check_answer(
    r: Result<sim::velero::ExecuteResponse, tonic::Status>,
) -> Result<(), TestCaseError> {
    match r {
        Ok(resp) => {
            let v: Value = serde_json::from_slice(&resp.item)
                .map_err(|e| TestCaseError::fail(format!("item is not JSON: {e}")))?;
            let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default();
            prop_assert!(!kind.is_empty(), "answer without kind: {v}");
        }
        Err(s) => {
            prop_assert_ne!(
                s.code(),
                tonic::Code::Aborted,
                "a panic was caught: {}",
                s.message()
            );
            prop_assert_eq!(s.code(), tonic::Code::Unknown, "{}", s.message());
            prop_assert!(!s.message().is_empty());
        }
    }
    Ok(())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("PersistentVolume"),
            Just("PersistentVolumeClaim"),
            Just("csi.trident.netapp.io"),
            Just("netapp.io/trident")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("kind".to_string()),
                    Just("metadata".to_string()),
                    Just("spec".to_string()),
                    Just("csi".to_string()),
                    Just("nfs".to_string()),
                    Just("volumeAttributes".to_string()),
                    Just("annotations".to_string()),
                    "[a-z]{1,6}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn malformed_items_and_restores() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let mut host = rt
        .block_on(PluginHost::spawn(
            binary(),
            &[("TMPDIR", &dir), ("KUBECONFIG", "/nonexistent")],
            &[],
        ))
        .unwrap();
    let cfg = ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let pv = br#"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"p"},"spec":{"csi":{"driver":"csi.trident.netapp.io","volumeAttributes":{"backendUUID":"b","internalName":"i","protocol":"file"}}}}"#;

    // Random bytes, and truncations of a real Trident PV.
    proptest!(cfg.clone(), |(bytes in prop::collection::vec(any::<u8>(), 0..256), cut in 0..pv.len())| {
        check_answer(rt.block_on(host.execute(PLUGIN, &bytes, &bytes, &bytes)))?;
        check_answer(rt.block_on(host.execute(PLUGIN, &pv[..cut], b"{}", b"")))?;
        check_answer(rt.block_on(host.execute(PLUGIN, pv, &pv[..cut], &pv[..cut])))?;
    });
    // Structurally random JSON with Trident-ish keys, as item and as restore.
    proptest!(cfg, |(item in json_value(), kind in prop_oneof![Just("PersistentVolume"), Just("PersistentVolumeClaim"), Just("Pod")], restore in json_value())| {
        let mut item = item;
        if let Some(o) = item.as_object_mut() {
            o.insert("kind".into(), Value::from(kind));
        }
        let bytes = serde_json::to_vec(&item).unwrap();
        let restore = serde_json::to_vec(&restore).unwrap();
        check_answer(rt.block_on(host.execute(PLUGIN, &bytes, &restore, &bytes)))?;
    });
    assert!(host.try_exited().is_none(), "the plugin died");
    rt.block_on(host.shutdown()).unwrap();
}
