//! The watcher's drill scenarios (`lab drill --scenario watcher-…`): the
//! real `svmdr-watcher` (two replicas and the primary's heartbeat, see
//! [`super::watcher_procs`]) on the lab, the faults put in, and each
//! scenario's decision, metrics and audit checked from outside: the status
//! ConfigMap and Events on DR, `/metrics` of each replica, `kubectl svmdr
//! history`, and the storage and the app as the lab holds them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use sim::lab::drill::{Scenario, checks};

use super::runner::Drill;
use super::watcher_procs::{NAMESPACE, Proc, Procs, metrics, policy, sample};

/// The audit's name for the watcher's failover.
const WORKFLOW: &str = svmdr::watch::act::AUDIT_WORKFLOW;

/// The processes of one scenario.
struct Watch {
    procs: Procs,
    heartbeat: Option<Proc>,
    replicas: Vec<Proc>,
}

impl Drill<'_> {
    /// Runs a watcher scenario; an error stops the drill.
    pub(in crate::commands::lab) fn run_watcher_scenario(&mut self) -> anyhow::Result<()> {
        self.cli_phase(
            "peer",
            "peer (SVM-DR with baseline transfer)",
            &["peer", "--svm", "svm1", "--dr-svm", "svm1_dr", "--yes"],
            &[0],
        )?;
        let (mode, max_loss) = match self.scenario {
            Scenario::WatcherObserveNotify => ("observe", "1h"),
            Scenario::WatcherDataLoss => ("automatic", "1s"),
            _ => ("automatic", "1h"),
        };
        self.lab.dr_kube.apply(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}
        }))?;
        self.lab.dr_kube.apply(policy(mode, max_loss))?;
        let procs = Procs::new(&self.lab.files, self.rt.handle().clone())?;
        let mut w = Watch {
            heartbeat: Some(procs.heartbeat()?),
            replicas: vec![procs.replica("watcher-0")?, procs.replica("watcher-1")?],
            procs,
        };
        let t = Instant::now();
        let healthy = self.wait_status("healthy", Duration::from_secs(60), |s| {
            s.get("verdict").map(String::as_str) == Some("healthy")
        });
        self.phase(
            "watcher-start",
            "two watcher replicas and the heartbeat start",
            t.elapsed(),
            healthy.is_some(),
            healthy
                .as_ref()
                .map_or("no healthy verdict within 60s".into(), |s| {
                    format!("leader {}, verdict healthy", get(s, "leader"))
                }),
        );
        anyhow::ensure!(healthy.is_some(), "the watcher never reported healthy");
        self.check_one_leader(&w);
        match self.scenario {
            Scenario::WatcherPrimaryLost => self.primary_lost(&mut w, false),
            Scenario::WatcherLeaderLost => self.primary_lost(&mut w, true),
            Scenario::WatcherPartition => self.partition(&mut w),
            Scenario::WatcherFlapping => self.flapping(&mut w),
            Scenario::WatcherWitnessDown => self.witness_down(&mut w),
            Scenario::WatcherDataLoss => self.data_loss(&mut w),
            Scenario::WatcherObserveNotify => self.observe_notify(&mut w),
            _ => anyhow::bail!("not a watcher scenario"),
        }
    }

    /// The primary lost: one automatic failover and the restore; with
    /// `kill_leader`, the leader is killed as soon as it starts.
    fn primary_lost(&mut self, w: &mut Watch, kill_leader: bool) -> anyhow::Result<()> {
        let lost = Instant::now();
        self.lose_primary(w);
        let mut killed = None;
        if kill_leader {
            let running = self.wait_status("failover running", Duration::from_secs(60), |s| {
                failover(s).is_some_and(|f| f["outcome"] == "running")
            });
            let by = running
                .as_ref()
                .and_then(failover)
                .and_then(|f| f["by"].as_str().map(str::to_string));
            if let Some(p) = w.replicas.iter_mut().find(|p| Some(&p.name) == by.as_ref()) {
                p.kill();
                killed = Some(p.name.clone());
                self.say(&format!("FAULT  leader {} killed mid-failover", p.name));
            }
            self.check(
                "leader-killed",
                killed.is_some(),
                killed
                    .clone()
                    .map_or("the failover was never seen running".into(), |k| {
                        format!("{k} started the failover and was killed")
                    }),
            );
        }
        let done = self.wait_status("failover finished", Duration::from_secs(120), |s| {
            failover(s).is_some_and(|f| f["outcome"] != "running")
        });
        let rto = lost.elapsed();
        let f = done.as_ref().and_then(failover).unwrap_or_default();
        let ok = f["outcome"] == "succeeded";
        self.phase(
            "watcher-failover",
            "the watcher fails over on its own",
            rto,
            ok,
            format!("{}: {}", f["outcome"], f["message"].as_str().unwrap_or("")),
        );
        self.report.rto.storage_seconds = Some(rto.as_secs_f64());
        self.say(&format!(
            "RTO from the primary's loss to the restored app: {:.1}s (grace period 4s, witness max age 3s)",
            rto.as_secs_f64()
        ));
        if let Some(k) = &killed {
            let finisher = f["finishedBy"].as_str().unwrap_or_default().to_string();
            let leader = done.as_ref().map(|s| get(s, "leader")).unwrap_or_default();
            self.check(
                "other-replica-finished",
                ok && !finisher.is_empty() && finisher != *k && leader == finisher,
                format!("finished by {finisher}, leader now {leader}; the killed replica was {k}"),
            );
        }
        // Let a few more intervals pass: still one failover.
        std::thread::sleep(Duration::from_secs(3));
        let runs = self.watcher_runs();
        let evidence_ok = runs.len() == 1
            && runs[0]["evidence"].as_array().is_some_and(|e| {
                let text = e
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n");
                [
                    "primary-ontap",
                    "primary-kubernetes",
                    "dr-peer-view",
                    "witness: stale",
                ]
                .iter()
                .all(|v| text.contains(v))
            });
        self.check(
            "one-failover-audited",
            runs.len() == 1 && runs[0]["outcome"] == "succeeded" && evidence_ok,
            format!(
                "{} history entr{} named {WORKFLOW}: {}",
                runs.len(),
                if runs.len() == 1 { "y" } else { "ies" },
                runs.iter()
                    .map(|r| format!(
                        "{} by {} ({} evidence lines)",
                        r["outcome"],
                        r["user"],
                        r["evidence"].as_array().map_or(0, Vec::len)
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
        let state = self.status_cm();
        self.check(
            "disarmed",
            state.get("armed").map(String::as_str) == Some("false"),
            format!(
                "armed={} ({})",
                get(&state, "armed"),
                get(&state, "disarmedReason")
            ),
        );
        let m = self.leader_metrics(w);
        self.check(
            "metrics-failover",
            sample(&m, "svmdr_failovers_total", "outcome=\"succeeded\"") == Some(1.0)
                && sample(&m, "svmdr_watcher_armed", "") == Some(0.0),
            format!(
                "svmdr_failovers_total{{outcome=\"succeeded\"}} {:?}, svmdr_watcher_armed {:?}",
                sample(&m, "svmdr_failovers_total", "outcome=\"succeeded\""),
                sample(&m, "svmdr_watcher_armed", "")
            ),
        );
        if kill_leader {
            return Ok(());
        }
        let restore = self.newest_restore();
        match restore.as_deref().and_then(|r| self.lab.restore_results(r)) {
            Some(results) => {
                let c = checks::app_on_dr(self.lab, Scenario::Standard, &results);
                self.record_all(c);
            }
            None => self.check(
                "restore",
                false,
                format!("no finished Restore found (newest: {restore:?})"),
            ),
        }
        Ok(())
    }

    /// DR loses sight of the primary, the heartbeat goes on.
    fn partition(&mut self, w: &mut Watch) -> anyhow::Result<()> {
        self.lab.set_primary_down(true);
        self.say("FAULT  the primary unreachable from DR; its heartbeat still renews the witness");
        let seen = self.wait_status("partition", Duration::from_secs(30), |s| {
            s.get("verdict").map(String::as_str) == Some("partition")
        });
        self.check(
            "partition-seen",
            seen.is_some(),
            seen.as_ref()
                .map_or("no partition verdict in 30s".into(), |s| get(s, "message")),
        );
        self.hold_no_failover(w, Duration::from_secs(10));
        let m = self.leader_metrics(w);
        self.check(
            "metrics-partition",
            sample(&m, "svmdr_partition_suspected", "") == Some(1.0),
            format!(
                "svmdr_partition_suspected {:?}",
                sample(&m, "svmdr_partition_suspected", "")
            ),
        );
        self.check_event("VerdictPartition");
        Ok(())
    }

    /// The primary and its heartbeat down 1.5 s, up 1.5 s, for 16 s.
    fn flapping(&mut self, w: &mut Watch) -> anyhow::Result<()> {
        let t = Instant::now();
        let mut flaps = 0;
        while t.elapsed() < Duration::from_secs(16) {
            self.lose_primary(w);
            std::thread::sleep(Duration::from_millis(1500));
            self.lab.set_primary_down(false);
            w.heartbeat = Some(w.procs.heartbeat()?);
            std::thread::sleep(Duration::from_millis(1500));
            flaps += 1;
        }
        self.say(&format!(
            "FAULT  the primary flapped {flaps} times (down 1.5s, up 1.5s)"
        ));
        self.hold_no_failover(w, Duration::from_secs(2));
        Ok(())
    }

    /// The primary lost and the witness down.
    fn witness_down(&mut self, w: &mut Watch) -> anyhow::Result<()> {
        self.lab.witness_kube.set_down(true);
        self.lose_primary(w);
        self.say("FAULT  the witness cluster does not answer");
        let seen = self.wait_status("no quorum", Duration::from_secs(30), |s| {
            s.get("verdict").map(String::as_str) == Some("no-quorum")
        });
        self.check(
            "no-quorum",
            seen.as_ref().is_some_and(|s| get(s, "action") == "page"),
            seen.as_ref()
                .map_or("no no-quorum verdict in 30s".into(), |s| {
                    format!("action {}: {}", get(s, "action"), get(s, "message"))
                }),
        );
        self.hold_no_failover(w, Duration::from_secs(10));
        let m = self.leader_metrics(w);
        self.check(
            "metrics-no-quorum",
            sample(&m, "svmdr_witness_reachable", "") == Some(0.0)
                && sample(&m, "svmdr_page", "") == Some(1.0),
            format!(
                "svmdr_witness_reachable {:?}, svmdr_page {:?}",
                sample(&m, "svmdr_witness_reachable", ""),
                sample(&m, "svmdr_page", "")
            ),
        );
        self.check_event("HumanNeeded");
        Ok(())
    }

    /// The primary lost with maxDataLoss 1s (the lag is larger).
    fn data_loss(&mut self, w: &mut Watch) -> anyhow::Result<()> {
        self.lose_primary(w);
        let seen = self.wait_status("a human paged", Duration::from_secs(30), |s| {
            get(s, "verdict") == "primary-lost" && get(s, "action") == "page"
        });
        self.check(
            "data-loss-paged",
            seen.as_ref()
                .is_some_and(|s| get(s, "message").contains("over maxDataLoss")),
            seen.as_ref()
                .map_or("not paged in 30s".into(), |s| get(s, "message")),
        );
        self.hold_no_failover(w, Duration::from_secs(5));
        self.check_event("HumanNeeded");
        Ok(())
    }

    /// Observe mode, then notify, with the primary lost.
    fn observe_notify(&mut self, w: &mut Watch) -> anyhow::Result<()> {
        self.lose_primary(w);
        let seen = self.wait_status("primary lost (observe)", Duration::from_secs(30), |s| {
            get(s, "verdict") == "primary-lost"
        });
        self.check(
            "observe-does-nothing",
            seen.as_ref().is_some_and(|s| get(s, "action") == "none"),
            seen.as_ref()
                .map_or("no primary-lost verdict in 30s".into(), |s| {
                    format!("mode {}, action {}", get(s, "mode"), get(s, "action"))
                }),
        );
        self.hold_no_failover(w, Duration::from_secs(3));
        self.lab.dr_kube.apply(policy("notify", "1h"))?;
        self.say("policy changed to mode notify");
        let paged = self.wait_status("a human paged (notify)", Duration::from_secs(30), |s| {
            get(s, "mode") == "notify" && get(s, "action") == "page"
        });
        self.check(
            "notify-pages",
            paged.is_some(),
            paged
                .as_ref()
                .map_or("not paged in 30s".into(), |s| get(s, "message")),
        );
        self.hold_no_failover(w, Duration::from_secs(3));
        self.check_event("HumanNeeded");
        Ok(())
    }

    /// The primary site down and its heartbeat stopped.
    fn lose_primary(&mut self, w: &mut Watch) {
        if let Some(mut h) = w.heartbeat.take() {
            h.kill();
        }
        self.lab.set_primary_down(true);
        self.say("FAULT  the primary site is lost (ONTAP, Kubernetes and the heartbeat)");
    }

    /// For `d`: no failover starts, no history entry, the relationship is
    /// still replicating.
    fn hold_no_failover(&mut self, w: &Watch, d: Duration) {
        let t = Instant::now();
        let mut started = false;
        while t.elapsed() < d {
            started |= failover(&self.status_cm()).is_some();
            std::thread::sleep(Duration::from_millis(200));
        }
        let runs = self.watcher_runs().len();
        let state = self
            .lab
            .ontap
            .control()
            .relationship_state(sim::lab::DR_SVM);
        let m = self.leader_metrics(w);
        let total: f64 = ["succeeded", "failed", "partially-failed", "unhealthy"]
            .iter()
            .filter_map(|o| sample(&m, "svmdr_failovers_total", &format!("outcome=\"{o}\"")))
            .sum();
        self.check(
            "no-failover",
            !started && runs == 0 && state.as_deref() == Some("snapmirrored") && total == 0.0,
            format!(
                "over {}s: failover started {started}, {runs} watcher history entries, relationship {}, failovers counted {total}",
                d.as_secs(),
                state.as_deref().unwrap_or("?")
            ),
        );
    }

    /// Exactly one replica says it leads.
    fn check_one_leader(&mut self, w: &Watch) {
        let values: Vec<Option<f64>> = w
            .replicas
            .iter()
            .filter_map(|p| p.port)
            .map(|port| sample(&self.rt.block_on(metrics(port)), "svmdr_leader", ""))
            .collect();
        let leaders = values.iter().filter(|v| **v == Some(1.0)).count();
        self.check(
            "one-leader",
            leaders == 1 && values.iter().all(Option::is_some),
            format!("svmdr_leader per replica: {values:?}"),
        );
    }

    /// `/metrics` of the replica that leads now (or the first that answers).
    fn leader_metrics(&self, w: &Watch) -> String {
        let texts: Vec<String> = w
            .replicas
            .iter()
            .filter_map(|p| p.port)
            .map(|port| self.rt.block_on(metrics(port)))
            .collect();
        texts
            .iter()
            .find(|t| sample(t, "svmdr_leader", "") == Some(1.0))
            .or_else(|| texts.iter().find(|t| !t.is_empty()))
            .cloned()
            .unwrap_or_default()
    }

    /// Polls the status ConfigMap until `pred` (every 100 ms, at most `limit`).
    fn wait_status(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&BTreeMap<String, String>) -> bool,
    ) -> Option<BTreeMap<String, String>> {
        let t = Instant::now();
        while t.elapsed() < limit {
            let s = self.status_cm();
            if pred(&s) {
                self.say(&format!(
                    "watcher: {what} after {:.1}s ({}: {})",
                    t.elapsed().as_secs_f64(),
                    get(&s, "verdict"),
                    get(&s, "message")
                ));
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    fn status_cm(&self) -> BTreeMap<String, String> {
        self.lab
            .dr_kube
            .get(
                "v1",
                "ConfigMap",
                Some(NAMESPACE),
                svmdr::watch::STATUS_CONFIGMAP,
            )
            .and_then(|c| serde_json::from_value(c["data"].clone()).ok())
            .unwrap_or_default()
    }

    /// The history entries the watcher recorded.
    fn watcher_runs(&self) -> Vec<Value> {
        let Ok(run) = self.cli(&["history", "-o", "json"]) else {
            return Vec::new();
        };
        run.json()
            .and_then(|h| h["items"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["workflow"] == WORKFLOW)
            .collect()
    }

    /// An Event with `reason` about the status ConfigMap.
    fn check_event(&mut self, reason: &str) {
        let events = self.lab.dr_kube.list("v1", "Event", Some(NAMESPACE));
        let found = events.iter().find(|e| e["reason"] == reason);
        self.check(
            &format!("event-{reason}"),
            found.is_some(),
            found.map_or(format!("no {reason} Event in {NAMESPACE}"), |e| {
                format!(
                    "{} {}: {}",
                    e["type"].as_str().unwrap_or(""),
                    reason,
                    e["message"].as_str().unwrap_or("")
                )
            }),
        );
    }

    fn newest_restore(&self) -> Option<String> {
        let mut restores = self.lab.dr_kube.list(
            "velero.io/v1",
            "Restore",
            Some(sim::lab::app::VELERO_NAMESPACE),
        );
        restores.sort_by_key(|r| {
            r["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or("")
                .to_string()
        });
        restores
            .last()
            .and_then(|r| r["metadata"]["name"].as_str().map(str::to_string))
    }

    fn say(&self, line: &str) {
        super::runner::say(self.t0, line);
    }
}

fn get(s: &BTreeMap<String, String>, k: &str) -> String {
    s.get(k).cloned().unwrap_or_default()
}

/// The status object's failover record.
fn failover(s: &BTreeMap<String, String>) -> Option<Value> {
    s.get("failover").and_then(|f| serde_json::from_str(f).ok())
}
