//! The simulated Trident's rules against a hand-made ONTAP snapshot (the
//! contract of `Control::snapshot()`), so each rule is exercised alone.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::backends::{self, Backend, state_reason};
use super::import::{ImportRequest, import};
use super::ontap_view::{OntapView, OntapWrites};
use super::*;
use crate::kube::KubeSim;
use crate::kube::fixtures::{
    DR_NODES, TridentSite, storage_class, trident_version, trident_volume,
};

const GI: u64 = 1 << 30;

/// A recording stand-in for the ONTAP simulator's writes.
struct Fake {
    snap: Mutex<Value>,
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn new(snap: Value) -> Self {
        Self {
            snap: Mutex::new(snap),
            calls: Mutex::new(Vec::new()),
        }
    }
    fn view(&self) -> OntapView {
        OntapView::from_snapshot(self.snapshot())
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
    fn edit(&self, f: impl FnOnce(&mut Value)) {
        if let Ok(mut s) = self.snap.lock() {
            f(&mut s);
        }
    }
    fn log(&self, line: String) {
        if let Ok(mut c) = self.calls.lock() {
            c.push(line);
        }
    }
}

impl OntapWrites for Fake {
    fn snapshot(&self) -> Value {
        self.snap.lock().map(|s| s.clone()).unwrap_or_default()
    }
    fn rename_volume(&self, _c: &str, svm: &str, old: &str, new: &str) -> bool {
        self.log(format!("rename {svm}/{old} -> {new}"));
        self.edit(|s| {
            for v in s["volumes"].as_array_mut().into_iter().flatten() {
                if v["name"] == old {
                    v["name"] = json!(new);
                }
            }
        });
        true
    }
    fn set_volume_export_policy(&self, _c: &str, svm: &str, volume: &str, policy: &str) {
        self.log(format!("policy {svm}/{volume} = {policy}"));
        self.edit(|s| {
            for v in s["volumes"].as_array_mut().into_iter().flatten() {
                if v["name"] == volume {
                    v["export_policy"] = json!(policy);
                }
            }
        });
    }
    fn set_export_rules(&self, c: &str, svm: &str, policy: &str, rules: Vec<Value>) {
        self.log(format!("rules {svm}/{policy} = {}", rules.len()));
        self.edit(|s| {
            let list = s["export_policies"].as_array_mut();
            if let Some(list) = list {
                list.retain(|p| p["name"] != policy);
                list.push(json!({"cluster": c, "svm": svm, "name": policy, "rules": rules}));
            }
        });
    }
    /// The NFS mount is ONTAP's to decide: tests of it use the real
    /// simulator (`attach_tests.rs`), not this stand-in.
    fn nfs_mount(
        &self,
        _c: &str,
        svm: &str,
        volume: &str,
        ip: &str,
        _h: Option<&str>,
        _rw: bool,
    ) -> Result<(), String> {
        self.log(format!("mount {svm}/{volume} from {ip}"));
        Err("the Fake does not evaluate export rules".into())
    }
}

fn rule(index: u64, clients: &str) -> Value {
    json!({"index": index, "clients": [{"match": clients}], "protocols": ["any"],
           "ro_rule": ["any"], "rw_rule": ["any"], "superuser": ["any"]})
}

/// One DR cluster (management port 1) with SVM `svm1`, an NFS LIF, volume
/// `vol1` (10 GiB, export policy `default` allowing everyone) and a SAN
/// volume `lunvol` holding `/vol/lunvol/lun0`.
fn snapshot() -> Value {
    json!({
        "clusters": [{"key": "dr", "port": 1, "down": false}],
        "svms": [{"cluster": "dr", "name": "svm1", "state": "running", "subtype": "default"}],
        "lifs": [{"cluster": "dr", "svm": "svm1", "name": "nfs1", "ip": "198.51.100.5",
                  "service_policy": "default-data-files", "up": true},
                 {"cluster": "dr", "svm": "svm1", "name": "iscsi1", "ip": "198.51.100.6",
                  "service_policy": "default-data-blocks", "up": true}],
        "volumes": [
            {"cluster": "dr", "svm": "svm1", "name": "vol1", "type": "rw", "state": "online",
             "size": 10 * GI, "export_policy": "default"},
            {"cluster": "dr", "svm": "svm1", "name": "lunvol", "type": "rw", "state": "online",
             "size": 10 * GI, "export_policy": "default"},
        ],
        "export_policies": [{"cluster": "dr", "svm": "svm1", "name": "default",
                             "rules": [rule(1, "0.0.0.0/0")]}],
        "luns": [{"cluster": "dr", "svm": "svm1", "name": "/vol/lunvol/lun0", "volume": "lunvol",
                  "state": "online", "size": 5 * GI}],
    })
}

struct World {
    kube: KubeSim,
    site: TridentSite,
}

async fn world(driver: &str, version: &str) -> World {
    let kube = KubeSim::start("dr").await.expect("kube");
    let mut site = TridentSite::new("nas-dr", "https://127.0.0.1:1", "svm1")
        .with_version(version)
        .with_nodes(&DR_NODES);
    site.driver = driver.into();
    site.seed(&kube).expect("seed");
    World { kube, site }
}

impl World {
    fn backend(&self) -> Backend {
        backends::by_uuid(&self.kube.handle(), "trident", &self.site.backend_uuid).expect("backend")
    }
    fn edit_backend(&self, f: impl FnOnce(&mut Value)) {
        let mut cr = self.backend().cr;
        f(&mut cr);
        self.kube.apply(cr).expect("backend");
    }
    fn pvc(&self, name: &str, original: &str, size: &str) -> Value {
        let mut pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "shop", "annotations": {
                ANN_IMPORT_ORIGINAL_NAME: original,
                ANN_IMPORT_BACKEND_UUID: self.site.backend_uuid}},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "ontap-nas",
                     "resources": {"requests": {"storage": size}}, "volumeMode": "Filesystem"}});
        pvc = self.kube.apply(pvc).expect("pvc");
        pvc
    }
    fn sc(&self) -> Value {
        self.kube
            .get("storage.k8s.io/v1", "StorageClass", None, "ontap-nas")
            .expect("sc")
    }
    fn try_import(&self, fake: &Fake, pvc: &Value) -> Result<super::import::Imported, String> {
        let req = ImportRequest::from_pvc(pvc).expect("import request");
        import(
            &self.kube.handle(),
            "trident",
            &fake.view(),
            fake,
            &self.sc(),
            &req,
        )
        .map_err(|r| format!("{}: {}", r.code, r.message))
    }
}

