//! Where the plugin's Kubernetes API settings come from (no network):
//! 1. in a pod: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account token
//!    and CA under `/var/run/secrets/kubernetes.io/serviceaccount` (the token
//!    file is re-read by the client: bound tokens rotate);
//! 2. otherwise the kubeconfig files of `$KUBECONFIG` (a `:`-separated list;
//!    empty entries and missing files are skipped) or `~/.kube/config`,
//!    merged as kubectl merges them: the first file to set `current-context`
//!    wins, and the first file to define a cluster, user or context of a
//!    given name wins (later definitions of that name are ignored whole).
//!    Relative paths in an entry are relative to the file that defined it.
//!    From the current context: the server, the CA (`certificate-authority`
//!    or `-data`), and a bearer token (`token`, `tokenFile`) or client
//!    certificate (`client-certificate(-data)` + `client-key(-data)`).
//!
//! Unlike kubectl, exec and auth-provider logins and
//! `insecure-skip-tls-verify` are refused with a clear error: the plugin
//! runs no commands and always verifies TLS.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

/// Why the client could not be set up.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// Where the settings came from and what they say (pure data, for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `in-cluster service account` or `kubeconfig <paths> (context <name>)`.
    pub source: String,
    /// API server URL.
    pub server: String,
    /// CA bundle, PEM.
    pub ca_pem: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
    /// File to read the bearer token from.
    pub token_file: Option<PathBuf>,
    /// Client certificate and key, PEM.
    pub client_cert: Option<(String, String)>,
}

/// The service account directory of a pod.
pub const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// In a pod: the service account; else the kubeconfig files.
///
/// # Errors
/// [`SetupError`] naming what is missing or unusable.
pub fn infer() -> Result<Settings, SetupError> {
    if let Some(s) = in_cluster_settings(Path::new(SA_DIR))? {
        return Ok(s);
    }
    let paths = kubeconfig_paths(
        std::env::var_os("KUBECONFIG"),
        std::env::var_os("HOME").map(PathBuf::from),
    )?;
    let mut files = Vec::new();
    for path in &paths {
        match std::fs::read_to_string(path) {
            Ok(text) => files.push((path.clone(), text)),
            // kubectl skips listed files that do not exist.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(SetupError(format!(
                    "cannot read kubeconfig {}: {e}",
                    path.display()
                )));
            }
        }
    }
    if files.is_empty() {
        return Err(SetupError(format!(
            "not in a pod (no KUBERNETES_SERVICE_HOST), and no kubeconfig at {}",
            join_paths(&paths)
        )));
    }
    settings_from_files(&files)
}

