//! The go-plugin and Velero protocol, as Velero's host drives it.

use std::time::Duration;

use serde_json::Value;
use sim::velero::{PluginHost, SpawnOptions, VELERO_SERVER_ARGS};

use crate::lab::{PLUGIN, binary};

async fn spawn(tmp: &tempfile::TempDir, args: &[&str]) -> PluginHost {
    let dir = tmp.path().display().to_string();
    PluginHost::spawn(
        binary(),
        &[("TMPDIR", &dir), ("KUBECONFIG", "/nonexistent")],
        args,
    )
    .await
    .expect("plugin starts")
}

#[tokio::test]
async fn handshake_line_and_socket_in_tmpdir() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, VELERO_SERVER_ARGS).await;
    let h = host.handshake();
    assert_eq!(
        (h.core, h.app, h.network.as_str(), h.protocol.as_str()),
        (1, 2, "unix", "grpc")
    );
    assert!(
        h.addr.starts_with(&tmp.path().display().to_string()),
        "{}",
        h.addr
    );
    assert_eq!(h.line, format!("1|2|unix|{}|grpc", h.addr));
    let report = host.shutdown().await.unwrap();
    assert!(!report.killed && report.status.success(), "{report:?}");
}

#[tokio::test]
async fn plugin_unix_socket_dir_wins_over_tmpdir() {
    let tmp = tempfile::tempdir().unwrap();
    let sockets = tempfile::tempdir().unwrap();
    let s = sockets.path().display().to_string();
    let host = PluginHost::spawn(
        binary(),
        &[("TMPDIR", "/nonexistent"), ("PLUGIN_UNIX_SOCKET_DIR", &s)],
        &[],
    )
    .await
    .unwrap();
    assert!(host.handshake().addr.starts_with(&s));
    drop(tmp);
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn list_plugins_returns_argv0_and_one_restore_item_action() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, VELERO_SERVER_ARGS).await;
    let plugins = host.list_plugins().await.unwrap();
    assert_eq!(plugins.len(), 1);
    assert_eq!(plugins[0].kind, "RestoreItemAction");
    assert_eq!(plugins[0].name, PLUGIN);
    assert_eq!(plugins[0].command, host.path().display().to_string());
    host.shutdown().await.unwrap();

    // argv[0] as given by the host, not our own idea of the path.
    let dir = tmp.path().display().to_string();
    let opts = SpawnOptions {
        argv0: Some("/plugins/velero-plugin-svmdr".into()),
        ..Default::default()
    };
    let host = PluginHost::spawn_with(binary(), &[("TMPDIR", &dir)], &[], opts)
        .await
        .unwrap();
    assert_eq!(
        host.list_plugins().await.unwrap()[0].command,
        "/plugins/velero-plugin-svmdr"
    );
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn applies_to_pvs_and_pvcs_and_refuses_unknown_names() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, VELERO_SERVER_ARGS).await;
    let sel = host.applies_to("RestoreItemAction", PLUGIN).await.unwrap();
    assert_eq!(
        sel.included_resources,
        vec!["persistentvolumes", "persistentvolumeclaims"]
    );
    assert!(sel.included_namespaces.is_empty() && sel.excluded_namespaces.is_empty());
    assert_eq!(sel.selector, "");
    let e = host
        .applies_to("RestoreItemAction", "example.io/nope")
        .await
        .unwrap_err();
    assert!(e.message().contains("example.io/nope was not found"), "{e}");
    // Not registered as v2: the v2 service is not served at all.
    let e = host
        .applies_to("RestoreItemActionV2", PLUGIN)
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented);
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn unhandled_items_come_back_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, VELERO_SERVER_ARGS).await;
    let items: [&[u8]; 3] = [
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"shop"},"data":{"k":"\u003c\u0026\u003e"}}"#,
        br#"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv-ebs"},"spec":{"csi":{"driver":"ebs.csi.aws.com","volumeHandle":"vol-1"}}}"#,
        br#"{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c","namespace":"shop","annotations":{"volume.kubernetes.io/storage-provisioner":"ebs.csi.aws.com"}},"spec":{"volumeName":"pv-ebs"}}"#,
    ];
    for item in items {
        // KUBECONFIG points nowhere: any network call would fail the item.
        let r = host.execute(PLUGIN, item, b"{}", item).await.unwrap();
        assert_eq!(r.item, item.to_vec());
        assert!(r.additional_items.is_empty() && !r.skip_restore);
    }
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn items_of_6_mib_and_more_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, VELERO_SERVER_ARGS).await;
    let blob = "x".repeat(7 * 1024 * 1024);
    let item = serde_json::to_vec(&serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"blob": blob}
    }))
    .unwrap();
    let r = host.execute(PLUGIN, &item, b"{}", &item).await.unwrap();
    assert_eq!(r.item.len(), item.len());
    assert_eq!(r.item, item);
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_is_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, &[]).await;
    assert!(host.health().await.unwrap());
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_exits_gracefully_even_with_stdio_stream_open() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, VELERO_SERVER_ARGS).await;
    let socket = host.handshake().addr.clone();
    let _stdio = host.stdio().await.unwrap();
    let report = host.shutdown().await.unwrap();
    assert!(report.shutdown_error.is_none(), "{report:?}");
    assert!(!report.killed, "needed SIGKILL: {report:?}");
    assert!(report.status.success(), "{report:?}");
    assert!(
        !std::path::Path::new(&socket).exists(),
        "socket file left behind"
    );
}

