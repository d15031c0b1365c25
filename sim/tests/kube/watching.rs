//! Watches: `kube::runtime::watcher` sees ADDED/MODIFIED/DELETED, survives
//! the server ending idle watches, and resumes from a resourceVersion; a
//! too-old resourceVersion gets 410 Expired.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher::{self, Event};
use kube::{Api, ResourceExt};
use serde_json::json;
use sim::kube::{KubeSim, KubeSimOptions};

use super::common::{client, within};

fn cm(name: &str) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name.into());
    c.data = Some([("k".to_string(), "v".to_string())].into());
    c
}

/// The next watcher event that is about an object (skipping Init/InitDone).
async fn next_apply_or_delete(
    stream: &mut (impl futures::Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin),
) -> (bool, ConfigMap) {
    loop {
        match within("next watcher event", stream.try_next())
            .await
            .unwrap()
            .unwrap()
        {
            Event::Apply(o) | Event::InitApply(o) => return (true, o),
            Event::Delete(o) => return (false, o),
            Event::Init | Event::InitDone => continue,
        }
    }
}

#[tokio::test]
async fn watcher_sees_add_modify_delete() {
    let sim = KubeSim::start("primary").await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client(&sim), "default");
    cms.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();

    let mut stream = watcher::watcher(cms.clone(), watcher::Config::default()).boxed();
    let (applied, o) = next_apply_or_delete(&mut stream).await;
    assert!(applied);
    assert_eq!(o.name_any(), "before");

    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let (applied, o) = next_apply_or_delete(&mut stream).await;
    assert!(applied && o.name_any() == "a");

    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "w"}})),
    )
    .await
    .unwrap();
    let (applied, o) = next_apply_or_delete(&mut stream).await;
    assert!(applied && o.data.unwrap()["k"] == "w");

    cms.delete("a", &DeleteParams::default()).await.unwrap();
    let (applied, o) = next_apply_or_delete(&mut stream).await;
    assert!(!applied && o.name_any() == "a");
}

#[tokio::test]
async fn raw_watch_event_types_and_bookmarks() {
    let sim = KubeSim::start("primary").await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client(&sim), "default");
    let start = sim.resource_version().to_string();
    let mut events = cms
        .watch(&WatchParams::default().timeout(2), &start)
        .await
        .unwrap()
        .boxed();
    cms.create(&PostParams::default(), &cm("x")).await.unwrap();
    cms.patch(
        "x",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "2"}})),
    )
    .await
    .unwrap();
    cms.delete("x", &DeleteParams::default()).await.unwrap();
    let mut kinds = Vec::new();
    while let Some(ev) = within("raw watch", events.try_next()).await.unwrap() {
        match ev {
            WatchEvent::Added(_) => kinds.push("ADDED"),
            WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            WatchEvent::Deleted(_) => kinds.push("DELETED"),
            WatchEvent::Bookmark(_) => kinds.push("BOOKMARK"),
            WatchEvent::Error(e) => panic!("watch error {e:?}"),
        }
    }
    // The stream ended by itself after timeoutSeconds, with a closing bookmark.
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);
}

#[tokio::test]
async fn watch_survives_server_timeouts_and_resumes() {
    let options = KubeSimOptions {
        max_watch_timeout: Duration::from_secs(1),
        ..KubeSimOptions::default()
    };
    let sim = KubeSim::start_with("primary", options).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client(&sim), "default");
    let mut stream = watcher::watcher(cms.clone(), watcher::Config::default()).boxed();
    // Drain the initial (empty) list.
    loop {
        if let Event::InitDone = within("init", stream.try_next()).await.unwrap().unwrap() {
            break;
        }
    }
    // Idle for longer than the server keeps a watch open: the watcher must
    // re-watch on its own (from its last resourceVersion) and still see this.
    let idle = async {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        cms.create(&PostParams::default(), &cm("late"))
            .await
            .unwrap();
    };
    let (_, (applied, o)) = tokio::join!(idle, next_apply_or_delete(&mut stream));
    assert!(applied && o.name_any() == "late");
    let watches = sim
        .request_log()
        .iter()
        .filter(|l| *l == "GET /api/v1/namespaces/default/configmaps")
        .count();
    assert!(watches >= 3, "list + at least two watches, got {watches}");

    // Resume by hand from a resourceVersion taken before two changes.
    let rv = o.resource_version().unwrap();
    cms.patch(
        "late",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "1"}})),
    )
    .await
    .unwrap();
    cms.create(&PostParams::default(), &cm("later"))
        .await
        .unwrap();
    let events: Vec<_> = cms
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Modified(o) => Some(format!("MODIFIED {}", o.name_any())),
            WatchEvent::Added(o) => Some(format!("ADDED {}", o.name_any())),
            _ => None,
        })
        .collect();
    assert_eq!(seen, ["MODIFIED late", "ADDED later"]);
}

#[tokio::test]
async fn too_old_resource_version_is_expired() {
    let options = KubeSimOptions {
        history_limit: 3,
        ..KubeSimOptions::default()
    };
    let sim = KubeSim::start_with("primary", options).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client(&sim), "default");
    let old = sim.resource_version().to_string();
    for i in 0..5 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}")))
            .await
            .unwrap();
    }
    let mut events = cms
        .watch(&WatchParams::default().timeout(5), &old)
        .await
        .unwrap()
        .boxed();
    match within("expired", events.try_next()).await.unwrap() {
        Some(WatchEvent::Error(e)) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }

    // kube-runtime's watcher recovers from that by re-listing.
    let mut stream = watcher::watcher(cms.clone(), watcher::Config::default()).boxed();
    let mut names = Vec::new();
    loop {
        match within("relist", stream.try_next()).await.unwrap().unwrap() {
            Event::InitApply(o) => names.push(o.name_any()),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(names, ["c0", "c1", "c2", "c3", "c4"]);
}
