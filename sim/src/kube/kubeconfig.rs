//! kubeconfig files for simulated clusters: one cluster, user and context
//! per entry, the lab CA as `certificate-authority-data`, the bearer token
//! as the user's `token`; the first entry is the current context.

use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::{Value, json};

use super::KubeSim;

/// The kubeconfig document (YAML) for `clusters` (context name, server).
///
/// # Errors
/// When `clusters` is empty or YAML encoding fails.
pub fn kubeconfig_yaml(clusters: &[(&str, &KubeSim)]) -> Result<String> {
    let first = clusters
        .first()
        .context("a kubeconfig needs at least one cluster")?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut cl = Vec::new();
    let mut users = Vec::new();
    let mut contexts = Vec::new();
    for (name, sim) in clusters {
        cl.push(json!({"name": name, "cluster": {
            "server": sim.url(),
            "certificate-authority-data": b64(sim.ca_pem()),
        }}));
        users.push(json!({"name": name, "user": {"token": sim.token()}}));
        contexts.push(json!({"name": name, "context": {"cluster": name, "user": name}}));
    }
    let doc: Value = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": cl,
        "users": users,
        "contexts": contexts,
        "current-context": first.0,
        "preferences": {},
    });
    Ok(serde_yaml::to_string(&doc)?)
}

/// Writes a kubeconfig for `clusters` to `path`, readable by the owner only
/// (it holds bearer tokens).
///
/// # Errors
/// When `clusters` is empty or the file cannot be written.
pub fn write_kubeconfig(path: &Path, clusters: &[(&str, &KubeSim)]) -> Result<()> {
    let yaml = kubeconfig_yaml(clusters)?;
    write_private(path, yaml.as_bytes())
        .with_context(|| format!("writing kubeconfig {}", path.display()))
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}
