//! A small raw HTTPS client for the simulator tests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sim::ontap::OntapSim;

pub const ADMIN: (&str, &str) = ("admin", "Netapp1!");
pub const PRIMARY: &str = "primary";
pub const DR: &str = "dr";
pub const VOL_A: &str = "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90";
pub const VOL_B: &str = "trident_pvc_3c9e1b7d_8a2f_4e5c_b1d0_6a4f3e2d1c0b";

/// rustls client config trusting the lab CA (optionally with a client cert).
pub fn tls_config(ca_pem: &str, client: Option<&sim::tls::CertPair>) -> rustls::ClientConfig {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    match client {
        None => builder.with_no_client_auth(),
        Some(pair) => {
            let cert = CertificateDer::from_pem_slice(pair.cert_pem.as_bytes()).unwrap();
            let key = PrivateKeyDer::from_pem_slice(pair.key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(vec![cert], key).unwrap()
        }
    }
}

/// One cluster's API, as one user.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub auth: Option<(String, String)>,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
}

impl Api {
    pub fn new(lab: &OntapSim, cluster: &str, auth: Option<(&str, &str)>) -> Api {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config(lab.ca_pem(), None))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Api {
            http,
            base: lab.url(cluster),
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
        }
    }

    pub fn admin(lab: &OntapSim, cluster: &str) -> Api {
        Api::new(lab, cluster, Some(ADMIN))
    }

    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<Resp> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some((u, p)) = &self.auth {
            req = req.basic_auth(u, Some(p));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Resp {
            status,
            body,
            location,
        })
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.try_send(method.clone(), path, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// A GET with this `Accept` header; the JSON body.
    pub async fn get_accepting(&self, path: &str, accept: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .header("accept", accept)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }

    /// Polls a job until it ends (10 s guard) and returns it.
    pub async fn wait_job(&self, resp: &Resp) -> Value {
        let uuid = resp.body["job"]["uuid"]
            .as_str()
            .unwrap_or_else(|| panic!("no job in {:?}", resp.body))
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let j = self
                .get(&format!("/api/cluster/jobs/{uuid}?fields=**"))
                .await;
            assert_eq!(j.status, 200, "{:?}", j.body);
            if matches!(j.body["state"].as_str(), Some("success" | "failure")) {
                return j.body;
            }
            assert!(
                Instant::now() < deadline,
                "job {uuid} did not finish: {:?}",
                j.body
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Sends a request that starts a job and expects it to succeed.
    pub async fn job_ok(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let r = self.send(method.clone(), path, body).await;
        assert_eq!(r.status, 202, "{method} {path}: {:?}", r.body);
        let job = self.wait_job(&r).await;
        assert_eq!(job["state"], "success", "{method} {path}: {job:?}");
        r
    }

    /// The first record of a collection GET.
    pub async fn first(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        r.body["records"][0].clone()
    }

    /// Polls `path` until `pred` holds (10 s guard).
    pub async fn wait_for(&self, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.get(path).await;
            if r.status == 200 && pred(&r.body) {
                return r.body;
            }
            assert!(
                Instant::now() < deadline,
                "condition on {path} never held: {:?}",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Asserts an ONTAP error: HTTP status and code.
pub fn assert_err(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], json!(code), "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

pub async fn svm_uuid(api: &Api, name: &str) -> String {
    let r = api.first(&format!("/api/svm/svms?name={name}")).await;
    r["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("no SVM {name}"))
        .to_string()
}

/// Peers the two clusters (both sides posted).
pub async fn peer_clusters(a: &Api, b: &Api) {
    let r = a
        .post("/api/cluster/peers", json!({"remote": {"ip_addresses": ["192.0.2.21", "192.0.2.22"]}, "authentication": {"generate_passphrase": true}}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let pass = r.body["records"][0]["authentication"]["passphrase"]
        .as_str()
        .unwrap()
        .to_string();
    let r = b
        .post("/api/cluster/peers", json!({"remote.ip_addresses": ["192.0.2.11", "192.0.2.12"], "authentication.passphrase": pass}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// Peers the clusters, creates `svm1_dr` (dp_destination), peers the SVMs
/// (accepted on primary) and creates the relationship with `identity`.
/// Returns the relationship uuid.
pub async fn setup_dr(a: &Api, b: &Api, identity: &str) -> String {
    peer_svms(a, b).await;
    let r = b
        .post(
            "/api/snapmirror/relationships?return_records=true",
            json!({"source": {"path": "svm1:", "cluster": {"name": "ontap-a"}}, "destination": {"path": "svm1_dr:"}, "policy": {"name": "MirrorAllSnapshots"}, "identity_preservation": identity}),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let uuid = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(b.wait_job(&r).await["state"], "success");
    uuid
}

/// Peers the clusters, creates the `dp_destination` SVM `svm1_dr` on `b`
/// and peers it with `svm1` on `a` (accepted).
pub async fn peer_svms(a: &Api, b: &Api) {
    peer_clusters(a, b).await;
    b.job_ok(
        Method::POST,
        "/api/svm/svms",
        Some(json!({"name": "svm1_dr", "subtype": "dp_destination"})),
    )
    .await;
    let r = b
        .send(Method::POST, "/api/svm/peers?return_records=true", Some(json!({"svm": {"name": "svm1_dr"}, "peer": {"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}}, "applications": ["snapmirror"]})))
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let peer_uuid = r.body["records"][0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(b.wait_job(&r).await["state"], "success");
    let p = a.get(&format!("/api/svm/peers/{peer_uuid}")).await;
    assert_eq!(p.body["state"], "pending", "{:?}", p.body);
    a.job_ok(
        Method::PATCH,
        &format!("/api/svm/peers/{peer_uuid}"),
        Some(json!({"state": "peered"})),
    )
    .await;
}

/// Initializes and waits for snapmirrored.
pub async fn initialize(b: &Api, rel: &str) {
    b.job_ok(
        Method::PATCH,
        &format!("/api/snapmirror/relationships/{rel}"),
        Some(json!({"state": "snapmirrored"})),
    )
    .await;
    b.wait_for(&format!("/api/snapmirror/relationships/{rel}"), |r| {
        r["state"] == "snapmirrored" && r["transfer"]["state"] == "success"
    })
    .await;
}

/// Can we open a TCP connection to addr?
pub async fn probe(addr: std::net::SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// Polls a probe until it gives `want` (10 s guard).
pub async fn wait_probe(addr: std::net::SocketAddr, want: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe(addr).await != want {
        assert!(
            Instant::now() < deadline,
            "probe {addr} never became {want}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
