//! `peer` output: each step and, for `--dry-run`, every ONTAP call.

use std::io::Write;

use svmdr::peering::PeerReport;
use svmdr::report::StepOutcome;

use super::{or_dash, write_structured};
use crate::cli::OutputFormat;

/// Renders the peering report.
///
/// # Errors
/// Write errors.
pub fn render(w: &mut impl Write, format: OutputFormat, r: &PeerReport) -> anyhow::Result<()> {
    if format.is_machine() {
        return write_structured(w, format, r);
    }
    if r.dry_run {
        writeln!(
            w,
            "Dry run: nothing was changed. Steps and the ONTAP calls they would make:"
        )?;
    }
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
    if !r.dry_run {
        writeln!(
            w,
            "relationship: {}{}",
            or_dash(r.relationship_state.as_ref()),
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
