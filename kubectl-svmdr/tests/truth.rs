//! Issue 12, items 5–7, driving the built binary on the simulated lab: the
//! audit records what really happened (no dry-runs; the exit outcome), one
//! exit-code table (README = code), one stdout document with `-o json|yaml`
//! (the result or a `kind: Error` document), and `--dry-run` shows the plan
//! even when a safety guard refuses.

mod common;

#[path = "workflows/velero.rs"]
mod velero;

use common::{ADMIN_PASSWORD, Lab, LabOptions, Run, VOLUME};
use serde_json::Value;

/// `(workflow, outcome, message)` of each history entry, newest first.
async fn history(lab: &Lab) -> Vec<(String, String, String)> {
    lab.history()
        .await
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("workflow"), s("outcome"), s("message"))
        })
        .collect()
}

/// The one `kind: Error` document on stdout, checked against the exit code.
fn error_document(run: &Run, code: i32) -> Value {
    let doc = run.json();
    assert_eq!(doc["apiVersion"], "svmdr.netapp.io/v1", "{doc}");
    assert_eq!(doc["kind"], "Error", "{doc}");
    assert_eq!(doc["exitCode"], code, "{doc}");
    let meaning = doc["meaning"].as_str().unwrap_or_default();
    let expected = kubectl_svmdr::exit::meaning(u8::try_from(code).unwrap_or(0));
    assert_eq!(meaning, expected, "{doc}");
    assert!(
        doc["problems"]
            .as_array()
            .is_some_and(|p| !p.is_empty() && p.iter().all(Value::is_string)),
        "{doc}"
    );
    doc
}

