//! A plain HTTP/1.0 GET on 127.0.0.1, for the lab's own checks of the
//! processes it runs (the watcher's `/metrics`), and reading one sample out
//! of Prometheus text. No TLS, no redirects: loopback only.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The body of `GET path` on `127.0.0.1:port` when it answers 200 within
/// `limit`; `None` otherwise.
pub async fn get(port: u16, path: &str, limit: Duration) -> Option<String> {
    let get = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        s.write_all(request.as_bytes()).await.ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).await.ok()?;
        let (head, body) = out.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?;
        (status == "200").then(|| body.to_string())
    };
    tokio::time::timeout(limit, get).await.ok().flatten()
}

/// The value of the sample `name{labels}` (labels as the encoder writes
/// them; `""` for none) in Prometheus or OpenMetrics text.
pub fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let want = if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{labels}}}")
    };
    text.lines().find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        (series == want).then(|| value.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_read_by_exact_series() {
        let text = "# TYPE a gauge\na 1\na_total{x=\"y\"} 2.5\n# EOF\n";
        assert_eq!(sample(text, "a", ""), Some(1.0));
        assert_eq!(sample(text, "a_total", "x=\"y\""), Some(2.5));
        assert_eq!(sample(text, "a_total", ""), None);
    }

    #[tokio::test]
    async fn a_closed_port_is_none() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(get(port, "/metrics", Duration::from_secs(1)).await, None);
    }
}
