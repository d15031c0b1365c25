//! Issue 12, items 3, 4 and 8, driving the built binary on the simulated
//! lab: sites are what the user says (kubectl's kubeconfig precedence; a
//! flag naming an unusable file is an error; two names for one cluster are
//! refused before any ONTAP change and reported by `status`), and errors are
//! classified and point at the fix (401 is not "unreachable" and names the
//! credentials' source, TLS names the flags, a missing `credentialsSecret`
//! is blamed on the config entry, no "re-run" after refused credentials).

mod common;

use common::{ADMIN_PASSWORD, ADMIN_SECRET, Lab, LabOptions};
use serde_json::json;

/// The lab's config file, with `kubeconfig` set for both sites.
fn config_with_kubeconfig(lab: &Lab, kubeconfig: &std::path::Path) -> String {
    let site = |ctx: &str| {
        json!({
            "context": ctx,
            "kubeconfig": kubeconfig,
            "caFile": lab.path("ca.pem"),
            "credentialsSecret": {"name": ADMIN_SECRET},
        })
    };
    serde_yaml::to_string(&json!({"primary": site("primary"), "dr": site("dr")})).expect("yaml")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kubeconfig_flag_naming_a_missing_or_malformed_file_is_an_error() {
    let lab = Lab::start().await;
    // The config file names a good kubeconfig for both sites (as `lab up`
    // writes it): the flag must still win, and a bad one must fail.
    lab.set_config(&config_with_kubeconfig(&lab, &lab.path("kubeconfig")));
    let missing = lab.path("no-such-kubeconfig");
    let missing = missing.to_str().expect("utf-8 path");
    let r = lab
        .run(&["backends", "--kubeconfig", missing])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("--kubeconfig"), "{}", r.stderr);
    assert!(r.stderr.contains("no-such-kubeconfig"), "{}", r.stderr);

    std::fs::write(lab.path("malformed"), "{contexts: [oops").expect("write");
    let malformed = lab.path("malformed");
    let malformed = malformed.to_str().expect("utf-8 path");
    let r = lab
        .run(&["status", "--kubeconfig", malformed])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("malformed"), "{}", r.stderr);
    // A per-site flag is a flag too, and fails even for the primary site.
    let r = lab
        .run(&["status", "--primary-kubeconfig", malformed])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("--primary-kubeconfig"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kubeconfig_flag_and_kubeconfig_env_beat_the_config_file() {
    let lab = Lab::start().await;
    std::fs::write(lab.path("stale"), "{contexts: [oops").expect("write");
    lab.set_config(&config_with_kubeconfig(&lab, &lab.path("stale")));
    let good = lab.path("kubeconfig");
    let good = good.to_str().expect("utf-8 path");
    // KUBECONFIG (the lab sets it) comes before the config file.
    let r = lab.run(&["backends"]).await.expect_code(0);
    assert!(r.stdout.contains("ontap-nas-dr"), "{}", r.all());
    // --kubeconfig comes first of all.
    let r = lab
        .run_env(&["backends", "--kubeconfig", good], &[("KUBECONFIG", "")])
        .await
        .expect_code(0);
    assert!(r.stdout.contains("ontap-nas-dr"), "{}", r.all());
    // Without both, the config file's entry is used (and here it is bad).
    let r = lab
        .run_env(&["backends"], &[("KUBECONFIG", "")])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("stale"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn peer_refuses_one_cluster_named_as_both_sites() {
    let lab = Lab::start().await;
    let before = lab.snapshot();
    // --context names the DR site: here it is the primary's context.
    let r = lab
        .run(&["peer", "--svm", "svm1", "--context", "primary", "--yes"])
        .await
        .expect_code(2);
    for part in [
        "primary (context primary)",
        "dr (context primary)",
        "same Kubernetes cluster",
        "same ONTAP cluster",
        "--dr-context",
    ] {
        assert!(r.stderr.contains(part), "{part}: {}", r.stderr);
    }
    assert!(!r.stderr.contains("re-run"), "{}", r.stderr);
    assert_eq!(lab.snapshot(), before, "nothing may change");
}

#[tokio::test(flavor = "multi_thread")]
async fn workflows_refuse_one_cluster_named_as_both_sites() {
    let lab = Lab::start().await;
    lab.peer().await;
    let before = lab.snapshot();
    for args in [
        &["failover", "--force", "--yes", "--context", "primary"][..],
        &["switchover", "--yes", "--dr-context", "primary"][..],
        &["resync", "--yes", "--primary-context", "dr"][..],
    ] {
        let r = lab.run(args).await.expect_code(2);
        assert!(
            r.stderr.contains("same ONTAP cluster"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("--primary-context"), "{}", r.stderr);
    }
    assert_eq!(lab.snapshot(), before, "nothing may change");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_one_cluster_named_as_both_sites() {
    let lab = Lab::start().await;
    lab.peer().await;
    let j = lab
        .run(&["status", "-o", "json", "--context", "primary"])
        .await
        .expect_code(1)
        .json();
    let problems = j["problems"].to_string();
    assert!(problems.contains("same ONTAP cluster"), "{problems}");
    assert!(problems.contains("same Kubernetes cluster"), "{problems}");
    assert!(problems.contains("--dr-context"), "{problems}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_are_not_unreachable_and_name_their_source() {
    let lab = Lab::start_with(LabOptions {
        config_credentials: false,
        ..LabOptions::default()
    })
    .await;
    let env = [
        ("SVMDR_ONTAP_USERNAME", "admin"),
        ("SVMDR_ONTAP_PASSWORD", "wrong-pass-123"),
    ];
    let r = lab.run_env(&["status"], &env).await.expect_code(1);
    assert!(r.stdout.contains("AUTHENTICATION FAILED"), "{}", r.stdout);
    assert!(!r.stdout.contains("UNREACHABLE"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("credentials: SVMDR_ONTAP_USERNAME/SVMDR_ONTAP_PASSWORD"),
        "{}",
        r.stdout
    );
    let j = lab
        .run_env(&["status", "-o", "json"], &env)
        .await
        .expect_code(1)
        .json();
    assert_eq!(j["sites"]["dr"]["failure"], "authenticationFailed", "{j}");
    assert_eq!(j["sites"]["dr"]["reachable"], true, "{j}");
    assert!(
        !lab.run_env(&["status"], &env)
            .await
            .all()
            .contains("wrong-pass-123")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_after_refused_credentials_says_what_to_fix_not_re_run() {
    let lab = Lab::start().await;
    lab.peer().await;
    // The Secret the config file names now holds a wrong password.
    lab.primary_kube
        .apply(sim::kube::fixtures::ontap_credentials_secret(
            ADMIN_SECRET,
            "trident",
            "admin",
            "wrong-pass-123",
        ))
        .expect("replace the Secret");
    let r = lab.run(&["switchover", "--yes"]).await.expect_code(2);
    assert!(r.stderr.contains("authentication failed"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("(credentials: Secret trident/ontap-cluster-admin from the config file)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("  fix: "), "{}", r.stderr);
    assert!(!r.stderr.contains("next:"), "{}", r.stderr);
    assert!(!r.stderr.contains("re-run"), "{}", r.stderr);
    assert!(!r.stderr.contains("UNREACHABLE"), "{}", r.stderr);
    assert!(!r.all().contains("wrong-pass-123"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_certificate_names_the_tls_flags() {
    let lab = Lab::start().await;
    lab.peer().await;
    let other = sim::tls::Identity::generate("other-ca", &[]).expect("CA");
    std::fs::write(lab.path("ca.pem"), other.ca_pem()).expect("write");
    for args in [&["sync"][..], &["failover", "--force", "--yes"][..]] {
        let r = lab.run(args).await.expect_code(2);
        assert!(
            r.stderr.contains("--insecure-skip-tls-verify"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("--ca-file"), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("re-run"), "{args:?}: {}", r.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_credentials_secret_is_blamed_on_the_config_entry() {
    let lab = Lab::start().await;
    let ca = lab.path("ca.pem");
    let cfg = json!({
        "primary": {"context": "primary", "caFile": ca, "credentialsSecret": {"name": ADMIN_SECRET}},
        "dr": {"context": "dr", "caFile": ca, "credentialsSecret": {"name": "no-such-secret"}},
    });
    lab.set_config(&serde_yaml::to_string(&cfg).expect("yaml"));
    let r = lab
        .run(&["peer", "--svm", "svm1", "--yes"])
        .await
        .expect_code(2);
    assert!(r.stderr.contains("dr.credentialsSecret"), "{}", r.stderr);
    assert!(r.stderr.contains("trident/no-such-secret"), "{}", r.stderr);
    assert!(r.stderr.contains("config file"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("ontap-nas-dr"),
        "blames the backend: {}",
        r.stderr
    );
    let _ = ADMIN_PASSWORD;
}

#[tokio::test(flavor = "multi_thread")]
async fn backends_tells_a_refused_login_from_an_unreachable_cluster() {
    let lab = Lab::start_with(LabOptions {
        primary_trident_login: ("admin".into(), "wrong-pass-123".into()),
        ..LabOptions::default()
    })
    .await;
    let r = lab
        .run(&["backends", "--site", "primary"])
        .await
        .expect_code(1);
    assert!(r.stdout.contains("authentication failed:"), "{}", r.stdout);
    assert!(!r.stdout.contains("unreachable"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("credentials: Trident backend Secret trident/"),
        "{}",
        r.stdout
    );
    assert!(!r.all().contains("wrong-pass-123"));
}
