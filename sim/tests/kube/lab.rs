//! The "done when" scenario: two ONTAP clusters and two Kubernetes clusters,
//! Trident seeded on each pointing at its ONTAP, and kube-rs following a PV
//! to the ONTAP volume behind it in a few lines (the ONTAP side through the
//! simulator's own REST API only).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::PersistentVolume;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use sim::kube::KubeSim;
use sim::kube::fixtures::TridentSite;
use sim::ontap::{OntapSim, Timing, Topology};

use super::common::{client, pem_to_der, within};

/// An existing Trident-named volume in the two-sites topology (svm1 on primary).
const PV: &str = "pvc-0b6f4a2e-6c1d-4f6b-9d3a-2f1e5c7a8b90";

fn ontap_http(ca_pem: &str) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(pem_to_der(ca_pem)))
        .unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn two_sites_trident_to_ontap() {
    let lab = OntapSim::start_with(Topology::two_sites(), Timing::fast())
        .await
        .unwrap();
    let primary = KubeSim::start("primary").await.unwrap();
    let dr = KubeSim::start("dr").await.unwrap();

    let mut site_a =
        TridentSite::new("ontap-nas", &lab.url("primary"), "svm1").credentials("admin", "Netapp1!");
    site_a.data_lif = "127.0.0.1".into();
    site_a.seed(&primary).unwrap();
    let (_, internal) = site_a
        .add_volume_named(&primary, PV, "app", "data", "10Gi", "Retain")
        .unwrap();
    let site_b =
        TridentSite::new("ontap-nas", &lab.url("dr"), "svm1").credentials("admin", "Netapp1!");
    site_b.seed(&dr).unwrap();

    // kube-rs, primary: PV -> backendUUID -> TridentBackend -> ONTAP address/SVM.
    let pvs: Api<PersistentVolume> = Api::all(client(&primary));
    let pv = within("get pv", pvs.get(PV)).await.unwrap();
    let attrs = pv.spec.unwrap().csi.unwrap().volume_attributes.unwrap();
    let tbe_ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("trident.netapp.io", "v1", "TridentBackend"),
        "tridentbackends",
    );
    let tbes: Api<DynamicObject> = Api::namespaced_with(client(&primary), "trident", &tbe_ar);
    let backends = within("list tbe", tbes.list(&ListParams::default()))
        .await
        .unwrap();
    let tbe = backends
        .items
        .iter()
        .find(|b| b.data["backendUUID"] == attrs["backendUUID"].as_str())
        .expect("the PV's backend");
    let ontap = &tbe.data["config"]["ontap_config"];
    let mgmt = ontap["managementLIF"].as_str().unwrap();
    assert_eq!(format!("https://{mgmt}"), lab.url("primary"));
    assert_eq!(ontap["svm"], "svm1");
    assert_eq!(attrs["internalName"], internal.as_str());

    // The ONTAP volume Trident's naming points at exists on that SVM.
    let http = ontap_http(lab.ca_pem());
    let body: serde_json::Value = http
        .get(format!("https://{mgmt}/api/storage/volumes"))
        .query(&[("name", internal.as_str()), ("svm.name", "svm1")])
        .basic_auth("admin", Some("Netapp1!"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["num_records"], 1, "{body}");
    assert_eq!(body["records"][0]["name"], internal.as_str());

    // The DR cluster's Trident points at the other ONTAP cluster.
    let dr_tbes: Api<DynamicObject> = Api::namespaced_with(client(&dr), "trident", &tbe_ar);
    let dr_backends = dr_tbes.list(&ListParams::default()).await.unwrap();
    let dr_mgmt = dr_backends.items[0].data["config"]["ontap_config"]["managementLIF"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(format!("https://{dr_mgmt}"), lab.url("dr"));
    assert_ne!(dr_mgmt, mgmt);

    // Primary site lost: its Kubernetes API stops answering, DR's does not.
    primary.set_down(true);
    assert!(pvs.get(PV).await.is_err());
    assert_eq!(
        dr_tbes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}
