//! Each verb through `Api<Secret>`, `Api<PersistentVolume>` and
//! `Api<DynamicObject>`: create (generateName, AlreadyExists), get (404 as
//! `kube::Error::Api`), list (selectors, paging), replace (stale 409),
//! merge/JSON/apply patches, the status subresource and delete.

use k8s_openapi::api::core::v1::{PersistentVolume, Secret};
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
    PostParams,
};
use kube::{Api, ResourceExt};
use serde_json::json;
use sim::kube::KubeSim;

use super::common::{client, within};

fn secret(name: &str, labels: &[(&str, &str)]) -> Secret {
    let mut s = Secret::default();
    s.metadata.name = Some(name.into());
    s.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    s.string_data = Some([("username".to_string(), "admin".to_string())].into());
    s
}

fn api_error(err: kube::Error) -> kube::core::Status {
    match err {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn secret_verbs_and_statuses() {
    let sim = KubeSim::start("primary").await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(client(&sim), "default");
    let pp = PostParams::default();

    let created = within("create", secrets.create(&pp, &secret("creds", &[])))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.namespace().as_deref(), Some("default"));
    assert!(
        created.string_data.is_none(),
        "stringData is folded into data"
    );

    let got = within("get", secrets.get("creds")).await.unwrap();
    assert_eq!(got.data.unwrap()["username"].0, b"admin");

    let dup = within("create again", secrets.create(&pp, &secret("creds", &[])))
        .await
        .unwrap_err();
    let s = api_error(dup);
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));

    let missing = api_error(
        within("get missing", secrets.get("nope"))
            .await
            .unwrap_err(),
    );
    assert_eq!(missing.code, 404);
    assert_eq!(missing.reason, "NotFound");
    assert_eq!(missing.message, "secrets \"nope\" not found");
    assert!(
        within("get_opt", secrets.get_opt("nope"))
            .await
            .unwrap()
            .is_none()
    );

    let deleted = within("delete", secrets.delete("creds", &DeleteParams::default()))
        .await
        .unwrap();
    assert_eq!(deleted.left().unwrap().name_any(), "creds");
    let again = api_error(
        within(
            "delete again",
            secrets.delete("creds", &DeleteParams::default()),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(again.reason, "NotFound");

    let nowhere: Api<Secret> = Api::namespaced(client(&sim), "no-such-ns");
    let e = api_error(
        within(
            "create in missing ns",
            nowhere.create(&pp, &secret("x", &[])),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 404);
}

#[tokio::test]
async fn generate_name_and_stale_replace() {
    let sim = KubeSim::start("primary").await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(client(&sim), "default");
    let mut s = secret("", &[]);
    s.metadata.name = None;
    s.metadata.generate_name = Some("tbe-".into());
    let a = within("create a", secrets.create(&PostParams::default(), &s))
        .await
        .unwrap();
    let b = within("create b", secrets.create(&PostParams::default(), &s))
        .await
        .unwrap();
    assert!(a.name_any().starts_with("tbe-") && a.name_any().len() == "tbe-".len() + 5);
    assert_ne!(a.name_any(), b.name_any());

    let mut first = a.clone();
    first.metadata.labels = Some([("v".to_string(), "1".to_string())].into());
    let replaced = within(
        "replace",
        secrets.replace(&a.name_any(), &PostParams::default(), &first),
    )
    .await
    .unwrap();
    assert_ne!(replaced.resource_version(), a.resource_version());
    assert_eq!(replaced.metadata.uid, a.metadata.uid);

    // `first` still carries the old resourceVersion.
    let stale = api_error(
        within(
            "stale replace",
            secrets.replace(&a.name_any(), &PostParams::default(), &first),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((stale.code, stale.reason.as_str()), (409, "Conflict"));
    assert!(stale.message.contains("the object has been modified"));
}

#[tokio::test]
async fn selectors_and_paging() {
    let sim = KubeSim::start("primary").await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(client(&sim), "default");
    let pp = PostParams::default();
    for (name, app, tier) in [
        ("a", "web", "front"),
        ("b", "web", "back"),
        ("c", "db", "back"),
        ("d", "db", ""),
    ] {
        let mut labels = vec![("app", app)];
        if !tier.is_empty() {
            labels.push(("tier", tier));
        }
        within("create", secrets.create(&pp, &secret(name, &labels)))
            .await
            .unwrap();
    }
    let names = |l: kube::core::ObjectList<Secret>| -> Vec<String> {
        l.items.iter().map(|s| s.name_any()).collect()
    };
    let q = |sel: &'static str| {
        let secrets = secrets.clone();
        async move {
            names(
                secrets
                    .list(&ListParams::default().labels(sel))
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(within("eq", q("app=web")).await, ["a", "b"]);
    assert_eq!(within("neq", q("app!=web")).await, ["c", "d"]);
    assert_eq!(
        within("in", q("tier in (front,back)")).await,
        ["a", "b", "c"]
    );
    assert_eq!(within("notin", q("tier notin (back)")).await, ["a", "d"]);
    assert_eq!(within("exists", q("tier")).await, ["a", "b", "c"]);
    assert_eq!(within("not exists", q("!tier")).await, ["d"]);
    assert_eq!(within("and", q("app=db,tier==back")).await, ["c"]);

    let by_name = secrets
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(names(by_name), ["b"]);
    let by_ns = secrets
        .list(&ListParams::default().fields("metadata.namespace!=default"))
        .await
        .unwrap();
    assert!(by_ns.items.is_empty());

    let bad = api_error(
        secrets
            .list(&ListParams::default().labels("app in web"))
            .await
            .unwrap_err(),
    );
    assert_eq!(bad.code, 400);

    let doomed = within(
        "delete collection",
        secrets.delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("app=db"),
        ),
    )
    .await
    .unwrap()
    .left()
    .unwrap();
    let mut gone: Vec<String> = doomed.items.iter().map(|s| s.name_any()).collect();
    gone.sort();
    assert_eq!(gone, ["c", "d"]);
    for name in ["c", "d"] {
        let mut s = secret(name, &[("app", "db")]);
        if name == "c" {
            s.metadata
                .labels
                .as_mut()
                .unwrap()
                .insert("tier".into(), "back".into());
        }
        secrets.create(&pp, &s).await.unwrap();
    }

    let p1 = within("page 1", secrets.list(&ListParams::default().limit(3)))
        .await
        .unwrap();
    assert_eq!(names(p1.clone()), ["a", "b", "c"]);
    let token = p1.metadata.continue_.clone().expect("a continue token");
    assert_eq!(p1.metadata.remaining_item_count, Some(1));
    let p2 = within(
        "page 2",
        secrets.list(&ListParams::default().limit(3).continue_token(&token)),
    )
    .await
    .unwrap();
    assert_eq!(names(p2.clone()), ["d"]);
    assert!(p2.metadata.continue_.is_none());
    assert_eq!(p2.metadata.resource_version, p1.metadata.resource_version);
}

fn pv(name: &str) -> PersistentVolume {
    serde_json::from_value(sim::kube::fixtures::trident_csi_pv(
        name,
        "uuid-1",
        "trident_pvc_1",
        "file",
        "1Gi",
        "app",
        "data",
        "Retain",
    ))
    .unwrap()
}

#[tokio::test]
async fn cluster_scoped_patches_and_status() {
    let sim = KubeSim::start("primary").await.unwrap();
    let pvs: Api<PersistentVolume> = Api::all(client(&sim));
    let created = within(
        "create pv",
        pvs.create(&PostParams::default(), &pv("pvc-1")),
    )
    .await
    .unwrap();
    assert!(created.metadata.namespace.is_none());
    assert!(
        created.status.is_none(),
        "HTTP create drops status where status is a subresource"
    );

    let merged = within(
        "merge patch",
        pvs.patch(
            "pvc-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"dr": "yes"}}, "spec": {"persistentVolumeReclaimPolicy": "Delete"}})),
        ),
    )
    .await
    .unwrap();
    assert_eq!(merged.labels()["dr"], "yes");
    assert_eq!(
        merged
            .spec
            .as_ref()
            .unwrap()
            .persistent_volume_reclaim_policy
            .as_deref(),
        Some("Delete")
    );

    let kc = client(&sim);
    let patched: PersistentVolume = within(
        "json patch",
        json_patch(
            &kc,
            "/api/v1/persistentvolumes/pvc-1",
            json!([
                {"op": "replace", "path": "/spec/persistentVolumeReclaimPolicy", "value": "Retain"},
                {"op": "remove", "path": "/metadata/labels/dr"},
            ]),
        ),
    )
    .await
    .unwrap();
    assert!(!patched.labels().contains_key("dr"));
    assert_eq!(
        patched
            .spec
            .as_ref()
            .unwrap()
            .persistent_volume_reclaim_policy
            .as_deref(),
        Some("Retain")
    );

    let e = api_error(
        json_patch::<PersistentVolume>(
            &kc,
            "/api/v1/persistentvolumes/pvc-1",
            json!([
                {"op": "test", "path": "/spec/persistentVolumeReclaimPolicy", "value": "Delete"},
            ]),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);

    // Status only through /status; a main-resource write leaves it alone.
    let with_status = within(
        "patch status",
        pvs.patch_status(
            "pvc-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Bound"}})),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        with_status.status.as_ref().unwrap().phase.as_deref(),
        Some("Bound")
    );
    let ignored = pvs
        .patch(
            "pvc-1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Released"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        ignored.status.as_ref().unwrap().phase.as_deref(),
        Some("Bound")
    );
    let mut body = pvs.get_status("pvc-1").await.unwrap();
    body.status.as_mut().unwrap().phase = Some("Released".into());
    let replaced = pvs
        .replace_status("pvc-1", &PostParams::default(), &body)
        .await
        .unwrap();
    assert_eq!(replaced.status.unwrap().phase.as_deref(), Some("Released"));

    let applied = within(
        "server-side apply",
        pvs.patch(
            "pvc-2",
            &PatchParams::apply("svmdr").force(),
            &Patch::Apply(serde_json::to_value(pv("pvc-2")).unwrap()),
        ),
    )
    .await
    .unwrap();
    assert_eq!(applied.name_any(), "pvc-2");
    assert_eq!(
        pvs.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );

    let dry = pvs
        .delete(
            "pvc-2",
            &DeleteParams {
                dry_run: true,
                ..DeleteParams::default()
            },
        )
        .await
        .unwrap();
    assert!(dry.is_left());
    assert!(
        pvs.get_opt("pvc-2").await.unwrap().is_some(),
        "dry-run delete keeps the object"
    );
    // The PV fixture carries the pv-protection finalizer: delete marks it.
    let marked = pvs
        .delete("pvc-2", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    pvs.patch(
        "pvc-2",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(
        pvs.get_opt("pvc-2").await.unwrap().is_none(),
        "gone once its finalizers are"
    );
}

#[tokio::test]
async fn dynamic_trident_backend() {
    let sim = KubeSim::start("primary").await.unwrap();
    let gvk = GroupVersionKind::gvk("trident.netapp.io", "v1", "TridentBackend");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "tridentbackends");
    let tbes: Api<DynamicObject> = Api::namespaced_with(client(&sim), "trident", &ar);
    sim.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "trident"}}))
        .unwrap();

    let tbc = sim::kube::fixtures::trident_backend_config(
        "ontap-nas",
        "trident",
        "ontap-nas",
        "10.0.0.1",
        "svm0",
        "10.0.0.2",
        "creds",
        "",
    );
    let tbc = sim.apply(tbc).unwrap();
    let body = sim::kube::fixtures::trident_backend(
        &tbc,
        "5c1b5d6a-0000-4000-8000-000000000001",
        "online",
    );
    let obj: DynamicObject = serde_json::from_value(body).unwrap();
    let created = within("create tbe", tbes.create(&PostParams::default(), &obj))
        .await
        .unwrap();
    assert_eq!(
        created.data["backendUUID"],
        "5c1b5d6a-0000-4000-8000-000000000001"
    );
    assert_eq!(created.data["config"]["ontap_config"]["svm"], "svm0");

    let list = tbes.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let patched = tbes
        .patch(
            &created.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"state": "offline", "online": false})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["state"], "offline");

    let missing = api_error(tbes.get("tbe-none").await.unwrap_err());
    assert_eq!(
        missing.message,
        "tridentbackends.trident.netapp.io \"tbe-none\" not found"
    );
    let details = missing.details.unwrap();
    assert_eq!(details.group, "trident.netapp.io");
    assert_eq!(details.kind, "tridentbackends");
    assert_eq!(details.name, "tbe-none");

    let bad_field = api_error(
        tbes.list(&ListParams::default().fields("spec.svm=svm0"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        bad_field.code, 400,
        "custom resources only select on metadata fields"
    );
}

/// Sends an `application/json-patch+json` PATCH (kube's typed
/// `Patch::Json` needs a feature this crate does not turn on; the wire
/// request is the same).
async fn json_patch<T: serde::de::DeserializeOwned>(
    client: &kube::Client,
    path: &str,
    ops: serde_json::Value,
) -> Result<T, kube::Error> {
    let req = http::Request::patch(path)
        .header(http::header::CONTENT_TYPE, "application/json-patch+json")
        .body(serde_json::to_vec(&ops).unwrap())
        .unwrap();
    client.request(req).await
}
