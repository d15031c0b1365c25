//! `restore` output: the summary of a finished restore (workloads per
//! namespace, each PVC's binding) and the `--dry-run` plan (`RestorePlan`).

use std::io::Write;

use svmdr::restore::{RestoreError, RestoreReport};
use svmdr::workflow::restore::RestorePreview;

use super::{API_VERSION, or_dash, table, write_structured};
use crate::global::OutputFormat;

/// `restore --dry-run -o json|yaml`: the Velero Restore it would create.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RestorePlan<'a> {
    api_version: &'static str,
    kind: &'static str,
    /// How long the restore would be waited for (unknown when refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    wait: Option<String>,
    /// Why a real run would refuse (exit 3), and the flag that overrides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<&'a str>,
    /// The Velero Restore object.
    restore: &'a serde_json::Value,
}

/// What a `--dry-run` says about a refused backup, with its override.
pub fn refusal_text(e: &RestoreError) -> String {
    match e {
        RestoreError::AlreadyRestored { .. } => e.to_string(),
        _ => format!("{e}; or pass --force to restore anyway"),
    }
}

/// Renders `restore --dry-run`: the Restore it would create, with the
/// refusal above it when a real run would refuse.
///
/// # Errors
/// Write errors.
pub fn render_plan(
    w: &mut impl Write,
    format: OutputFormat,
    p: &RestorePreview,
) -> anyhow::Result<()> {
    let refused = p.refused.as_ref().map(refusal_text);
    if format.is_machine() {
        let plan = RestorePlan {
            api_version: API_VERSION,
            kind: "RestorePlan",
            wait: p.wait.map(|t| humantime::format_duration(t).to_string()),
            refused: refused.as_deref(),
            restore: &p.restore,
        };
        return write_structured(w, format, &plan);
    }
    match (&refused, p.wait) {
        (Some(r), _) => {
            writeln!(w, "Dry run: nothing was changed.")?;
            writeln!(w, "REFUSED (exit 3): {r}")?;
            let with = match &p.refused {
                Some(RestoreError::AlreadyRestored { .. }) => "--yes or --force",
                _ => "--force",
            };
            writeln!(w, "Would create, only with {with}:")?;
        }
        (None, Some(t)) => writeln!(
            w,
            "Dry run: nothing was changed. Would create (and wait up to {}):",
            humantime::format_duration(t)
        )?,
        (None, None) => writeln!(w, "Dry run: nothing was changed. Would create:")?,
    }
    write!(w, "{}", serde_yaml::to_string(&p.restore)?)?;
    Ok(())
}

/// The restore summary for people.
///
/// # Errors
/// Write errors.
pub fn render_table(w: &mut impl Write, r: &RestoreReport) -> anyhow::Result<()> {
    writeln!(
        w,
        "Velero restore {}/{} from backup {}: {} in {:.1}s ({} warnings, {} errors)",
        r.namespace,
        r.name,
        r.backup.name,
        r.status.phase,
        r.duration.as_secs_f64(),
        r.status.warnings,
        r.status.errors
    )?;
    for f in &r.status.failure {
        writeln!(w, "  failure: {f}")?;
    }
    let rows = r
        .namespaces
        .iter()
        .map(|n| {
            let join = |m: &std::collections::BTreeMap<String, String>| {
                if m.is_empty() {
                    "-".to_string()
                } else {
                    m.iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let running = n.pods.values().filter(|p| *p == "Running").count();
            let bound = n.pvcs.iter().filter(|p| p.phase == "Bound").count();
            vec![
                n.namespace.clone(),
                join(&n.deployments),
                join(&n.statefulsets),
                format!("{running}/{} running", n.pods.len()),
                format!("{bound}/{} bound", n.pvcs.len()),
            ]
        })
        .collect();
    writeln!(
        w,
        "{}",
        table(
            &["namespace", "deployments", "statefulsets", "pods", "pvcs"],
            rows
        )
    )?;
    let pvc_rows: Vec<Vec<String>> = r
        .namespaces
        .iter()
        .flat_map(|n| {
            n.pvcs.iter().map(move |p| {
                vec![
                    n.namespace.clone(),
                    p.name.clone(),
                    p.phase.clone(),
                    or_dash(p.volume.as_ref()),
                    or_dash(p.storage_class.as_ref()),
                ]
            })
        })
        .collect();
    if !pvc_rows.is_empty() {
        writeln!(
            w,
            "{}",
            table(
                &["namespace", "pvc", "status", "volume", "storageclass"],
                pvc_rows
            )
        )?;
    }
    for n in &r.namespaces {
        for p in n.unbound() {
            writeln!(
                w,
                "warning: PVC {}/{} is {}: it has no volume yet; for a Trident PVC look for the svmdr plugin's import in `velero restore logs {}` and at `tridentctl get volume`",
                n.namespace, p.name, p.phase, r.name
            )?;
        }
    }
    Ok(())
}
