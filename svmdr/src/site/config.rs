//! The config file that names the sites.
//!
//! Default location: `<platform config dir>/kubectl-svmdr/config.yaml`
//! (e.g. `~/.config/kubectl-svmdr/config.yaml`); `--config` or
//! `SVMDR_CONFIG` override it. Every field is optional; flags override it.
//!
//! ```yaml
//! primary:
//!   context: prod-east            # kube context of the site
//!   kubeconfig: /path/kubeconfig  # default: --kubeconfig, $KUBECONFIG, ~/.kube/config
//!   namespace: trident            # Trident's namespace
//!   backend: ontap-nas-svm1       # backend name, TridentBackendConfig name or UUID
//!   clusterManagement: 10.0.0.5   # ONTAP cluster management address (default: managementLIF)
//!   caFile: /etc/svmdr/ontap-a.pem
//!   insecureSkipTLSVerify: false
//!   credentialsSecret:            # cluster-admin ONTAP credentials (username/password keys)
//!     namespace: trident
//!     name: ontap-a-admin
//! dr:
//!   context: prod-west
//!   backend: ontap-nas-svm1
//!   credentialsSecret: {namespace: trident, name: ontap-b-admin}
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SiteError;

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The primary (source) site.
    #[serde(default)]
    pub primary: Option<SiteConfig>,
    /// The DR (destination) site.
    #[serde(default)]
    pub dr: Option<SiteConfig>,
}

/// One site in the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteConfig {
    /// Kube context.
    #[serde(default)]
    pub context: Option<String>,
    /// Kubeconfig file for this site.
    #[serde(default)]
    pub kubeconfig: Option<PathBuf>,
    /// Trident's namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Trident backend: name, TridentBackendConfig name or UUID.
    #[serde(default)]
    pub backend: Option<String>,
    /// ONTAP cluster management address (default: the backend's managementLIF).
    #[serde(default)]
    pub cluster_management: Option<String>,
    /// PEM CA file for the ONTAP cluster's certificate.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Skip ONTAP TLS verification (explicit only).
    #[serde(default, rename = "insecureSkipTLSVerify")]
    pub insecure_skip_tls_verify: bool,
    /// Secret holding cluster-admin ONTAP credentials (`username`, `password`).
    #[serde(default)]
    pub credentials_secret: Option<SecretRef>,
}

/// A reference to a Kubernetes Secret in the site's cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Namespace (default: the site's Trident namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Secret name.
    pub name: String,
}

impl ConfigFile {
    /// Parses the YAML text of a config file.
    ///
    /// # Errors
    /// [`SiteError::Config`] naming the file and the YAML problem.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SiteError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text).map_err(|e| SiteError::Config {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
    }

    /// Loads a config file. A missing file at the default location is an
    /// empty config (`required = false`); a missing file the user named is
    /// an error.
    ///
    /// # Errors
    /// [`SiteError::Config`] when the file cannot be read or parsed.
    pub fn load(path: &Path, required: bool) -> Result<Self, SiteError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Self::default()),
            Err(e) => Err(SiteError::Config {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let text = r#"
primary:
  context: prod-east
  backend: ontap-nas-svm1
  clusterManagement: 10.0.0.5
  caFile: /etc/svmdr/ontap-a.pem
  insecureSkipTLSVerify: false
  credentialsSecret:
    namespace: trident
    name: ontap-a-admin
dr:
  context: prod-west
  credentialsSecret: {name: ontap-b-admin}
"#;
        let c = ConfigFile::parse(text, Path::new("c.yaml")).unwrap();
        let p = c.primary.unwrap();
        assert_eq!(p.context.as_deref(), Some("prod-east"));
        assert_eq!(p.cluster_management.as_deref(), Some("10.0.0.5"));
        assert_eq!(p.credentials_secret.unwrap().name, "ontap-a-admin");
        let d = c.dr.unwrap();
        assert_eq!(d.credentials_secret.unwrap().namespace, None);
        assert!(!d.insecure_skip_tls_verify);
    }

    #[test]
    fn unknown_fields_and_bad_yaml_name_the_file() {
        let e = ConfigFile::parse("primary: {contxt: a}", Path::new("/x/c.yaml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/x/c.yaml") && msg.contains("contxt"), "{msg}");
        assert_eq!(
            ConfigFile::parse("", Path::new("c")).unwrap(),
            ConfigFile::default()
        );
    }

    #[test]
    fn missing_default_file_is_empty_but_named_file_is_required() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("none.yaml");
        assert_eq!(ConfigFile::load(&p, false).unwrap(), ConfigFile::default());
        assert!(ConfigFile::load(&p, true).is_err());
    }
}
