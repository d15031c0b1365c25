//! `kubectl svmdr lab drill`: starts the simulated lab in this process and
//! runs the seed scenario through the real commands (this executable, as a
//! user would run it, with `--yes`): peer (with the baseline transfer),
//! status, writes on the primary and a sync, the primary site lost,
//! failover, the Velero restore (the lab's runner calls the real plugin),
//! status on DR, the primary back, reverse resync, failback. Each check
//! reads the simulated storage or clusters directly. Prints each step as it
//! happens (stderr), then the summary (stdout).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;
use sim::lab::app::{DEPLOYMENT, NAMESPACE, VOLUMES};
use sim::lab::{DR_SVM, Lab, LabOptions, PRIMARY_SVM};
use sim::ontap::{Control, Timing, WriteId};

use super::report::{Check, DrillReport, Phase, RestoreOutcome};
use super::scenario::{Expect, Scenario};
use super::step::{Cli, CliRun};
use super::{plugin, value_name};
use crate::ctx::Ctx;
use crate::exit::Outcome;

/// `--timing`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TimingArg {
    /// Jobs take tens of milliseconds, transfers 100 ms (the drill takes seconds).
    #[default]
    Fast,
    /// Jobs take seconds, transfers 5 s (closer to a real cluster).
    Realistic,
}

impl TimingArg {
    /// The simulator timing.
    pub fn timing(self) -> Timing {
        match self {
            Self::Fast => Timing::fast(),
            Self::Realistic => Timing::realistic(),
        }
    }
}

/// `--fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultArg {
    /// The primary site is lost while a SnapMirror transfer is running
    /// (the writes it carried are in the data-loss window).
    PrimaryDownMidSync,
    /// The DR SVM's NFS data LIF goes down when the Velero restore starts
    /// (the plugin must refuse the PVs and PVCs on it).
    DataLifDownDuringRestore,
}

/// Flags of `lab drill`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Inject a fault (repeatable).
    #[arg(long, value_enum, value_name = "FAULT")]
    pub fault: Vec<FaultArg>,
    /// Which situation to drill (how real Trident and Velero change the restore).
    #[arg(long, value_enum, default_value_t)]
    pub scenario: Scenario,
    /// The velero-plugin-svmdr binary (default: next to this executable, then $PATH).
    #[arg(long, value_name = "PATH")]
    pub plugin: Option<PathBuf>,
    /// How long simulated ONTAP work takes.
    #[arg(long, value_enum, default_value_t)]
    pub timing: TimingArg,
    /// Keep the lab's files (kubeconfig, config) in this dir instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const CMD_LIMIT: Duration = Duration::from_secs(180);

/// Runs the drill.
///
/// # Errors
/// When the plugin is missing or the lab cannot start; failed checks are
/// not errors (exit 1 with the verdict).
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let plugin = plugin::locate(args.plugin.as_deref())?;
    let rt = super::runtime()?;
    let format = ctx.global.output;
    let armed: Arc<Mutex<Option<(Control, String)>>> = Arc::default();
    let hook_armed = armed.clone();
    let opts = LabOptions {
        timing: Some(args.timing.timing()),
        plugin: Some(plugin.clone()),
        dir: args.dir.clone(),
        on_restore_start: Some(Arc::new(move |_restore: &str| {
            let taken = hook_armed.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some((ctl, lif)) = taken {
                ctl.set_lif_down("dr", &lif, true);
                eprintln!(
                    "[simulated lab]  FAULT  DR data LIF {lif} is down as the restore starts"
                );
            }
        })),
        ..LabOptions::default()
    };
    let mut opts = opts;
    args.scenario.lab_options(&mut opts);
    let t0 = Instant::now();
    say(
        t0,
        &format!("starting the simulated lab (plugin {})", plugin.display()),
    );
    let lab = rt
        .block_on(Lab::start(opts))
        .context("starting the simulated lab")?;
    let cli = Cli::new(&lab.files, !format.is_machine())?;
    let (backup, setup) = args.scenario.prepare(&lab)?;
    let mut d = Drill {
        t0,
        rt: &rt,
        lab: &lab,
        cli,
        ctl: lab.ontap.control(),
        armed,
        faults: args.fault.clone(),
        scenario: args.scenario,
        backup: backup.clone(),
        report: DrillReport::new(
            value_name(&args.timing),
            args.fault.iter().map(value_name).collect(),
            value_name(&args.scenario),
        ),
    };
    d.phase("lab", "start the lab", t0.elapsed(), true, format!(
        "2 ONTAP clusters, 2 Kubernetes APIs with Trident, app {NAMESPACE} ({} PVCs), Velero backup {backup}; scenario: {setup}",
        VOLUMES.len()
    ));
    let result = d.scenario();
    if let Err(e) = &result {
        d.phase(
            "aborted",
            "drill stopped",
            Duration::ZERO,
            false,
            format!("{e:#}"),
        );
    }
    d.report.wall_seconds = t0.elapsed().as_secs_f64();
    d.report.conclude();
    let report = d.report;
    drop(lab);
    rt.shutdown_timeout(Duration::from_secs(2));
    let mut w = std::io::stdout().lock();
    if format.is_machine() {
        crate::output::write_structured(&mut w, format, &report)?;
    } else {
        use std::io::Write as _;
        write!(w, "{}", report.render_text())?;
    }
    Ok(if report.passed {
        Outcome::Ok
    } else {
        Outcome::Unhealthy
    })
}

