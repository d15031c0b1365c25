//! The drill's steps in order: peer, status, writes and a sync, the primary
//! site lost, failover, the Velero restore, status on DR, the primary back,
//! reverse resync, failback; each followed by its checks on the lab.

use std::time::{Duration, Instant};

use serde_json::Value;
use sim::lab::drill::status::status_line;
use sim::lab::drill::{DrillFault, Scenario, checks, writes};
use sim::lab::{DR_SVM, PRIMARY_SVM};

use super::runner::{Drill, say, status_output};

impl Drill<'_> {
    /// Runs the scenario's steps and checks; an error stops the drill.
    pub(in crate::commands::lab) fn run_scenario(&mut self) -> anyhow::Result<()> {
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
        let in_flight = if self.has(DrillFault::PrimaryDownMidSync) {
            Some(self.primary_down_mid_sync()?)
        } else {
            self.lab.set_primary_down(true);
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
        let c = checks::dr_backend_online(self.lab);
        self.record(c);
        self.check_holds(
            "dr-has-pre-disaster-data",
            "dr",
            DR_SVM,
            "replicated writes",
            &w1,
        );
        if let Some((w2, _)) = &in_flight {
            let (n, _) = writes::holds(&self.ctl, "dr", DR_SVM, w2);
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
        let (json, last_error) = (st.json(), st.last_error());
        say(
            self.t0,
            &format!(
                "  {}",
                status_line(status_output(&st, json.as_ref(), &last_error))
            ),
        );
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
        self.lab.set_primary_down(false);
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
        let runs_on = st
            .json()
            .and_then(|v| v["appRunsOn"].as_str().map(String::from))
            .unwrap_or_else(|| "?".into());
        let c = checks::app_stopped_on_dr(
            self.lab,
            svmdr::plan::workloads::REPLICAS_ANNOTATION,
            &runs_on,
        );
        self.record(c);
        Ok(())
    }
}
