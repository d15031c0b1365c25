//! Trident backends in `status`: each backend's state on both sites, and
//! whether an offline one is a problem.
//!
//! Trident keeps an ONTAP backend offline while its SVM is stopped or has
//! no data LIF up (Trident: `storage_drivers/ontap/ontap_common.go`). Before
//! a failover the DR SVM is a stopped `dp_destination`, so its backend is
//! offline by design: a note, not a problem. Once the DR SVM serves (the
//! relationship is broken off, the SVM `default` and running), an offline DR
//! backend is a problem: Trident cannot attach or import anything on it. The
//! same holds the other way round for the primary's backends.

pub use super::report::TridentBackendStatus;
use super::report::{RelationshipStatus, StatusReport};
use crate::site::SiteRole;
use crate::trident::backend::Backend;

/// Whether `svm` is the destination of a relationship that still
/// replicates into it (a stopped `dp_destination`), i.e. not failed over.
fn is_waiting_destination(rels: &[RelationshipStatus], svm: &str, site: SiteRole) -> bool {
    rels.iter().any(|r| {
        let end = r.end_on(site);
        if end.svm != svm {
            return false;
        }
        let stopped = end.svm_state.as_deref() == Some("stopped");
        match site {
            // The DR SVM before a failover (or made the destination of a
            // reverse relationship again).
            SiteRole::Dr => {
                end.svm_subtype.as_deref() == Some("dp_destination")
                    || (stopped && r.state != "broken_off")
            }
            // The primary SVM after a failover: stopped (or made a
            // destination by a reverse resync).
            SiteRole::Primary => stopped || end.svm_subtype.as_deref() == Some("dp_destination"),
        }
    })
}

/// Adds `site`'s backends to the report (pure): each one in
/// `tridentBackends`, an offline one as a problem unless its SVM is a
/// waiting SVM-DR destination (then a note), a suspended one as a note.
/// `Err` is a listing that failed (a note).
pub fn apply(report: &mut StatusReport, site: SiteRole, backends: Result<&[Backend], &str>) {
    let where_ = match site {
        SiteRole::Dr => "DR",
        SiteRole::Primary => "primary",
    };
    let backends = match backends {
        Ok(b) => b,
        Err(e) => {
            report.notes.push(format!(
                "could not list the Trident backends on the {where_} cluster: {e}"
            ));
            return;
        }
    };
    for b in backends {
        let expected = !b.is_online()
            && b.svm
                .as_deref()
                .is_some_and(|s| is_waiting_destination(&report.relationships, s, site));
        let svm = b.svm.as_deref().unwrap_or("?");
        let reason = if b.state_reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", b.state_reason)
        };
        if b.is_suspended() {
            report.notes.push(format!(
                "Trident backend {} on the {where_} cluster (SVM {svm}) is suspended: Trident creates and imports nothing on it; resume it with `tridentctl update backend state {} --user-state normal`",
                b.name, b.name
            ));
        } else if expected {
            report.notes.push(format!(
                "Trident backend {} on the {where_} cluster is {}{reason}, as expected: SVM {svm} is a stopped SVM-DR destination; a failover brings it online (step backends-online)",
                b.name, b.state
            ));
        } else if !b.is_online() {
            report.problems.push(format!(
                "Trident backend {} on the {where_} cluster (SVM {svm}) is {}{reason}: Trident cannot attach, provision or import volumes on it; make sure SVM {svm} runs with a data LIF up and aggregates assigned, then prompt Trident (`kubectl -n <trident namespace> annotate secret <its credentials Secret> svmdr.netapp.io/backend-reconcile-requested-at=now --overwrite`, or re-run `kubectl svmdr failover`)",
                b.name, b.state
            ));
        }
        report.trident_backends.push(TridentBackendStatus {
            site,
            name: b.name.clone(),
            svm: b.svm.clone(),
            state: b.state.clone(),
            user_state: b.user_state.clone(),
            state_reason: (!b.state_reason.is_empty()).then(|| b.state_reason.clone()),
            expected_offline: expected,
        });
    }
    report.healthy = report.problems.is_empty();
}
