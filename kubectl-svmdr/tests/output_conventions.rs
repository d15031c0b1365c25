//! kubectl output conventions and a bounded `status --watch`, driven through
//! the built binary against the test lab (see `common`): `-o jsonpath=` and
//! `-o name`, `apiVersion`/`kind` on every document, `warning: ...` lines
//! instead of log lines, global flags a command ignores refused, the
//! `--watch` interval floor, Ctrl-C ending a watch with exit 0 and
//! `--request-timeout 0` meaning no timeout.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{DR_SVM, Lab, Run};
use serde_json::json;
use tokio::io::AsyncReadExt as _;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kubectl-svmdr"))
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_interval_has_a_floor_of_one_second() {
    let lab = Lab::start().await;
    for bad in ["0s", "500ms"] {
        let r = lab
            .run(&["status", "--watch", "--interval", bad])
            .await
            .expect_code(2);
        assert!(r.stderr.contains("at least 1s"), "{}", r.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_ends_a_watch_quietly_with_exit_0() {
    let lab = Lab::start().await;
    lab.peer().await;
    let mut child = lab
        .command_for(bin(), &["status", "--watch", "--interval", "1s"])
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    // Wait for the first refresh, so the watch is really running.
    let mut first = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(30), stdout.read(&mut first))
        .await
        .expect("a first refresh within 30 s")
        .expect("read stdout");
    assert!(n > 0, "no output before Ctrl-C");
    let pid = child.id().expect("pid").to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(kill.success());
    let mut stderr = child.stderr.take().expect("stderr");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the watch ends after Ctrl-C")
        .expect("wait");
    let mut err = String::new();
    let _ = stderr.read_to_string(&mut err).await;
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(!err.contains("interrupted"), "{err}");
    assert!(!err.contains("error"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn request_timeout_follows_kubectl() {
    let lab = Lab::start().await;
    lab.peer().await;
    // 0 is no timeout; a plain number is seconds (client-go ParseTimeout).
    for t in ["0", "0s", "30"] {
        lab.run(&["status", "--request-timeout", t])
            .await
            .expect_code(0);
    }
    let r = lab
        .run(&["status", "--request-timeout=-1"])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("0 means no timeout"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonpath_and_name_output() {
    let lab = Lab::start().await;
    lab.peer().await;
    let r = lab
        .run(&[
            "status",
            "-o",
            "jsonpath={.relationships[*].destination.svm}",
        ])
        .await
        .expect_code(0);
    assert_eq!(r.stdout, DR_SVM);
    let r = lab
        .run(&[
            "status",
            "-o",
            r#"jsonpath={range .relationships[*]}{.source.path}{"\t"}{.destination.path}{"\n"}{end}"#,
        ])
        .await
        .expect_code(0);
    assert_eq!(r.stdout, "svm1:\tsvm1_dr:\n");
    let r = lab.run(&["status", "-o", "name"]).await.expect_code(0);
    assert_eq!(r.stdout, "relationship.svmdr.netapp.io/svm1-dr\n");
    let r = lab
        .run(&["version", "-o", "jsonpath={.kind}"])
        .await
        .expect_code(0);
    assert_eq!(r.stdout, "Version");
    let r = lab.run(&["backends", "-o", "name"]).await.expect_code(0);
    assert!(
        r.stdout.lines().count() >= 1
            && r.stdout
                .lines()
                .all(|l| l.starts_with("backend.svmdr.netapp.io/")),
        "{}",
        r.stdout
    );
    let r = lab
        .run(&["status", "-o", "jsonpath={.relationships[}"])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("jsonpath"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_document_carries_api_version_and_kind() {
    let lab = Lab::start().await;
    let peer = lab.peer_with(&["-o", "json"]).await.expect_code(0);
    let mut docs = vec![("peer", peer)];
    for args in [
        &["version", "-o", "json"][..],
        &["status", "-o", "json"],
        &["backends", "-o", "json"],
        &["history", "-o", "json"],
        &["sync", "-o", "json"],
    ] {
        docs.push((args[0], lab.run(args).await));
    }
    for (cmd, r) in docs {
        let v = r.json();
        assert_eq!(v["apiVersion"], json!("svmdr.netapp.io/v1"), "{cmd}: {v}");
        assert!(
            v["kind"].as_str().is_some_and(|k| !k.is_empty()),
            "{cmd}: {v}"
        );
    }
    let v = lab.run(&["sync", "-o", "yaml"]).await;
    assert!(
        v.stdout
            .starts_with("apiVersion: svmdr.netapp.io/v1\nkind: SyncReport\n"),
        "{}",
        v.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn warnings_read_as_warnings_not_log_lines() {
    let lab = Lab::start().await;
    let r: Run = lab.run(&["status", "--insecure-skip-tls-verify"]).await;
    assert!(
        r.stderr
            .contains("warning: TLS certificate verification is DISABLED"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(" WARN "), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn global_flags_a_command_ignores_are_refused() {
    let lab = Lab::start().await;
    let r = lab.run(&["version", "--yes"]).await.expect_code(2);
    assert!(
        r.stderr.contains("--yes") && r.stderr.contains("version"),
        "{}",
        r.stderr
    );
    let r = lab.run(&["status", "--dry-run"]).await.expect_code(2);
    assert!(r.stderr.contains("--dry-run"), "{}", r.stderr);
    let r = lab
        .run(&["version", "-o", "json", "--yes"])
        .await
        .expect_code(2);
    let v = r.json();
    assert_eq!(v["kind"], json!("Error"));
    assert_eq!(v["exitCode"], json!(2));
    // Flags a command uses stay accepted.
    let out = std::process::Command::new(bin())
        .args(["version", "-o", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("spawn");
    assert!(out.status.success());
}
