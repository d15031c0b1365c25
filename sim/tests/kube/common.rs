//! Helpers shared by the kube tests: clients built the two ways a caller can
//! build them, and a guard against hanging forever.

use std::future::Future;
use std::time::Duration;

use sim::kube::KubeSim;

/// A kube-rs client built directly from the server's URL, CA and token.
pub fn client(sim: &KubeSim) -> kube::Client {
    let mut config = kube::Config::new(sim.url().parse().expect("the sim URL parses"));
    config.root_cert = Some(vec![pem_to_der(sim.ca_pem())]);
    config.auth_info.token = Some(sim.token().to_string().into());
    config.connect_timeout = Some(Duration::from_secs(5));
    kube::Client::try_from(config).expect("a client from the sim config")
}

/// The DER bytes of the first certificate in a PEM string.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM body is base64")
}

/// Runs `fut` under a generous deadline so a bug fails the test instead of
/// hanging it.
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 20 s"))
}
