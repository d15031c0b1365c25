//! Watch streams: one JSON `{"type","object"}` line per event, chunked,
//! starting either with synthetic ADDED events (fresh watch) or with the
//! history after a resourceVersion (resume), then live events, BOOKMARKs when
//! asked for, and an end after `timeoutSeconds` (capped by the server's own
//! watch timeout) so clients must re-watch, as with a real API server.
//!
//! A resume from a resourceVersion older than the kept history gets an
//! `ERROR` event carrying a 410 `Expired` Status, which is what makes
//! kube-runtime's watcher re-list.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::resources::ResourceType;
use super::selectors::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{Event, EventKind, Store, render};

/// What one watch request asked for.
pub struct WatchSpec {
    /// The watched type.
    pub rt: ResourceType,
    /// Namespace, `None` for all namespaces (or cluster-scoped types).
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: LabelSelector,
    /// Field selector.
    pub fields: FieldSelector,
    /// `allowWatchBookmarks`.
    pub bookmarks: bool,
    /// `sendInitialEvents`: synthetic ADDED events, then a BOOKMARK marking
    /// their end.
    pub send_initial_events: bool,
    /// When the stream ends.
    pub timeout: Duration,
    /// How often an idle stream gets a BOOKMARK (when bookmarks are on).
    pub bookmark_interval: Duration,
    /// `resourceVersion` to resume after; `None` for a fresh watch.
    pub since: Option<u64>,
}

impl WatchSpec {
    /// The event line to send for `ev`, if this watch sees it. An object
    /// that stops matching the selectors is sent as DELETED, one that starts
    /// matching as ADDED, as the API server does.
    fn line_for(&self, ev: &Event) -> Option<Value> {
        if ev.key != self.rt.storage_key() {
            return None;
        }
        if let Some(ns) = &self.namespace
            && self.rt.namespaced
            && &ev.namespace != ns
        {
            return None;
        }
        let matches = |o: &Value| self.labels.matches(o) && self.fields.matches(o);
        let now = matches(&ev.object);
        let kind = match (ev.kind, &ev.old) {
            (EventKind::Modified, Some(old)) => match (matches(old), now) {
                (true, true) => EventKind::Modified,
                (false, true) => EventKind::Added,
                (true, false) => EventKind::Deleted,
                (false, false) => return None,
            },
            (k, _) if now => k,
            _ => return None,
        };
        Some(json!({"type": kind.as_str(), "object": render(&self.rt, ev.object.clone())}))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({"type": "BOOKMARK", "object": {
            "kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": meta,
        }})
    }
}

fn encode(v: &Value) -> Result<Bytes, Infallible> {
    let mut s = v.to_string();
    s.push('\n');
    Ok(Bytes::from(s))
}

fn error_line(err: &ApiError) -> Value {
    json!({"type": "ERROR", "object": err.to_status()})
}

