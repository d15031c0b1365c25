//! What the drill verifies on the lab after a step: each check reads the
//! simulated clusters or storage directly, never the command's own account.

use serde_json::Value;

use crate::lab::app::{DEPLOYMENT, NAMESPACE, VOLUMES};
use crate::lab::{DR_SVM, Lab, RestoreResults};

use super::report::DrillCheck;
use super::scenario::{DR_CLASS, Scenario};
use super::status::truncate;

/// After the failover, the DR Trident backend serves again (the
/// failover's backends-online step), or Trident refuses every import.
pub fn dr_backend_online(lab: &Lab) -> DrillCheck {
    let ns = &lab.dr_trident.namespace;
    let states: Vec<(String, String, String)> = lab
        .dr_kube
        .list("trident.netapp.io/v1", "TridentBackend", Some(ns))
        .iter()
        .map(|b| {
            let f = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (f("backendName"), f("state"), f("stateReason"))
        })
        .collect();
    let ok = !states.is_empty() && states.iter().all(|(_, st, _)| st == "online");
    let detail = states
        .iter()
        .map(|(n, st, why)| {
            if why.is_empty() {
                format!("{n}: {st}")
            } else {
                format!("{n}: {st} ({why})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    DrillCheck::new("dr-backend-online", ok, detail)
}

/// Every app PVC Bound on DR to a volume Trident imported (a new PV with
/// a TridentVolume on the replicated ONTAP volume: a PV restored as-is
/// has none and never attaches), the app's Pod running, then what
/// `scenario` adds ([`scenario_checks`]).
pub fn app_on_dr(lab: &Lab, scenario: Scenario, results: &RestoreResults) -> Vec<DrillCheck> {
    let dr = &lab.dr_kube;
    let ns = lab.dr_trident.namespace.clone();
    let mut bound = Vec::new();
    let mut not = Vec::new();
    let mut imported = Vec::new();
    let mut not_imported = Vec::new();
    for v in VOLUMES {
        let Some(p) = dr.get("v1", "PersistentVolumeClaim", Some(NAMESPACE), v.claim) else {
            not.push(format!("{} was not restored", v.claim));
            continue;
        };
        let phase = p
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("Pending");
        let pv = p
            .pointer("/spec/volumeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if phase != "Bound" {
            not.push(format!("{} is {phase}", v.claim));
            continue;
        }
        bound.push(format!("{} → {pv}", v.claim));
        let tv = dr.get("trident.netapp.io/v1", "TridentVolume", Some(&ns), pv);
        let internal = tv
            .as_ref()
            .and_then(|t| t.pointer("/config/internalName").and_then(Value::as_str))
            .unwrap_or("");
        match tv {
            Some(_) if pv != v.pv => imported.push(format!("{} ({internal})", v.claim)),
            Some(_) => not_imported.push(format!("{}: PV {pv} kept the backed-up name", v.claim)),
            None => not_imported.push(format!(
                "{}: PV {pv} has no TridentVolume (restored as-is: it cannot attach)",
                v.claim
            )),
        }
    }
    let mut checks = Vec::new();
    let ok = not.is_empty();
    checks.push(DrillCheck::new(
        "pvcs-bound-on-dr",
        ok,
        if ok { bound.join(", ") } else { not.join(", ") },
    ));
    let ok = not_imported.is_empty() && imported.len() == VOLUMES.len();
    checks.push(DrillCheck::new(
        "volumes-imported-by-trident",
        ok,
        if not_imported.is_empty() {
            format!("TridentVolumes for {}", imported.join(", "))
        } else {
            not_imported.join("; ")
        },
    ));
    let ready = dr
        .get("apps/v1", "Deployment", Some(NAMESPACE), DEPLOYMENT)
        .and_then(|d| d.pointer("/status/readyReplicas").and_then(Value::as_u64))
        .unwrap_or(0);
    let why_not = if ready >= 1 {
        String::new()
    } else {
        pod_events(lab)
    };
    checks.push(DrillCheck::new(
        "app-running-on-dr",
        ready >= 1,
        format!("Deployment {NAMESPACE}/{DEPLOYMENT}: {ready} ready{why_not}"),
    ));
    checks.extend(scenario_checks(lab, scenario, results));
    checks
}

/// The Events of the app's Pods on DR (why a Pod does not run).
fn pod_events(lab: &Lab) -> String {
    let events: Vec<String> = lab
        .dr_kube
        .list("v1", "Event", Some(NAMESPACE))
        .iter()
        .filter(|e| e.pointer("/involvedObject/kind").and_then(Value::as_str) == Some("Pod"))
        .filter_map(|e| {
            Some(format!(
                "{}: {}",
                e.get("reason")?.as_str()?,
                truncate(e.get("message")?.as_str()?, 160)
            ))
        })
        .collect();
    if events.is_empty() {
        String::new()
    } else {
        format!(" ({})", events.join("; "))
    }
}

/// What each scenario adds to a completed restore.
pub fn scenario_checks(lab: &Lab, scenario: Scenario, results: &RestoreResults) -> Vec<DrillCheck> {
    let dr = &lab.dr_kube;
    match scenario {
        Scenario::ChangeStorageClass => {
            let classes: Vec<String> = VOLUMES
                .iter()
                .filter_map(|v| dr.get("v1", "PersistentVolumeClaim", Some(NAMESPACE), v.claim))
                .map(|p| {
                    p.pointer("/spec/storageClassName")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            let ok = classes.len() == VOLUMES.len() && classes.iter().all(|c| c == DR_CLASS);
            vec![DrillCheck::new(
                "imported-through-mapped-class",
                ok,
                format!("PVC classes: {}", classes.join(", ")),
            )]
        }
        Scenario::Trident2506 => {
            let no_rename_annotation = VOLUMES.iter().all(|v| {
                dr.get("v1", "PersistentVolumeClaim", Some(NAMESPACE), v.claim)
                    .is_some_and(|p| {
                        p.pointer("/metadata/annotations/trident.netapp.io~1importNoRename")
                            .is_none()
                    })
            });
            let warned = results
                .log
                .iter()
                .filter(|l| l.contains("ignores importNoRename") && l.contains("failback"))
                .count();
            let snap = lab.ontap.control().snapshot();
            let renamed = VOLUMES
                .iter()
                .filter(|v| {
                    !snap["volumes"].as_array().into_iter().flatten().any(|x| {
                        x["cluster"] == "dr" && x["svm"] == DR_SVM && x["name"] == v.volume
                    })
                })
                .count();
            vec![
                DrillCheck::new(
                    "no-import-no-rename-on-25.06",
                    no_rename_annotation,
                    "the PVCs do not carry importNoRename (Trident 25.06 ignores it)".into(),
                ),
                DrillCheck::new(
                    "plugin-warns-about-rename",
                    warned == VOLUMES.len(),
                    format!(
                        "{warned} warning(s) in the restore log that failback needs the names back"
                    ),
                ),
                DrillCheck::new(
                    "flexvols-renamed-by-trident",
                    renamed == VOLUMES.len(),
                    format!(
                        "{renamed}/{} replicated volumes renamed on {DR_SVM}",
                        VOLUMES.len()
                    ),
                ),
            ]
        }
        _ => Vec::new(),
    }
}

/// The export scenario: the plugin refused each PVC, naming the policy,
/// its rule and the DR nodes; nothing was imported.
pub fn export_refusal(lab: &Lab, phase: &str, errors: &[String]) -> Vec<DrillCheck> {
    let named = errors
        .iter()
        .filter(|e| {
            e.contains("export policy default")
                && e.contains("198.51.100.21")
                && e.contains("export-policy rule create")
        })
        .count();
    vec![
        DrillCheck::new(
            "plugin-refuses-export-policy",
            phase == "PartiallyFailed" && named == VOLUMES.len(),
            format!(
                "{named}/{} PVCs refused naming policy default, the DR nodes and the fix",
                VOLUMES.len()
            ),
        ),
        nothing_imported(lab),
    ]
}

/// The data-carrying backup scenarios, forced: the plugin refused the
/// PVCs, so no old copy shadows or overwrites the replicated volumes.
pub fn data_kept(
    lab: &Lab,
    phase: &str,
    errors: &[String],
    results: &RestoreResults,
) -> Vec<DrillCheck> {
    let refused = errors
        .iter()
        .filter(|e| e.contains("persistentvolumeclaims/") && e.contains("Velero"))
        .count();
    let writes = &results.pod_volume_writes;
    vec![
        DrillCheck::new(
            "plugin-refuses-data-restore",
            phase == "PartiallyFailed" && refused == VOLUMES.len(),
            format!("{refused}/{} PVCs refused by the plugin", VOLUMES.len()),
        ),
        DrillCheck::new(
            "replicated-data-not-overwritten",
            writes.is_empty() && results.ignored_imports.is_empty(),
            if writes.is_empty() && results.ignored_imports.is_empty() {
                "no pod volume restore wrote to, and no snapshot shadowed, a replicated volume"
                    .into()
            } else {
                format!("{} write(s): {}", writes.len(), writes.join("; "))
            },
        ),
        nothing_imported(lab),
    ]
}

/// No TridentVolume on DR: Trident imported nothing.
pub fn nothing_imported(lab: &Lab) -> DrillCheck {
    let tvols = lab
        .dr_kube
        .list(
            "trident.netapp.io/v1",
            "TridentVolume",
            Some(&lab.dr_trident.namespace),
        )
        .len();
    DrillCheck::new(
        "nothing-imported",
        tvols == 0,
        format!("{tvols} TridentVolume(s) on DR"),
    )
}

/// After the failback the app runs on the primary only: the restored
/// Deployment on DR is scaled to 0 with its replicas kept (in
/// `replicas_annotation`), and `status` says the app runs on `runs_on`.
pub fn app_stopped_on_dr(lab: &Lab, replicas_annotation: &str, runs_on: &str) -> DrillCheck {
    let web = lab
        .dr_kube
        .get("apps/v1", "Deployment", Some(NAMESPACE), DEPLOYMENT);
    let replicas = web
        .as_ref()
        .and_then(|d| d.pointer("/spec/replicas"))
        .cloned();
    let kept = web
        .as_ref()
        .and_then(|d| {
            d.pointer("/metadata/annotations")
                .and_then(|a| a.get(replicas_annotation))
        })
        .cloned();
    DrillCheck::new(
        "app-stopped-on-dr-after-failback",
        replicas == Some(serde_json::json!(0)) && kept.is_some() && runs_on == "primary",
        format!(
            "DR deployment {NAMESPACE}/{DEPLOYMENT}: replicas {}, replicas before failback {}; status: app runs on {runs_on}",
            replicas.map_or_else(|| "-".into(), |r| r.to_string()),
            kept.map_or_else(|| "-".into(), |r| r.to_string())
        ),
    )
}
