//! Transport behaviour against a fake server: auth, pagination, jobs,
//! retries, error decoding, `return_timeout`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::{any, get};
use base64::Engine as _;
use serde_json::json;
use svmdr::ontap::models::{RelationshipState, SvmState};
use svmdr::ontap::{ErrorKind, PatchOptions, Timeouts, VolumeQuery};

use super::fake::{self, Fake, Log, PASSWORD};

/// Bounds every test so a bug shows as a failure, never a hang.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test finished within 30 s")
}

#[tokio::test]
async fn sends_basic_auth_and_reads_the_cluster() {
    let log: Log = Arc::default();
    let l = log.clone();
    let router = Router::new().route(
        "/api/cluster",
        get(move |uri: Uri, headers: HeaderMap| async move {
            fake::record(&l, "GET", &uri, &headers);
            fake::json(
                200,
                json!({"name": "ontap-a", "uuid": "c1", "version": {"full": "NetApp Release 9.14.1", "generation": 9, "major": 14, "minor": 1}}),
            )
        }),
    );
    let srv = Fake::start(router).await;
    let c = bounded(srv.client().cluster()).await.expect("cluster");
    assert_eq!(c.name.as_deref(), Some("ontap-a"));
    assert!(c.version.expect("version").at_least(9, 11, 1));
    let seen = log.lock().unwrap().clone();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"))
    );
    assert_eq!(seen.authorization.as_deref(), Some(expected.as_str()));
    assert_eq!(
        seen.calls,
        vec!["GET /api/cluster?fields=name,uuid,version,san_optimized"]
    );
}

