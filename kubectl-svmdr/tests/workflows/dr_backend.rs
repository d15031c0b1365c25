//! The DR Trident backend through a failover: offline by design before it
//! (`status` notes it), prompted and waited for by `backends-online`, a
//! problem in `status` when it stays offline after the failover, and a
//! re-run that finds it online.

use serde_json::{Value, json};

use super::common::{Lab, step_statuses};

/// Sets the lab's DR TridentBackend's state as Trident would.
fn set_dr_backend(lab: &Lab, online: bool) {
    let mut tbe: Value = lab
        .dr_kube
        .list("trident.netapp.io/v1", "TridentBackend", Some("trident"))
        .into_iter()
        .next()
        .expect("the lab has a DR TridentBackend");
    tbe["state"] = json!(if online { "online" } else { "offline" });
    tbe["online"] = json!(online);
    tbe["stateReason"] = json!(if online {
        ""
    } else {
        "SVM svm1_dr is not in running state"
    });
    lab.dr_kube.apply(tbe).expect("backend state");
}

fn backend<'a>(status: &'a Value, site: &str) -> &'a Value {
    status["tridentBackends"]
        .as_array()
        .and_then(|a| a.iter().find(|b| b["site"] == site))
        .unwrap_or_else(|| panic!("no {site} backend in {status:#}"))
}

#[tokio::test]
async fn dr_backend_offline_until_the_failover_brings_it_online() {
    let lab = Lab::start().await;
    lab.peer().await;
    set_dr_backend(&lab, false);

    // Before the failover: offline is expected, not a problem.
    let before = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    let dr = backend(&before, "dr");
    assert_eq!(dr["state"], "offline", "{before:#}");
    assert_eq!(dr["expectedOffline"], true, "{before:#}");
    assert_eq!(dr["svm"], "svm1_dr");
    assert_eq!(backend(&before, "primary")["state"], "online");
    let table = lab.run(&["status"]).await.expect_code(0);
    assert!(
        table.stdout.contains("offline (expected)"),
        "{}",
        table.stdout
    );

    // The failover waits, prompts Trident, and names the backend when it
    // stays offline.
    lab.primary_site_down();
    let failed = lab
        .run(&[
            "failover",
            "--yes",
            "--request-timeout",
            "3s",
            "--backend-grace",
            "0s",
            "--backend-timeout",
            "1s",
        ])
        .await
        .expect_code(2);
    let err = &failed.stderr;
    assert!(err.contains("step backends-online"), "{err}");
    assert!(
        err.contains("Trident backend ontap-nas-dr (SVM svm1_dr): state offline, userState normal, stateReason \"SVM svm1_dr is not in running state\""),
        "{err}"
    );
    let secret = &lab.dr_trident.secret_name;
    assert!(
        err.contains(&format!("annotated Secret trident/{secret}")),
        "{err}"
    );
    let s = lab
        .dr_kube
        .get("v1", "Secret", Some("trident"), secret)
        .expect("secret");
    assert!(
        s["metadata"]["annotations"]["svmdr.netapp.io/backend-reconcile-requested-at"].is_string(),
        "{s:#}"
    );

    // After the failover an offline DR backend is a problem.
    let after = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(backend(&after, "dr")["expectedOffline"], false, "{after:#}");
    assert!(
        after["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x.as_str().is_some_and(|x| x.contains(
                "Trident backend ontap-nas-dr on the DR cluster (SVM svm1_dr) is offline"
            )))),
        "{after:#}"
    );

    // Trident brings it online: the re-run finishes.
    set_dr_backend(&lab, true);
    let rerun = lab
        .run(&["failover", "--yes", "--request-timeout", "3s", "-o", "json"])
        .await
        .expect_code(0)
        .json();
    let steps = step_statuses(&rerun["timeline"]["steps"]);
    assert!(
        steps
            .iter()
            .any(|(id, st)| id == "backends-online" && st == "skipped"),
        "{steps:?}"
    );
}
