//! Authentication, kubeconfig files, discovery, "site down", the request
//! log, create hooks, Events from kube-runtime's Recorder, and kubectl.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ObjectReference, Secret};
use kube::api::{ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{Discovery, Scope};
use kube::{Api, ResourceExt};
use serde_json::json;
use sim::kube::{KubeSim, ResourceType, write_kubeconfig};

use super::common::{client, pem_to_der, within};

#[tokio::test]
async fn requests_without_the_token_get_401() {
    let sim = KubeSim::start("primary").await.unwrap();
    let mut config = kube::Config::new(sim.url().parse().unwrap());
    config.root_cert = Some(vec![pem_to_der(sim.ca_pem())]);
    let anonymous = kube::Client::try_from(config.clone()).unwrap();
    let secrets: Api<Secret> = Api::namespaced(anonymous, "default");
    match within("anonymous list", secrets.list(&ListParams::default())).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 401);
            assert_eq!(s.reason, "Unauthorized");
            assert_eq!(s.message, "Unauthorized");
        }
        other => panic!("expected 401, got {other:?}"),
    }
    config.auth_info.token = Some("wrong".to_string().into());
    let wrong: Api<Secret> = Api::namespaced(kube::Client::try_from(config).unwrap(), "default");
    assert!(matches!(
        within("wrong token", wrong.list(&ListParams::default())).await,
        Err(kube::Error::Api(s)) if s.code == 401
    ));
    // The token never shows up in the server's own Debug output.
    assert!(!format!("{sim:?}").contains(sim.token()));
}

#[tokio::test]
async fn tls_is_verified_against_the_lab_ca() {
    let sim = KubeSim::start("primary").await.unwrap();
    let other = KubeSim::start("dr").await.unwrap();
    let mut config = kube::Config::new(sim.url().parse().unwrap());
    config.root_cert = Some(vec![pem_to_der(other.ca_pem())]);
    config.auth_info.token = Some(sim.token().to_string().into());
    let client = kube::Client::try_from(config).unwrap();
    let err = within("wrong CA", client.apiserver_version())
        .await
        .unwrap_err();
    assert!(
        !matches!(err, kube::Error::Api(_)),
        "TLS must fail before HTTP: {err:?}"
    );
}

