//! The drill's record: phases (with durations), checks (each a real look at
//! the simulated storage or clusters), the restore's outcome, and the
//! verdict (serialized as `kind: LabDrill`).

use serde::Serialize;

/// One phase of the drill.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    /// Stable id (`peer`, `failover`, `restore`, ...).
    pub id: String,
    /// What it did.
    pub title: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// `ok`, `failed` or `skipped`.
    pub result: String,
    /// One line of detail.
    pub detail: String,
}

/// One check of the drill: a real look at the simulated storage or clusters.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillCheck {
    /// Stable id.
    pub id: String,
    /// Passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// The Velero restore as the lab's runner ended it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreOutcome {
    /// Restore name.
    pub name: String,
    /// Final phase.
    pub phase: String,
    /// Velero's errors (messages from the restore results).
    pub errors: Vec<String>,
    /// Velero's warnings.
    pub warnings: Vec<String>,
    /// Items Velero called the plugin for (Delete-policy PVs never are).
    pub plugin_calls: Vec<String>,
}

/// Recovery times.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rto {
    /// Storage RTO: the failover command, wall time.
    pub storage_seconds: Option<f64>,
    /// The failover's own timeline total (ONTAP steps).
    pub failover_timeline_seconds: Option<f64>,
    /// The Velero restore, wall time.
    pub restore_seconds: Option<f64>,
}

/// The whole drill.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillReport {
    /// `svmdr.netapp.io/v1`.
    pub api_version: &'static str,
    /// `LabDrill`.
    pub kind: &'static str,
    /// Always true: nothing here touched a real system.
    pub simulated: bool,
    /// `fast` or `realistic`.
    pub timing: String,
    /// Faults injected.
    pub faults: Vec<String>,
    /// The scenario drilled.
    pub scenario: String,
    /// Phases in order.
    pub phases: Vec<Phase>,
    /// Checks in order.
    pub checks: Vec<DrillCheck>,
    /// Recovery times.
    pub rto: Rto,
    /// The restore, when it ran.
    pub restore: Option<RestoreOutcome>,
    /// Whole drill, seconds.
    pub wall_seconds: f64,
    /// Every phase ok and every check passed.
    pub passed: bool,
    /// One line.
    pub verdict: String,
}

impl DrillCheck {
    /// A check named `id`.
    pub fn new(id: &str, ok: bool, detail: String) -> Self {
        Self {
            id: id.into(),
            ok,
            detail,
        }
    }
}

impl DrillReport {
    /// An empty report of a drill with `timing` and `faults`.
    pub fn new(timing: String, faults: Vec<String>, scenario: String) -> Self {
        Self {
            api_version: "svmdr.netapp.io/v1",
            kind: "LabDrill",
            simulated: true,
            timing,
            faults,
            scenario,
            phases: Vec::new(),
            checks: Vec::new(),
            rto: Rto::default(),
            restore: None,
            wall_seconds: 0.0,
            passed: false,
            verdict: String::new(),
        }
    }

    /// Fills `passed` and `verdict` from the phases and checks.
    pub fn conclude(&mut self) {
        let failed_phases: Vec<&Phase> = self
            .phases
            .iter()
            .filter(|p| p.result == "failed")
            .collect();
        let failed_checks: Vec<&DrillCheck> = self.checks.iter().filter(|c| !c.ok).collect();
        self.passed = failed_phases.is_empty() && failed_checks.is_empty();
        let rto = match (self.rto.storage_seconds, self.rto.restore_seconds) {
            (Some(s), Some(r)) => format!("storage RTO {s:.2}s, restore {r:.2}s"),
            (Some(s), None) => format!("storage RTO {s:.2}s"),
            _ => "no RTO measured".into(),
        };
        self.verdict = if self.passed && self.scenario == "standard" {
            format!(
                "PASS (simulated): failover, restore and failback worked and every check held; {rto}"
            )
        } else if self.passed && self.scenario.starts_with("watcher-") {
            format!(
                "PASS (simulated): in scenario {} svmdr-watcher decided and acted as it must, and every check held; {rto}",
                self.scenario
            )
        } else if self.passed {
            format!(
                "PASS (simulated): scenario {} behaved as real Trident and Velero would, and every check held; {rto}",
                self.scenario
            )
        } else {
            let mut why = Vec::new();
            let ids: Vec<&str> = failed_phases
                .iter()
                .map(|p| p.id.as_str())
                .chain(failed_checks.iter().map(|c| c.id.as_str()))
                .collect();
            why.push(format!("failed: {}", ids.join(", ")));
            if let Some(r) = &self.restore
                && !r.errors.is_empty()
            {
                let refused: Vec<&str> = r.errors.iter().filter_map(|e| refused_item(e)).collect();
                let first = r.errors.first().map(|e| reason(e)).unwrap_or_default();
                why.push(format!(
                    "Velero restore {} ended {}: the plugin refused {} item(s) [{}]: {first}",
                    r.name,
                    r.phase,
                    r.errors.len(),
                    refused.join(", ")
                ));
            } else if let Some(c) = failed_checks.first() {
                why.push(format!("{}: {}", c.id, c.detail));
            } else if let Some(p) = failed_phases.first() {
                why.push(format!("{}: {}", p.id, p.detail));
            }
            format!("FAIL (simulated): {}; {rto}", why.join("; "))
        };
    }
}

/// `persistentvolumes/pv-1` from Velero's `error preparing persistentvolumes/pv-1: ...`.
fn refused_item(e: &str) -> Option<&str> {
    e.strip_prefix("error preparing ")?.split(": ").next()
}

/// The plugin's message from `... rpc error: code = Unknown desc = MSG`.
fn reason(e: &str) -> String {
    e.split_once(" desc = ").map_or(e, |(_, m)| m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> DrillReport {
        DrillReport {
            phases: vec![Phase {
                id: "failover".into(),
                title: "failover".into(),
                seconds: 1.5,
                result: "ok".into(),
                detail: "11 steps".into(),
            }],
            checks: vec![DrillCheck {
                id: "dr-has-data".into(),
                ok: true,
                detail: "2/2".into(),
            }],
            rto: Rto {
                storage_seconds: Some(1.5),
                ..Default::default()
            },
            wall_seconds: 3.0,
            ..DrillReport::new("fast".into(), vec![], "standard".into())
        }
    }

    #[test]
    fn verdict_passes_only_when_every_phase_and_check_does() {
        let mut r = report();
        r.conclude();
        assert!(r.passed, "{}", r.verdict);
        assert!(r.verdict.starts_with("PASS (simulated)"));
        r.checks[0].ok = false;
        r.checks[0].detail = "write 3 missing on DR".into();
        r.restore = Some(RestoreOutcome {
            name: "r1".into(),
            phase: "PartiallyFailed".into(),
            errors: vec![
                "error preparing persistentvolumes/pvc-1: rpc error: code = Unknown desc = PV pvc-1: LIF svm1_nfs_lif1 is down".into(),
            ],
            ..Default::default()
        });
        r.conclude();
        assert!(!r.passed);
        assert!(r.verdict.contains("dr-has-data"), "{}", r.verdict);
        assert!(
            r.verdict
                .contains("[persistentvolumes/pvc-1]: PV pvc-1: LIF svm1_nfs_lif1 is down"),
            "{}",
            r.verdict
        );
        assert!(
            r.verdict.contains("r1 ended PartiallyFailed"),
            "{}",
            r.verdict
        );
    }
}
