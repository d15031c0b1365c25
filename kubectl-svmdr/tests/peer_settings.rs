//! `kubectl svmdr peer` and the relationship's settings, driving the
//! binary against the simulated sites: the default schedule, a re-run that
//! changes schedule, policy, throttle or identity preservation (PATCH) or
//! says why ONTAP cannot, `--dry-run` showing the change, and names checked
//! against the DR cluster before anything changes.

mod common;

use common::Lab;
use serde_json::{Value, json};

/// `status -o json`'s first relationship.
async fn relationship(lab: &Lab) -> Value {
    let s = lab.run(&["status", "-o", "json"]).await.json();
    s["relationships"][0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn default_peer_protects_with_the_hourly_schedule() {
    let lab = Lab::start().await;
    let r = lab.peer().await;
    assert!(
        r.stdout
            .contains("relationship: snapmirrored, schedule hourly"),
        "{}",
        r.stdout
    );
    let status = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(status["healthy"], json!(true), "{status:#}");
    let rel = &status["relationships"][0];
    assert_eq!(rel["schedule"], json!("hourly"), "{rel:#}");
    assert_eq!(rel["rpoSeconds"], json!(3600), "{rel:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rerun_with_another_schedule_patches_and_dry_run_shows_it() {
    let lab = Lab::start().await;
    lab.peer().await;

    let before = lab.snapshot();
    let dry = lab
        .peer_with(&["--schedule", "5min", "--dry-run"])
        .await
        .expect_code(0);
    assert_eq!(lab.snapshot(), before, "--dry-run changed the clusters");
    assert!(
        dry.stdout.contains("transfer_schedule hourly → 5min"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("PATCH /api/snapmirror/relationships/")
            && dry
                .stdout
                .contains(r#"{"transfer_schedule":{"name":"5min"}}"#),
        "{}",
        dry.stdout
    );
    assert_eq!(relationship(&lab).await["schedule"], json!("hourly"));

    let run = lab.peer_with(&["--schedule", "5min"]).await.expect_code(0);
    assert!(
        run.stderr.contains("transfer_schedule hourly → 5min"),
        "{}",
        run.stderr
    );
    let rel = relationship(&lab).await;
    assert_eq!(rel["schedule"], json!("5min"), "{rel:#}");
    assert_eq!(rel["state"], json!("snapmirrored"));

    // Converged: the same command again changes nothing.
    let before = lab.snapshot();
    let again = lab.peer_with(&["--schedule", "5min"]).await.expect_code(0);
    assert_eq!(lab.snapshot(), before);
    assert!(
        again.stderr.contains("already done  SVM-DR relationship"),
        "{}",
        again.stderr
    );

    // A plain re-run keeps the user's schedule (no flag, no change; not
    // `lab.peer()`, which passes --schedule hourly).
    let before = lab.snapshot();
    lab.run(&["peer", "--svm", "svm1", "--dr-svm", "svm1_dr"])
        .await
        .expect_code(0);
    assert_eq!(lab.snapshot(), before);
    assert_eq!(relationship(&lab).await["schedule"], json!("5min"));

    // --rpo picks the least frequent built-in schedule that meets it;
    // --throttle and --policy change the relationship too.
    lab.peer_with(&[
        "--rpo",
        "8h",
        "--throttle",
        "2048",
        "--policy",
        "MirrorAllSnapshotsDiscardNetwork",
    ])
    .await
    .expect_code(0);
    let rel = relationship(&lab).await;
    assert_eq!(rel["schedule"], json!("8hour"), "{rel:#}");
    assert_eq!(rel["policy"], json!("MirrorAllSnapshotsDiscardNetwork"));
    let shown = lab
        .peer_with(&["--throttle", "2048", "--schedule", "8hour"])
        .await
        .expect_code(0);
    assert!(
        shown.stderr.contains("throttle 2048 KB/s"),
        "{}",
        shown.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_schedule_or_policy_is_refused_before_any_change() {
    let lab = Lab::start().await;
    let before = lab.snapshot();
    for dry in [false, true] {
        let mut args = vec!["--schedule", "bogus"];
        if dry {
            args.push("--dry-run");
        }
        let r = lab.peer_with(&args).await.expect_code(2);
        assert!(
            r.stderr
                .contains("schedule bogus does not exist on the DR cluster ontap-b"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr
                .contains("5min, 8hour, daily, hourly, monthly, weekly"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
        assert_eq!(lab.snapshot(), before, "dry run {dry}: something changed");

        let mut args = vec!["--policy", "NoSuch"];
        if dry {
            args.push("--dry-run");
        }
        let r = lab.peer_with(&args).await.expect_code(2);
        assert!(
            r.stderr
                .contains("SnapMirror policy NoSuch does not exist on the DR cluster ontap-b"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("MirrorAllSnapshots"), "{}", r.stderr);
        assert!(r.stderr.contains("--policy"), "{}", r.stderr);
        assert_eq!(lab.snapshot(), before, "dry run {dry}: something changed");
    }
    // An interval schedule is not a transfer schedule.
    let r = lab
        .peer_with(&["--schedule", "RepositoryBalanceMonitorJobSchedule"])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("cron schedule"), "{}", r.stderr);
    // --rpo below the most frequent built-in schedule is bad input.
    let r = lab.peer_with(&["--rpo", "1m"]).await.expect_code(2);
    assert!(r.stderr.contains("5min"), "{}", r.stderr);
    assert_eq!(lab.snapshot(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_preservation_is_lowered_but_never_raised() {
    let lab = Lab::start().await;
    lab.peer().await;
    lab.peer_with(&["--identity-preservation", "exclude-network-config"])
        .await
        .expect_code(0);
    assert_eq!(
        relationship(&lab).await["identityPreservation"],
        json!("exclude_network_config")
    );
    let before = lab.snapshot();
    for dry in [false, true] {
        let mut args = vec!["--identity-preservation", "full"];
        if dry {
            args.push("--dry-run");
        }
        let r = lab.peer_with(&args).await.expect_code(2);
        assert!(
            r.stderr
                .contains("ONTAP can only lower it, not raise it to full"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("delete the relationship"), "{}", r.stderr);
        assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
        assert_eq!(lab.snapshot(), before);
    }
}
