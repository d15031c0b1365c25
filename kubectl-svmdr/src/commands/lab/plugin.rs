//! Finding the `velero-plugin-svmdr` binary the lab's restore runner starts.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// The plugin binary's file name.
pub const PLUGIN_BIN: &str = "velero-plugin-svmdr";

/// `--plugin` when given (must exist), else next to this executable
/// (canonicalized), else on `PATH`.
///
/// # Errors
/// When none is found, saying how to build it.
pub fn locate(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = flag {
        if p.is_file() {
            return std::fs::canonicalize(p).with_context(|| format!("resolving {}", p.display()));
        }
        bail!("--plugin {}: no such file", p.display());
    }
    let mut looked = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| std::fs::canonicalize(e).ok())
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let c = dir.join(PLUGIN_BIN);
        if c.is_file() {
            return Ok(c);
        }
        looked.push(dir.display().to_string());
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let c = dir.join(PLUGIN_BIN);
            if c.is_file() {
                return Ok(c);
            }
        }
        looked.push("$PATH".into());
    }
    bail!(
        "{PLUGIN_BIN} not found (looked in {}): build it with `cargo build --bins` \
         (it lands next to kubectl-svmdr), or pass --plugin PATH",
        looked.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_flag_path_is_an_error() {
        let e = locate(Some(Path::new("/nonexistent/velero-plugin-svmdr"))).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
    }
}