#[tokio::test]
async fn follows_next_links_across_pages() {
    let log: Log = Arc::default();
    let l = log.clone();
    let router = Router::new().route(
        "/api/storage/volumes",
        get(
            move |uri: Uri, headers: HeaderMap, RawQuery(q): RawQuery| async move {
                fake::record(&l, "GET", &uri, &headers);
                let q = q.unwrap_or_default();
                let (names, next) = if q.contains("start=3") {
                    (vec!["v5"], None)
                } else if q.contains("start=2") {
                    (vec!["v3", "v4"], Some("/api/storage/volumes?start=3"))
                } else {
                    (vec!["v1", "v2"], Some("/api/storage/volumes?start=2"))
                };
                let records: Vec<_> = names
                    .iter()
                    .map(|n| json!({"name": n, "state": "online"}))
                    .collect();
                let mut body = json!({"records": records, "num_records": records.len()});
                if let Some(next) = next {
                    body["_links"] = json!({"next": {"href": next}});
                }
                fake::json(200, body)
            },
        ),
    );
    let srv = Fake::start(router).await;
    let vols = bounded(srv.client().volumes(&VolumeQuery {
        svm: Some("svm1".into()),
        ..Default::default()
    }))
    .await
    .expect("volumes");
    let names: Vec<_> = vols.iter().filter_map(|v| v.name.as_deref()).collect();
    assert_eq!(names, ["v1", "v2", "v3", "v4", "v5"]);
    let calls = log.lock().unwrap().calls.clone();
    assert_eq!(calls.len(), 3);
    assert!(
        calls[0].contains("svm.name=svm1") && calls[0].contains("fields=uuid,name"),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_looping_next_link_is_an_error_not_a_hang() {
    let router = Router::new().route(
        "/api/storage/volumes",
        get(|| async {
            fake::json(
                200,
                json!({"records": [], "_links": {"next": {"href": "/api/storage/volumes?page=2"}}}),
            )
        }),
    );
    let srv = Fake::start(router).await;
    let err = bounded(srv.client().volumes(&VolumeQuery::default()))
        .await
        .expect_err("loop");
    assert!(matches!(err.kind, ErrorKind::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("loops"), "{err}");
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let router = Router::new().route(
        "/api/storage/volumes",
        get(|| async {
            fake::json(
                200,
                json!({"records": [], "_links": {"next": {"href": "https://evil.example/api/storage/volumes"}}}),
            )
        }),
    );
    let srv = Fake::start(router).await;
    let err = bounded(srv.client().volumes(&VolumeQuery::default()))
        .await
        .expect_err("foreign link");
    assert!(err.to_string().contains("outside this cluster"), "{err}");
}

/// A PATCH that starts a job which runs for `running_polls` polls, then
/// ends with `final_job`.
fn job_router(log: Log, running_polls: usize, final_job: serde_json::Value) -> Router {
    let polls = Arc::new(AtomicUsize::new(0));
    let l = log.clone();
    Router::new()
        .route(
            "/api/svm/svms/{uuid}",
            any(move |method: Method, uri: Uri, headers: HeaderMap| async move {
                fake::record(&l, method.as_str(), &uri, &headers);
                fake::json(202, json!({"job": {"uuid": "job-1", "_links": {"self": {"href": "/api/cluster/jobs/job-1"}}}}))
            }),
        )
        .route(
            "/api/cluster/jobs/{uuid}",
            get(move |Path(uuid): Path<String>, uri: Uri, headers: HeaderMap| async move {
                fake::record(&log, "GET", &uri, &headers);
                if uuid != "job-1" {
                    return fake::ontap_error(404, "4", "entry doesn't exist");
                }
                if polls.fetch_add(1, Ordering::SeqCst) < running_polls {
                    fake::json(200, json!({"uuid": "job-1", "state": "running", "message": "working"}))
                } else {
                    fake::json(200, final_job.clone())
                }
            }),
        )
}

#[tokio::test]
async fn waits_for_a_job_to_succeed_and_sends_return_timeout() {
    let log: Log = Arc::default();
    let srv = Fake::start(job_router(
        log.clone(),
        2,
        json!({"uuid": "job-1", "state": "success", "message": "Complete: Successful", "code": 0}),
    ))
    .await;
    bounded(srv.client().set_svm_state("s-1", SvmState::Stopped))
        .await
        .expect("job succeeds");
    let calls = log.lock().unwrap().calls.clone();
    assert!(
        calls[0].starts_with("PATCH /api/svm/svms/s-1?return_timeout="),
        "{calls:?}"
    );
    let rt: u64 = calls[0].rsplit('=').next().unwrap().parse().unwrap();
    assert!(rt <= 120, "return_timeout {rt}");
    let polls = calls
        .iter()
        .filter(|c| c.starts_with("GET /api/cluster/jobs/job-1?fields="))
        .count();
    assert_eq!(polls, 3, "{calls:?}");
    assert!(
        calls[1].contains("fields=uuid,state,message,code,error,description,start_time,end_time")
    );
}

#[tokio::test]
async fn a_failed_job_reports_ontaps_code_and_message() {
    let log: Log = Arc::default();
    let srv = Fake::start(job_router(
        log,
        0,
        json!({"uuid": "job-1", "state": "failure", "message": "SVM is busy", "code": 13434894,
               "error": {"code": "13434894", "message": "More than 5 parallel SVM jobs"}}),
    ))
    .await;
    let err = bounded(srv.client().set_svm_state("s-1", SvmState::Running))
        .await
        .expect_err("job fails");
    assert!(
        matches!(&err.kind, ErrorKind::JobFailed { job, code: Some(c), .. } if job == "job-1" && c == "13434894"),
        "{err:?}"
    );
    let s = err.to_string();
    assert!(
        s.contains("primary (fake)") && s.contains("PATCH /api/svm/svms/s-1"),
        "{s}"
    );
    assert!(s.contains("More than 5 parallel SVM jobs"), "{s}");
    assert!(err.is_retry_later());
}

#[tokio::test]
async fn a_job_that_never_ends_times_out() {
    let log: Log = Arc::default();
    let srv = Fake::start(job_router(log, usize::MAX, json!({}))).await;
    let client = fake::client_for(
        &srv.url,
        Some(srv.ca_pem.clone()),
        Timeouts {
            job: Duration::from_millis(300),
            ..fake::short_timeouts()
        },
    );
    let err = bounded(client.set_svm_state("s-1", SvmState::Running))
        .await
        .expect_err("job timeout");
    assert!(
        matches!(&err.kind, ErrorKind::JobTimeout { job, last_state, .. } if job == "job-1" && last_state == "running"),
        "{err:?}"
    );
    assert!(err.is_timeout());
}

#[tokio::test]
async fn a_vanished_job_says_to_re_read_the_resource() {
    let router = Router::new()
        .route(
            "/api/snapmirror/relationships/{uuid}",
            any(|| async { fake::json(202, json!({"job": {"uuid": "gone"}})) }),
        )
        .route(
            "/api/cluster/jobs/{uuid}",
            get(|| async { fake::ontap_error(404, "4", "entry doesn't exist") }),
        );
    let srv = Fake::start(router).await;
    let err = bounded(srv.client().patch_relationship_state(
        "r-1",
        RelationshipState::BrokenOff,
        PatchOptions::default(),
    ))
    .await
    .expect_err("vanished");
    assert!(
        matches!(&err.kind, ErrorKind::JobVanished { job } if job == "gone"),
        "{err:?}"
    );
    assert!(err.to_string().contains("re-read the resource"), "{err}");
}

#[tokio::test]
async fn gets_are_retried_on_5xx_but_posts_are_not() {
    let gets = Arc::new(AtomicUsize::new(0));
    let posts = Arc::new(AtomicUsize::new(0));
    let (g, p) = (gets.clone(), posts.clone());
    let router = Router::new()
        .route(
            "/api/cluster",
            get(move || async move {
                if g.fetch_add(1, Ordering::SeqCst) == 0 {
                    fake::raw(503, "text/plain", "busy")
                } else {
                    fake::json(200, json!({"name": "ontap-a"}))
                }
            }),
        )
        .route(
            "/api/snapmirror/relationships/{uuid}/transfers",
            any(move || async move {
                p.fetch_add(1, Ordering::SeqCst);
                fake::ontap_error(500, "13303812", "initialize failed")
            }),
        );
    let srv = Fake::start(router).await;
    let client = srv.client();
    let c = bounded(client.cluster())
        .await
        .expect("retried GET succeeds");
    assert_eq!(c.name.as_deref(), Some("ontap-a"));
    assert_eq!(gets.load(Ordering::SeqCst), 2);
    let err = bounded(client.start_transfer("r-1"))
        .await
        .expect_err("POST fails");
    assert_eq!(posts.load(Ordering::SeqCst), 1, "a POST is never retried");
    assert!(err.is_wrong_state(), "{err}");
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_three_attempts() {
    let gets = Arc::new(AtomicUsize::new(0));
    let g = gets.clone();
    let router = Router::new().route(
        "/api/cluster",
        get(move || async move {
            g.fetch_add(1, Ordering::SeqCst);
            fake::ontap_error(500, "999", "internal")
        }),
    );
    let srv = Fake::start(router).await;
    let err = bounded(srv.client().cluster()).await.expect_err("5xx");
    assert_eq!(gets.load(Ordering::SeqCst), 3);
    assert!(
        matches!(&err.kind, ErrorKind::Api(f) if f.http_status == 500),
        "{err:?}"
    );
    assert!(err.to_string().contains("retry"), "{err}");
}

#[tokio::test]
async fn maps_ontap_error_bodies() {
    let router = Router::new()
        .route(
            "/api/snapmirror/relationships/{uuid}",
            any(|| async { fake::ontap_error(400, "13303818", "Invalid state transition") }),
        )
        .route(
            "/api/svm/svms",
            any(|| async { fake::ontap_error(409, "1", "duplicate entry") }),
        );
    let srv = Fake::start(router).await;
    let client = srv.client();
    let err = bounded(client.patch_relationship_state(
        "r-1",
        RelationshipState::Paused,
        PatchOptions::default(),
    ))
    .await
    .expect_err("wrong state");
    assert!(matches!(err.kind, ErrorKind::WrongState(_)), "{err:?}");
    assert_eq!(err.code(), Some("13303818"));
    let s = err.to_string();
    assert!(
        s.contains("Invalid state transition") && s.contains("field: state"),
        "{s}"
    );
    let err = bounded(client.create_dp_destination_svm("dup"))
        .await
        .expect_err("dup");
    assert!(err.is_duplicate(), "{err}");
}

#[tokio::test]
async fn abort_of_a_finished_transfer_is_not_an_error() {
    let router = Router::new().route(
        "/api/snapmirror/relationships/{uuid}/transfers/{t}",
        any(|| async { fake::ontap_error(404, "4", "transfer not found") }),
    );
    let srv = Fake::start(router).await;
    let aborted = bounded(srv.client().abort_transfer("r-1", "t-1"))
        .await
        .expect("ignored");
    assert!(!aborted);
}

#[tokio::test]
async fn uuids_from_callers_cannot_change_the_path() {
    let log: Log = Arc::new(Mutex::default());
    let l = log.clone();
    let router = Router::new().fallback(move |uri: Uri, headers: HeaderMap| async move {
        fake::record(&l, "ANY", &uri, &headers);
        fake::ontap_error(404, "4", "nope")
    });
    let srv = Fake::start(router).await;
    let err = bounded(srv.client().relationship("../../cluster"))
        .await
        .expect_err("404");
    assert!(err.is_not_found());
    let calls = log.lock().unwrap().calls.clone();
    assert!(
        calls[0].starts_with("ANY /api/snapmirror/relationships/..%2F..%2Fcluster?"),
        "{calls:?}"
    );
}
