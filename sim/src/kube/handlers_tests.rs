//! Tests of the request handlers, through the router.

use super::*;
use crate::kube::resources::Registry;
use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;

fn app() -> Arc<App> {
    let store = Arc::new(Store::new(Registry::standard(), 100));
    let ns = store.resource_by_kind("v1", "Namespace").unwrap();
    store
        .create(
            &ns,
            "",
            json!({"metadata": {"name": "default"}}),
            WriteOpts::default(),
        )
        .unwrap();
    Arc::new(App {
        store,
        token: "t0ken".into(),
        address: "127.0.0.1:1".into(),
        config: ServerConfig {
            max_watch_timeout: Duration::from_secs(1),
            bookmark_interval: Duration::from_secs(60),
        },
        log: Mutex::new(Vec::new()),
    })
}

async fn call(
    app: &Arc<App>,
    method: &str,
    uri: &str,
    accept: Option<&str>,
) -> (u16, String, String) {
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, "Bearer t0ken");
    if let Some(a) = accept {
        req = req.header(header::ACCEPT, a);
    }
    let resp = router(app.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (code, ct, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn routes_namespace_status_and_unknown_paths() {
    let app = app();
    let (code, _, body) = call(&app, "GET", "/api/v1/namespaces/default/status", None).await;
    assert_eq!(code, 200);
    assert!(body.contains("\"kind\":\"Namespace\""));
    let (code, _, body) = call(&app, "GET", "/api/v1/namespaces/default/widgets", None).await;
    assert_eq!(code, 404);
    assert!(body.contains("the server could not find the requested resource"));
    let (code, _, _) = call(&app, "PUT", "/api/v1/namespaces/default/configmaps", None).await;
    assert_eq!(code, 405);
    let (code, _, _) = call(&app, "GET", "/api/v1/secrets/x", None).await;
    assert_eq!(code, 404, "a namespaced object needs its namespace");
    assert!(
        app.log
            .lock()
            .unwrap()
            .contains(&"GET /api/v1/secrets/x".to_string())
    );
}

#[tokio::test]
async fn boolean_parameters_read_as_the_api_server_reads_them() {
    let app = app();
    // The Python client sends `watch=True`: a watch (a stream that the
    // 1 s cap ends), not a list.
    for v in ["True", "true", "1", "t", "yes"] {
        let uri =
            format!("/api/v1/namespaces/default/configmaps?watch={v}&allowWatchBookmarks=True");
        let (code, _, body) = call(&app, "GET", &uri, None).await;
        assert_eq!(code, 200);
        assert!(body.contains("\"type\":\"BOOKMARK\""), "watch={v}: {body}");
    }
    for v in ["False", "false", "0"] {
        let uri = format!("/api/v1/namespaces/default/configmaps?watch={v}");
        let (_, _, body) = call(&app, "GET", &uri, None).await;
        assert!(
            body.contains("\"kind\":\"ConfigMapList\""),
            "watch={v}: {body}"
        );
    }
}

#[tokio::test]
async fn legacy_watch_prefix_streams_and_ends() {
    let app = app();
    let (code, _, body) = call(
        &app,
        "GET",
        "/api/v1/watch/namespaces/default/configmaps?allowWatchBookmarks=true",
        None,
    )
    .await;
    // The server's 1 s cap ends the stream with a closing bookmark.
    assert_eq!(code, 200);
    assert!(body.contains("\"type\":\"BOOKMARK\""), "{body}");
}

#[tokio::test]
async fn aggregated_discovery_is_negotiated() {
    let app = app();
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let (code, ct, body) = call(&app, "GET", "/apis", Some(accept)).await;
    assert_eq!(code, 200);
    assert_eq!(
        ct,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    assert!(body.contains("APIGroupDiscoveryList"));
    let (_, ct, body) = call(&app, "GET", "/apis", Some("application/json")).await;
    assert_eq!(ct, "application/json");
    assert!(body.contains("\"kind\":\"APIGroupList\""));
}

#[tokio::test]
async fn missing_token_is_401() {
    let app = app();
    let resp = router(app)
        .oneshot(
            axum::http::Request::get("/version")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}
