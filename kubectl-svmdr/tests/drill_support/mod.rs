//! What the drill tests share: the binary under test, its siblings
//! (`velero-plugin-svmdr`, `svmdr-watcher`, built when missing), one run
//! of it with a clean environment, and reading a `LabDrill` report.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-svmdr");

/// `bin` of `package` next to the binary under test (cargo builds only
/// this package's binaries for its tests), built when missing.
pub fn sibling(package: &str, bin: &str) -> PathBuf {
    let dir = Path::new(BIN).parent().expect("target dir");
    let path = dir.join(bin);
    if !path.is_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root");
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", package, "--bin", bin])
            .current_dir(root)
            .status()
            .expect("running cargo build");
        assert!(status.success() && path.is_file(), "could not build {bin}");
    }
    path
}

/// `velero-plugin-svmdr` next to the binary under test.
pub fn plugin() -> PathBuf {
    sibling("ark-plugin", "velero-plugin-svmdr")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}):\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub async fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = tempfile::tempdir().expect("home");
    let mut c = tokio::process::Command::new(BIN);
    c.args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("KUBECONFIG")
        .env_remove("SVMDR_CONFIG")
        .env_remove("SVMDR_ONTAP_USERNAME")
        .env_remove("SVMDR_ONTAP_PASSWORD")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), c.output())
        .await
        .unwrap_or_else(|_| panic!("kubectl-svmdr {args:?} did not finish in 120 s"))
        .expect("spawn");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn phase<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["phases"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["id"] == id))
        .unwrap_or_else(|| panic!("no phase {id} in {report:#}"))
}

pub fn check(report: &Value, id: &str) -> bool {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))["ok"]
        == true
}

/// `lab drill -o json` with the plugin under test and `extra` flags.
pub async fn drill(extra: &[&str]) -> Run {
    let p = plugin();
    let mut args = vec![
        "lab",
        "drill",
        "-o",
        "json",
        "--plugin",
        p.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    run(&args, &[]).await
}

/// `lab drill --scenario NAME -o json`, and the report.
pub async fn scenario(name: &str) -> (Run, Value) {
    let r = drill(&["--scenario", name]).await;
    let j = r.json();
    assert_eq!(j["scenario"], name, "{j:#}");
    (r, j)
}

pub fn assert_passed(r: &Run, j: &Value) {
    assert_eq!(r.code, 0, "{j:#}\n{}", r.stderr);
    assert_eq!(j["passed"], true, "{j:#}");
}

pub fn checks_pass(j: &Value, ids: &[&str]) {
    for id in ids {
        assert!(check(j, id), "{id}: {j:#}");
    }
}
