//! Rendering the drill's record ([`sim::lab::drill::DrillReport`]) for
//! people: the phases and checks as tables, the RTOs and the verdict.

use sim::lab::drill::DrillReport;

use crate::output;

/// The tables and the verdict, for people.
pub fn render_text(report: &DrillReport) -> String {
    let phases = report
        .phases
        .iter()
        .map(|p| {
            vec![
                p.id.clone(),
                p.result.clone(),
                format!("{:.2}s", p.seconds),
                p.detail.clone(),
            ]
        })
        .collect();
    let checks = report
        .checks
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                if c.ok { "pass" } else { "FAIL" }.to_string(),
                c.detail.clone(),
            ]
        })
        .collect();
    let mut out = String::new();
    out.push_str(&format!(
        "DR drill on the SIMULATED lab (scenario {}, timing {}, faults: {})\n",
        report.scenario,
        report.timing,
        if report.faults.is_empty() {
            "none".to_string()
        } else {
            report.faults.join(", ")
        }
    ));
    out.push_str(&output::table(
        &["phase", "result", "duration", "detail"],
        phases,
    ));
    out.push('\n');
    out.push_str(&output::table(&["check", "result", "detail"], checks));
    out.push('\n');
    let secs = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.2}s"));
    out.push_str(&format!(
        "storage RTO (failover): {}   restore: {}   whole drill: {:.2}s\n",
        secs(report.rto.storage_seconds),
        secs(report.rto.restore_seconds),
        report.wall_seconds
    ));
    if let Some(r) = &report.restore {
        for e in &r.errors {
            out.push_str(&format!("restore error: {e}\n"));
        }
    }
    out.push_str(&format!("verdict: {}\n", report.verdict));
    out
}

#[cfg(test)]
mod tests {
    use sim::lab::drill::{DrillCheck, DrillReport};

    #[test]
    fn text_names_the_simulated_lab_and_each_check() {
        let mut r = DrillReport::new("fast".into(), vec![], "standard".into());
        r.checks
            .push(DrillCheck::new("dr-has-data", true, "2/2".into()));
        r.conclude();
        let text = super::render_text(&r);
        assert!(text.contains("SIMULATED"), "{text}");
        assert!(text.contains("dr-has-data"), "{text}");
        assert!(text.contains("verdict: PASS (simulated)"), "{text}");
    }
}
