//! The drill as it runs: the lab, the commands it runs, the faults it
//! injects, and the record it keeps; each phase and check is said (stderr)
//! as it happens.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sim::lab::Lab;
use sim::lab::drill::status::{StatusOutput, status_check};
use sim::lab::drill::writes::{self, Writes};
use sim::lab::drill::{DrillCheck, DrillFault, DrillReport, Phase, Scenario};
use sim::ontap::{Control, WriteId};

use crate::commands::lab::step::{StepRun, StepRunner};

/// How long one `kubectl svmdr` command of the drill may take.
pub(super) const CMD_LIMIT: Duration = Duration::from_secs(180);

/// Says one line of the drill, with the time since it started.
pub(super) fn say(t0: Instant, line: &str) {
    eprintln!(
        "[simulated lab] {:>6.2}s  {line}",
        t0.elapsed().as_secs_f64()
    );
}

/// The drill on one lab.
pub(super) struct Drill<'a> {
    pub(super) t0: Instant,
    pub(super) rt: &'a tokio::runtime::Runtime,
    pub(super) lab: &'a Lab,
    pub(super) cli: StepRunner,
    pub(super) ctl: Control,
    /// The DR data LIF to take down when the restore starts.
    pub(super) armed: Arc<Mutex<Option<(Control, String)>>>,
    pub(super) faults: Vec<DrillFault>,
    pub(super) scenario: Scenario,
    pub(super) backup: String,
    pub(super) report: DrillReport,
}

impl Drill<'_> {
    pub(super) fn has(&self, f: DrillFault) -> bool {
        self.faults.contains(&f)
    }

    pub(super) fn phase(
        &mut self,
        id: &str,
        title: &str,
        took: Duration,
        ok: bool,
        detail: String,
    ) {
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

    /// Records (and says) one check.
    pub(super) fn record(&mut self, c: DrillCheck) {
        say(
            self.t0,
            &format!(
                "  check {}: {} — {}",
                c.id,
                if c.ok { "pass" } else { "FAIL" },
                c.detail
            ),
        );
        self.report.checks.push(c);
    }

    pub(super) fn check(&mut self, id: &str, ok: bool, detail: String) {
        self.record(DrillCheck::new(id, ok, detail));
    }

    pub(super) fn record_all(&mut self, checks: Vec<DrillCheck>) {
        for c in checks {
            self.record(c);
        }
    }

    pub(super) fn cli(&self, args: &[&str]) -> anyhow::Result<StepRun> {
        say(self.t0, &format!("$ kubectl svmdr {}", args.join(" ")));
        self.rt.block_on(self.cli.run(args, CMD_LIMIT))
    }

    /// Runs a command as a phase; `Ok(run)` whatever its exit code.
    pub(super) fn cli_phase(
        &mut self,
        id: &str,
        title: &str,
        args: &[&str],
        ok_codes: &[i32],
    ) -> anyhow::Result<StepRun> {
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
    pub(super) fn write_all(&self, cluster: &str, svm: &str) -> anyhow::Result<Writes> {
        writes::write_all(&self.ctl, cluster, svm)
    }

    pub(super) fn check_holds(
        &mut self,
        id: &str,
        cluster: &str,
        svm: &str,
        what: &str,
        writes: &[(String, WriteId)],
    ) {
        let c = writes::writes_held(id, &self.ctl, cluster, svm, what, writes);
        self.record(c);
    }

    /// `status` healthy, or reporting only the scenario's problem.
    pub(super) fn check_status(&mut self, id: &str, st: &StepRun) {
        let json = st.json();
        let last_error = st.last_error();
        let c = status_check(
            id,
            status_output(st, json.as_ref(), &last_error),
            self.scenario.expected_status_problem(),
        );
        self.record(c);
    }
}

/// A step's run as plain data for [`sim::lab::drill::status`].
pub(super) fn status_output<'a>(
    run: &StepRun,
    json: Option<&'a serde_json::Value>,
    last_error: &'a str,
) -> StatusOutput<'a> {
    StatusOutput {
        code: run.code,
        json,
        last_error,
    }
}
