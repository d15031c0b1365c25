//! krew's rules for a plugin manifest, as krew's own `ValidatePlugin` and
//! `validate-krew-manifest` (run by krew-index CI) apply them: structure,
//! name, version, description, platform selectors (only `os`/`arch`, values
//! krew supports, no os/arch matched twice), `uri`, `sha256`, `bin`, `files`.
//! What needs the archive itself (sha256 matches, `bin` and a license file
//! present after extraction) is checked by [`check_archive`].

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The API version krew accepts.
pub const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";

/// os/arch pairs `validate-krew-manifest` accepts.
const SUPPORTED: &[(&str, &str)] = &[
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

const WINDOWS_RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A krew plugin manifest.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Must be [`API_VERSION`].
    pub api_version: String,
    /// Must be `Plugin`.
    pub kind: String,
    /// Holds the plugin name.
    pub metadata: Metadata,
    /// The plugin.
    pub spec: Spec,
}

/// `metadata`.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    /// The plugin name (and the manifest's file name).
    pub name: String,
}

/// `spec`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// `v`-prefixed semver.
    #[serde(default)]
    pub version: String,
    /// Project page.
    #[serde(default)]
    pub homepage: String,
    /// One line.
    #[serde(default)]
    pub short_description: String,
    /// Long description.
    #[serde(default)]
    pub description: String,
    /// Shown after install.
    #[serde(default)]
    pub caveats: String,
    /// One per os/arch.
    #[serde(default)]
    pub platforms: Vec<Platform>,
}

/// One platform of a manifest.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    /// A label selector over `os` and `arch`.
    pub selector: Option<Selector>,
    /// Archive URL.
    #[serde(default)]
    pub uri: String,
    /// Archive sha256, lowercase hex.
    #[serde(default)]
    pub sha256: String,
    /// Executable inside the install folder.
    #[serde(default)]
    pub bin: String,
    /// What to extract.
    pub files: Option<Vec<FileOp>>,
}

/// A label selector.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// Exact labels.
    pub match_labels: Option<std::collections::BTreeMap<String, String>>,
    /// Expressions.
    pub match_expressions: Option<Vec<Expression>>,
}

/// A selector expression.
#[derive(Debug, Deserialize)]
pub struct Expression {
    /// `os` or `arch`.
    pub key: String,
    /// In, NotIn, Exists, DoesNotExist.
    pub operator: String,
    /// Values.
    #[serde(default)]
    pub values: Vec<String>,
}

/// A `files` entry.
#[derive(Debug, Deserialize)]
pub struct FileOp {
    /// Glob in the archive.
    #[serde(default)]
    pub from: String,
    /// Destination in the install folder.
    #[serde(default)]
    pub to: String,
}