#[test]
fn backend_state_follows_the_svm() {
    let site = TridentSite::new("b", "https://127.0.0.1:1", "svm1");
    let mut tbc = crate::kube::fixtures::trident_backend_config(
        "b",
        "trident",
        "ontap-nas",
        &site.management_lif,
        "svm1",
        "",
        "s",
        "",
    );
    tbc["metadata"]["uid"] = json!("u");
    let b = Backend::from_cr(&crate::kube::fixtures::trident_backend(
        &tbc, "uuid", "online",
    ));
    let reason = |f: &dyn Fn(&mut Value)| {
        let mut s = snapshot();
        f(&mut s);
        state_reason(&OntapView::from_snapshot(s), &b)
    };
    assert_eq!(reason(&|_| {}), None);
    assert_eq!(
        reason(&|s| s["svms"][0]["state"] = json!("stopped")),
        Some(backends::REASON_SVM_STOPPED)
    );
    assert_eq!(
        reason(&|s| s["svms"] = json!([])),
        Some(backends::REASON_SVM_UNREACHABLE)
    );
    assert_eq!(
        reason(&|s| s["clusters"][0]["down"] = json!(true)),
        Some(backends::REASON_SVM_UNREACHABLE)
    );
    assert_eq!(
        reason(&|s| s["lifs"][0]["up"] = json!(false)),
        Some(backends::REASON_DATA_LIFS_DOWN)
    );
    // The iSCSI LIF does not serve a NAS backend.
    assert_eq!(
        reason(&|s| s["lifs"]
            .as_array_mut()
            .map(|l| l.remove(0))
            .map_or((), |_| ())),
        Some(backends::REASON_DATA_LIFS_DOWN)
    );
    assert_eq!(
        reason(&|s| {
            s["svms"][0]["aggregates"] = json!([]);
            if let Some(a) = s["svms"].as_array_mut() {
                a.push(
                    json!({"cluster": "x", "name": "o", "state": "running", "aggregates": ["a"]}),
                );
            }
        }),
        Some(backends::REASON_NO_AGGREGATES)
    );
}

