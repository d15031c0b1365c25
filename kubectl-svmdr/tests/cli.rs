//! End-to-end tests of the `kubectl-svmdr` binary against two simulated
//! ONTAP clusters and two simulated Kubernetes clusters (see `common`).

mod common;

use std::path::Path;
use std::process::Stdio;

use common::{ADMIN_PASSWORD, DR_SVM, Lab, LabOptions, PRIMARY_SVM, step_statuses};
use serde_json::json;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kubectl-svmdr"))
}

fn run_plain(args: &[&str]) -> common::Run {
    let out = std::process::Command::new(bin())
        .args(args)
        .env("HOME", "/nonexistent")
        .env_remove("SVMDR_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("spawn");
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------- frame

#[test]
fn help_reads_as_kubectl_plugin_with_exit_codes() {
    let r = run_plain(&["--help"]).expect_code(0);
    assert!(r.stdout.contains("Usage: kubectl svmdr"), "{}", r.stdout);
    for code in ["130", "refused for safety", "unhealthy"] {
        assert!(r.stdout.contains(code), "{code}: {}", r.stdout);
    }
    let r = run_plain(&["status", "--help"]).expect_code(0);
    assert!(r.stdout.contains("kubectl svmdr status"), "{}", r.stdout);
    let r = run_plain(&["no-such-command"]).expect_code(2);
    assert!(r.stderr.contains("no-such-command"), "{}", r.stderr);
}

#[test]
fn version_prints_commit_and_date() {
    let r = run_plain(&["version"]).expect_code(0);
    assert!(r.stdout.starts_with("kubectl-svmdr "), "{}", r.stdout);
    let v: serde_json::Value =
        serde_json::from_str(&run_plain(&["version", "-o", "json"]).expect_code(0).stdout).unwrap();
    assert_eq!(v["version"], json!(env!("CARGO_PKG_VERSION")));
    let commit = v["gitCommit"].as_str().unwrap();
    assert!(!commit.is_empty());
    let date = v["buildDate"].as_str().unwrap();
    assert_eq!(date.len(), 10, "{date}");
}

#[test]
fn completion_scripts_and_kubectl_completion_entry() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run_plain(&["completion", shell]).expect_code(0);
        assert!(r.stdout.contains("kubectl-svmdr"), "{shell}");
    }
    let r = run_plain(&["__complete", "sta"]).expect_code(0);
    assert!(r.stdout.starts_with("status\t"), "{}", r.stdout);
    assert!(r.stdout.ends_with(":4\n"), "{}", r.stdout);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl_complete-svmdr"))
        .args(["peer", "--identity-preservation", ""])
        .output()
        .expect("spawn kubectl_complete-svmdr");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("exclude-network-config"), "{text}");
}

#[test]
fn bad_flags_are_errors() {
    run_plain(&["peer", "--primary-intercluster-ip", "garbage"]).expect_code(2);
    let r = run_plain(&["status", "-o", "xml"]).expect_code(2);
    assert!(r.stderr.contains("xml"), "{}", r.stderr);
}

// ---------------------------------------------------------------- sites and backends

