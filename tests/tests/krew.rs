//! The krew distribution: the committed manifest and the release template
//! follow krew's rules, and a freshly packaged archive installs the way krew
//! lays plugins out and runs through a real `kubectl`.

use std::path::Path;
use std::process::Command;

use krew_checks::{bins, krew};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn committed_manifest_follows_krews_rules() {
    let path = bins::workspace_root().join("krew/svmdr.yaml");
    let problems = krew::validate(&read(&path), "svmdr.yaml");
    assert!(problems.is_empty(), "krew/svmdr.yaml: {problems:#?}");
}

#[test]
fn release_template_covers_every_platform() {
    let root = bins::workspace_root();
    let template = read(&root.join("krew/.krew.yaml"));
    let workflow = read(&root.join(".github/workflows/release.yml"));
    assert!(
        template.contains("addURIAndSha"),
        "template must let krew-release-bot fill sha256"
    );
    for (platform, target) in [
        ("linux_amd64", "x86_64-unknown-linux-musl"),
        ("linux_arm64", "aarch64-unknown-linux-musl"),
        ("darwin_amd64", "x86_64-apple-darwin"),
        ("darwin_arm64", "aarch64-apple-darwin"),
    ] {
        assert!(template.contains(platform), "template lacks {platform}");
        assert!(
            workflow.contains(target),
            "release workflow does not build {target}"
        );
    }
}

#[test]
fn packaged_archive_installs_like_krew_and_runs_under_kubectl() {
    let root = bins::workspace_root();
    let binary = bins::binary("kubectl-svmdr", "kubectl-svmdr").expect("kubectl-svmdr binary");
    let plugin =
        bins::binary("ark-plugin", "velero-plugin-svmdr").expect("velero-plugin-svmdr binary");
    let watcher = bins::binary("watcher", "svmdr-watcher").expect("svmdr-watcher binary");
    let dist = tempfile::tempdir().unwrap();

    // Package the binary cargo already built (no extra release build in CI).
    let out = Command::new("bash")
        .arg(root.join("krew/package.sh"))
        .arg("--binary")
        .arg(&binary)
        .arg("--plugin-binary")
        .arg(&plugin)
        .arg("--watcher-binary")
        .arg(&watcher)
        .arg("--out")
        .arg(dist.path())
        .output()
        .expect("running krew/package.sh");
    assert!(
        out.status.success(),
        "package.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let manifest_text = read(&dist.path().join("svmdr.yaml"));
    let problems = krew::validate(&manifest_text, "svmdr.yaml");
    assert!(problems.is_empty(), "rendered manifest: {problems:#?}");
    let manifest: krew::Manifest = serde_yaml::from_str(&manifest_text).unwrap();
    let platform = manifest
        .spec
        .platforms
        .iter()
        .find(|p| p.uri.ends_with("_linux_amd64.tar.gz"))
        .expect("a linux/amd64 platform");
    let archive_name = platform.uri.rsplit('/').next().unwrap();
    let archive = dist.path().join(archive_name);
    let report = krew::check_archive(&archive, platform).expect("archive matches the manifest");
    let mut entries = report.entries.clone();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            "LICENSE",
            "kubectl-svmdr",
            "svmdr-watcher",
            "velero-plugin-svmdr"
        ]
    );
    let sums = read(&dist.path().join("SHA256SUMS"));
    assert!(sums.contains(&format!("{}  {archive_name}", report.sha256)));

    // Lay it out as `kubectl krew install` does: store/<name>/<version>/...,
    // bin/kubectl-<name> a symlink into the store, receipts/<name>.yaml.
    let krew_root = tempfile::tempdir().unwrap();
    let store = krew_root
        .path()
        .join("store/svmdr")
        .join(&manifest.spec.version);
    std::fs::create_dir_all(&store).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&store)
        .status()
        .unwrap();
    assert!(status.success());
    let bin_dir = krew_root.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(store.join(&platform.bin), bin_dir.join("kubectl-svmdr")).unwrap();
    std::fs::create_dir_all(krew_root.path().join("receipts")).unwrap();
    std::fs::write(krew_root.path().join("receipts/svmdr.yaml"), &manifest_text).unwrap();

    let kubectl = which("kubectl").expect(
        "kubectl is not on PATH: install it (apt-get install kubernetes-client); .ci/run does",
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        kubectl.parent().unwrap().display()
    );
    let list = Command::new(&kubectl)
        .args(["plugin", "list"])
        .env("PATH", &path)
        .env("HOME", krew_root.path())
        .output()
        .expect("kubectl plugin list");
    let stdout = String::from_utf8_lossy(&list.stdout);
    let stderr = String::from_utf8_lossy(&list.stderr);
    assert!(
        stdout.contains(&bin_dir.join("kubectl-svmdr").display().to_string()),
        "kubectl plugin list did not find the plugin:\n{stdout}\n{stderr}"
    );
    let warnings: Vec<_> = stderr
        .lines()
        .chain(stdout.lines())
        .filter(|l| l.contains("kubectl-svmdr") && l.to_lowercase().contains("warning"))
        .collect();
    assert!(
        warnings.is_empty(),
        "kubectl warned about the plugin: {warnings:?}"
    );

    let version = Command::new(&kubectl)
        .args(["svmdr", "version"])
        .env("PATH", &path)
        .env("HOME", krew_root.path())
        .output()
        .expect("kubectl svmdr version");
    let text = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.status.success(),
        "kubectl svmdr version failed: {}",
        String::from_utf8_lossy(&version.stderr)
    );
    let expected_version = manifest.spec.version.trim_start_matches('v');
    assert!(text.contains(expected_version), "no version in: {text}");
    assert!(text.contains("commit"), "no commit in: {text}");
    assert!(text.contains("built"), "no build date in: {text}");

    // The README's first command works from a krew install too: the lab
    // finds the bundled Velero plugin beside the real (symlinked) binary.
    let drill = Command::new(&kubectl)
        .args(["svmdr", "lab", "drill", "-o", "json"])
        .env("PATH", &path)
        .env("HOME", krew_root.path())
        .output()
        .expect("kubectl svmdr lab drill");
    let report: serde_json::Value = serde_json::from_slice(&drill.stdout).unwrap_or_else(|e| {
        panic!(
            "lab drill printed no JSON ({e}): {}",
            String::from_utf8_lossy(&drill.stderr)
        )
    });
    assert!(
        drill.status.success() && report["passed"] == true,
        "lab drill from the krew layout failed: {report:#}\n{}",
        String::from_utf8_lossy(&drill.stderr)
    );
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}