#[tokio::test]
async fn kubeconfig_with_two_contexts() {
    let primary = KubeSim::start("primary").await.unwrap();
    let dr = KubeSim::start("dr").await.unwrap();
    primary
        .apply(sim::kube::fixtures::ontap_credentials_secret(
            "p", "trident", "admin", "pw",
        ))
        .unwrap();
    dr.apply(sim::kube::fixtures::ontap_credentials_secret(
        "d", "trident", "admin", "pw",
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    write_kubeconfig(&path, &[("primary", &primary), ("dr", &dr)]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the kubeconfig holds tokens");
    }
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    assert_eq!(kubeconfig.current_context.as_deref(), Some("primary"));

    let mut names = Vec::new();
    for context in [None, Some("dr".to_string())] {
        let options = KubeConfigOptions {
            context,
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &options)
            .await
            .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let secrets: Api<Secret> = Api::namespaced(client, "trident");
        let list = within("list", secrets.list(&ListParams::default()))
            .await
            .unwrap();
        names.push(list.items.iter().map(|s| s.name_any()).collect::<Vec<_>>());
    }
    assert_eq!(names, [vec!["p"], vec!["d"]]);
}

#[tokio::test]
async fn discovery_plain_and_aggregated() {
    let sim = KubeSim::start("primary").await.unwrap();
    let client = client(&sim);
    let version = within("version", client.apiserver_version()).await.unwrap();
    assert_eq!(version.major, "1");

    let plain = within("discovery", Discovery::new(client.clone()).run())
        .await
        .unwrap();
    let aggregated = within(
        "aggregated discovery",
        Discovery::new(client.clone()).run_aggregated(),
    )
    .await
    .unwrap();
    for d in [&plain, &aggregated] {
        let gvk = kube::api::GroupVersionKind::gvk("trident.netapp.io", "v1", "TridentBackend");
        let (ar, caps) = d.resolve_gvk(&gvk).expect("TridentBackend is discovered");
        assert_eq!(ar.plural, "tridentbackends");
        assert_eq!(caps.scope, Scope::Namespaced);
        let pv = kube::api::GroupVersionKind::gvk("", "v1", "PersistentVolume");
        let (ar, caps) = d.resolve_gvk(&pv).expect("PersistentVolume is discovered");
        assert_eq!(ar.plural, "persistentvolumes");
        assert_eq!(caps.scope, Scope::Cluster);
        assert!(caps.subresources.iter().any(|(s, _)| s.plural == "status"));
        let bsl = kube::api::GroupVersionKind::gvk("velero.io", "v1", "BackupStorageLocation");
        assert!(d.resolve_gvk(&bsl).is_some());
        let sc = kube::api::GroupVersionKind::gvk("storage.k8s.io", "v1", "StorageClass");
        assert!(d.resolve_gvk(&sc).is_some());
    }

    // Registering a CRD type is one line, and discovery and the CRD list see it.
    sim.register(
        ResourceType::namespaced("example.com/v1", "Widget", "widgets").short_names(&["wd"]),
    );
    let d = Discovery::new(client.clone()).run().await.unwrap();
    assert!(
        d.resolve_gvk(&kube::api::GroupVersionKind::gvk(
            "example.com",
            "v1",
            "Widget"
        ))
        .is_some()
    );
    let crds = sim.list("apiextensions.k8s.io/v1", "CustomResourceDefinition", None);
    assert!(
        crds.iter()
            .any(|c| c["metadata"]["name"] == "widgets.example.com")
    );
    assert!(
        crds.iter()
            .any(|c| c["metadata"]["name"] == "tridentbackends.trident.netapp.io")
    );
}

#[tokio::test]
async fn a_crd_created_over_the_api_is_served() {
    let sim = KubeSim::start("primary").await.unwrap();
    let client = client(&sim);
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.org"},
        "spec": {
            "group": "example.org",
            "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget", "listKind": "GadgetList"},
            "scope": "Cluster",
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}],
        },
    });
    let crds: Api<kube::api::DynamicObject> = Api::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
            ),
            "customresourcedefinitions",
        ),
    );
    crds.create(
        &PostParams::default(),
        &serde_json::from_value(crd).unwrap(),
    )
    .await
    .unwrap();
    let ar = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("example.org", "v1", "Gadget"),
        "gadgets",
    );
    let gadgets: Api<kube::api::DynamicObject> = Api::all_with(client, &ar);
    let g = serde_json::from_value(
        json!({"apiVersion": "example.org/v1", "kind": "Gadget", "metadata": {"name": "g1"}}),
    )
    .unwrap();
    gadgets.create(&PostParams::default(), &g).await.unwrap();
    assert_eq!(
        gadgets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn site_down_refuses_and_comes_back() {
    let sim = KubeSim::start("primary").await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(client(&sim), "default");
    within("up", secrets.list(&ListParams::default()))
        .await
        .unwrap();
    sim.set_down(true);
    assert!(sim.is_down());
    let addr = sim.url().trim_start_matches("https://").to_string();
    let refused = tokio::net::TcpStream::connect(&addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let err = within("down", secrets.list(&ListParams::default()))
        .await
        .unwrap_err();
    assert!(
        !matches!(err, kube::Error::Api(_)),
        "no HTTP answer while down: {err:?}"
    );
    sim.set_down(false);
    assert!(!sim.is_down());
    within("up again", secrets.list(&ListParams::default()))
        .await
        .unwrap();
}

#[tokio::test]
async fn request_log_and_create_hooks() {
    let sim = KubeSim::start("primary").await.unwrap();
    // A simulated Velero: a new Restore completes at once.
    let handle = sim.handle();
    sim.on_create(
        "velero.io/v1",
        "Restore",
        Box::new(move |restore| {
            let mut done = restore.clone();
            done["status"] = json!({"phase": "Completed"});
            handle.apply(done).expect("the hook's write succeeds");
        }),
    );
    let ar = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("velero.io", "v1", "Restore"),
        "restores",
    );
    sim.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "velero"}}))
        .unwrap();
    let restores: Api<kube::api::DynamicObject> = Api::namespaced_with(client(&sim), "velero", &ar);
    let body = sim::kube::fixtures::velero_restore("r1", "velero", "nightly");
    restores
        .create(
            &PostParams::default(),
            &serde_json::from_value(body).unwrap(),
        )
        .await
        .unwrap();
    let got = restores.get("r1").await.unwrap();
    assert_eq!(got.data["status"]["phase"], "Completed");

    let secrets: Api<Secret> = Api::namespaced(client(&sim), "trident");
    let _ = secrets.list(&ListParams::default()).await;
    let log = sim.request_log();
    assert!(log.contains(&"POST /apis/velero.io/v1/namespaces/velero/restores".to_string()));
    assert!(log.contains(&"GET /api/v1/namespaces/trident/secrets".to_string()));
    sim.clear_request_log();
    assert!(sim.request_log().is_empty());
}