impl Selector {
    fn matches(&self, os: &str, arch: &str) -> bool {
        let label = |k: &str| match k {
            "os" => Some(os),
            "arch" => Some(arch),
            _ => None,
        };
        let labels_ok = self
            .match_labels
            .iter()
            .flatten()
            .all(|(k, v)| label(k) == Some(v.as_str()));
        let exprs_ok = self.match_expressions.iter().flatten().all(|e| {
            let value = label(&e.key);
            match e.operator.as_str() {
                "In" => value.is_some_and(|v| e.values.iter().any(|x| x == v)),
                "NotIn" => value.is_none_or(|v| e.values.iter().all(|x| x != v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
        labels_ok && exprs_ok
    }
}

fn is_semver_with_v(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// Checks a manifest's text by krew's rules; `file_name` is the manifest's
/// file name (krew requires `<metadata.name>.yaml`). Returns every problem
/// found; empty means valid.
pub fn validate(yaml: &str, file_name: &str) -> Vec<String> {
    let manifest: Manifest = match serde_yaml::from_str(yaml) {
        Ok(m) => m,
        Err(err) => return vec![format!("not a krew manifest: {err}")],
    };
    let mut problems = Vec::new();
    let mut fail = |p: String| problems.push(p);
    if manifest.api_version != API_VERSION {
        fail(format!("apiVersion must be {API_VERSION}"));
    }
    if manifest.kind != "Plugin" {
        fail("kind must be Plugin".into());
    }
    let name = &manifest.metadata.name;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        fail(format!("name {name:?} must match ^[\\w-]+$"));
    }
    if WINDOWS_RESERVED.contains(&name.to_lowercase().as_str()) {
        fail(format!("name {name:?} is a reserved Windows name"));
    }
    match file_name.strip_suffix(".yaml") {
        Some(stem) if stem == name => {}
        _ => fail(format!("file {file_name} must be named {name}.yaml")),
    }
    let spec = &manifest.spec;
    if spec.short_description.trim().is_empty() || spec.short_description.contains(['\r', '\n']) {
        fail("shortDescription must be one non-empty line".into());
    }
    if !is_semver_with_v(&spec.version) {
        fail(format!(
            "version {:?} must be semver with a leading v",
            spec.version
        ));
    }
    if spec.platforms.is_empty() {
        fail("at least one platform is required".into());
    }
    let mut claimed = BTreeSet::new();
    for (i, p) in spec.platforms.iter().enumerate() {
        let at = format!("platforms[{i}]");
        if p.uri.is_empty() {
            fail(format!("{at}: uri is required"));
        }
        if !(p.uri.ends_with(".tar.gz") || p.uri.ends_with(".zip")) {
            fail(format!("{at}: uri must be a .tar.gz or .zip"));
        }
        if p.sha256.len() != 64 || !p.sha256.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
            fail(format!("{at}: sha256 must be 64 lowercase hex digits"));
        }
        if p.bin.is_empty() {
            fail(format!("{at}: bin is required"));
        }
        if let Some(files) = &p.files {
            if files.is_empty() {
                fail(format!("{at}: files, when present, must not be empty"));
            }
            for f in files {
                if f.from.is_empty() || f.to.is_empty() {
                    fail(format!("{at}: every files entry needs from and to"));
                }
            }
        }
        let Some(sel) = &p.selector else {
            fail(format!("{at}: selector is required"));
            continue;
        };
        let labels = sel.match_labels.as_ref();
        let exprs = sel.match_expressions.as_ref();
        if labels.is_some_and(|l| l.is_empty()) || exprs.is_some_and(|e| e.is_empty()) {
            fail(format!(
                "{at}: matchLabels/matchExpressions present but empty"
            ));
        }
        if labels.is_none_or(|l| l.is_empty()) && exprs.is_none_or(|e| e.is_empty()) {
            fail(format!("{at}: selector must not be empty"));
        }
        let keys = labels.into_iter().flat_map(|l| l.keys().cloned()).chain(
            exprs
                .into_iter()
                .flat_map(|e| e.iter().map(|x| x.key.clone())),
        );
        for key in keys {
            if key != "os" && key != "arch" {
                fail(format!("{at}: selector key {key:?} is not os or arch"));
            }
        }
        let matched: Vec<_> = SUPPORTED
            .iter()
            .filter(|(os, arch)| sel.matches(os, arch))
            .collect();
        if matched.is_empty() {
            fail(format!("{at}: selector matches no supported os/arch"));
        }
        for pair in matched {
            if !claimed.insert(*pair) {
                fail(format!(
                    "{at}: {}/{} is matched by more than one platform",
                    pair.0, pair.1
                ));
            }
        }
    }
    problems
}

/// What [`check_archive`] found in an archive.
#[derive(Debug)]
pub struct ArchiveReport {
    /// Entries, in archive order.
    pub entries: Vec<String>,
    /// The archive's sha256, lowercase hex.
    pub sha256: String,
}

/// Checks a `.tar.gz` against one platform: its sha256, the `bin` file
/// present and executable, and a license file (krew's names, any case).
pub fn check_archive(archive: &Path, platform: &Platform) -> Result<ArchiveReport> {
    let bytes = std::fs::read(archive).with_context(|| format!("reading {}", archive.display()))?;
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    anyhow::ensure!(
        sha256 == platform.sha256,
        "sha256 of {} is {sha256}, manifest says {}",
        archive.display(),
        platform.sha256
    );
    let mut entries = Vec::new();
    let mut bin_mode = None;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    for entry in tar.entries().context("reading the archive")? {
        let mut entry = entry.context("reading an archive entry")?;
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if path == platform.bin.trim_start_matches("./") {
            bin_mode = Some(entry.header().mode()?);
        }
        let mut sink = Vec::new();
        entry.read_to_end(&mut sink)?;
        entries.push(path);
    }
    let mode = bin_mode.with_context(|| format!("bin {:?} is not in the archive", platform.bin))?;
    anyhow::ensure!(
        mode & 0o111 != 0,
        "bin {:?} is not executable",
        platform.bin
    );
    let license = entries.iter().any(|e| {
        let e = e.to_uppercase();
        e.starts_with("LICENSE") || e.starts_with("COPYING")
    });
    anyhow::ensure!(license, "no LICENSE or COPYING file in the archive");
    Ok(ArchiveReport { entries, sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata: {name: svmdr}
spec:
  version: v0.1.0
  shortDescription: ONTAP SVM-DR for Trident
  platforms:
  - selector: {matchLabels: {os: linux, arch: amd64}}
    uri: https://example.com/a.tar.gz
    sha256: 6e8a0f2d09b209a531317faa2b1bf076a6df79a9df69f317544eb191c3c169b6
    bin: kubectl-svmdr
  - selector: {matchLabels: {os: darwin, arch: arm64}}
    uri: https://example.com/b.tar.gz
    sha256: 6e8a0f2d09b209a531317faa2b1bf076a6df79a9df69f317544eb191c3c169b6
    bin: kubectl-svmdr
"#;

    #[test]
    fn accepts_a_good_manifest() {
        assert_eq!(validate(GOOD, "svmdr.yaml"), Vec::<String>::new());
    }

    #[test]
    fn rejects_each_broken_rule() {
        let cases = [
            (GOOD.replace("v0.1.0", "0.1.0"), "leading v"),
            (GOOD.replace("v0.1.0", "v0.1"), "leading v"),
            (GOOD.replace("kind: Plugin", "kind: Plug"), "kind"),
            (
                GOOD.replace("{name: svmdr}", "{name: \"sv/mdr\"}"),
                "must match",
            ),
            (GOOD.replace("{name: svmdr}", "{name: aux}"), "reserved"),
            (
                GOOD.replace("ONTAP SVM-DR for Trident", "\"\""),
                "shortDescription",
            ),
            (GOOD.replacen("6e8a", "6E8A", 1), "sha256"),
            (
                GOOD.replacen("bin: kubectl-svmdr", "bin: \"\"", 1),
                "bin is required",
            ),
            (
                GOOD.replace("darwin, arch: arm64", "linux, arch: amd64"),
                "more than one",
            ),
            (
                GOOD.replace("os: darwin", "platform: darwin"),
                "not os or arch",
            ),
            (GOOD.replace("arch: arm64", "arch: sparc"), "no supported"),
            (GOOD.replace("a.tar.gz", "a.rpm"), ".tar.gz or .zip"),
        ];
        for (yaml, expected) in cases {
            let problems = validate(&yaml, "svmdr.yaml");
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "expected a problem containing {expected:?}, got {problems:?}"
            );
        }
        assert!(
            validate(GOOD, "other.yaml")
                .iter()
                .any(|p| p.contains("must be named svmdr.yaml"))
        );
    }

    #[test]
    fn semver_rules() {
        assert!(is_semver_with_v("v1.2.3"));
        assert!(is_semver_with_v("v1.2.3-rc.1"));
        assert!(!is_semver_with_v("v01.2.3"));
        assert!(!is_semver_with_v("1.2.3"));
    }
}