fn problems_text(doc: &Value) -> String {
    doc["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn the_readme_exit_code_table_is_the_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("\n## Exit codes\n")
        .expect("an Exit codes section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let rows: Vec<(u8, String)> = section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split(" | ")
                .collect();
            let code = cells.first()?.trim().parse().ok()?;
            Some((code, cells[1..].join(" | ").trim().to_string()))
        })
        .collect();
    let code: Vec<(u8, String)> = kubectl_svmdr::exit::TABLE
        .iter()
        .map(|(c, m)| (*c, (*m).to_string()))
        .collect();
    assert_eq!(rows, code, "README \"Exit codes\" table vs exit::TABLE");
    // --help prints the same table (wrapped to the terminal's width).
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-svmdr"))
        .arg("--help")
        .output()
        .expect("run --help");
    let help = String::from_utf8_lossy(&help.stdout);
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = words(&help);
    for (c, m) in kubectl_svmdr::exit::TABLE {
        assert!(help.contains(&format!("{c} {}", words(m))), "{c}: {help}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_dry_run_shows_the_plan_exits_3_and_is_not_recorded() {
    let lab = Lab::start().await;
    lab.peer().await;
    let before = lab.snapshot();
    // The primary SVM runs: the split-brain guard refuses, the plan is shown.
    let dry = lab.run(&["failover", "--dry-run"]).await.expect_code(3);
    let out = &dry.stdout;
    assert!(
        out.contains("Dry run: nothing was changed"),
        "{}",
        dry.all()
    );
    assert!(out.contains("REFUSED (exit 3): split-brain guard"), "{out}");
    assert!(out.contains("next:") && out.contains("switchover"), "{out}");
    assert!(out.contains("runs only with --force"), "{out}");
    for step in ["quiesce", "stop-primary", "break", "start-dr"] {
        assert!(out.contains(step), "{step}: {out}");
    }
    assert!(dry.stderr.contains("split-brain guard"), "{}", dry.stderr);
    // -o json: the plan is the one document, with the refusal marked.
    let dry = lab
        .run(&["failover", "--dry-run", "-o", "json"])
        .await
        .expect_code(3);
    let plan = dry.json();
    assert_eq!(plan["kind"], "WorkflowPlan", "{plan}");
    assert!(
        plan["refused"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("split-brain guard")),
        "{plan}"
    );
    assert_eq!(plan["refused"]["overrideFlag"], "--force", "{plan}");
    let ids: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(ids.contains(&"stop-primary"), "{ids:?}");
    // A forced dry-run is not refused, and not recorded either.
    lab.run(&["failover", "--dry-run", "--force"])
        .await
        .expect_code(0);
    assert_eq!(before, lab.snapshot(), "dry-runs change nothing");
    assert_eq!(history(&lab).await, vec![], "dry-runs are not recorded");
    let table = lab.run(&["history"]).await.expect_code(0);
    assert!(
        table.stdout.contains("No DR workflow has been recorded"),
        "{}",
        table.stdout
    );
    // The real run is refused the same way, and recorded `refused`.
    lab.run(&["failover", "--yes"]).await.expect_code(3);
    let h = history(&lab).await;
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!((h[0].0.as_str(), h[0].1.as_str()), ("failover", "refused"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_that_fails_on_credentials_is_not_recorded() {
    let lab = Lab::start_with(LabOptions {
        config_credentials: false,
        ..LabOptions::default()
    })
    .await;
    let good = [
        ("SVMDR_ONTAP_USERNAME", "admin"),
        ("SVMDR_ONTAP_PASSWORD", ADMIN_PASSWORD),
    ];
    let peer = lab
        .run_env(&["peer", "--svm", "svm1", "--dr-svm", "svm1_dr"], &good)
        .await;
    assert_eq!(peer.code, 0, "{}", peer.all());
    let bad = [
        ("SVMDR_ONTAP_USERNAME", "admin"),
        ("SVMDR_ONTAP_PASSWORD", "wrong-pass-123"),
    ];
    let r = lab
        .run_env(&["failover", "--dry-run", "--force", "-o", "json"], &bad)
        .await
        .expect_code(2);
    let doc = error_document(&r, 2);
    let text = problems_text(&doc);
    assert!(
        text.contains("401") || text.contains("username/password"),
        "{text}"
    );
    assert!(!r.all().contains("wrong-pass-123"));
    let h = lab.run_env(&["history", "-o", "json"], &good).await;
    let h = h.expect_code(0).json();
    assert_eq!(h["items"], serde_json::json!([]), "{h}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partially_failed_restore_is_recorded_partially_failed() {
    let lab = Lab::start().await;
    velero::install_nightly(&lab.dr_kube, VOLUME, true);
    let r = lab
        .run(&["restore", "--timeout", "10s", "-o", "json"])
        .await
        .expect_code(1);
    // Every document carries apiVersion and kind (issue 12).
    assert_eq!(r.json()["apiVersion"], "svmdr.netapp.io/v1", "{}", r.stdout);
    assert_eq!(r.json()["kind"], "RestoreReport", "{}", r.stdout);
    assert_eq!(
        r.json()["status"]["phase"],
        "PartiallyFailed",
        "{}",
        r.stdout
    );
    let h = history(&lab).await;
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        (h[0].0.as_str(), h[0].1.as_str()),
        ("restore", "partially-failed")
    );
    assert!(h[0].2.contains("PartiallyFailed"), "{h:?}");
    let table = lab.run(&["history"]).await.expect_code(0);
    let line = table
        .stdout
        .lines()
        .find(|l| l.contains("restore"))
        .unwrap_or_default();
    assert!(line.contains("partially-failed"), "{}", table.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failover_whose_restore_partially_fails_is_recorded_so() {
    let lab = Lab::start().await;
    lab.peer().await;
    velero::install_nightly(&lab.dr_kube, VOLUME, true);
    lab.primary_site_down();
    let r = lab
        .failover_restoring_latest(&["-o", "json"])
        .await
        .expect_code(1);
    assert_eq!(r.json()["kind"], "WorkflowRun", "{}", r.stdout);
    let h = history(&lab).await;
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        (h[0].0.as_str(), h[0].1.as_str()),
        ("failover", "partially-failed"),
        "{h:?}"
    );
    assert!(h[0].2.contains("restore ended PartiallyFailed"), "{h:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_write_one_error_document_with_o_json_or_yaml() {
    let lab = Lab::start().await;
    // Exit 2: the DR site cannot be resolved. The README's cron recipe
    // (`|| jq -r '.problems[]' status.json`) has a document to read.
    let r = lab
        .run(&["status", "--context", "nope", "-o", "json"])
        .await
        .expect_code(2);
    let doc = error_document(&r, 2);
    assert!(
        problems_text(&doc).contains("\"nope\" is not in the kubeconfig"),
        "{doc}"
    );
    assert!(r.stderr.contains("error:"), "{}", r.stderr);
    let y = lab
        .run(&["status", "--context", "nope", "-o", "yaml"])
        .await
        .expect_code(2);
    let doc: Value = serde_yaml::from_str(&y.stdout).expect("YAML document");
    assert_eq!(doc["kind"], "Error", "{}", y.stdout);
    assert_eq!(doc["exitCode"], 2, "{}", y.stdout);
    // Without -o json|yaml stdout stays empty.
    let t = lab
        .run(&["status", "--context", "nope"])
        .await
        .expect_code(2);
    assert_eq!(t.stdout, "");

    // Exit 3: a refusal, with its `next:` hint as a problem of its own.
    lab.peer().await;
    let r = lab
        .run(&["failover", "--yes", "-o", "json"])
        .await
        .expect_code(3);
    let doc = error_document(&r, 3);
    let problems = doc["problems"].as_array().expect("problems");
    assert!(
        problems[0]
            .as_str()
            .is_some_and(|p| p.contains("split-brain guard")),
        "{doc}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.starts_with("next:"))),
        "{doc}"
    );
    let h = history(&lab).await;
    assert_eq!((h[0].0.as_str(), h[0].1.as_str()), ("failover", "refused"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failover_whose_export_policy_refuses_the_dr_nodes_is_recorded_unhealthy() {
    use sim::kube::fixtures::{DR_NODES, PRIMARY_NODES, node};
    let lab = Lab::start().await;
    for (name, ip) in DR_NODES {
        lab.dr_kube.apply(node(name, ip)).expect("seed DR node");
    }
    // The primary's export policy admits only the primary's nodes; SVM-DR
    // replicates it to the DR SVM.
    let clients: Vec<Value> = PRIMARY_NODES
        .iter()
        .map(|(_, ip)| serde_json::json!({"match": ip}))
        .collect();
    lab.ontap.control().set_export_rules(
        "primary",
        "svm1",
        "default",
        vec![
            serde_json::json!({"index": 1, "clients": clients, "protocols": ["any"],
            "ro_rule": ["sys"], "rw_rule": ["sys"], "superuser": ["sys"]}),
        ],
    );
    lab.peer().await;
    lab.ontap.control().set_cluster_down("primary", true);
    lab.primary_kube.set_down(true);
    let r = lab
        .run(&["failover", "--yes", "--request-timeout", "3s", "-o", "json"])
        .await
        .expect_code(1);
    let out = r.json();
    assert_eq!(out["kind"], "WorkflowRun", "{out}");
    assert!(
        out["exportProblems"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{out}"
    );
    let h = history(&lab).await;
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        (h[0].0.as_str(), h[0].1.as_str()),
        ("failover", "unhealthy"),
        "{h:?}"
    );
    assert!(
        h[0].2.contains("export policy refuses the DR nodes"),
        "{h:?}"
    );
}

#[test]
fn a_rejected_command_line_with_o_json_still_writes_the_error_document() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-svmdr"))
        .args(["status", "-o", "json", "--no-such-flag"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["kind"], "Error", "{doc}");
    assert_eq!(doc["exitCode"], 2, "{doc}");
    assert!(
        doc["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("--no-such-flag")),
        "{doc}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_restore_dry_run_shows_the_restore_it_would_create() {
    let lab = Lab::start().await;
    velero::install_nightly(&lab.dr_kube, VOLUME, false);
    // The backup carries a file-system backup of the volume: refused.
    velero::make_fs_backup(&lab.dr_kube);
    let dry = lab.run(&["restore", "--dry-run"]).await.expect_code(3);
    assert!(dry.stdout.contains("REFUSED (exit 3)"), "{}", dry.all());
    assert!(dry.stdout.contains("only with --force"), "{}", dry.stdout);
    assert!(dry.stdout.contains("backupName: nightly"), "{}", dry.stdout);
    let dry = lab
        .run(&["restore", "--dry-run", "-o", "json"])
        .await
        .expect_code(3);
    let plan = dry.json();
    assert_eq!(plan["kind"], "RestorePlan", "{plan}");
    assert!(
        plan["refused"]
            .as_str()
            .is_some_and(|r| r.contains("volume data")),
        "{plan}"
    );
    assert_eq!(plan["restore"]["spec"]["backupName"], "nightly", "{plan}");
    assert!(
        lab.dr_kube
            .list("velero.io/v1", "Restore", Some("velero"))
            .is_empty()
    );
    assert_eq!(history(&lab).await, vec![], "dry-runs are not recorded");
}