#[tokio::test]
async fn recorder_events_are_stored() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let sim = KubeSim::start("primary").await.unwrap();
    let reporter = Reporter {
        controller: "kubectl-svmdr".into(),
        instance: None,
    };
    let recorder = Recorder::new(client(&sim), reporter);
    let reference = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Namespace".into()),
        name: Some("default".into()),
        ..ObjectReference::default()
    };
    let event = Event {
        type_: EventType::Normal,
        reason: "Failover".into(),
        note: Some("switched to dr".into()),
        action: "Failover".into(),
        secondary: None,
    };
    within("publish", recorder.publish(&event, &reference))
        .await
        .unwrap();
    within("publish again", recorder.publish(&event, &reference))
        .await
        .unwrap();
    let events = sim.list("events.k8s.io/v1", "Event", Some("default"));
    assert_eq!(events.len(), 1, "the second publish updates the series");
    assert_eq!(events[0]["reason"], "Failover");
}

fn kubectl_available() -> bool {
    std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn kubectl_get_secrets() {
    if !kubectl_available() {
        eprintln!("skipped: kubectl is not installed (apt-get install -y kubernetes-client)");
        return;
    }
    let sim = Arc::new(KubeSim::start("primary").await.unwrap());
    sim.apply(sim::kube::fixtures::ontap_credentials_secret(
        "ontap-creds",
        "trident",
        "admin",
        "pw",
    ))
    .unwrap();
    let site = sim::kube::fixtures::TridentSite::new("ontap-nas", "https://127.0.0.1:8443", "svm0");
    site.seed(&sim).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    write_kubeconfig(&path, &[("primary", &sim)]).unwrap();
    let run = |args: Vec<String>| {
        let path = path.clone();
        let cache = dir.path().join("cache");
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&path)
                    .arg("--cache-dir")
                    .arg(&cache)
                    .arg("--request-timeout=10s")
                    .args(&args)
                    .env("HOME", path.parent().unwrap())
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        run(vec![
            "get".into(),
            "secrets".into(),
            "-n".into(),
            "trident".into(),
        ]),
    )
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("NAME"), "{stdout}");
    assert!(stdout.contains("ontap-creds"), "{stdout}");

    let out = run(vec![
        "get".into(),
        "tbe".into(),
        "-n".into(),
        "trident".into(),
        "-o".into(),
        "json".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "kubectl get tbe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["items"][0]["backendUUID"], site.backend_uuid.as_str());

    // No OpenAPI documents are served, so `kubectl apply` needs --validate=false.
    let manifest = dir.path().join("cm.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: trident\ndata:\n  a: b\n",
    )
    .unwrap();
    let out = run(vec![
        "apply".into(),
        "--validate=false".into(),
        "-f".into(),
        manifest.display().to_string(),
    ])
    .await;
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cm = sim
        .get("v1", "ConfigMap", Some("trident"), "x")
        .expect("applied by kubectl");
    assert_eq!(cm["data"]["a"], "b");
}
