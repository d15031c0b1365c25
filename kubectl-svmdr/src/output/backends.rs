//! `backends` output.

use std::io::Write;

use svmdr::site::BackendsReport;

use super::{or_dash, table, write_structured};
use crate::global::OutputFormat;

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
                let what = e
                    .ontap
                    .failure
                    .map_or_else(|| "error".to_string(), |f| f.label().to_lowercase());
                format!("{what}: {}", or_dash(e.ontap.error.as_ref()))
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

#[cfg(test)]
mod tests {
    use svmdr::site::{BackendEntry, Reach};
    use svmdr::trident::backend::parse_backend;

    use super::*;

    fn report() -> BackendsReport {
        let b = parse_backend(&serde_json::json!({
            "backendName": "nas", "backendUUID": "u-1", "state": "online", "online": true,
            "config": {"ontap_config": {"storageDriverName": "ontap-nas", "managementLIF": "10.0.0.5",
                "svm": "svm1", "credentials": {"name": "creds"}}}
        }))
        .unwrap();
        BackendsReport {
            api_version: "svmdr.netapp.io/v1",
            kind: "BackendList",
            context: "dr".into(),
            namespace: "trident".into(),
            backends: vec![
                BackendEntry {
                    backend: b.clone(),
                    ontap: Reach {
                        reachable: true,
                        cluster: Some("ontap-b".into()),
                        version: Some("9.14.1".into()),
                        error: None,
                        failure: None,
                    },
                },
                BackendEntry {
                    backend: b,
                    ontap: Reach {
                        error: Some("connection refused".into()),
                        failure: Some(svmdr::ontap::Failure::Unreachable),
                        ..Reach::default()
                    },
                },
            ],
            skipped: vec!["Trident backend sf uses driver \"solidfire-san\"".into()],
        }
    }

    #[test]
    fn table_and_wide() {
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Table, &report()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("NAME"), "{text}");
        assert!(
            text.contains("ontap-b") && text.contains("9.14.1"),
            "{text}"
        );
        assert!(text.contains("unreachable: connection refused"), "{text}");
        assert!(text.contains("skipped: Trident backend sf"), "{text}");
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Wide, &report()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("u-1") && text.contains("creds"), "{text}");
    }
}
