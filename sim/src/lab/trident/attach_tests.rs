//! Attach and mount against the real ONTAP simulator: the NFS mount's
//! export-policy check is ONTAP's own (`Control::nfs_mount_check`).

use serde_json::{Value, json};

use super::attach::{VolumeProblem, check_volume, node_addresses};
use super::backends;
use super::ontap_view::OntapView;
use crate::kube::fixtures::{DR_NODES, TridentSite, node, trident_csi_pv, trident_volume};
use crate::kube::{KubeHandle, KubeSim};
use crate::ontap::{Control, OntapSim, Topology};

/// A Trident volume of the two-site example's `svm1` on `primary`.
const VOL: &str = "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90";
/// The same, offline.
const OFFLINE: &str = "offline_vol";

struct Lab {
    _ontap: OntapSim,
    ontap: Control,
    kube: KubeSim,
    site: TridentSite,
}

async fn lab() -> Lab {
    let mut topo = Topology::two_sites();
    let svm = &mut topo.clusters[0].svms[0];
    let mut offline = svm
        .volumes
        .iter()
        .find(|v| v.name == VOL)
        .expect("the example has VOL")
        .clone();
    offline.name = OFFLINE.into();
    offline.state = "offline".into();
    offline.junction_path = Some(format!("/{OFFLINE}"));
    svm.volumes.push(offline);
    let sim = OntapSim::start(topo).await.expect("ontap");
    let kube = KubeSim::start("dr").await.expect("kube");
    let site = TridentSite::new("nas-dr", &sim.url("primary"), "svm1").with_nodes(&DR_NODES);
    site.seed(&kube).expect("seed");
    Lab {
        ontap: sim.control(),
        _ontap: sim,
        kube,
        site,
    }
}

fn rule(index: u64, clients: &str) -> Value {
    json!({"index": index, "clients": [{"match": clients}], "protocols": ["any"],
           "ro_rule": ["any"], "rw_rule": ["any"], "superuser": ["any"]})
}

impl Lab {
    fn edit_backend(&self, f: impl FnOnce(&mut Value)) {
        let mut cr = backends::by_uuid(&self.kube.handle(), "trident", &self.site.backend_uuid)
            .expect("backend")
            .cr;
        f(&mut cr);
        self.kube.apply(cr).expect("backend");
    }
    fn trident_volume(&self, backend_uuid: &str, flexvol: &str) {
        self.kube
            .apply(trident_volume(
                "trident",
                "pvc-1",
                backend_uuid,
                flexvol,
                "file",
                "1Gi",
                "198.51.100.5",
                &format!("/{flexvol}"),
            ))
            .expect("tv");
    }
    fn check(&self, kube: &KubeHandle, node: &Value) -> Result<(), VolumeProblem> {
        let pv = trident_csi_pv(
            "pvc-1",
            &self.site.backend_uuid,
            VOL,
            "file",
            "1Gi",
            "shop",
            "data",
            "Retain",
        );
        check_volume(
            kube,
            "trident",
            &OntapView::read(&self.ontap),
            &self.ontap,
            &pv,
            node,
        )
    }
    fn set_default_rules(&self, rules: Vec<Value>) {
        self.ontap
            .try_set_export_rules("primary", "svm1", "default", rules)
            .expect("rules");
    }
}

fn mount_error(r: Result<(), VolumeProblem>) -> String {
    match r {
        Err(VolumeProblem::Mount(m)) => m,
        other => panic!("want a mount failure, got {other:?}"),
    }
}

#[test]
fn the_nfs_client_is_the_first_internal_ip() {
    let mut n = node("dr-node-1", "198.51.100.21");
    n["status"]["addresses"] = json!([
        {"type": "ExternalIP", "address": "203.0.113.9"},
        {"type": "InternalIP", "address": "198.51.100.21"},
        {"type": "InternalIP", "address": "198.51.100.99"},
        {"type": "Hostname", "address": "dr-node-1"}]);
    let a = node_addresses(&n);
    assert_eq!(
        a.internal_ips.first().map(ToString::to_string).as_deref(),
        Some("198.51.100.21")
    );
    assert_eq!(a.internal_ips.len(), 2);
    assert_eq!(a.hostname.as_deref(), Some("dr-node-1"));
}

