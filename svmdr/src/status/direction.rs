//! Which relationship protects an SVM pair now, which site is active and
//! which way data flows.
//!
//! ONTAP lists a relationship on its destination cluster. The forward one
//! (primary → DR) is on the DR cluster; after `resync --direction reverse`
//! (and during `failback`) a reverse one (DR → primary) is on the primary
//! cluster, while the forward one stays there broken off. Both clusters'
//! relationships are read; those of one SVM pair (primary SVM, DR SVM) are
//! decided together:
//!
//! | forward (on DR)        | reverse (on primary)   | live    | active | flow           |
//! |------------------------|------------------------|---------|--------|----------------|
//! | not broken off         | absent or broken off   | forward | primary| primary → dr   |
//! | broken off or absent   | not broken off         | reverse | dr     | dr → primary   |
//! | broken off             | broken off or absent   | none    | (SVMs) | none: problem  |
//! | absent                 | broken off             | none    | (SVMs) | none: problem  |
//! | not broken off         | not broken off         | forward | primary| primary → dr, and a problem (both directions) |
//!
//! "Not broken off" is snapmirrored, paused, uninitialized or anything else
//! ONTAP reports; its own problems (paused, no schedule, lag over the RPO)
//! are reported on it. The other relationship of the pair is shown with
//! `live: false`, and its expected state (a broken-off forward relationship
//! while the reverse one replicates) is a note, not a problem. With no live
//! relationship, the active site is the one whose SVM runs (`both` when both
//! do, `unknown` when neither site says).

use super::relationship::is_svm_dr;
use super::relationship::{self, names};
use super::report::{RelationshipStatus, SiteFacts};
use crate::ontap::models::{Relationship, RelationshipState};
use crate::site::SiteRole;

struct Candidate<'a> {
    rel: &'a Relationship,
    holder: SiteRole,
    /// (primary SVM, DR SVM).
    key: (String, String),
}

fn broken(r: &Relationship) -> bool {
    r.state == Some(RelationshipState::BrokenOff)
}

/// Every SVM-DR relationship on both clusters (forward first), evaluated and
/// decided per SVM pair; plus the report's active site and flow. `svm`
/// keeps only pairs with an SVM of that name.
pub(super) fn relationships(
    dr: &SiteFacts,
    primary: Option<&SiteFacts>,
    svm: Option<&str>,
    notes: &mut Vec<String>,
) -> (Vec<RelationshipStatus>, String, String) {
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    for (holder, facts) in [(SiteRole::Dr, Some(dr)), (SiteRole::Primary, primary)] {
        let Some(facts) = facts else { continue };
        for r in facts.relationships.iter().filter(|r| is_svm_dr(r)) {
            let n = names(r, facts);
            let key = match holder {
                SiteRole::Dr => (n.src_svm, n.dst_svm),
                SiteRole::Primary => (n.dst_svm, n.src_svm),
            };
            if svm.is_some_and(|s| key.0 != s && key.1 != s) {
                continue;
            }
            candidates.push(Candidate {
                rel: r,
                holder,
                key,
            });
        }
    }
    let mut keys: Vec<(String, String)> = Vec::new();
    for c in &candidates {
        if !keys.contains(&c.key) {
            keys.push(c.key.clone());
        }
    }
    let mut out = Vec::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for key in &keys {
        let group: Vec<&Candidate<'_>> = candidates.iter().filter(|c| &c.key == key).collect();
        let forward = group.iter().find(|c| c.holder == SiteRole::Dr);
        let reverse = group.iter().find(|c| c.holder == SiteRole::Primary);
        let selected = match (forward, reverse) {
            (Some(f), _) if !broken(f.rel) => SiteRole::Dr,
            (_, Some(r)) if !broken(r.rel) => SiteRole::Primary,
            (Some(_), _) => SiteRole::Dr,
            (None, _) => SiteRole::Primary,
        };
        let mut statuses: Vec<RelationshipStatus> = group
            .iter()
            .map(|c| {
                let (facts, other) = match c.holder {
                    SiteRole::Dr => (dr, primary),
                    SiteRole::Primary => (primary.unwrap_or(dr), Some(dr)),
                };
                relationship::relationship_status(
                    c.rel,
                    c.holder,
                    facts,
                    other,
                    c.holder == selected,
                )
            })
            .collect();
        let both_mirror = forward
            .zip(reverse)
            .is_some_and(|(f, r)| !broken(f.rel) && !broken(r.rel));
        let live = statuses.iter().find(|s| s.live).map(|s| s.held_on);
        let (active, flow) = match live {
            Some(holder) => {
                let from = match holder {
                    SiteRole::Dr => SiteRole::Primary,
                    SiteRole::Primary => SiteRole::Dr,
                };
                (from.to_string(), relationship::flow_text(Some(from)))
            }
            None => (active_by_svms(&statuses), relationship::flow_text(None)),
        };
        for s in &mut statuses {
            s.active_site.clone_from(&active);
            s.flow.clone_from(&flow);
            let expected = s.held_on != selected;
            if expected {
                notes.push(format!(
                    "{} relationship {} -> {} ({}) is not in use: {}",
                    s.direction,
                    s.source.path,
                    s.destination.path,
                    s.state,
                    match (s.direction.as_str(), live) {
                        ("forward", Some(SiteRole::Primary)) => {
                            "the DR site is the source now; `kubectl svmdr failback` restores it"
                        }
                        ("reverse", Some(SiteRole::Dr)) => {
                            "left from a failback; re-run `kubectl svmdr failback` to delete it"
                        }
                        _ => "its SVM pair has another relationship",
                    }
                ));
            }
            if s.live && both_mirror && s.held_on == selected {
                s.problems.push(format!(
                    "both directions replicate between {} and {} (the reverse relationship on the \
                     primary cluster is not broken off either): one SVM cannot be source and \
                     destination; delete the one that should not exist",
                    key.0, key.1
                ));
            }
            if !s.live
                && s.held_on == selected
                && live.is_none()
                && forward.is_some()
                && reverse.is_some()
            {
                s.problems.push(format!(
                    "unprotected: both the forward and the reverse relationship of {} / {} are \
                     broken off, so nothing replicates (active site: {active}); finish with \
                     `kubectl svmdr failback`, or resync",
                    key.0, key.1
                ));
            }
            s.healthy = s.problems.is_empty();
        }
        pairs.push((active, flow));
        out.extend(statuses);
    }
    let summary = |pick: fn(&(String, String)) -> &String, empty: &str| -> String {
        let mut vals: Vec<&String> = pairs.iter().map(pick).collect();
        vals.sort();
        vals.dedup();
        match vals.as_slice() {
            [] => empty.to_string(),
            [one] => (*one).clone(),
            _ => "mixed".to_string(),
        }
    };
    let active = summary(|p| &p.0, "unknown");
    let flow = summary(|p| &p.1, "none");
    (out, active, flow)
}

/// The active site of a pair without a live relationship: where its SVM
/// runs.
fn active_by_svms(statuses: &[RelationshipStatus]) -> String {
    let running = |site: SiteRole| {
        statuses
            .iter()
            .any(|s| s.end_on(site).svm_state.as_deref() == Some("running"))
    };
    match (running(SiteRole::Primary), running(SiteRole::Dr)) {
        (true, true) => "both".into(),
        (true, false) => "primary".into(),
        (false, true) => "dr".into(),
        (false, false) => "unknown".into(),
    }
}
