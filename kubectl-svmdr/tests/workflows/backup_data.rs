//! Backups that carry volume data: `restore` and `failover
//! --restore-from-backup` refuse them (exit 3) before any change, `--force`
//! (`--force-restore` for failover) proceeds with `warning:` lines; and the
//! failover plan's `backends-online` step in `--dry-run`.

use super::common::{DR_SVM, Lab, VOLUME};
use super::velero::{install_nightly, make_fs_backup};

fn restores(lab: &Lab) -> usize {
    lab.dr_kube
        .list("velero.io/v1", "Restore", Some("velero"))
        .len()
}

#[tokio::test]
async fn restore_refuses_a_file_system_backup_and_force_proceeds_with_warnings() {
    let lab = Lab::start().await;
    install_nightly(&lab.dr_kube, VOLUME, false);
    make_fs_backup(&lab.dr_kube);
    let refused = lab
        .run(&[
            "restore",
            "--include-namespaces",
            "shop",
            "--timeout",
            "10s",
        ])
        .await
        .expect_code(3);
    let err = &refused.stderr;
    assert!(
        err.contains("Velero backup nightly carries volume data"),
        "{err}"
    );
    assert!(
        err.contains("spec.defaultVolumesToFsBackup = true"),
        "{err}"
    );
    assert!(
        err.contains(
            "PodVolumeBackup velero/nightly-7xk2p (PVC shop/data, pod shop/web-0, volume data)"
        ),
        "{err}"
    );
    assert!(err.contains("over the replicated data"), "{err}");
    assert!(
        err.contains("--default-volumes-to-fs-backup=false"),
        "{err}"
    );
    assert!(err.contains("pass --force to restore anyway"), "{err}");
    assert_eq!(restores(&lab), 0, "nothing was created");
    // `status` says so before anyone needs the backup.
    let status = lab
        .run(&["status", "-o", "json"])
        .await
        .expect_code(1)
        .json();
    assert_eq!(status["velero"]["latestBackup"], "nightly", "{status:#}");
    assert!(
        status["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x
                .as_str()
                .is_some_and(|x| x.contains("newest Velero backup nightly carries volume data")))),
        "{status:#}"
    );

    let forced = lab
        .run(&[
            "restore",
            "--include-namespaces",
            "shop",
            "--timeout",
            "10s",
            "--force",
        ])
        .await
        .expect_code(0);
    let err = &forced.stderr;
    assert!(
        err.contains("warning: --force: Velero backup nightly carries volume data"),
        "{err}"
    );
    assert!(
        err.contains("warning:   PodVolumeBackup velero/nightly-7xk2p (PVC shop/data"),
        "{err}"
    );
    assert!(forced.stdout.contains("Completed"), "{}", forced.stdout);
    assert_eq!(restores(&lab), 1);
    let h = lab.history().await;
    let outcomes: Vec<&str> = h.iter().filter_map(|e| e["outcome"].as_str()).collect();
    assert!(outcomes.contains(&"refused"), "{h:?}");
}

#[tokio::test]
async fn failover_refuses_such_a_backup_before_touching_the_storage() {
    let lab = Lab::start().await;
    lab.peer().await;
    install_nightly(&lab.dr_kube, VOLUME, false);
    make_fs_backup(&lab.dr_kube);
    lab.primary_site_down();
    let before = lab.snapshot();
    let refused = lab
        .run(&[
            "failover",
            "--yes",
            "--restore-from-backup",
            "latest",
            "--request-timeout",
            "3s",
        ])
        .await
        .expect_code(3);
    assert!(
        refused.stderr.contains("nothing was changed"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("PodVolumeBackup"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("pass --force-restore to restore anyway"),
        "{}",
        refused.stderr
    );
    assert_eq!(before, lab.snapshot(), "the storage was not touched");
    assert_eq!(restores(&lab), 0);
    // A dry-run shows the plan all the same, the refusal marked, exit 3.
    let dry = lab
        .run(&[
            "failover",
            "--dry-run",
            "--restore-from-backup",
            "latest",
            "--request-timeout",
            "3s",
        ])
        .await
        .expect_code(3);
    assert!(dry.stdout.contains("REFUSED"), "{}", dry.stdout);
    assert!(dry.stdout.contains("break"), "the plan: {}", dry.stdout);
    assert!(dry.stdout.contains("--force-restore"), "{}", dry.stdout);
}

#[tokio::test]
async fn failover_dry_run_shows_the_backends_online_step() {
    let lab = Lab::start().await;
    lab.peer().await;
    lab.primary_site_down();
    let dry = lab
        .run(&[
            "failover",
            "--dry-run",
            "--request-timeout",
            "3s",
            "--backend-grace",
            "45s",
        ])
        .await
        .expect_code(0);
    let out = &dry.stdout;
    assert!(out.contains("backends-online"), "{}", dry.all());
    assert!(
        out.contains(&format!(
            "wait for the Trident backends of SVM {DR_SVM} on dr to report online (prompt Trident after 45s, at most 5m)"
        )),
        "{out}"
    );
    assert!(
        out.contains("LIST trident.netapp.io/v1 TridentBackends"),
        "{out}"
    );
    assert!(
        out.contains("credentials Secret of its TridentBackendConfig"),
        "{out}"
    );
    let json = lab
        .run(&[
            "failover",
            "--dry-run",
            "--request-timeout",
            "3s",
            "-o",
            "json",
        ])
        .await
        .expect_code(0)
        .json();
    let last = json["steps"]
        .as_array()
        .and_then(|s| s.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["id"], "backends-online", "{json:#}");
}

#[tokio::test]
async fn failover_force_restore_proceeds_with_warnings() {
    let lab = Lab::start().await;
    lab.peer().await;
    install_nightly(&lab.dr_kube, VOLUME, false);
    make_fs_backup(&lab.dr_kube);
    lab.primary_site_down();
    let run = lab
        .failover_restoring_latest(&["--force-restore"])
        .await
        .expect_code(0);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("warning: --force: Velero backup nightly carries volume data"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "shown once, before the failover:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warning:   PodVolumeBackup velero/nightly-7xk2p"),
        "{}",
        run.stderr
    );
    assert_eq!(restores(&lab), 1);
}

#[tokio::test]
async fn failover_without_a_backup_yet_warns_and_proceeds() {
    let lab = Lab::start().await;
    lab.peer().await;
    lab.primary_site_down();
    let run = lab
        .run(&[
            "failover",
            "--yes",
            "--restore-from-backup",
            "latest",
            "--request-timeout",
            "3s",
        ])
        .await
        .expect_code(2);
    assert!(
        run.stderr
            .contains("warning: the Velero restore after the failover will likely fail: no Completed Velero backup"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the storage failover succeeded; the Velero restore did not"),
        "{}",
        run.stderr
    );
}
