//! `sync` output.

use std::io::Write;

use svmdr::peering::sync::SyncReport;
use svmdr::status::rpo::human;

use super::{bytes, or_dash, write_structured};
use crate::global::OutputFormat;

/// Renders the sync result.
///
/// # Errors
/// Write errors.
pub fn render(w: &mut impl Write, format: OutputFormat, r: &SyncReport) -> anyhow::Result<()> {
    if format.is_machine() {
        return write_structured(w, format, &super::typed("SyncReport", r));
    }
    write!(
        w,
        "{} -> {}  transfer {}",
        r.source,
        r.destination,
        or_dash(r.transfer_uuid.as_ref())
    )?;
    if r.waited {
        write!(
            w,
            " {}{}",
            or_dash(r.transfer_state.as_ref()),
            r.bytes
                .map(|b| format!(" ({})", bytes(b)))
                .unwrap_or_default()
        )?;
    } else {
        write!(w, " started")?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "state {}, lag {}",
        or_dash(r.state.as_ref()),
        r.lag_seconds
            .map(|s| human(std::time::Duration::from_secs(s)))
            .unwrap_or_else(|| "-".into())
    )?;
    w.flush()?;
    Ok(())
}
