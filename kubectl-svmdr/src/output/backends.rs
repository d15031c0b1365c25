//! `backends` output.

use std::io::Write;

use svmdr::site::BackendsReport;

use super::{or_dash, table, write_structured};
use crate::cli::OutputFormat;

/// Renders the backend list.
///
/// # Errors
/// Write errors.
pub fn render(w: &mut impl Write, format: OutputFormat, r: &BackendsReport) -> anyhow::Result<()> {
    if format.is_machine() {
        return write_structured(w, format, r);
    }
    let wide = format == OutputFormat::Wide;
    let mut header = vec![
        "name",
        "driver",
        "management lif",
        "svm",
        "data lif",
        "trident state",
        "ontap cluster",
        "version",
    ];
    if wide {
        header.extend(["uuid", "config", "prefix", "credentials"]);
    }
    let rows = r
        .backends
        .iter()
        .map(|e| {
            let b = &e.backend;
            let cluster = if e.ontap.reachable {
                or_dash(e.ontap.cluster.as_ref())
            } else {
                format!("unreachable: {}", or_dash(e.ontap.error.as_ref()))
            };
            let mut row = vec![
                b.name.clone(),
                b.driver.clone(),
                b.management_lif.clone(),
                or_dash(b.svm.as_ref()),
                or_dash(b.data_lif.as_ref()),
                b.state.clone(),
                cluster,
                or_dash(e.ontap.version.as_ref()),
            ];
            if wide {
                row.extend([
                    b.uuid.clone(),
                    or_dash(b.tbc_name.as_ref()),
                    format!("{:?}", b.storage_prefix),
                    b.secret_name(),
                ]);
            }
            row
        })
        .collect();
    writeln!(w, "{}", table(&header, rows))?;
    for s in &r.skipped {
        writeln!(w, "skipped: {s}")?;
    }
    w.flush()?;
    Ok(())
}
