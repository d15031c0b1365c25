//! `status` output: sites, relationships, peers, then the problems.

use std::io::Write;

use svmdr::status::{SiteStatus, StatusReport};

use super::{bytes, or_dash, table, write_structured};
use crate::cli::OutputFormat;

fn site_line(s: &SiteStatus) -> String {
    let who = format!(
        "context {}, backend {}",
        or_dash(s.info.context.as_ref()),
        or_dash(s.info.backend.as_ref())
    );
    if !s.configured {
        return format!("{:<8} not configured", s.role.to_string().to_uppercase());
    }
    if s.reachable {
        format!(
            "{:<8} {} {} ({who})",
            s.role.to_string().to_uppercase(),
            or_dash(s.cluster.as_ref()),
            or_dash(s.version.as_ref()),
        )
    } else {
        format!(
            "{:<8} UNREACHABLE ({who}): {}",
            s.role.to_string().to_uppercase(),
            or_dash(s.error.as_ref())
        )
    }
}

/// Renders the status report.
///
/// # Errors
/// Write errors.
pub fn render(w: &mut impl Write, format: OutputFormat, r: &StatusReport) -> anyhow::Result<()> {
    if format.is_machine() {
        return write_structured(w, format, r);
    }
    let wide = format == OutputFormat::Wide;
    writeln!(w, "{}", site_line(&r.sites.dr))?;
    writeln!(w, "{}", site_line(&r.sites.primary))?;
    writeln!(w)?;
    if !r.relationships.is_empty() {
        let mut header = vec![
            "source",
            "destination",
            "state",
            "healthy",
            "lag",
            "rpo",
            "last transfer",
            "svm states",
        ];
        if wide {
            header.extend(["policy", "identity", "schedule", "svm peer", "uuid"]);
        }
        let rows = r
            .relationships
            .iter()
            .map(|x| {
                let src = format!("{}:{}", or_dash(x.source.cluster.as_ref()), x.source.svm);
                let dst = format!(
                    "{}:{}",
                    or_dash(x.destination.cluster.as_ref()),
                    x.destination.svm
                );
                let lag = match (x.lag.as_ref(), x.rpo_exceeded) {
                    (Some(l), Some(true)) => format!("{l} (over RPO)"),
                    (Some(l), _) => l.clone(),
                    (None, _) => "-".into(),
                };
                let last = x
                    .last_transfer
                    .as_ref()
                    .map(|t| {
                        format!(
                            "{} {}{}",
                            or_dash(t.r#type.as_ref()),
                            or_dash(t.state.as_ref()),
                            t.bytes
                                .map(|b| format!(" {}", bytes(b)))
                                .unwrap_or_default()
                        )
                    })
                    .unwrap_or_else(|| "-".into());
                let svms = format!(
                    "{} / {}",
                    or_dash(x.source.svm_state.as_ref()),
                    or_dash(x.destination.svm_state.as_ref())
                );
                let mut row = vec![
                    src,
                    dst,
                    x.state.clone(),
                    if x.healthy { "yes".into() } else { "NO".into() },
                    lag,
                    x.rpo.clone(),
                    last,
                    svms,
                ];
                if wide {
                    row.extend([
                        or_dash(x.policy.as_ref()),
                        or_dash(x.identity_preservation.as_ref()),
                        or_dash(x.schedule.as_ref()),
                        or_dash(x.svm_peer_state.as_ref()),
                        or_dash(x.uuid.as_ref()),
                    ]);
                }
                row
            })
            .collect();
        writeln!(w, "{}", table(&header, rows))?;
        writeln!(w)?;
    }
    if !r.cluster_peers.is_empty() {
        let rows = r
            .cluster_peers
            .iter()
            .map(|p| {
                vec![
                    p.side.to_string(),
                    p.peer.clone(),
                    p.availability.clone(),
                    p.authentication.clone(),
                    p.encryption.clone(),
                    if p.healthy { "yes".into() } else { "NO".into() },
                ]
            })
            .collect();
        writeln!(
            w,
            "{}",
            table(
                &[
                    "side",
                    "cluster peer",
                    "availability",
                    "authentication",
                    "encryption",
                    "healthy"
                ],
                rows
            )
        )?;
        writeln!(w)?;
    }
    if r.healthy {
        writeln!(w, "Healthy.")?;
    } else {
        writeln!(w, "Problems:")?;
        for p in &r.problems {
            writeln!(w, "  - {p}")?;
        }
    }
    w.flush()?;
    Ok(())
}
