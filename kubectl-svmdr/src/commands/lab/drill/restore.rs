//! The drill's two delicate steps: the Velero restore through the plugin
//! (with the DR data LIF fault armed when asked), and the primary lost in
//! the middle of a SnapMirror transfer.

use std::time::{Duration, Instant};

use serde_json::Value;
use sim::lab::DR_SVM;
use sim::lab::PRIMARY_SVM;
use sim::lab::drill::writes::{self, Writes};
use sim::lab::drill::{DrillFault, Expect, RestoreOutcome, checks, status};

use super::runner::{CMD_LIMIT, Drill, say};

impl Drill<'_> {
    /// Writes, starts a sync and takes the primary down while the transfer
    /// runs. Returns the in-flight writes and whether the fault hit a
    /// running transfer.
    pub(super) fn primary_down_mid_sync(&mut self) -> anyhow::Result<(Writes, bool)> {
        let w2 = self.write_all("primary", PRIMARY_SVM)?;
        say(
            self.t0,
            "FAULT  primary-down-mid-sync: writes, then `sync --wait`; the primary goes down while it transfers",
        );
        say(
            self.t0,
            "$ kubectl svmdr sync --wait --timeout 60s   (in the background)",
        );
        let cli = self.cli.clone();
        let ctl = self.ctl.clone();
        let (hit, run) = self.rt.block_on(async move {
            let child = cli.run(&["sync", "--wait", "--timeout", "60s"], CMD_LIMIT);
            tokio::pin!(child);
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                tokio::select! {
                    r = &mut child => return (false, r),
                    () = tokio::time::sleep(Duration::from_millis(2)) => {}
                }
                let transferring = writes::transfer_running(&ctl);
                if transferring || Instant::now() > deadline {
                    ctl.set_cluster_down("primary", true);
                    return (transferring, child.await);
                }
            }
        });
        self.lab.set_primary_down(true);
        let run = run?;
        say(
            self.t0,
            &format!(
                "  sync ended with exit {} {}",
                run.code,
                if hit {
                    "(the transfer was cut by the fault)"
                } else {
                    ""
                }
            ),
        );
        Ok((w2, hit))
    }

    pub(super) fn restore(&mut self) -> anyhow::Result<()> {
        let faulted_lif = if self.has(DrillFault::DataLifDownDuringRestore) {
            let lif = self.lab.dr_nfs_lif();
            match &lif {
                Some(lif) => {
                    *self.armed.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((self.ctl.clone(), lif.clone()));
                }
                None => self.check(
                    "fault-armed",
                    false,
                    format!("no NFS data LIF found on DR SVM {DR_SVM}"),
                ),
            }
            lif
        } else {
            None
        };
        let expect = self.scenario.expect();
        let backup = self.backup.clone();
        let mut args = vec![
            "restore",
            "--backup",
            &backup,
            "--timeout",
            "120s",
            "-o",
            "json",
        ];
        args.extend(self.scenario.restore_args());
        let mut run = self.cli(&args)?;
        if expect == Expect::CliRefuses {
            let refused = run.code == 3;
            self.check(
                "restore-refuses-data-backup",
                refused,
                format!(
                    "exit {}: {}",
                    run.code,
                    status::truncate(&run.last_error(), 200)
                ),
            );
            // What would happen anyway: the plugin is the second line.
            args.push("--force");
            run = self.cli(&args)?;
        }
        self.report.rto.restore_seconds = Some(run.elapsed.as_secs_f64());
        let json = run.json();
        let name = json
            .as_ref()
            .and_then(|j| j["name"].as_str())
            .unwrap_or("")
            .to_string();
        let phase = json
            .as_ref()
            .and_then(|j| j.pointer("/status/phase").and_then(Value::as_str))
            .unwrap_or("unknown")
            .to_string();
        let results = self.lab.restore_results(&name).unwrap_or_default();
        let (errors, warnings) = (results.errors.clone(), results.warnings.clone());
        let wanted = match expect {
            Expect::Running => "Completed",
            Expect::PluginRefuses | Expect::CliRefuses => "PartiallyFailed",
        };
        let ok = phase == wanted;
        let detail = if json.is_some() {
            format!(
                "Velero restore {name}: {phase} ({} errors, {} warnings){}",
                errors.len(),
                warnings.len(),
                if wanted == "Completed" {
                    String::new()
                } else {
                    format!("; {wanted} expected: the plugin refuses the PVCs")
                }
            )
        } else {
            format!("exit {}: {}", run.code, run.last_error())
        };
        self.phase(
            "restore",
            "Velero restore with the plugin",
            run.elapsed,
            ok,
            detail,
        );
        for e in &errors {
            say(self.t0, &format!("  restore error: {e}"));
        }
        self.report.restore = Some(RestoreOutcome {
            name,
            phase: phase.clone(),
            errors: errors.clone(),
            warnings,
            plugin_calls: results.executed.clone(),
        });
        match expect {
            Expect::Running => {
                self.check(
                    "restore-completed",
                    phase == "Completed",
                    format!("phase {phase}"),
                );
                let c = checks::app_on_dr(self.lab, self.scenario, &results);
                self.record_all(c);
            }
            Expect::PluginRefuses => {
                let c = checks::export_refusal(self.lab, &phase, &errors);
                self.record_all(c);
            }
            Expect::CliRefuses => {
                let c = checks::data_kept(self.lab, &phase, &errors, &results);
                self.record_all(c);
            }
        }
        if let Some(lif) = faulted_lif {
            self.ctl.set_lif_down("dr", &lif, false);
            say(
                self.t0,
                &format!("DR data LIF {lif} is back up (for the failback)"),
            );
        }
        Ok(())
    }
}