#[tokio::test]
async fn attach_needs_a_trident_volume_an_online_backend_and_the_export_policy() {
    let lab = lab().await;
    let kube = lab.kube.handle();
    let dr_node = node(DR_NODES[0].0, DR_NODES[0].1);
    assert_eq!(
        lab.check(&kube, &dr_node),
        Err(VolumeProblem::Attach(
            "rpc error: code = NotFound desc = volume pvc-1 was not found".into()
        ))
    );
    // The TridentVolume's own backend decides, not the PV's backendUUID.
    lab.trident_volume("other-uuid", VOL);
    assert_eq!(
        lab.check(&kube, &dr_node),
        Err(VolumeProblem::Attach(
            "rpc error: code = Unknown desc = backend other-uuid not found".into()
        ))
    );
    lab.trident_volume(&lab.site.backend_uuid, VOL);
    assert_eq!(lab.check(&kube, &dr_node), Ok(()));
    lab.edit_backend(|b| b["state"] = json!("offline"));
    assert_eq!(
        lab.check(&kube, &dr_node),
        Err(VolumeProblem::Attach(
            "rpc error: code = Unknown desc = backend nas-dr is not Online or Deleting".into()
        ))
    );
    lab.edit_backend(|b| b["state"] = json!("online"));

    // An export policy replicated from the primary: only the primary nodes.
    lab.set_default_rules(vec![rule(1, "192.0.2.11,192.0.2.12")]);
    let m = mount_error(lab.check(&kube, &dr_node));
    assert!(
        m.starts_with(&format!(
            "rpc error: code = Internal desc = mount.nfs: access denied by server while mounting 198.51.100.5:/{VOL} (simulated ONTAP: "
        )),
        "{m}"
    );
    assert!(m.contains("node dr-node-1 (198.51.100.21)"), "{m}");
    assert!(
        m.contains("no rule of export policy default matches client 198.51.100.21"),
        "{m}"
    );
    // The first matching rule by index decides, whatever order the rules
    // are listed in: a rule admitting the DR subnet ahead of a denying one
    // lets the node in...
    let mut deny = rule(2, "0.0.0.0/0");
    deny["ro_rule"] = json!(["never"]);
    lab.set_default_rules(vec![deny.clone(), rule(1, "198.51.100.0/24")]);
    assert_eq!(lab.check(&kube, &dr_node), Ok(()));
    // ...and a denying rule ahead of the admitting one keeps it out.
    deny["index"] = json!(1);
    lab.set_default_rules(vec![rule(2, "198.51.100.0/24"), deny]);
    let m = mount_error(lab.check(&kube, &dr_node));
    assert!(
        m.contains(
            "export policy default rule 1 (clientmatch 0.0.0.0/0) gives AUTH_SYS clients no access"
        ),
        "{m}"
    );
    // The node's host name reaches ONTAP's clientmatch.
    lab.set_default_rules(vec![rule(1, "dr-node-1")]);
    assert_eq!(lab.check(&kube, &dr_node), Ok(()));
    // Read-only access fails the Pod's read-write mount.
    let mut ro = rule(1, "198.51.100.0/24");
    ro["rw_rule"] = json!(["never"]);
    lab.set_default_rules(vec![ro]);
    let m = mount_error(lab.check(&kube, &dr_node));
    assert!(m.contains("access denied by server"), "{m}");
    assert!(m.contains("gives AUTH_SYS clients read-only access"), "{m}");
    lab.set_default_rules(vec![rule(1, "0.0.0.0/0")]);
    assert_eq!(lab.check(&kube, &dr_node), Ok(()));

    // The ONTAP volume offline, or gone: the mount fails.
    lab.trident_volume(&lab.site.backend_uuid, OFFLINE);
    let m = mount_error(lab.check(&kube, &dr_node));
    assert!(m.contains("No such file or directory"), "{m}");
    assert!(
        m.contains(&format!("volume {OFFLINE} on SVM svm1 is offline")),
        "{m}"
    );
    lab.trident_volume(&lab.site.backend_uuid, "no_such_volume");
    let m = mount_error(lab.check(&kube, &dr_node));
    assert!(
        m.contains("volume no_such_volume on SVM svm1 is missing"),
        "{m}"
    );
}

#[tokio::test]
async fn auto_export_policy_publish_admits_the_node() {
    let lab = lab().await;
    let kube = lab.kube.handle();
    lab.ontap
        .try_set_export_rules("primary", "svm1", "trident_empty", vec![])
        .expect("policy");
    lab.ontap
        .try_set_volume_export_policy("primary", "svm1", VOL, "trident_empty")
        .expect("policy");
    lab.trident_volume(&lab.site.backend_uuid, VOL);
    let dr_node = node(DR_NODES[1].0, DR_NODES[1].1);
    // Without autoExportPolicy the empty policy refuses every client.
    let m = mount_error(lab.check(&kube, &dr_node));
    assert!(
        m.contains("no rule of export policy trident_empty matches client 198.51.100.22"),
        "{m}"
    );
    lab.edit_backend(|b| b["config"]["ontap_config"]["autoExportPolicy"] = json!(true));
    assert_eq!(lab.check(&kube, &dr_node), Ok(()));
    let snap = lab.ontap.snapshot();
    let vol = snap["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["cluster"] == "primary" && v["name"] == VOL)
        .expect("volume");
    assert_eq!(vol["export_policy"], VOL);
    let own = OntapView::from_snapshot(snap.clone())
        .export_rules("primary", "svm1", VOL)
        .expect("the volume's own policy");
    assert!(
        own.iter()
            .any(|r| r["clients"][0]["match"] == "198.51.100.22"),
        "{own:?}"
    );
}