fn say(t0: Instant, line: &str) {
    eprintln!(
        "[simulated lab] {:>6.2}s  {line}",
        t0.elapsed().as_secs_f64()
    );
}

struct Drill<'a> {
    t0: Instant,
    rt: &'a tokio::runtime::Runtime,
    lab: &'a Lab,
    cli: Cli,
    ctl: Control,
    armed: Arc<Mutex<Option<(Control, String)>>>,
    faults: Vec<FaultArg>,
    scenario: Scenario,
    backup: String,
    report: DrillReport,
}

impl Drill<'_> {
    fn has(&self, f: FaultArg) -> bool {
        self.faults.contains(&f)
    }

    fn phase(&mut self, id: &str, title: &str, took: Duration, ok: bool, detail: String) {
        let mark = if ok { "ok" } else { "FAILED" };
        say(
            self.t0,
            &format!("{title}: {mark} in {:.2}s — {detail}", took.as_secs_f64()),
        );
        self.report.phases.push(Phase {
            id: id.into(),
            title: title.into(),
            seconds: took.as_secs_f64(),
            result: if ok { "ok" } else { "failed" }.into(),
            detail,
        });
    }

    fn check(&mut self, id: &str, ok: bool, detail: String) {
        say(
            self.t0,
            &format!(
                "  check {id}: {} — {detail}",
                if ok { "pass" } else { "FAIL" }
            ),
        );
        self.report.checks.push(Check {
            id: id.into(),
            ok,
            detail,
        });
    }

    fn cli(&self, args: &[&str]) -> anyhow::Result<CliRun> {
        say(self.t0, &format!("$ kubectl svmdr {}", args.join(" ")));
        self.rt.block_on(self.cli.run(args, CMD_LIMIT))
    }

    /// Runs a command as a phase; `Ok(run)` whatever its exit code.
    fn cli_phase(
        &mut self,
        id: &str,
        title: &str,
        args: &[&str],
        ok_codes: &[i32],
    ) -> anyhow::Result<CliRun> {
        let run = self.cli(args)?;
        let ok = ok_codes.contains(&run.code);
        let detail = if ok {
            format!("exit {}", run.code)
        } else {
            format!("exit {}: {}", run.code, run.last_error())
        };
        self.phase(id, title, run.elapsed, ok, detail);
        Ok(run)
    }

    /// One write of 4 KiB to every app volume on `cluster`/`svm`.
    fn write_all(&self, cluster: &str, svm: &str) -> anyhow::Result<Vec<(String, WriteId)>> {
        VOLUMES
            .iter()
            .map(|v| {
                self.ctl
                    .write(cluster, svm, v.volume, 4096)
                    .map(|id| (v.volume.to_string(), id))
                    .map_err(|e| anyhow::anyhow!("writing to {} on {cluster}/{svm}: {e}", v.volume))
            })
            .collect()
    }

    /// Which of `writes` the volumes on `cluster`/`svm` hold: (held, missing names).
    fn holds(
        &self,
        cluster: &str,
        svm: &str,
        writes: &[(String, WriteId)],
    ) -> (usize, Vec<String>) {
        let mut missing = Vec::new();
        for (vol, id) in writes {
            let ok = self
                .ctl
                .volume_data(cluster, svm, vol)
                .is_some_and(|d| d.contains(*id));
            if !ok {
                missing.push(format!("write {} on {vol}", id.0));
            }
        }
        (writes.len() - missing.len(), missing)
    }

    fn check_holds(
        &mut self,
        id: &str,
        cluster: &str,
        svm: &str,
        what: &str,
        writes: &[(String, WriteId)],
    ) {
        let (n, missing) = self.holds(cluster, svm, writes);
        let ok = missing.is_empty();
        let detail = if ok {
            format!("{n}/{} {what} found on {cluster} SVM {svm}", writes.len())
        } else {
            format!("missing on {cluster} SVM {svm}: {}", missing.join(", "))
        };
        self.check(id, ok, detail);
    }

    fn set_primary_down(&self, down: bool) {
        self.lab.set_primary_down(down);
    }

    fn scenario(&mut self) -> anyhow::Result<()> {
        // 1. Peering and the baseline transfer.
        let peer = self.cli_phase(
            "peer",
            "peer + initialize",
            &["peer", "--svm", PRIMARY_SVM, "--dr-svm", DR_SVM, "--yes"],
            &[0],
        )?;
        if peer.code != 0 {
            anyhow::bail!("peer failed; nothing else can run");
        }
        let codes: &[i32] = if self.scenario.expected_status_problem().is_some() {
            &[1]
        } else {
            &[0]
        };
        let st = self.cli_phase(
            "status",
            "status (before the disaster)",
            &["status", "-o", "json"],
            codes,
        )?;
        self.check_status("healthy-before", &st);

        // 2. Writes on the primary, replicated by a sync.
        let w1 = self.write_all("primary", PRIMARY_SVM)?;
        say(
            self.t0,
            &format!("application writes {} blocks on the primary", w1.len()),
        );
        self.cli_phase(
            "sync",
            "sync (replicate the writes)",
            &["sync", "--wait", "--timeout", "60s"],
            &[0],
        )?;
        self.check_holds("replicated-before-disaster", "dr", DR_SVM, "writes", &w1);

        // 3. The disaster.
        let t = Instant::now();
        let in_flight = if self.has(FaultArg::PrimaryDownMidSync) {
            Some(self.primary_down_mid_sync()?)
        } else {
            self.set_primary_down(true);
            None
        };
        let detail = match &in_flight {
            Some((w, hit)) => format!(
                "primary ONTAP and Kubernetes down {}; {} write(s) in flight",
                if *hit {
                    "while a transfer was running"
                } else {
                    "right after a transfer (it ended before the fault)"
                },
                w.len()
            ),
            None => "primary ONTAP cluster and Kubernetes API down".into(),
        };
        self.phase("disaster", "primary site lost", t.elapsed(), true, detail);

        // 4. Failover: the storage RTO.
        // With export rules that refuse the DR nodes, the storage failover
        // succeeds and says so, but exits 1: the DR nodes could not mount.
        let export_refused = self.scenario == Scenario::ExportPrimaryOnly;
        let fo = self.cli_phase(
            "failover",
            "failover (storage RTO)",
            &["failover", "--yes", "--request-timeout", "3s", "-o", "json"],
            if export_refused { &[1] } else { &[0] },
        )?;
        if export_refused {
            let warned = fo
                .json()
                .and_then(|j| j["exportProblems"].as_array().map(Vec::len))
                .unwrap_or(0);
            self.check(
                "failover-reports-export-policy",
                warned == 1,
                format!("{warned} export policy problem(s) in the failover result"),
            );
        }
        self.report.rto.storage_seconds = Some(fo.elapsed.as_secs_f64());
        self.report.rto.failover_timeline_seconds = fo
            .json()
            .and_then(|j| j.pointer("/timeline/total").and_then(Value::as_f64))
            .map(|ms| ms / 1000.0);
        if fo.code != 0 && !(export_refused && fo.code == 1) {
            anyhow::bail!("failover failed; the DR site is not serving");
        }
        self.check_dr_backend_online();
        self.check_holds(
            "dr-has-pre-disaster-data",
            "dr",
            DR_SVM,
            "replicated writes",
            &w1,
        );
        if let Some((w2, _)) = &in_flight {
            let (n, _) = self.holds("dr", DR_SVM, w2);
            say(
                self.t0,
                &format!(
                    "  note: {n}/{} in-flight write(s) reached DR; the rest are the data-loss window of an unplanned failover",
                    w2.len()
                ),
            );
        }
        let w3 = match self.write_all("dr", DR_SVM) {
            Ok(w) => {
                self.check(
                    "dr-writable",
                    true,
                    format!("{} writes accepted by DR SVM {DR_SVM}", w.len()),
                );
                w
            }
            Err(e) => {
                self.check("dr-writable", false, format!("{e:#}"));
                Vec::new()
            }
        };

        // 5. The Velero restore, through the plugin.
        self.restore()?;
        let st = self.cli_phase(
            "dr-status",
            "status on DR (after failover)",
            &["status", "-o", "json"],
            &[0, 1],
        )?;
        // Exit 1 is expected here: the relationship is broken off and the
        // primary is still down; say so in the summary, with the real state.
        if let (Some(p), Some(j)) = (self.report.phases.last_mut(), st.json()) {
            let state = j.pointer("/relationships/0/state").and_then(Value::as_str);
            p.detail = format!(
                "exit {}: relationship {} (unhealthy is expected while the primary is down)",
                st.code,
                state.unwrap_or("not found")
            );
        }
        say(self.t0, &format!("  {}", status_line(&st)));
        if !self.scenario.fails_back() {
            self.phase(
                "failback",
                "failback not attempted",
                Duration::ZERO,
                true,
                "Trident renamed the replicated volumes on import: rename them back (`volume rename`) \
                 before a reverse resync, as the plugin warned"
                    .into(),
            );
            return Ok(());
        }

        // 6. The primary comes back: reverse resync, failback.
        let t = Instant::now();
        self.set_primary_down(false);
        self.phase(
            "primary-back",
            "primary site back",
            t.elapsed(),
            true,
            "ONTAP and Kubernetes reachable again".into(),
        );
        let rs = self.cli_phase(
            "resync",
            "reverse resync (DR → primary)",
            &["resync", "--direction", "reverse", "--yes"],
            &[0],
        )?;
        if rs.code != 0 {
            anyhow::bail!("reverse resync failed; failback cannot run");
        }
        let w4 = self.write_all("dr", DR_SVM).unwrap_or_default();
        let fb = self.cli_phase(
            "failback",
            "failback",
            &["failback", "--yes", "-o", "json"],
            &[0],
        )?;
        if fb.code != 0 {
            anyhow::bail!("failback failed");
        }
        let mut all = w1.clone();
        all.extend(w3);
        all.extend(w4);
        self.check_holds(
            "primary-has-all-data",
            "primary",
            PRIMARY_SVM,
            "writes (before the disaster and on DR)",
            &all,
        );
        let writable = self.write_all("primary", PRIMARY_SVM);
        self.check(
            "primary-writable",
            writable.is_ok(),
            match &writable {
                Ok(w) => format!("{} writes accepted by {PRIMARY_SVM} again", w.len()),
                Err(e) => format!("{e:#}"),
            },
        );
        let st = self.cli_phase(
            "final-status",
            "status (after failback)",
            &["status", "-o", "json"],
            codes,
        )?;
        self.check_status("healthy-after", &st);
        self.check_app_stopped_on_dr(&st);
        Ok(())
    }

    /// After the failback the app runs on the primary only: the restored
    /// Deployment on DR is scaled to 0 with its replicas kept, and `status`
    /// says so.
    fn check_app_stopped_on_dr(&mut self, st: &CliRun) {
        let web = self
            .lab
            .dr_kube
            .get("apps/v1", "Deployment", Some(NAMESPACE), DEPLOYMENT);
        let replicas = web
            .as_ref()
            .and_then(|d| d.pointer("/spec/replicas"))
            .cloned();
        let kept = web
            .as_ref()
            .and_then(|d| {
                d.pointer("/metadata/annotations")
                    .and_then(|a| a.get(svmdr::plan::workloads::REPLICAS_ANNOTATION))
            })
            .cloned();
        let runs_on = serde_json::from_str::<Value>(&st.stdout)
            .ok()
            .and_then(|v| v["appRunsOn"].as_str().map(String::from))
            .unwrap_or_else(|| "?".into());
        self.check(
            "app-stopped-on-dr-after-failback",
            replicas == Some(serde_json::json!(0)) && kept.is_some() && runs_on == "primary",
            format!(
                "DR deployment {NAMESPACE}/{DEPLOYMENT}: replicas {}, replicas before failback {}; status: app runs on {runs_on}",
                replicas.map_or_else(|| "-".into(), |r| r.to_string()),
                kept.map_or_else(|| "-".into(), |r| r.to_string())
            ),
        );
    }

    /// Writes, starts a sync and takes the primary down while the transfer
    /// runs. Returns the in-flight writes and whether the fault hit a
    /// running transfer.
    fn primary_down_mid_sync(&mut self) -> anyhow::Result<(Vec<(String, WriteId)>, bool)> {
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
                let snap = ctl.snapshot();
                let transferring = snap["relationships"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r["transfer_state"] == "transferring");
                if transferring || Instant::now() > deadline {
                    ctl.set_cluster_down("primary", true);
                    return (transferring, child.await);
                }
            }
        });
        self.set_primary_down(true);
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

    fn restore(&mut self) -> anyhow::Result<()> {
        let faulted_lif = if self.has(FaultArg::DataLifDownDuringRestore) {
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
                format!("exit {}: {}", run.code, truncate(&run.last_error(), 200)),
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
                self.check_app_on_dr(&results);
            }
            Expect::PluginRefuses => self.check_export_refusal(&phase, &errors),
            Expect::CliRefuses => self.check_data_kept(&phase, &errors, &results),
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

    /// `status` healthy; in a scenario that sets up a problem `status` must
    /// see (a backup with volume data, an export policy refusing the DR
    /// nodes), unhealthy for that reason alone.
    fn check_status(&mut self, id: &str, st: &CliRun) {
        let Some(expected) = self.scenario.expected_status_problem() else {
            self.check(id, st.code == 0, status_line(st));
            return;
        };
        let problems: Vec<String> = st
            .json()
            .and_then(|j| j["problems"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        let only_expected = !problems.is_empty() && problems.iter().all(|p| p.contains(expected));
        self.check(
            &format!("{id}-but-problem-reported"),
            st.code == 1 && only_expected,
            status_line(st),
        );
    }

    /// After the failover, the DR Trident backend serves again (the
    /// failover's backends-online step), or Trident refuses every import.
    fn check_dr_backend_online(&mut self) {
        let dr = &self.lab.dr_kube;
        let ns = &self.lab.dr_trident.namespace;
        let states: Vec<(String, String, String)> = dr
            .list("trident.netapp.io/v1", "TridentBackend", Some(ns))
            .iter()
            .map(|b| {
                let f = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                (f("backendName"), f("state"), f("stateReason"))
            })
            .collect();
        let ok = !states.is_empty() && states.iter().all(|(_, st, _)| st == "online");
        let detail = states
            .iter()
            .map(|(n, st, why)| {
                if why.is_empty() {
                    format!("{n}: {st}")
                } else {
                    format!("{n}: {st} ({why})")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.check("dr-backend-online", ok, detail);
    }

    /// Every app PVC Bound on DR to a volume Trident imported (a new PV with
    /// a TridentVolume on the replicated ONTAP volume: a PV restored as-is
    /// has none and never attaches), and the app's Pod running.
    fn check_app_on_dr(&mut self, results: &sim::lab::RestoreResults) {
        let dr = &self.lab.dr_kube;
        let ns = self.lab.dr_trident.namespace.clone();
        let mut bound = Vec::new();
        let mut not = Vec::new();
        let mut imported = Vec::new();
        let mut not_imported = Vec::new();
        for v in VOLUMES {
            let Some(p) = dr.get("v1", "PersistentVolumeClaim", Some(NAMESPACE), v.claim) else {
                not.push(format!("{} was not restored", v.claim));
                continue;
            };
            let phase = p
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("Pending");
            let pv = p
                .pointer("/spec/volumeName")
                .and_then(Value::as_str)
                .unwrap_or("");
            if phase != "Bound" {
                not.push(format!("{} is {phase}", v.claim));
                continue;
            }
            bound.push(format!("{} → {pv}", v.claim));
            let tv = dr.get("trident.netapp.io/v1", "TridentVolume", Some(&ns), pv);
            let internal = tv
                .as_ref()
                .and_then(|t| t.pointer("/config/internalName").and_then(Value::as_str))
                .unwrap_or("");
            match tv {
                Some(_) if pv != v.pv => imported.push(format!("{} ({internal})", v.claim)),
                Some(_) => {
                    not_imported.push(format!("{}: PV {pv} kept the backed-up name", v.claim))
                }
                None => not_imported.push(format!(
                    "{}: PV {pv} has no TridentVolume (restored as-is: it cannot attach)",
                    v.claim
                )),
            }
        }
        let ok = not.is_empty();
        self.check(
            "pvcs-bound-on-dr",
            ok,
            if ok { bound.join(", ") } else { not.join(", ") },
        );
        let ok = not_imported.is_empty() && imported.len() == VOLUMES.len();
        self.check(
            "volumes-imported-by-trident",
            ok,
            if not_imported.is_empty() {
                format!("TridentVolumes for {}", imported.join(", "))
            } else {
                not_imported.join("; ")
            },
        );
        let ready = dr
            .get("apps/v1", "Deployment", Some(NAMESPACE), DEPLOYMENT)
            .and_then(|d| d.pointer("/status/readyReplicas").and_then(Value::as_u64))
            .unwrap_or(0);
        let why_not = if ready >= 1 {
            String::new()
        } else {
            self.pod_events()
        };
        self.check(
            "app-running-on-dr",
            ready >= 1,
            format!("Deployment {NAMESPACE}/{DEPLOYMENT}: {ready} ready{why_not}"),
        );
        self.scenario_checks(results);
    }

    /// The Events of the app's Pods (why a Pod does not run).
    fn pod_events(&self) -> String {
        let events: Vec<String> = self
            .lab
            .dr_kube
            .list("v1", "Event", Some(NAMESPACE))
            .iter()
            .filter(|e| e.pointer("/involvedObject/kind").and_then(Value::as_str) == Some("Pod"))
            .filter_map(|e| {
                Some(format!(
                    "{}: {}",
                    e.get("reason")?.as_str()?,
                    truncate(e.get("message")?.as_str()?, 160)
                ))
            })
            .collect();
        if events.is_empty() {
            String::new()
        } else {
            format!(" ({})", events.join("; "))
        }
    }

    /// What each scenario adds to a completed restore.
    fn scenario_checks(&mut self, results: &sim::lab::RestoreResults) {
        let dr = &self.lab.dr_kube;
        match self.scenario {
            Scenario::ChangeStorageClass => {
                let classes: Vec<String> = VOLUMES
                    .iter()
                    .filter_map(|v| dr.get("v1", "PersistentVolumeClaim", Some(NAMESPACE), v.claim))
                    .map(|p| {
                        p.pointer("/spec/storageClassName")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    })
                    .collect();
                let ok = classes.len() == VOLUMES.len()
                    && classes.iter().all(|c| c == super::scenario::DR_CLASS);
                self.check(
                    "imported-through-mapped-class",
                    ok,
                    format!("PVC classes: {}", classes.join(", ")),
                );
            }
            Scenario::Trident2506 => {
                let no_rename_annotation = VOLUMES.iter().all(|v| {
                    dr.get("v1", "PersistentVolumeClaim", Some(NAMESPACE), v.claim)
                        .is_some_and(|p| {
                            p.pointer("/metadata/annotations/trident.netapp.io~1importNoRename")
                                .is_none()
                        })
                });
                self.check(
                    "no-import-no-rename-on-25.06",
                    no_rename_annotation,
                    "the PVCs do not carry importNoRename (Trident 25.06 ignores it)".into(),
                );
                let warned = results
                    .log
                    .iter()
                    .filter(|l| l.contains("ignores importNoRename") && l.contains("failback"))
                    .count();
                self.check(
                    "plugin-warns-about-rename",
                    warned == VOLUMES.len(),
                    format!(
                        "{warned} warning(s) in the restore log that failback needs the names back"
                    ),
                );
                let snap = self.ctl.snapshot();
                let renamed = VOLUMES
                    .iter()
                    .filter(|v| {
                        !snap["volumes"].as_array().into_iter().flatten().any(|x| {
                            x["cluster"] == "dr" && x["svm"] == DR_SVM && x["name"] == v.volume
                        })
                    })
                    .count();
                self.check(
                    "flexvols-renamed-by-trident",
                    renamed == VOLUMES.len(),
                    format!(
                        "{renamed}/{} replicated volumes renamed on {DR_SVM}",
                        VOLUMES.len()
                    ),
                );
            }
            _ => {}
        }
    }

    /// The export scenario: the plugin refused each PVC, naming the
    /// policy, its rule and the DR nodes; nothing was imported.
    fn check_export_refusal(&mut self, phase: &str, errors: &[String]) {
        let named = errors
            .iter()
            .filter(|e| {
                e.contains("export policy default")
                    && e.contains("198.51.100.21")
                    && e.contains("export-policy rule create")
            })
            .count();
        self.check(
            "plugin-refuses-export-policy",
            phase == "PartiallyFailed" && named == VOLUMES.len(),
            format!(
                "{named}/{} PVCs refused naming policy default, the DR nodes and the fix",
                VOLUMES.len()
            ),
        );
        self.check_nothing_imported();
    }

    /// The data-carrying backup scenarios, forced: the plugin refused the
    /// PVCs, so no old copy shadows or overwrites the replicated volumes.
    fn check_data_kept(
        &mut self,
        phase: &str,
        errors: &[String],
        results: &sim::lab::RestoreResults,
    ) {
        let refused = errors
            .iter()
            .filter(|e| e.contains("persistentvolumeclaims/") && e.contains("Velero"))
            .count();
        self.check(
            "plugin-refuses-data-restore",
            phase == "PartiallyFailed" && refused == VOLUMES.len(),
            format!("{refused}/{} PVCs refused by the plugin", VOLUMES.len()),
        );
        let writes = &results.pod_volume_writes;
        self.check(
            "replicated-data-not-overwritten",
            writes.is_empty() && results.ignored_imports.is_empty(),
            if writes.is_empty() && results.ignored_imports.is_empty() {
                "no pod volume restore wrote to, and no snapshot shadowed, a replicated volume"
                    .into()
            } else {
                format!("{} write(s): {}", writes.len(), writes.join("; "))
            },
        );
        self.check_nothing_imported();
    }

    fn check_nothing_imported(&mut self) {
        let ns = self.lab.dr_trident.namespace.clone();
        let tvols = self
            .lab
            .dr_kube
            .list("trident.netapp.io/v1", "TridentVolume", Some(&ns))
            .len();
        self.check(
            "nothing-imported",
            tvols == 0,
            format!("{tvols} TridentVolume(s) on DR"),
        );
    }
}

/// One line from `status -o json` (or its error).
fn status_line(run: &CliRun) -> String {
    let Some(j) = run.json() else {
        return format!("exit {}: {}", run.code, run.last_error());
    };
    let mut parts = Vec::new();
    for r in j["relationships"].as_array().into_iter().flatten() {
        let f = |p: &str| {
            r.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        parts.push(format!(
            "{} → {} {}{}",
            f("/source/svm"),
            f("/destination/svm"),
            f("/state"),
            if r["healthy"] == true {
                ", healthy"
            } else {
                ", unhealthy"
            }
        ));
    }
    if let Some(p) = j["problems"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    {
        parts.push(format!("problem: {}", truncate(p, 120)));
    }
    format!("exit {}: {}", run.code, parts.join("; "))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}
