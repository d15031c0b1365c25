//! Issue 12, item 10: after a failback exactly one site runs the app.
//! Driving the built binary against the simulated lab:
//! - `failback` scales the Deployment kubectl-svmdr's Velero restore
//!   brought back on DR to 0 (previous replicas in an annotation), shows it
//!   in `--dry-run`, records it in the audit, and `status` says where the
//!   app runs;
//! - a second `restore` of a backup that already has a Completed restore
//!   is refused without `--yes`/`--force` (exit 3) and proceeds with them.

mod common;

#[path = "workflows/velero.rs"]
mod velero;

use common::{Lab, PRIMARY_SVM, VOLUME};
use serde_json::Value;

const ANNOTATION: &str = "svmdr.netapp.io/replicas-before-failback";

fn dr_web(lab: &Lab) -> Value {
    lab.dr_kube
        .get("apps/v1", "Deployment", Some("shop"), "web")
        .expect("Deployment shop/web on DR")
}

fn restores(lab: &Lab) -> usize {
    lab.dr_kube
        .list("velero.io/v1", "Restore", Some("velero"))
        .len()
}

/// The audit entries (`history -o json` items) of `workflow`.
async fn audited(lab: &Lab, workflow: &str) -> Vec<Value> {
    lab.history()
        .await
        .into_iter()
        .filter(|e| e["workflow"] == workflow)
        .collect()
}

#[tokio::test]
async fn failback_stops_the_app_on_dr_and_status_says_it_runs_on_the_primary() {
    let lab = Lab::start().await;
    lab.peer().await;
    let ctl = lab.ontap.control();
    ctl.write("primary", PRIMARY_SVM, VOLUME, 4096)
        .expect("write on primary");
    lab.run(&["sync", "--wait"]).await.expect_code(0);
    velero::install_nightly(&lab.dr_kube, VOLUME, false);
    // Disaster, failover with the restore: the app runs on DR.
    lab.primary_site_down();
    lab.failover_restoring_latest(&[]).await.expect_code(0);
    assert_eq!(dr_web(&lab)["spec"]["replicas"], 1);
    ctl.set_cluster_down("primary", false);
    lab.primary_kube.set_down(false);
    lab.run(&["resync", "--direction", "reverse", "--yes"])
        .await
        .expect_code(0);
    let st = lab.run(&["status", "-o", "json"]).await.json();
    assert_eq!(st["appRunsOn"], "dr", "{st}");

    // --dry-run shows the scale-down and changes nothing.
    let dry = lab.run(&["failback", "--dry-run"]).await.expect_code(0);
    assert!(
        dry.stdout.contains("shop/deployment/web 1 → 0"),
        "{}",
        dry.all()
    );
    assert!(dry.stdout.contains(ANNOTATION), "{}", dry.stdout);
    let dry_json = lab
        .run(&["failback", "--dry-run", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(
        dry_json["drWorkloads"]["scaleDown"][0]["name"], "web",
        "{dry_json}"
    );
    assert_eq!(dr_web(&lab)["spec"]["replicas"], 1, "--dry-run changed it");
    // Without --yes and without a terminal: refused, nothing scaled.
    lab.run(&["failback"]).await.expect_code(3);
    assert_eq!(dr_web(&lab)["spec"]["replicas"], 1);

    let fb = lab
        .run(&["failback", "--yes", "-o", "json"])
        .await
        .expect_code(0);
    let out = fb.json();
    assert_eq!(out["drWorkloadsScaledDown"][0]["name"], "web", "{out}");
    let web = dr_web(&lab);
    assert_eq!(web["spec"]["replicas"], 0, "{web}");
    assert_eq!(web["metadata"]["annotations"][ANNOTATION], "1", "{web}");

    // status: the app runs on the primary only.
    let st = lab.run(&["status", "-o", "json"]).await.json();
    assert_eq!(st["activeSite"], "primary", "{st}");
    assert_eq!(st["appRunsOn"], "primary", "{st}");
    let ns = &st["drWorkloads"]["namespaces"][0];
    assert_eq!(ns["namespace"], "shop", "{st}");
    assert_eq!(ns["scaledUp"], false, "{st}");
    let table = lab.run(&["status"]).await;
    assert!(
        table
            .stdout
            .contains("runs on primary  (restored on DR: shop scaled to 0)"),
        "{}",
        table.all()
    );

    // The audit says what was done.
    let fb_entries = audited(&lab, "failback").await;
    assert!(
        fb_entries.iter().any(|e| e["outcome"] == "succeeded"
            && e["message"].as_str().is_some_and(
                |m| m.contains("scaled to 0 on DR") && m.contains("shop/deployment/web 1 → 0")
            )),
        "{fb_entries:?}"
    );

    // A re-run finds nothing more to scale.
    let again = lab
        .run(&["failback", "--yes", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    assert!(again.get("drWorkloadsScaledDown").is_none(), "{again}");
}

#[tokio::test]
async fn a_status_with_the_restored_app_up_while_the_primary_serves_is_a_problem() {
    let lab = Lab::start().await;
    lab.peer().await;
    velero::install_nightly(&lab.dr_kube, VOLUME, false);
    lab.run(&["restore", "--restore-timeout", "20s"])
        .await
        .expect_code(0);
    let st = lab.run(&["status", "-o", "json"]).await;
    let v = st.json();
    assert_eq!(v["appRunsOn"], "both", "{v}");
    assert_ne!(st.code, 0);
    assert!(
        v["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p.as_str().is_some_and(|p| p
                .contains("the application runs on both sites")
                && p.contains("shop")))),
        "{v}"
    );
}

#[tokio::test]
async fn a_second_restore_of_the_same_backup_needs_yes_or_force() {
    let lab = Lab::start().await;
    velero::install_nightly(&lab.dr_kube, VOLUME, false);
    lab.run(&["restore", "--restore-timeout", "20s"])
        .await
        .expect_code(0);
    assert_eq!(restores(&lab), 1);

    // Not interactive, no --yes: refused with the way out, nothing created.
    let again = lab
        .run(&["restore", "--restore-timeout", "20s"])
        .await
        .expect_code(3);
    assert!(again.stderr.contains("already restored"), "{}", again.all());
    assert!(
        again.stderr.contains("--yes") && again.stderr.contains("--force"),
        "{}",
        again.stderr
    );
    assert_eq!(restores(&lab), 1);
    // --dry-run shows the Restore, marked refused.
    let dry = lab.run(&["restore", "--dry-run"]).await.expect_code(3);
    assert!(dry.stdout.contains("REFUSED (exit 3)"), "{}", dry.all());
    assert!(dry.stdout.contains("backupName: nightly"), "{}", dry.stdout);
    let refused = audited(&lab, "restore").await;
    assert!(
        refused.iter().any(|e| e["outcome"] == "refused"),
        "{refused:?}"
    );

    // --yes answers the question; --force skips it.
    let yes = lab
        .run(&["restore", "--yes", "--restore-timeout", "20s"])
        .await
        .expect_code(0);
    assert!(
        yes.stderr
            .contains("warning: Velero backup nightly was already restored"),
        "{}",
        yes.all()
    );
    assert_eq!(restores(&lab), 2);
    lab.run(&["restore", "--force", "--restore-timeout", "20s"])
        .await
        .expect_code(0);
    assert_eq!(restores(&lab), 3);
}
