//! `readiness::collect_svm_facts` against the ONTAP simulator: export
//! policies, volume export policy names and sizes, and LUNs come with one
//! extra GET each per SVM, and the export evaluation works on what was read.

use std::time::Duration;

use serde_json::json;
use sim::ontap::{Fault, FaultKind, OntapSim, Topology};
use svmdr::ontap::{Auth, OntapClient, OntapConfig, Timeouts, TlsOptions};
use svmdr::readiness::{
    AccessWanted, NodeAddresses, Verdict, check_volume_exports, collect_svm_facts,
};
use svmdr::secret::Secret;

const VOL_A: &str = "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90";
const SAN_VOL: &str = "trident_pvc_7d2a5c4e_1f3b_4a6d_8e9c_0b1a2c3d4e5f";

fn admin(lab: &OntapSim) -> OntapClient {
    OntapClient::new(OntapConfig {
        name: "primary (sim)".into(),
        endpoint: lab.url("primary"),
        auth: Auth::Basic {
            username: "admin".into(),
            password: Secret::new("Netapp1!"),
        },
        tls: TlsOptions {
            ca_pem: Some(lab.ca_pem().to_string()),
            insecure_skip_verify: false,
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(10),
            job: Duration::from_secs(30),
        },
    })
    .expect("client")
}

fn dr_nodes() -> Vec<NodeAddresses> {
    [
        ("dr-node-1", "198.51.100.21"),
        ("dr-node-2", "198.51.100.22"),
    ]
    .iter()
    .map(|(name, ip)| {
        NodeAddresses::from_node(
            &json!({"metadata": {"name": name}, "status": {"addresses": [
                {"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]}}),
        )
    })
    .collect()
}

#[tokio::test]
async fn facts_carry_exports_sizes_and_luns_with_one_call_each() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    let ctl = lab.control();
    let client = admin(&lab);
    let before = ctl.request_counts("primary");
    let f = collect_svm_facts(&client, Some("svm1")).await.unwrap();
    let after = ctl.request_counts("primary");
    for path in [
        "GET /api/protocols/nfs/export-policies",
        "GET /api/storage/luns",
        "GET /api/storage/volumes",
    ] {
        let n = after.get(path).copied().unwrap_or(0) - before.get(path).copied().unwrap_or(0);
        assert_eq!(n, 1, "{path}: {after:?}");
    }
    assert_eq!(f.export_policies_error, None);
    assert_eq!(f.export_policies["default"][0].clients, vec!["0.0.0.0/0"]);
    let v = &f.volumes[VOL_A];
    assert_eq!(v.export_policy.as_deref(), Some("default"));
    assert_eq!(v.size_bytes, Some(10 << 30));
    let luns: Vec<_> = f.luns_in(SAN_VOL).collect();
    assert_eq!(luns.len(), 1, "{:?}", f.luns);
    assert_eq!(luns[0].name, "lun0");
    assert!(luns[0].is_online());

    let want = AccessWanted::trident_nfs();
    let r = check_volume_exports(&f, VOL_A, &dr_nodes(), &want);
    assert!(r.all_admitted(), "{:?}", r.message());

    // The primary's nodes only: both DR nodes are refused, and the message
    // names the policy, the nodes and the fix.
    ctl.set_export_rules(
        "primary",
        "svm1",
        "default",
        vec![json!({"index": 1, "clients": [{"match": "192.0.2.11"}, {"match": "192.0.2.12"}],
                    "protocols": ["nfs"], "ro_rule": ["sys"], "rw_rule": ["sys"], "superuser": ["sys"]})],
    );
    let f = collect_svm_facts(&client, Some("svm1")).await.unwrap();
    let r = check_volume_exports(&f, VOL_A, &dr_nodes(), &want);
    assert_eq!(r.denied().len(), 2);
    assert!(matches!(
        r.decisions[0].verdict,
        Verdict::Denied { rule: None, .. }
    ));
    let m = r.message().unwrap();
    assert!(m.contains("export policy default of SVM svm1"), "{m}");
    assert!(
        m.contains("-clientmatch 198.51.100.21,198.51.100.22"),
        "{m}"
    );
}

#[tokio::test]
async fn an_export_policy_error_does_not_fail_the_collection() {
    let lab = OntapSim::start(Topology::two_sites()).await.unwrap();
    lab.control().inject_fault(
        "primary",
        Fault {
            method: None,
            path_contains: "/api/protocols/nfs/export-policies".into(),
            kind: FaultKind::Http500,
            times: None,
        },
    );
    let f = collect_svm_facts(&admin(&lab), Some("svm1")).await.unwrap();
    assert!(f.export_policies_error.is_some());
    assert_eq!(f.luns.len(), 1);
    let r = check_volume_exports(&f, VOL_A, &dr_nodes(), &AccessWanted::trident_nfs());
    assert_eq!(r.unverifiable().len(), 2);
    assert!(r.message().unwrap().contains("could not be read"));
}