#[tokio::test(flavor = "multi_thread")]
async fn backends_lists_each_backend_and_its_cluster() {
    let lab = Lab::start().await;
    let r = lab
        .run(&["backends", "--context", "primary"])
        .await
        .expect_code(0);
    assert!(r.stdout.contains("ontap-nas-primary"), "{}", r.stdout);
    assert!(r.stdout.contains("ontap-a"), "{}", r.stdout);
    assert!(r.stdout.contains("9.14.1"), "{}", r.stdout);
    let j = lab
        .run(&["backends", "--site", "dr", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["kind"], json!("BackendList"));
    assert_eq!(j["context"], json!("dr"));
    let b = &j["backends"][0];
    assert_eq!(b["name"], json!("ontap-nas-dr"));
    assert_eq!(b["svm"], json!(DR_SVM));
    assert_eq!(b["tbcName"], json!("ontap-nas-dr"));
    assert_eq!(b["ontap"]["cluster"], json!("ontap-b"));
    let wide = lab.run(&["backends", "-o", "wide"]).await.expect_code(0);
    assert!(
        wide.stdout.contains(&lab.dr_trident.backend_uuid),
        "{}",
        wide.stdout
    );
    assert!(!wide.all().contains(ADMIN_PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn backends_reports_unreachable_cluster_and_non_ontap_backends() {
    let lab = Lab::start().await;
    lab.primary_kube
        .apply(json!({
            "apiVersion": "trident.netapp.io/v1", "kind": "TridentBackend",
            "metadata": {"name": "tbe-sf", "namespace": "trident"},
            "backendName": "solidfire", "backendUUID": "sf-uuid", "online": true, "state": "online",
            "config": {"solidfire_config": {"storageDriverName": "solidfire-san"}}
        }))
        .unwrap();
    lab.ontap.control().set_cluster_down("primary", true);
    let r = lab
        .run(&["backends", "--context", "primary"])
        .await
        .expect_code(1);
    assert!(r.stdout.contains("unreachable"), "{}", r.stdout);
    assert!(r.stdout.contains("solidfire-san"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_context_and_missing_trident_are_clear_errors() {
    let lab = Lab::start().await;
    let r = lab
        .run(&["backends", "--context", "nope"])
        .await
        .expect_code(2);
    assert!(
        r.stderr.contains("\"nope\" is not in the kubeconfig"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("primary, dr"), "{}", r.stderr);
    let r = lab
        .run(&["backends", "--context", "primary", "-n", "elsewhere"])
        .await
        .expect_code(2);
    assert!(
        r.stderr
            .contains("no Trident ONTAP backend in namespace elsewhere"),
        "{}",
        r.stderr
    );
    let r = lab
        .run(&["status", "--dr-backend", "missing"])
        .await
        .expect_code(2);
    assert!(
        r.stderr.contains("no Trident backend \"missing\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("ontap-nas-dr"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn trident_ca_certificate_is_trusted_when_no_ca_file() {
    let lab = Lab::start().await;
    // Put the lab CA into the DR backend's trustedCACertificate and drop caFile.
    let mut tbe = lab
        .dr_kube
        .list("trident.netapp.io/v1", "TridentBackend", Some("trident"))
        .pop()
        .unwrap();
    let b64 = base64_encode(lab.ontap.ca_pem().as_bytes());
    tbe["config"]["ontap_config"]["trustedCACertificate"] = json!(b64);
    lab.dr_kube.apply(tbe).unwrap();
    lab.set_config(&format!(
        "dr:\n  context: dr\n  credentialsSecret: {{name: {}}}\n",
        common::ADMIN_SECRET
    ));
    let r = lab.run(&["backends"]).await.expect_code(0);
    assert!(r.stdout.contains("ontap-b"), "{}", r.stdout);
    // Without any CA, verification fails and says what to do.
    let mut tbe = lab
        .dr_kube
        .list("trident.netapp.io/v1", "TridentBackend", Some("trident"))
        .pop()
        .unwrap();
    tbe["config"]["ontap_config"]
        .as_object_mut()
        .unwrap()
        .remove("trustedCACertificate");
    lab.dr_kube.apply(tbe).unwrap();
    let r = lab.run(&["status"]).await.expect_code(1);
    assert!(
        r.all().to_lowercase().contains("certificate"),
        "{}",
        r.all()
    );
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------- peer

#[tokio::test(flavor = "multi_thread")]
async fn peer_sets_up_svm_dr_and_a_rerun_changes_nothing() {
    let lab = Lab::start().await;
    let first = lab.peer().await;
    assert!(first.stderr.contains("done"), "{}", first.stderr);
    assert!(
        first.stdout.contains("relationship: snapmirrored"),
        "{}",
        first.stdout
    );
    assert!(!first.all().contains(ADMIN_PASSWORD));
    assert!(
        first
            .stderr
            .contains("credentials from Secret trident/ontap-cluster-admin"),
        "{}",
        first.stderr
    );

    let before = lab.snapshot();
    let again = lab.peer().await;
    assert_eq!(lab.snapshot(), before, "a re-run must not change anything");
    assert!(!again.stderr.contains("  done "), "{}", again.stderr);
    assert!(
        again.stderr.contains("already done  SVM-DR relationship"),
        "{}",
        again.stderr
    );

    let status = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(status["healthy"], json!(true), "{status:#}");
    let rel = &status["relationships"][0];
    assert_eq!(rel["state"], json!("snapmirrored"));
    assert_eq!(rel["source"]["svm"], json!(PRIMARY_SVM));
    assert_eq!(rel["destination"]["svm"], json!(DR_SVM));
    assert_eq!(rel["identityPreservation"], json!("full"));
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_dry_run_changes_nothing_and_redacts_secrets() {
    let lab = Lab::start().await;
    let before = lab.snapshot();
    let r = lab.peer_with(&["--dry-run"]).await.expect_code(0);
    assert_eq!(lab.snapshot(), before, "--dry-run changed the clusters");
    for call in [
        "POST /api/cluster/peers",
        "POST /api/svm/svms",
        "POST /api/svm/peers",
        "PATCH /api/svm/peers/",
        "POST /api/snapmirror/relationships",
        "PATCH /api/snapmirror/relationships/",
    ] {
        assert!(r.stdout.contains(call), "{call}:\n{}", r.stdout);
    }
    assert!(r.stdout.contains("<redacted>"), "{}", r.stdout);
    let j = lab
        .peer_with(&["--dry-run", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["dryRun"], json!(true));
    assert_eq!(lab.snapshot(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_refuses_without_intercluster_lifs_then_creates_them() {
    let mut opts = LabOptions::default();
    opts.topology.clusters[1]
        .intercluster_lifs
        .retain(|l| l.node != "ontap-b-02");
    let lab = Lab::start_with(opts).await;
    let r = lab.peer_with(&[]).await.expect_code(2);
    assert!(r.stderr.contains("ontap-b-02"), "{}", r.stderr);
    assert!(r.stderr.contains("--dr-intercluster-ip"), "{}", r.stderr);
    lab.peer_with(&["--dr-intercluster-ip", "ontap-b-02=192.0.2.23/24"])
        .await
        .expect_code(0);
    lab.run(&["status"]).await.expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_with_a_missing_svm_or_bad_policy_explains() {
    let lab = Lab::start().await;
    let r = lab
        .run(&["peer", "--svm", "nosuch", "--dr-svm", DR_SVM])
        .await
        .expect_code(2);
    assert!(
        r.stderr.contains("SVM nosuch does not exist"),
        "{}",
        r.stderr
    );
    let r = lab
        .peer_with(&["--policy", "NoSuchPolicy"])
        .await
        .expect_code(2);
    assert!(
        r.stderr.contains("NoSuchPolicy does not exist"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("re-run"), "{}", r.stderr);
    // What was done before the refusal is finished by a normal re-run.
    lab.peer().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn svm_scoped_trident_credentials_are_not_used_for_peering() {
    let opts = LabOptions {
        primary_trident_login: ("vsadmin".into(), "Vsadmin1!".into()),
        config_credentials: false,
        ..LabOptions::default()
    };
    let lab = Lab::start_with(opts).await;
    let r = lab.peer_with(&[]).await.expect_code(2);
    assert!(r.stderr.contains("SVM-scoped"), "{}", r.stderr);
    assert!(r.stderr.contains("SVMDR_ONTAP_USERNAME"), "{}", r.stderr);
    assert!(!r.all().contains("Vsadmin1!"));
    // Environment credentials are the next source, and it says so.
    let r = lab
        .run_env(
            &["peer", "--svm", PRIMARY_SVM, "--dr-svm", DR_SVM],
            &[
                ("SVMDR_ONTAP_USERNAME", "admin"),
                ("SVMDR_ONTAP_PASSWORD", ADMIN_PASSWORD),
            ],
        )
        .await
        .expect_code(0);
    assert!(
        r.stderr
            .contains("SVMDR_ONTAP_USERNAME/SVMDR_ONTAP_PASSWORD"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(ADMIN_PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_unreachable_cluster_and_tls_mismatch() {
    let lab = Lab::start_with(LabOptions {
        config_credentials: false,
        ..LabOptions::default()
    })
    .await;
    let env = |pass: &'static str| {
        [
            ("SVMDR_ONTAP_USERNAME", "admin"),
            ("SVMDR_ONTAP_PASSWORD", pass),
        ]
    };
    let r = lab
        .run_env(&["status"], &env("wrong-pass-123"))
        .await
        .expect_code(1);
    assert!(
        r.stdout.contains("username/password") || r.stdout.contains("401"),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("wrong-pass-123"));
    let r = lab
        .run_env(&["sync"], &env("wrong-pass-123"))
        .await
        .expect_code(2);
    assert!(
        r.stderr.contains("401") || r.stderr.contains("username/password"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("wrong-pass-123"));

    lab.ontap.control().set_cluster_down("dr", true);
    let r = lab
        .run_env(&["sync"], &env(ADMIN_PASSWORD))
        .await
        .expect_code(2);
    assert!(r.stderr.contains("dr ("), "{}", r.stderr);
    assert!(r.stderr.contains("cannot connect"), "{}", r.stderr);
    lab.ontap.control().set_cluster_down("dr", false);

    let other = sim::tls::Identity::generate("other-ca", &[]).unwrap();
    std::fs::write(lab.path("ca.pem"), other.ca_pem()).unwrap();
    let r = lab
        .run_env(&["sync"], &env(ADMIN_PASSWORD))
        .await
        .expect_code(2);
    assert!(
        r.stderr.to_lowercase().contains("certificate") || r.stderr.contains("TLS"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(ADMIN_PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_refuses_to_touch_a_broken_off_relationship() {
    let lab = Lab::start().await;
    lab.peer_with(&["--identity-preservation", "exclude-network-config"])
        .await
        .expect_code(0);
    let dr = admin_client(&lab, "dr");
    let rel = dr
        .relationship_by_destination(&format!("{DR_SVM}:"))
        .await
        .unwrap()
        .unwrap();
    dr.patch_relationship_state(
        rel.uuid.as_deref().unwrap(),
        svmdr::ontap::models::RelationshipState::BrokenOff,
        Default::default(),
    )
    .await
    .unwrap();
    let r = lab.peer_with(&[]).await.expect_code(3);
    assert!(r.stderr.contains("broken off"), "{}", r.stderr);
    let r = lab.run(&["status"]).await.expect_code(1);
    assert!(r.stdout.contains("broken off"), "{}", r.stdout);
    let r = lab.run(&["sync"]).await.expect_code(2);
    assert!(r.stderr.contains("resync"), "{}", r.stderr);
}

fn admin_client(lab: &Lab, cluster: &str) -> svmdr::ontap::OntapClient {
    svmdr::ontap::OntapClient::new(svmdr::ontap::OntapConfig {
        name: cluster.to_string(),
        endpoint: lab.ontap.url(cluster),
        auth: svmdr::ontap::Auth::Basic {
            username: "admin".into(),
            password: svmdr::secret::Secret::new(ADMIN_PASSWORD),
        },
        tls: svmdr::ontap::TlsOptions {
            ca_pem: Some(lab.ontap.ca_pem().to_string()),
            insecure_skip_verify: false,
        },
        timeouts: svmdr::ontap::Timeouts::default(),
    })
    .unwrap()
}

// ---------------------------------------------------------------- status and sync

#[tokio::test(flavor = "multi_thread")]
async fn status_before_peering_is_unhealthy_with_next_step() {
    let lab = Lab::start().await;
    let r = lab.run(&["status"]).await.expect_code(1);
    assert!(r.stdout.contains("no SVM-DR relationship"), "{}", r.stdout);
    assert!(r.stdout.contains("kubectl svmdr peer"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_makes_a_fixed_number_of_ontap_calls() {
    let lab = Lab::start().await;
    lab.peer().await;
    let c = lab.ontap.control();
    let (p0, d0) = (c.request_count("primary"), c.request_count("dr"));
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["apiVersion"], json!("svmdr.netapp.io/v1"));
    assert_eq!(j["kind"], json!("Status"));
    let (p1, d1) = (c.request_count("primary"), c.request_count("dr"));
    // svmdr::status documents 6 calls on the primary (its relationships
    // are the reverse ones) and 8 on the DR cluster per run (6, then the
    // export policies and the DR SVMs' volumes), whatever the number of
    // relationships.
    assert_eq!(p1 - p0, 6, "primary calls");
    assert_eq!(d1 - d0, 8, "dr calls");
    let yaml = lab.run(&["status", "-o", "yaml"]).await.expect_code(0);
    assert!(yaml.stdout.contains("kind: Status"), "{}", yaml.stdout);
    let wide = lab.run(&["status", "-o", "wide"]).await.expect_code(0);
    assert!(
        wide.stdout.contains("MirrorAllSnapshots"),
        "{}",
        wide.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_calls_do_not_grow_with_the_number_of_relationships() {
    let mut opts = LabOptions::default();
    let mut svm2 = opts.topology.clusters[0].svms[0].clone();
    svm2.name = "svm2".into();
    svm2.uuid = None;
    svm2.lifs.clear();
    for v in &mut svm2.volumes {
        v.name = v
            .name
            .replace("svm1", "svm2")
            .replace("trident_pvc_", "trident_pvc_2_");
        v.junction_path = v
            .junction_path
            .as_ref()
            .map(|j| j.replace("trident_pvc_", "trident_pvc_2_"));
    }
    opts.topology.clusters[0].svms.push(svm2);
    let lab = Lab::start_with(opts).await;
    lab.peer().await;
    lab.run(&[
        "peer",
        "--svm",
        "svm2",
        "--dr-svm",
        "svm2_dr",
        "--schedule",
        "hourly",
    ])
    .await
    .expect_code(0);
    let c = lab.ontap.control();
    let (p0, d0) = (c.request_count("primary"), c.request_count("dr"));
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(
        j["relationships"].as_array().map(Vec::len),
        Some(2),
        "{j:#}"
    );
    assert_eq!(c.request_count("primary") - p0, 6, "primary calls");
    assert_eq!(c.request_count("dr") - d0, 8, "dr calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_with_the_primary_down_reports_it_and_exits_1() {
    let lab = Lab::start().await;
    lab.peer().await;
    lab.ontap.control().set_cluster_down("primary", true);
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(j["sites"]["primary"]["reachable"], json!(false));
    assert_eq!(j["sites"]["dr"]["reachable"], json!(true));
    assert_eq!(j["relationships"][0]["state"], json!("snapmirrored"));
    lab.primary_kube.set_down(true);
    let r = lab.run(&["status"]).await.expect_code(1);
    assert!(r.stdout.contains("PRIMARY  UNREACHABLE"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_transfers_and_reports_the_new_lag() {
    let lab = Lab::start().await;
    let r = lab.run(&["sync"]).await.expect_code(2);
    assert!(r.stderr.contains("kubectl svmdr peer"), "{}", r.stderr);
    lab.peer().await;
    let before = lab.snapshot();
    let r = lab.run(&["sync", "--dry-run"]).await.expect_code(0);
    assert!(r.stdout.contains("/transfers"), "{}", r.stdout);
    assert_eq!(lab.snapshot(), before);
    let id = lab
        .ontap
        .control()
        .write(
            "primary",
            PRIMARY_SVM,
            "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90",
            4096,
        )
        .unwrap();
    let j = lab
        .run(&["sync", "--wait", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["transferState"], json!("success"), "{j:#}");
    assert_eq!(j["state"], json!("snapmirrored"));
    assert!(j["lagSeconds"].is_u64(), "{j:#}");
    let data = lab
        .ontap
        .control()
        .volume_data(
            "dr",
            DR_SVM,
            "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90",
        )
        .unwrap();
    assert!(data.contains(id), "the write reached the DR volume");
    let r = lab.run(&["sync", "--svm", DR_SVM]).await.expect_code(0);
    assert!(r.stdout.contains("started"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_stdout_exits_zero() {
    let lab = Lab::start().await;
    lab.peer().await;
    let mut child = lab
        .command_for(
            bin(),
            &["status", "--watch", "--interval", "1s", "-o", "json"],
        )
        .spawn()
        .unwrap();
    // Read a little, then close the pipe: the next write fails with EPIPE.
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 64];
    tokio::io::AsyncReadExt::read(&mut stdout, &mut buf)
        .await
        .unwrap();
    drop(stdout);
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("exits after the pipe closes")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_refreshes_and_ctrl_c_ends_it_with_exit_0() {
    let lab = Lab::start().await;
    lab.peer().await;
    let mut child = lab
        .command_for(
            bin(),
            &["status", "--watch", "--interval", "1s", "-o", "json"],
        )
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let read_two = async {
        while seen.matches("\"kind\": \"Status\"").count() < 2 {
            let n = tokio::io::AsyncReadExt::read(&mut stdout, &mut buf)
                .await
                .unwrap();
            assert!(n > 0, "watch ended early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read_two)
        .await
        .expect("two refreshes");
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("exits on SIGINT")
        .unwrap();
    // Ctrl-C is how a watch ends: exit 0, not 130 (issue 12, item 9).
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_failover_is_recorded_as_interrupted() {
    let lab = Lab::start().await;
    lab.peer().await;
    let c = lab.ontap.control();
    c.set_cluster_down("primary", true);
    lab.primary_kube.set_down(true);
    // The quiesce PATCH hangs, so the run is mid-step when Ctrl-C comes.
    c.inject_fault(
        "dr",
        sim::ontap::Fault {
            method: Some(http::Method::PATCH),
            path_contains: "/api/snapmirror/relationships/".into(),
            kind: sim::ontap::FaultKind::Delay(std::time::Duration::from_secs(25)),
            times: Some(1),
        },
    );
    let mut child = lab
        .command_for(bin(), &["failover", "--yes", "--request-timeout", "3s"])
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let first_step = async {
        while !seen.contains("abort-transfer") {
            let n = tokio::io::AsyncReadExt::read(&mut stderr, &mut buf)
                .await
                .unwrap();
            assert!(n > 0, "failover ended early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), first_step)
        .await
        .expect("the first step finishes");
    // Let the quiesce PATCH go out and hang.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let t0 = std::time::Instant::now();
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("exits on SIGINT")
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(4),
        "Ctrl-C took {:?}",
        t0.elapsed()
    );
    let h = lab
        .run(&["history", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    let entry = h["items"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["outcome"] == "interrupted"))
        .unwrap_or_else(|| panic!("no interrupted entry: {h}"))
        .clone();
    assert_eq!(entry["workflow"], "failover", "{entry}");
    let message = entry["message"].as_str().unwrap_or_default();
    assert!(message.contains("during step quiesce"), "{entry}");
    assert!(message.contains("re-run the same command"), "{entry}");
    assert_eq!(
        step_statuses(&entry["steps"]),
        [
            ("abort-transfer".to_string(), "skipped".to_string()),
            ("quiesce".to_string(), "interrupted".to_string())
        ],
        "{entry}"
    );
    let table = lab.run(&["history"]).await.expect_code(0);
    assert!(table.stdout.contains("interrupted"), "{}", table.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_resumes_after_a_failed_ontap_job() {
    let lab = Lab::start().await;
    let c = lab.ontap.control();
    c.inject_fault(
        "dr",
        sim::ontap::Fault {
            method: Some(http::Method::POST),
            path_contains: "/api/snapmirror/relationships".into(),
            kind: sim::ontap::FaultKind::JobFailure {
                code: 13303939,
                message: "Could not create the SVM peer relationship".into(),
            },
            times: Some(1),
        },
    );
    let r = lab.peer_with(&[]).await.expect_code(2);
    assert!(r.stderr.contains("13303939"), "{}", r.stderr);
    assert!(r.stderr.contains("re-run the same command"), "{}", r.stderr);
    assert!(r.stderr.contains("done          SVM peer"), "{}", r.stderr);
    let again = lab.peer().await;
    assert!(
        again.stderr.contains("already done  SVM peer"),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains("done          SVM-DR relationship"),
        "{}",
        again.stderr
    );
    lab.run(&["status"]).await.expect_code(0);
}

/// The cluster peers in the simulator: (cluster key, auth state).
fn cluster_peers(lab: &Lab) -> Vec<(String, String)> {
    lab.snapshot()["cluster_peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["cluster"].as_str().unwrap().to_string(),
                p["auth"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_resumes_a_half_done_cluster_peer() {
    let lab = Lab::start().await;
    lab.ontap.control().inject_fault(
        "dr",
        sim::ontap::Fault {
            method: Some(http::Method::POST),
            path_contains: "/api/cluster/peers".into(),
            kind: sim::ontap::FaultKind::Http500,
            times: Some(1),
        },
    );
    // The run stops after the offer on the primary: its passphrase is lost.
    let r = lab.peer_with(&[]).await.expect_code(2);
    assert!(r.stderr.contains("stays pending"), "{}", r.stderr);
    assert_eq!(
        cluster_peers(&lab),
        vec![("primary".to_string(), "pending".to_string())]
    );
    // --dry-run shows the resume, passphrase redacted, and changes nothing.
    let before = lab.snapshot();
    let dry = lab.peer_with(&["--dry-run"]).await.expect_code(0);
    assert!(
        dry.stdout.contains("PATCH /api/cluster/peers/"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains(r#""authentication":{"expiry_time":"PT1H","passphrase":"<redacted>"}"#),
        "{}",
        dry.stdout
    );
    assert_eq!(lab.snapshot(), before, "--dry-run changed the clusters");
    // The re-run continues from the pending offer.
    let again = lab.peer().await;
    assert!(
        again
            .stderr
            .contains("resumed: new passphrase on the pending offer on ontap-a"),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains("done          cluster peer: resume"),
        "{}",
        again.stderr
    );
    let mut peers = cluster_peers(&lab);
    peers.sort();
    assert_eq!(
        peers,
        vec![
            ("dr".to_string(), "ok".to_string()),
            ("primary".to_string(), "ok".to_string())
        ]
    );
    let status = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(status["healthy"], json!(true), "{status:#}");
    let peers = status["clusterPeers"].as_array().unwrap();
    assert_eq!(peers.len(), 2, "{status:#}");
    for p in peers {
        assert_eq!(p["availability"], json!("available"), "{p}");
        assert_eq!(p["authentication"], json!("ok"), "{p}");
        assert_eq!(p["encryption"], json!("tls_psk"), "{p}");
    }
    let rels = status["relationships"].as_array().unwrap();
    assert_eq!(rels.len(), 1, "{status:#}");
    assert_eq!(rels[0]["state"], json!("snapmirrored"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dr_site_without_a_trident_backend_uses_the_configured_cluster_address() {
    let lab = Lab::start().await;
    for tbe in lab
        .dr_kube
        .list("trident.netapp.io/v1", "TridentBackend", Some("trident"))
    {
        let name = tbe["metadata"]["name"].as_str().unwrap().to_string();
        assert!(lab.dr_kube.delete(
            "trident.netapp.io/v1",
            "TridentBackend",
            Some("trident"),
            &name
        ));
    }
    // Without an address, the missing backend is the error.
    let r = lab.run(&["status"]).await.expect_code(2);
    assert!(
        r.stderr.contains("no Trident ONTAP backend"),
        "{}",
        r.stderr
    );
    let ca = lab.path("ca.pem");
    let secret = common::ADMIN_SECRET;
    lab.set_config(&format!(
        "primary: {{context: primary, caFile: {ca:?}, credentialsSecret: {{name: {secret}}}}}\n\
         dr: {{context: dr, caFile: {ca:?}, clusterManagement: {:?}, credentialsSecret: {{name: {secret}}}}}\n",
        lab.ontap.url("dr")
    ));
    let r = lab.peer().await;
    assert!(
        r.stderr.contains("using the configured cluster address"),
        "{}",
        r.stderr
    );
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(j["sites"]["dr"]["backend"], json!(null));
    assert_eq!(j["sites"]["dr"]["cluster"], json!("ontap-b"));
    // backends needs Trident's own backend: still a clear error.
    let r = lab.run(&["backends"]).await.expect_code(2);
    assert!(
        r.stderr.contains("no Trident ONTAP backend"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn schedule_sets_the_rpo_shown_by_status() {
    let lab = Lab::start().await;
    lab.peer_with(&["--schedule", "hourly"])
        .await
        .expect_code(0);
    let j = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    let rel = &j["relationships"][0];
    assert_eq!(rel["schedule"], json!("hourly"), "{j:#}");
    assert_eq!(rel["rpoSeconds"], json!(3600));
    assert_eq!(rel["rpoExceeded"], json!(false));
    let r = lab.run(&["status", "--svm", "other"]).await.expect_code(1);
    assert!(r.stdout.contains("--svm other"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn non_ontap_backend_by_name_and_debug_logs_without_secrets() {
    let lab = Lab::start().await;
    lab.dr_kube
        .apply(json!({
            "apiVersion": "trident.netapp.io/v1", "kind": "TridentBackend",
            "metadata": {"name": "tbe-sf", "namespace": "trident"},
            "backendName": "solidfire", "backendUUID": "sf-uuid", "online": true, "state": "online",
            "config": {"solidfire_config": {"storageDriverName": "solidfire-san"}}
        }))
        .unwrap();
    let r = lab
        .run(&["status", "--dr-backend", "solidfire"])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("not an ONTAP driver"), "{}", r.stderr);
    assert!(r.stderr.contains("solidfire-san"), "{}", r.stderr);

    let r = lab.peer_with(&["-vv"]).await.expect_code(0);
    assert!(
        r.stderr.contains("DEBUG") || r.stderr.contains("TRACE"),
        "no debug logs"
    );
    for secret in [
        ADMIN_PASSWORD,
        lab.dr_kube.token(),
        lab.primary_kube.token(),
    ] {
        assert!(!r.all().contains(secret), "a secret reached the output");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_without_svm_flags_takes_both_svms_from_the_trident_backends() {
    let lab = Lab::start().await;
    lab.run(&["peer", "--yes", "--schedule", "hourly"])
        .await
        .expect_code(0);
    let status = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    let rel = &status["relationships"][0];
    assert_eq!(rel["source"]["svm"], json!(PRIMARY_SVM), "{status:#}");
    assert_eq!(rel["destination"]["svm"], json!(DR_SVM), "{status:#}");
}
