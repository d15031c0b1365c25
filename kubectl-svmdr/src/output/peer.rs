//! `peer` output: each step and, for `--dry-run`, every ONTAP call.

use std::io::Write;

use svmdr::peering::PeerReport;
use svmdr::report::StepOutcome;

use super::{or_dash, write_structured};
use crate::global::OutputFormat;

/// Renders the peering report. In table mode after a real run, the steps
/// were already reported on stderr as they ran, so stdout gets only the
/// result; `--dry-run` and `-o wide` list every step.
///
/// # Errors
/// Write errors.
pub fn render(w: &mut impl Write, format: OutputFormat, r: &PeerReport) -> anyhow::Result<()> {
    if format.is_machine() {
        return write_structured(w, format, &super::typed("PeerReport", r));
    }
    if r.dry_run {
        writeln!(
            w,
            "Dry run: nothing was changed. Steps and the ONTAP calls they would make:"
        )?;
    }
    if r.dry_run || format == OutputFormat::Wide {
        for s in &r.steps {
            let mark = match &s.outcome {
                StepOutcome::Done => "done",
                StepOutcome::AlreadyDone => "already done",
                StepOutcome::Skipped(_) => "skipped",
                StepOutcome::Planned(_) => "would do",
                StepOutcome::Failed(_) => "failed",
            };
            writeln!(w, "{mark:<13} {}: {}", s.title, s.detail)?;
            for c in &s.calls {
                writeln!(w, "              {c}")?;
            }
        }
    }
    if !r.dry_run {
        writeln!(
            w,
            "relationship: {}, schedule {}{}",
            or_dash(r.relationship_state.as_ref()),
            r.schedule.as_deref().unwrap_or("none"),
            r.lag_seconds
                .map(|s| format!(
                    ", lag {}",
                    svmdr::status::rpo::human(std::time::Duration::from_secs(s))
                ))
                .unwrap_or_default()
        )?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use svmdr::peering::{PlannedCall, Step, StepReport};

    fn report(dry_run: bool) -> PeerReport {
        PeerReport {
            dry_run,
            steps: vec![StepReport {
                step: Step::ClusterPeer,
                title: Step::ClusterPeer.title(),
                outcome: if dry_run {
                    StepOutcome::Planned("peer".into())
                } else {
                    StepOutcome::Done
                },
                detail: "peer ontap-a and ontap-b".into(),
                calls: if dry_run {
                    vec![PlannedCall {
                        cluster: "ontap-b".into(),
                        method: "POST".into(),
                        path: "/api/cluster/peers".into(),
                        body: Some(
                            serde_json::json!({"authentication": {"passphrase": "<redacted>"}}),
                        ),
                    }]
                } else {
                    vec![]
                },
            }],
            relationship_state: Some("snapmirrored".into()),
            lag_seconds: Some(90),
            schedule: Some("hourly".into()),
            timeline: svmdr::plan::Timeline::default(),
        }
    }

    #[test]
    fn dry_run_lists_calls_and_real_run_only_the_result() {
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Table, &report(true)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("would do      cluster peer: peer ontap-a and ontap-b"),
            "{text}"
        );
        assert!(text.contains("ontap-b POST /api/cluster/peers"), "{text}");
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Table, &report(false)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "relationship: snapmirrored, schedule hourly, lag 1m 30s\n"
        );
    }
}
