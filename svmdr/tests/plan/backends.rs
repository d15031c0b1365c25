//! The failover's `backends-online` step against the simulated DR
//! Kubernetes API: TridentBackend objects the test sets offline, then
//! online (standing in for Trident), and the prompt on the TBC's
//! credentials Secret.

use std::time::Duration;

use serde_json::{Value, json};
use sim::kube::KubeSim;
use sim::kube::fixtures::{
    bound_backend_config_status, ontap_credentials_secret, trident_backend, trident_backend_config,
};
use sim::ontap::Timing;
use svmdr::plan::engine::StepStatus;
use svmdr::plan::failover::FailoverOptions;
use svmdr::plan::trident::{PROMPT_ANNOTATION, TridentApi};
use svmdr::plan::{EngineOptions, PlanError, RunReport, execute};
use svmdr::report::NoopReporter;

use super::lab::{DR_SVM, Lab, fast_timeouts};

const NS: &str = "trident";
const SECRET: &str = "ontap-dr-creds";

/// The DR cluster's Kubernetes with Trident's namespace, a TBC for the DR
/// SVM, its Secret and its TridentBackend in `state`/`user_state`.
async fn dr_kube(state: &str, user_state: &str) -> (KubeSim, kube::Client, Value) {
    let sim = KubeSim::start("dr").await.expect("kube sim");
    sim.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        .expect("namespace");
    sim.apply(ontap_credentials_secret(SECRET, NS, "vsadmin", "pw"))
        .expect("secret");
    let mut tbc = sim
        .apply(trident_backend_config(
            "ontap-nas-dr",
            NS,
            "ontap-nas",
            "198.51.100.21",
            DR_SVM,
            "",
            SECRET,
            "",
        ))
        .expect("tbc");
    tbc["status"] = bound_backend_config_status("ontap-nas-dr", "uuid-dr");
    let mut tbe = trident_backend(&tbc, "uuid-dr", state);
    tbe["userState"] = json!(user_state);
    if state != "online" {
        tbe["stateReason"] = json!(format!("SVM {DR_SVM} is not in running state"));
    }
    let tbe = sim.apply(tbe).expect("tbe");
    let kc = sim::kube::kubeconfig_yaml(&[("dr", &sim)]).expect("kubeconfig");
    let kc = kube::config::Kubeconfig::from_yaml(&kc).expect("parse kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(config).expect("client");
    (sim, client, tbe)
}

/// Fails over with the primary down and the DR Trident reachable.
async fn failover(lab: &Lab, trident: TridentApi, wait: Duration) -> Result<RunReport, PlanError> {
    lab.sim.control().set_cluster_down("primary", true);
    let obs = lab
        .sites()
        .observe(&lab.pair(), true, true)
        .await
        .expect("observe");
    let opts = FailoverOptions {
        force: false,
        backend_grace: Duration::from_millis(300),
        backend_wait: wait,
    };
    let plan = svmdr::plan::failover::plan(&obs, &lab.pair(), opts)?;
    let mut sites = lab.sites();
    sites.primary = None;
    sites.trident = Some(trident);
    let engine = EngineOptions {
        poll_interval: Duration::from_millis(50),
        step_timeout: Duration::from_secs(10),
        before_step: None,
    };
    execute(&plan, &sites, &engine, &NoopReporter)
        .await
        .map_err(|f| f.error)
}

fn secret_prompted(sim: &KubeSim) -> bool {
    sim.get("v1", "Secret", Some(NS), SECRET)
        .and_then(|s| {
            s.pointer(&format!(
                "/metadata/annotations/{}",
                PROMPT_ANNOTATION.replace('/', "~1")
            ))
            .cloned()
        })
        .is_some()
}

#[tokio::test]
async fn an_offline_dr_backend_is_prompted_and_waited_for() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let (sim, client, mut tbe) = dr_kube("offline", "normal").await;
    // Stands in for Trident: the backend comes online once prompted.
    let handle = sim.handle();
    let watcher = {
        let sim_secret = handle.clone();
        tokio::spawn(async move {
            for _ in 0..400 {
                let prompted = sim_secret
                    .get("v1", "Secret", Some(NS), SECRET)
                    .is_some_and(|s| {
                        s.pointer("/metadata/annotations")
                            .and_then(Value::as_object)
                            .is_some_and(|a| a.contains_key(PROMPT_ANNOTATION))
                    });
                if prompted {
                    tbe["state"] = json!("online");
                    tbe["online"] = json!(true);
                    tbe["stateReason"] = json!("");
                    sim_secret.apply(tbe).expect("backend online");
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            false
        })
    };
    let report = failover(&lab, TridentApi::new(client, NS), Duration::from_secs(10))
        .await
        .expect("failover");
    assert!(
        watcher.await.expect("watcher"),
        "Trident was never prompted"
    );
    let step = report.timeline.steps.last().expect("steps");
    assert_eq!(step.id, "backends-online");
    assert_eq!(step.status, StepStatus::Succeeded, "{step:?}");
    assert!(secret_prompted(&sim));
}

#[tokio::test]
async fn a_backend_that_stays_offline_fails_the_step_with_the_fix() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let (sim, client, _) = dr_kube("offline", "normal").await;
    let dr_calls = lab.sim.control().request_count("dr");
    let err = failover(&lab, TridentApi::new(client, NS), Duration::from_secs(3))
        .await
        .expect_err("backend stays offline");
    // The 3 s wait reads Trident only: the DR ONTAP calls are those of the
    // steps before it, not one round per poll (50 ms here).
    let dr_calls = lab.sim.control().request_count("dr") - dr_calls;
    assert!(
        dr_calls < 40,
        "{dr_calls} DR ONTAP calls during a failover that waited 3 s"
    );
    let text = err.to_string();
    assert!(matches!(err, PlanError::BackendsOffline { .. }), "{err:?}");
    assert!(text.contains("step backends-online"), "{text}");
    assert!(
        text.contains("Trident backend ontap-nas-dr (SVM svm1_dr): state offline, userState normal, stateReason \"SVM svm1_dr is not in running state\""),
        "{text}"
    );
    assert!(
        text.contains("annotated Secret trident/ontap-dr-creds"),
        "{text}"
    );
    assert!(err.hint().contains("stateReason"), "{}", err.hint());
    assert!(secret_prompted(&sim));
}

#[tokio::test]
async fn a_suspended_backend_is_reported_not_waited_on() {
    let lab = Lab::start(Timing::fast(), fast_timeouts()).await;
    let (sim, client, _) = dr_kube("offline", "suspended").await;
    let report = failover(&lab, TridentApi::new(client, NS), Duration::from_secs(10))
        .await
        .expect("failover");
    let step = report.timeline.steps.last().expect("steps");
    assert_eq!(step.status, StepStatus::Skipped, "{step:?}");
    let note = step.note.as_deref().unwrap_or_default();
    assert!(note.contains("userState suspended"), "{note}");
    assert!(note.contains("not waited on"), "{note}");
    assert!(
        !secret_prompted(&sim),
        "a suspended backend is not prompted"
    );
}
