//! The endpoints over a real socket on 127.0.0.1, with a plain HTTP/1.1
//! client.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::{Health, OPENMETRICS, serve};
use crate::metrics::Metrics;

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

async fn get(addr: std::net::SocketAddr, path: &str) -> Reply {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("reply within 10 s")
        .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: headers.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

/// A server with `health`; returns its address, the shutdown trigger and
/// the server's task.
async fn start(
    health: Arc<Health>,
) -> (
    std::net::SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let metrics = Arc::new(Metrics::new());
    let task = tokio::spawn(serve(listener, metrics, health, async {
        let _ = stopped.await;
    }));
    (addr, stop, task)
}

#[tokio::test]
async fn metrics_are_openmetrics_text() {
    let (addr, stop, task) = start(Arc::new(Health::new(
        Duration::from_secs(60),
        Duration::from_secs(60),
    )))
    .await;
    let r = get(addr, "/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers.contains(&format!(
            "content-type: {}",
            OPENMETRICS.to_ascii_lowercase()
        )),
        "{}",
        r.headers
    );
    assert!(
        r.body.contains("svmdr_verdict{verdict=\"starting\"} 1\n"),
        "{}",
        r.body
    );
    assert!(r.body.ends_with("# EOF\n"), "{}", r.body);
    assert_eq!(get(addr, "/nothing").await.status, 404);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the server stops on shutdown")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn ready_after_the_first_observation_and_dead_when_the_loop_stalls() {
    let health = Arc::new(Health::new(Duration::from_secs(1), Duration::from_secs(60)));
    let (addr, stop, _task) = start(health.clone()).await;
    // Starting: alive, not ready.
    assert_eq!(get(addr, "/healthz").await.status, 200);
    let r = get(addr, "/readyz").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body, "no observation finished yet\n");
    health.mark_observed();
    assert_eq!(get(addr, "/healthz").await.status, 200);
    assert_eq!(get(addr, "/readyz").await.status, 200);
    // Switched off: still alive, not ready.
    health.set_ready(false);
    assert_eq!(get(addr, "/healthz").await.status, 200);
    let r = get(addr, "/readyz").await;
    assert_eq!(r.status, 503);
    assert!(r.body.contains("taken out of service"), "{}", r.body);
    health.set_ready(true);
    // The loop stalls past the bound: neither alive nor ready.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let r = get(addr, "/healthz").await;
    assert_eq!(r.status, 503);
    assert!(
        r.body.starts_with("no observation finished for ") && r.body.ends_with(" (limit 1s)\n"),
        "{}",
        r.body
    );
    assert_eq!(r.body.lines().count(), 1);
    assert_eq!(get(addr, "/readyz").await.status, 503);
    // It turns again.
    health.mark_observed();
    assert_eq!(get(addr, "/healthz").await.status, 200);
    assert_eq!(get(addr, "/readyz").await.status, 200);
    let _ = stop.send(());
}

#[tokio::test]
async fn dead_when_nothing_is_observed_within_the_startup_bound() {
    let health = Arc::new(Health::new(
        Duration::from_secs(60),
        Duration::from_millis(200),
    ));
    let (addr, stop, _task) = start(health.clone()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = get(addr, "/healthz").await;
    assert_eq!(r.status, 503);
    assert!(r.body.contains("since start"), "{}", r.body);
    health.mark_observed();
    assert_eq!(get(addr, "/healthz").await.status, 200);
    let _ = stop.send(());
}