/// Starts a watch and returns the streaming response.
pub fn start(store: &Arc<Store>, spec: WatchSpec) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(256);
    let since = if spec.send_initial_events {
        None
    } else {
        spec.since
    };
    let sub = store.subscribe(&spec.rt.storage_key(), since);
    tokio::spawn(async move {
        let sub = match sub {
            Ok(sub) => sub,
            Err(err) => {
                let _ = tx.send(encode(&error_line(&err))).await;
                return;
            }
        };
        let mut last_rv = since.unwrap_or(0);
        for ev in &sub.backlog {
            if since.is_some() {
                last_rv = last_rv.max(ev.rv);
            }
            if let Some(line) = spec.line_for(ev)
                && tx.send(encode(&line)).await.is_err()
            {
                return;
            }
        }
        last_rv = last_rv.max(sub.rv);
        if spec.send_initial_events
            && tx
                .send(encode(&spec.bookmark(last_rv, true)))
                .await
                .is_err()
        {
            return;
        }
        let mut live = sub.live;
        let deadline = tokio::time::sleep(spec.timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval_at(
            tokio::time::Instant::now() + spec.bookmark_interval,
            spec.bookmark_interval,
        );
        loop {
            let line = tokio::select! {
                _ = &mut deadline => {
                    if spec.bookmarks {
                        let _ = tx.send(encode(&spec.bookmark(last_rv, false))).await;
                    }
                    return;
                }
                _ = tick.tick(), if spec.bookmarks => spec.bookmark(last_rv, false),
                _ = tx.closed() => return,
                got = live.recv() => match got {
                    Ok(ev) => {
                        if ev.rv <= last_rv {
                            continue;
                        }
                        last_rv = ev.rv;
                        match spec.line_for(&ev) {
                            Some(line) => line,
                            None => continue,
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let err = ApiError::expired("watch fell too far behind; re-list and watch again");
                        let _ = tx.send(encode(&error_line(&err))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if tx.send(encode(&line)).await.is_err() {
                return;
            }
        }
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache, private"),
        ],
        Body::from_stream(ReceiverStream::new(rx)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources::Registry;
    use crate::kube::store::WriteOpts;
    use http_body_util::BodyExt;

    fn spec(rt: ResourceType, since: Option<u64>, labels: &str) -> WatchSpec {
        WatchSpec {
            rt,
            namespace: Some("ns".into()),
            labels: LabelSelector::parse(labels).unwrap(),
            fields: FieldSelector::default(),
            bookmarks: true,
            send_initial_events: false,
            timeout: Duration::from_secs(30),
            bookmark_interval: Duration::from_secs(3600),
            since,
        }
    }

    async fn next_line(body: &mut Body) -> Value {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("an event within 5 s")
            .expect("a frame")
            .expect("no body error");
        let data = frame.into_data().expect("a data frame");
        serde_json::from_slice(&data).expect("one JSON line")
    }

    #[tokio::test]
    async fn selector_changes_map_to_added_and_deleted() {
        let store = Arc::new(Store::new(Registry::standard(), 100));
        let cm = store.resource_by_kind("v1", "ConfigMap").unwrap();
        let opts = WriteOpts {
            auto_namespace: true,
            ..WriteOpts::default()
        };
        let o = store
            .create(&cm, "ns", json!({"metadata": {"name": "a"}}), opts.clone())
            .unwrap();
        let rv = store.current_rv();
        let mut body = start(&store, spec(cm.clone(), Some(rv), "app=x")).into_body();
        let mut labelled = o.clone();
        labelled["metadata"]["labels"] = json!({"app": "x"});
        let labelled = store
            .update(
                &cm,
                "ns",
                "a",
                labelled,
                crate::kube::store::Target::Main,
                opts.clone(),
            )
            .unwrap();
        assert_eq!(next_line(&mut body).await["type"], "ADDED");
        let mut unlabelled = labelled.clone();
        unlabelled["metadata"]["labels"] = json!({});
        store
            .update(
                &cm,
                "ns",
                "a",
                unlabelled,
                crate::kube::store::Target::Main,
                opts,
            )
            .unwrap();
        assert_eq!(next_line(&mut body).await["type"], "DELETED");
    }

    #[tokio::test]
    async fn too_old_resume_sends_expired() {
        let store = Arc::new(Store::new(Registry::standard(), 2));
        let cm = store.resource_by_kind("v1", "ConfigMap").unwrap();
        let opts = WriteOpts {
            auto_namespace: true,
            ..WriteOpts::default()
        };
        for i in 0..5 {
            store
                .create(
                    &cm,
                    "ns",
                    json!({"metadata": {"name": format!("c{i}")}}),
                    opts.clone(),
                )
                .unwrap();
        }
        let mut body = start(&store, spec(cm, Some(1), "")).into_body();
        let line = next_line(&mut body).await;
        assert_eq!(line["type"], "ERROR");
        assert_eq!(line["object"]["code"], 410);
        assert_eq!(line["object"]["reason"], "Expired");
    }
}