/// The kubeconfig files to read, in order (pure): the non-empty entries of
/// `$KUBECONFIG` (`kubeconfig`), else `<home>/.kube/config`.
///
/// # Errors
/// Neither is set.
pub fn kubeconfig_paths(
    kubeconfig: Option<OsString>,
    home: Option<PathBuf>,
) -> Result<Vec<PathBuf>, SetupError> {
    let listed: Vec<PathBuf> = kubeconfig
        .as_deref()
        .map(|v| {
            std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !listed.is_empty() {
        return Ok(listed);
    }
    match home {
        Some(h) => Ok(vec![h.join(".kube").join("config")]),
        None => Err(SetupError(
            "not in a pod (no KUBERNETES_SERVICE_HOST) and no KUBECONFIG or HOME".into(),
        )),
    }
}

/// The pod's service account settings, if running in a pod.
///
/// # Errors
/// In a pod whose CA cannot be read.
pub fn in_cluster_settings(dir: &Path) -> Result<Option<Settings>, SetupError> {
    let (Ok(host), Ok(port)) = (
        std::env::var("KUBERNETES_SERVICE_HOST"),
        std::env::var("KUBERNETES_SERVICE_PORT"),
    ) else {
        return Ok(None);
    };
    let token_file = dir.join("token");
    if !token_file.exists() {
        return Ok(None);
    }
    let ca = std::fs::read_to_string(dir.join("ca.crt")).map_err(|e| {
        SetupError(format!(
            "in-cluster: reading {}: {e}",
            dir.join("ca.crt").display()
        ))
    })?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    Ok(Some(Settings {
        source: "in-cluster service account".into(),
        server: format!("https://{host}:{port}"),
        ca_pem: Some(ca),
        token: None,
        token_file: Some(token_file),
        client_cert: None,
    }))
}

/// One named entry of a kubeconfig list, with the directory of the file
/// that defined it (its relative paths are relative to that).
struct Entry {
    body: Value,
    base: PathBuf,
}

/// The kubeconfig files merged by kubectl's rules (see the module docs).
#[derive(Default)]
struct Merged {
    current_context: Option<String>,
    clusters: Vec<(String, Entry)>,
    users: Vec<(String, Entry)>,
    contexts: Vec<(String, Entry)>,
}

impl Merged {
    fn add(&mut self, path: &Path, doc: &Value) {
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        if self.current_context.is_none() {
            self.current_context = doc
                .get("current-context")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
        }
        for (list, inner, into) in [
            ("clusters", "cluster", &mut self.clusters),
            ("users", "user", &mut self.users),
            ("contexts", "context", &mut self.contexts),
        ] {
            for item in doc
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = item.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if into.iter().any(|(n, _)| n == name) {
                    continue;
                }
                let body = item.get(inner).cloned().unwrap_or(Value::Null);
                into.push((
                    name.to_string(),
                    Entry {
                        body,
                        base: base.clone(),
                    },
                ));
            }
        }
    }

    fn named<'a>(list: &'a [(String, Entry)], name: &str) -> Option<&'a Entry> {
        list.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// Reads the current context of one kubeconfig file (pure apart from reading
/// the files it names, relative to its own directory).
///
/// # Errors
/// As [`settings_from_files`].
pub fn settings_from_kubeconfig(text: &str, path: &Path) -> Result<Settings, SetupError> {
    settings_from_files(&[(path.to_path_buf(), text.to_string())])
}

/// Merges kubeconfig files (path and text, in `$KUBECONFIG` order) and reads
/// the current context (pure apart from reading the files they name).
///
/// # Errors
/// A file that is not YAML or JSON, a missing context, cluster or user, or
/// an unsupported login method.
pub fn settings_from_files(files: &[(PathBuf, String)]) -> Result<Settings, SetupError> {
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let all = join_paths(&paths);
    let mut merged = Merged::default();
    for (path, text) in files {
        let bad = |m: String| SetupError(format!("kubeconfig {}: {m}", path.display()));
        // JSON is valid YAML; parse it directly when it is JSON.
        let doc: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?
        } else {
            serde_yaml::from_str(text).map_err(|e| bad(format!("not valid YAML: {e}")))?
        };
        merged.add(path, &doc);
    }
    let fail = |m: String| SetupError(format!("kubeconfig {all}: {m}"));
    let current = merged
        .current_context
        .clone()
        .ok_or_else(|| fail("no current-context".into()))?;
    let ctx = Merged::named(&merged.contexts, &current)
        .ok_or_else(|| fail(format!("context {current} not found")))?;
    let cluster_name = ctx
        .body
        .get("cluster")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let user_name = ctx
        .body
        .get("user")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let cluster = Merged::named(&merged.clusters, cluster_name)
        .ok_or_else(|| fail(format!("cluster {cluster_name} not found")))?;
    let no_user = Entry {
        body: Value::Null,
        base: PathBuf::from("."),
    };
    let user = Merged::named(&merged.users, user_name).unwrap_or(&no_user);
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let file_or_data = |e: &Entry, file_key: &str, data_key: &str| {
        if let Some(d) = s(&e.body, data_key) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .map_err(|err| fail(format!("{data_key} is not base64: {err}")))?;
            return String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| fail(format!("{data_key} is not PEM text")));
        }
        match s(&e.body, file_key) {
            Some(f) => std::fs::read_to_string(e.base.join(&f))
                .map(Some)
                .map_err(|err| fail(format!("reading {file_key} {f}: {err}"))),
            None => Ok(None),
        }
    };
    if cluster
        .body
        .get("insecure-skip-tls-verify")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Err(fail(format!(
            "cluster {cluster_name} sets insecure-skip-tls-verify; the plugin always verifies TLS: give certificate-authority(-data)"
        )));
    }
    if user.body.get("exec").is_some() || user.body.get("auth-provider").is_some() {
        return Err(fail(format!(
            "user {user_name} logs in through an exec or auth-provider plugin, which the Velero plugin does not run; \
             use a token or client certificate (in a pod, the service account is used)"
        )));
    }
    let cert = file_or_data(user, "client-certificate", "client-certificate-data")?;
    let key = file_or_data(user, "client-key", "client-key-data")?;
    Ok(Settings {
        source: format!("kubeconfig {all} (context {current})"),
        server: s(&cluster.body, "server")
            .ok_or_else(|| fail(format!("cluster {cluster_name} has no server")))?,
        ca_pem: file_or_data(
            cluster,
            "certificate-authority",
            "certificate-authority-data",
        )?,
        token: s(&user.body, "token"),
        token_file: s(&user.body, "tokenFile").map(|f| user.base.join(f)),
        client_cert: cert.zip(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC: &str = r#"
apiVersion: v1
kind: Config
current-context: dr
clusters:
  - name: dr
    cluster: { server: "https://127.0.0.1:6443", certificate-authority-data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==" }
  - name: other
    cluster: { server: "https://10.0.0.1" }
users:
  - name: dr
    user: { token: "abc" }
contexts:
  - name: dr
    context: { cluster: dr, user: dr }
"#;

    #[test]
    fn reads_the_current_context() {
        let s = settings_from_kubeconfig(KC, Path::new("/tmp/kc")).unwrap();
        assert_eq!(s.server, "https://127.0.0.1:6443");
        assert_eq!(s.token.as_deref(), Some("abc"));
        assert!(s.ca_pem.unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(s.source.contains("context dr"));
    }

    #[test]
    fn json_kubeconfig_too() {
        let v: Value = serde_yaml::from_str(KC).unwrap();
        let s = settings_from_kubeconfig(&v.to_string(), Path::new("/tmp/kc")).unwrap();
        assert_eq!(s.server, "https://127.0.0.1:6443");
    }

    #[test]
    fn refuses_what_it_cannot_do_safely() {
        let insecure = KC.replace(
            "certificate-authority-data: \"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\"",
            "insecure-skip-tls-verify: true",
        );
        let e = settings_from_kubeconfig(&insecure, Path::new("/tmp/kc")).unwrap_err();
        assert!(e.0.contains("insecure-skip-tls-verify"), "{e}");
        let exec = KC.replace(
            "user: { token: \"abc\" }",
            "user: { exec: { command: aws } }",
        );
        let e = settings_from_kubeconfig(&exec, Path::new("/tmp/kc")).unwrap_err();
        assert!(e.0.contains("exec"), "{e}");
        let e =
            settings_from_kubeconfig("current-context: nope\n", Path::new("/tmp/kc")).unwrap_err();
        assert!(e.0.contains("context nope not found"), "{e}");
    }

    #[test]
    fn not_in_a_pod_without_the_service_env() {
        // The test environment has no KUBERNETES_SERVICE_HOST (or no token file).
        let dir = tempfile::tempdir().unwrap();
        assert!(in_cluster_settings(dir.path()).unwrap().is_none());
    }

    #[test]
    fn kubeconfig_list_skips_empty_entries_and_falls_back_to_home() {
        let paths = kubeconfig_paths(Some("/a/one::/b/two".into()), None).unwrap();
        assert_eq!(paths, [PathBuf::from("/a/one"), PathBuf::from("/b/two")]);
        let paths = kubeconfig_paths(Some("".into()), Some("/home/u".into())).unwrap();
        assert_eq!(paths, [PathBuf::from("/home/u/.kube/config")]);
        assert!(kubeconfig_paths(None, None).is_err());
    }

    /// kubectl's rules: the first file to set `current-context` wins, and
    /// the first definition of a name wins whole.
    #[test]
    fn files_merge_as_kubectl_merges_them() {
        let first = r#"
clusters:
  - name: dr
    cluster: { server: "https://first:6443", certificate-authority: ca.pem }
users:
  - name: dr
    user: { tokenFile: token }
"#;
        let second = r#"
current-context: dr
clusters:
  - name: dr
    cluster: { server: "https://second:6443" }
users:
  - name: dr
    user: { token: "from-second" }
  - name: other
    user: { token: "x" }
contexts:
  - name: dr
    context: { cluster: dr, user: dr }
"#;
        let third = "current-context: other\n";
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one");
        std::fs::create_dir_all(&one).unwrap();
        std::fs::write(one.join("ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
        let s = settings_from_files(&[
            (one.join("config"), first.into()),
            (dir.path().join("two"), second.into()),
            (dir.path().join("three"), third.into()),
        ])
        .unwrap();
        assert_eq!(s.server, "https://first:6443", "the first cluster dr wins");
        assert_eq!(s.token, None, "the first user dr wins whole");
        assert_eq!(
            s.token_file,
            Some(one.join("token")),
            "relative to its file"
        );
        assert_eq!(s.ca_pem.as_deref(), Some("-----BEGIN CERTIFICATE-----\n"));
        assert!(s.source.contains("(context dr)"), "{}", s.source);
        assert!(
            s.source
                .contains(&dir.path().join("three").display().to_string())
        );
    }
}