#[tokio::test]
async fn import_refusals_each_name_tridents_reason() {
    let w = world("ontap-nas", "26.06.0").await;
    let fake = Fake::new(snapshot());
    let expect = |pvc: &Value, want: &str| {
        let got = w.try_import(&fake, pvc).err().unwrap_or_default();
        assert!(got.contains(want), "want {want:?}, got {got:?}");
    };
    expect(
        &w.pvc("missing", "nope", "1Gi"),
        "NotFound: volume nope was not found",
    );
    expect(
        &w.pvc("big", "vol1", "20Gi"),
        "OutOfRange: requested size is more than actual size",
    );
    let mut other = w.pvc("otherbackend", "vol1", "1Gi");
    other["metadata"]["annotations"][ANN_IMPORT_BACKEND_UUID] = json!("no-such-uuid");
    expect(&other, "NotFound: backend no-such-uuid not found");
    let mut block = w.pvc("block", "vol1", "1Gi");
    block["spec"]["volumeMode"] = json!("Block");
    expect(
        &block,
        "requested volume mode (Block), access mode (ReadWriteOnce), protocol (block) are incompatible with the backend nas-dr",
    );
    // The StorageClass's selector matches no pool of the backend.
    w.kube
        .apply(storage_class("ontap-nas", "ontap-nas", "site=primary"))
        .expect("sc");
    expect(
        &w.pvc("class", "vol1", "1Gi"),
        "storageClass ontap-nas does not match any storage pools for backend nas-dr",
    );
    // ...until the backend's pools carry the label.
    w.edit_backend(|b| b["config"]["ontap_config"]["labels"] = json!({"site": "primary"}));
    let mut ok = w.pvc("class", "vol1", "1Gi");
    ok["metadata"]["annotations"][ANN_IMPORT_NO_RENAME] = json!("true");
    assert!(w.try_import(&fake, &ok).is_ok());
    w.kube
        .apply(storage_class("ontap-nas", "ontap-nas", ""))
        .expect("sc");
    // Offline and suspended backends refuse.
    w.edit_backend(|b| b["state"] = json!("offline"));
    expect(
        &w.pvc("offline", "vol1", "1Gi"),
        "failed to import volume vol1 on backend",
    );
    expect(
        &w.pvc("offline", "vol1", "1Gi"),
        "backend nas-dr is not Online",
    );
    w.edit_backend(|b| {
        b["state"] = json!("online");
        b["userState"] = json!("suspended");
    });
    expect(
        &w.pvc("suspended", "vol1", "1Gi"),
        "volume is not imported because the backend nas-dr is suspended",
    );
    w.edit_backend(|b| b["userState"] = json!("normal"));
    // A replica (dp volume) is not importable.
    fake.edit(|s| s["volumes"][0]["type"] = json!("dp"));
    expect(
        &w.pvc("dp", "vol1", "1Gi"),
        "driver import volume failed: volume vol1 type is dp, not rw",
    );
    fake.edit(|s| s["volumes"][0]["type"] = json!("rw"));
    // Already managed by a TridentVolume on this backend.
    w.kube
        .apply(trident_volume(
            "trident",
            "pvc-old",
            &w.site.backend_uuid,
            "vol1",
            "file",
            "1Gi",
            "",
            "",
        ))
        .expect("tv");
    expect(
        &w.pvc("again", "vol1", "1Gi"),
        "AlreadyExists: PV vol1 already exists for volume pvc-old",
    );
    assert!(
        fake.calls().iter().all(|c| !c.starts_with("rename")),
        "{:?}",
        fake.calls()
    );
}

