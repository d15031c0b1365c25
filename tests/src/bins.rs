//! Locating the workspace's binaries from an integration test of another
//! package: `CARGO_BIN_EXE_*` only covers the test's own package, so look
//! next to the test executable (`target/<profile>/deps/..`) and build the
//! binary with cargo when it is not there yet.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root (the folder holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The `target/<profile>` folder the running test was built into.
pub fn target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the test executable")?;
    let deps = exe
        .parent()
        .context("test executable has no parent folder")?;
    let profile_dir = if deps.ends_with("deps") {
        deps.parent().context("deps folder has no parent")?
    } else {
        deps
    };
    Ok(profile_dir.to_path_buf())
}

/// Path of binary `bin` from package `package`, built if missing.
pub fn binary(package: &str, bin: &str) -> Result<PathBuf> {
    let path = target_dir()?.join(bin);
    if path.is_file() {
        return Ok(path);
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", package, "--bin", bin])
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("running cargo build -p {package} --bin {bin}"))?;
    if !status.success() || !path.is_file() {
        bail!("could not build {bin} (cargo build -p {package}: {status})");
    }
    Ok(path)
}