#[tokio::test]
async fn unknown_flags_and_arguments_are_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args: Vec<&str> = VELERO_SERVER_ARGS.to_vec();
    args.extend([
        "--restore-resource-priorities=a,b",
        "-x",
        "stray-arg",
        "--log-level=warning",
        "--help",
    ]);
    let host = spawn(&tmp, &args).await;
    assert_eq!(host.list_plugins().await.unwrap().len(), 1);
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn stdin_eof_does_not_stop_the_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    // stdin is /dev/null (EOF at once), as in a pod.
    let mut host = spawn(&tmp, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(host.try_exited().is_none(), "plugin exited on stdin EOF");
    assert!(host.health().await.unwrap());
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn logs_are_hclog_json_with_string_level_and_message() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, &["--log-level", "debug"]).await;
    let pv = br#"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pvc-1"},"spec":{"csi":{"driver":"csi.trident.netapp.io","volumeAttributes":{"backendUUID":"b","internalName":"trident_pvc_1","protocol":"file"}}}}"#;
    let e = host.execute(PLUGIN, pv, b"{}", pv).await.unwrap_err();
    assert!(e.message().contains("PersistentVolume pvc-1"), "{e}");
    let lines = host.shutdown().await.unwrap().stderr;
    assert!(!lines.is_empty(), "no log lines at debug level");
    for line in &lines {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["@level"].is_string() && v["@message"].is_string(),
            "{line}"
        );
        assert!(
            matches!(
                v["@level"].as_str(),
                Some("trace" | "debug" | "info" | "warn" | "error")
            ),
            "{line}"
        );
        assert_eq!(v["@logSourceSetBy"], "plugin", "{line}");
        assert!(v["logSource"].is_string(), "{line}");
        assert!(v.get("@timestamp").is_none(), "{line}");
    }
}

#[tokio::test]
async fn log_level_flag_is_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let host = spawn(&tmp, &["--log-level=error"]).await;
    let pv = br#"{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pvc-1"},"spec":{"csi":{"driver":"csi.trident.netapp.io","volumeAttributes":{"backendUUID":"b","internalName":"trident_pvc_1","protocol":"file"}}}}"#;
    let _ = host.execute(PLUGIN, pv, b"{}", pv).await;
    let lines = host.shutdown().await.unwrap().stderr;
    for line in lines {
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "error", "{line}");
    }
}

#[tokio::test]
async fn run_by_hand_it_explains_itself() {
    let out = std::process::Command::new(binary())
        .env_remove("VELERO_PLUGIN")
        .env_remove("ARK_PLUGIN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Velero plugin") && err.contains("velero plugin add"),
        "{err}"
    );
}

#[tokio::test]
async fn heptio_ark_handshake_is_app_version_1() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let opts = SpawnOptions {
        app_version: 1,
        cookie: ("ARK_PLUGIN".into(), "hello".into()),
        ..Default::default()
    };
    let host = PluginHost::spawn_with(binary(), &[("TMPDIR", &dir)], &[], opts)
        .await
        .unwrap();
    assert_eq!(host.handshake().app, 1);
    assert_eq!(host.list_plugins().await.unwrap()[0].name, PLUGIN);
    // Ark's Execute request has fields 1-3 only; the v1 client's extra field 4 is ignored.
    let item = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#;
    assert_eq!(
        host.execute(PLUGIN, item, b"{}", b"").await.unwrap().item,
        item.to_vec()
    );
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_panic_in_execute_is_an_aborted_item_and_the_plugin_keeps_serving() {
    // The real binary as built, not a unit test: in a debug build
    // SVMDR_PLUGIN_PANIC_DRILL makes every Execute panic; a release build
    // (the shipped plugin) has no drill and ignores the variable.
    if !ark_plugin::ria::PANIC_DRILL_BUILT_IN {
        return a_release_build_has_no_panic_drill().await;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let host = PluginHost::spawn(
        binary(),
        &[
            ("TMPDIR", &dir),
            ("KUBECONFIG", "/nonexistent"),
            ("SVMDR_PLUGIN_PANIC_DRILL", "1"),
        ],
        VELERO_SERVER_ARGS,
    )
    .await
    .expect("plugin starts");
    let item =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"shop"}}"#;
    for _ in 0..2 {
        let e = host.execute(PLUGIN, item, b"{}", item).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Aborted, "{e:?}");
        assert!(e.message().contains("panic"), "{}", e.message());
    }
    assert!(
        host.health().await.unwrap(),
        "the plugin died after a panic"
    );
    let logged = host.stderr_lines();
    assert!(
        logged
            .iter()
            .any(|l| l.contains("\"@level\":\"error\"") && l.contains("panic")),
        "{logged:#?}"
    );
    let report = host.shutdown().await.unwrap();
    assert!(!report.killed && report.status.success(), "{report:?}");
}

/// `cargo test --release`: the drill variable changes nothing.
async fn a_release_build_has_no_panic_drill() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let host = PluginHost::spawn(
        binary(),
        &[
            ("TMPDIR", &dir),
            ("KUBECONFIG", "/nonexistent"),
            ("SVMDR_PLUGIN_PANIC_DRILL", "1"),
        ],
        VELERO_SERVER_ARGS,
    )
    .await
    .expect("plugin starts");
    let item =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"shop"}}"#;
    let out = host.execute(PLUGIN, item, b"{}", item).await.unwrap();
    assert_eq!(out.item, item.to_vec());
    let report = host.shutdown().await.unwrap();
    assert!(!report.killed && report.status.success(), "{report:?}");
}
