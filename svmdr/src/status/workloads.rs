//! Where the application runs: the namespaces with workloads Velero
//! restored on the DR cluster (one LIST of Deployments and one of
//! StatefulSets on DR, all namespaces, by `velero.io/restore-name`; see
//! [`crate::plan::workloads`]) and whether they are scaled up, set against
//! the site whose SVMs serve ([`super::StatusReport::active_site`]).
//!
//! - Restored workloads scaled up on DR while the primary serves: the app
//!   runs on both sites, the DR copy against a stopped SVM: a problem.
//! - Scaled up on DR while DR serves: it runs on DR (after a failover).
//! - None scaled up: it runs where the SVMs serve (the primary's
//!   workloads are not read: `appRunsOn: primary` means the primary
//!   serves and no restored copy runs on DR).

use super::report::StatusReport;
pub use super::report::{DrNamespace, DrWorkloads};
use crate::plan::workloads::{RestoredWorkload, scale_back_command};

/// Lists the restored workloads on the DR cluster (two LISTs).
pub async fn collect(kube: &kube::Client) -> Result<Vec<RestoredWorkload>, String> {
    crate::plan::workloads::list_restored(kube)
        .await
        .map_err(|e| e.to_string())
}

/// Adds `drWorkloads` and `appRunsOn` to `report`, with the problem of an
/// app that runs on both sites.
pub fn apply(report: &mut StatusReport, listed: Result<Vec<RestoredWorkload>, String>) {
    let dr = DrWorkloads::from_listed(listed);
    let running = dr.running();
    report.app_runs_on = match (&dr.error, running.is_empty(), report.active_site.as_str()) {
        (Some(_), _, _) => "unknown",
        (None, false, "primary") => "both",
        (None, false, _) => "dr",
        (None, true, "primary") => "primary",
        (None, true, "dr") => "none",
        (None, true, _) => "unknown",
    }
    .to_string();
    if let Some(e) = &dr.error {
        report.notes.push(format!(
            "where the application runs was not checked on DR: {e}"
        ));
    }
    match report.app_runs_on.as_str() {
        "both" => {
            report.problems.push(format!(
                "the application runs on both sites: the primary serves, and workloads Velero restored on DR are scaled up in namespace(s) {} (against a DR SVM that does not serve); scale them to 0 on the DR cluster (`kubectl -n <ns> scale deploy,sts -l velero.io/restore-name --replicas=0`), as `kubectl svmdr failback` does",
                running.join(", ")
            ));
            report.healthy = false;
        }
        "none" => report.notes.push(
            "DR serves, and no workload restored by Velero runs on DR: restore the application with `kubectl svmdr restore`".into(),
        ),
        _ => {}
    }
    for n in dr.namespaces.iter().filter(|n| !n.scaled_up) {
        for w in &n.workloads {
            if let (Some(cmd), "dr") = (scale_back_command(w), report.active_site.as_str()) {
                report.notes.push(format!(
                    "{}/{} on DR was scaled to 0 by a failback; bring it back with `{cmd}`",
                    n.namespace,
                    w.reference()
                ));
            }
        }
    }
    report.dr_workloads = Some(dr);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{SiteInfo, SiteInput, evaluate};

    /// A report whose SVMs serve at `active` and that has no problem yet.
    fn empty_report(active: &str) -> StatusReport {
        let dr = SiteInput {
            info: SiteInfo::default(),
            facts: Err(crate::status::SiteFailure::new(
                crate::ontap::Failure::Unreachable,
                "not read",
            )),
        };
        let mut r = evaluate(&dr, None, None, chrono::Utc::now());
        r.problems.clear();
        r.notes.clear();
        r.healthy = true;
        r.active_site = active.into();
        r
    }

    fn web(replicas: i32) -> RestoredWorkload {
        RestoredWorkload {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
            restore: "nightly-svmdr-1".into(),
            replicas,
            ready_replicas: replicas,
            replicas_before_failback: (replicas == 0).then_some(1),
        }
    }

    #[test]
    fn after_failback_the_app_runs_on_the_primary_only() {
        let mut r = empty_report("primary");
        apply(&mut r, Ok(vec![web(0)]));
        assert_eq!(r.app_runs_on, "primary");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let dr = r.dr_workloads.as_ref().expect("listed");
        assert_eq!(dr.namespaces[0].namespace, "shop");
        assert!(!dr.namespaces[0].scaled_up);
    }

    #[test]
    fn a_restored_copy_running_while_the_primary_serves_is_a_problem() {
        let mut r = empty_report("primary");
        apply(&mut r, Ok(vec![web(1)]));
        assert_eq!(r.app_runs_on, "both");
        assert!(!r.healthy);
        assert!(r.problems[0].contains("both sites"), "{:?}", r.problems);
        assert!(r.problems[0].contains("shop"), "{:?}", r.problems);
    }

    #[test]
    fn after_failover_it_runs_on_dr_and_a_scaled_down_copy_says_how_back() {
        let mut r = empty_report("dr");
        apply(&mut r, Ok(vec![web(1)]));
        assert_eq!(r.app_runs_on, "dr");
        assert!(r.healthy);
        let mut r = empty_report("dr");
        apply(&mut r, Ok(vec![web(0)]));
        assert_eq!(r.app_runs_on, "none");
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("kubectl -n shop scale deployment/web --replicas=1")),
            "{:?}",
            r.notes
        );
        let mut r = empty_report("primary");
        apply(&mut r, Err("forbidden".into()));
        assert_eq!(r.app_runs_on, "unknown");
        assert!(r.notes.iter().any(|n| n.contains("forbidden")));
    }
}