#[tokio::test]
async fn import_renames_by_version_and_annotations() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: [Case; 4] = [
        ("26.06.0", &[], true),
        ("26.06.0", &[(ANN_IMPORT_NO_RENAME, "true")], false),
        // Trident before 25.10 ignores importNoRename: renamed.
        ("25.06.0", &[(ANN_IMPORT_NO_RENAME, "true")], true),
        ("25.06.0", &[(ANN_NOT_MANAGED, "true")], false),
    ];
    for (version, anns, renamed) in cases {
        let w = world("ontap-nas", version).await;
        let fake = Fake::new(snapshot());
        let mut pvc = w.pvc("data", "vol1", "10Gi");
        for (k, v) in anns {
            pvc["metadata"]["annotations"][*k] = json!(v);
        }
        let done = w.try_import(&fake, &pvc).expect("imported");
        let uid = pvc["metadata"]["uid"]
            .as_str()
            .unwrap_or("")
            .replace('-', "_");
        let want = if renamed {
            format!("trident_pvc_{uid}")
        } else {
            "vol1".to_string()
        };
        assert_eq!(done.internal_name, want, "{version} {anns:?}");
        assert_eq!(
            fake.calls()
                .iter()
                .any(|c| c.starts_with("rename svm1/vol1 -> trident_pvc_")),
            renamed,
            "{version} {anns:?}: {:?}",
            fake.calls()
        );
        assert_eq!(done.size, 10 * GI);
    }
}

#[tokio::test]
async fn managed_import_with_auto_export_policy_sets_the_empty_policy() {
    let w = world("ontap-nas", "26.06.0").await;
    w.edit_backend(|b| b["config"]["ontap_config"]["autoExportPolicy"] = json!(true));
    let fake = Fake::new(snapshot());
    let mut pvc = w.pvc("data", "vol1", "1Gi");
    pvc["metadata"]["annotations"][ANN_IMPORT_NO_RENAME] = json!("true");
    let done = w.try_import(&fake, &pvc).expect("imported");
    assert_eq!(done.export_policy, "trident_empty");
    assert!(
        fake.calls()
            .contains(&"policy svm1/vol1 = trident_empty".to_string()),
        "{:?}",
        fake.calls()
    );
    // Unmanaged: the policy is left alone.
    let fake = Fake::new(snapshot());
    let mut pvc = w.pvc("data2", "vol1", "1Gi");
    pvc["metadata"]["annotations"][ANN_NOT_MANAGED] = json!("true");
    let done = w.try_import(&fake, &pvc).expect("imported");
    assert_eq!(done.export_policy, "");
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[tokio::test]
async fn san_import_needs_an_online_lun0_when_unmanaged() {
    let w = world("ontap-san", "26.06.0").await;
    w.kube
        .apply(storage_class("ontap-nas", "ontap-san", ""))
        .expect("sc");
    let fake = Fake::new(snapshot());
    let mut pvc = w.pvc("lun", "lunvol", "5Gi");
    pvc["metadata"]["annotations"][ANN_NOT_MANAGED] = json!("true");
    assert!(w.try_import(&fake, &pvc).is_ok());
    // The LUN's size, not the volume's, is what the claim may ask for.
    let big = w.pvc("lunbig", "lunvol", "6Gi");
    let got = w.try_import(&fake, &big).err().unwrap_or_default();
    assert!(
        got.contains("requested size is more than actual size"),
        "{got}"
    );
    fake.edit(|s| s["luns"][0]["name"] = json!("/vol/lunvol/data"));
    let got = w.try_import(&fake, &pvc).err().unwrap_or_default();
    assert!(
        got.contains("LUN is nammed incorrectly: /vol/lunvol/data"),
        "{got}"
    );
    fake.edit(|s| s["luns"][0]["state"] = json!("offline"));
    let got = w.try_import(&fake, &pvc).err().unwrap_or_default();
    assert!(got.contains("LUN /vol/lunvol/data is not online"), "{got}");
}

#[tokio::test]
async fn economy_imports_follow_the_version() {
    let w = world("ontap-nas-economy", "25.06.0").await;
    let fake = Fake::new(snapshot());
    let got = w
        .try_import(&fake, &w.pvc("eco", "vol1/q1", "1Gi"))
        .err()
        .unwrap_or_default();
    assert!(got.contains("before Trident 26.06"), "{got}");
}

#[tokio::test]
async fn the_version_comes_from_the_tridentversion_cr() {
    let w = world("ontap-nas", "25.06.0").await;
    assert_eq!(installed_version(&w.kube.handle(), "trident"), (25, 6, 0));
    w.kube
        .apply(trident_version("trident", "26.06.1"))
        .expect("tver");
    assert_eq!(installed_version(&w.kube.handle(), "trident"), (26, 6, 1));
}
