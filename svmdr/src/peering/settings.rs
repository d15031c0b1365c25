//! The relationship's settings: the default schedule, `--rpo`, the check
//! of schedule and policy names against the DR cluster, and the PATCH that
//! makes an existing relationship match the request.
//!
//! # The default schedule
//! ONTAP's built-in policies (`MirrorAllSnapshots` included) carry no
//! transfer schedule, and a relationship created without one is updated
//! only on demand ("If you do not assign a job schedule, you must update the
//! relationship manually", ONTAP docs, *Create a replication job
//! schedule*). A DR set-up without a schedule protects nothing after the
//! baseline, so `peer` sets ONTAP's built-in cron schedule `hourly` unless
//! told otherwise: an RPO of one hour, on a schedule every cluster has,
//! and not so frequent that transfers of a busy SVM overlap.
//!
//! # What ONTAP lets a PATCH change
//! `PATCH /api/snapmirror/relationships/{uuid}` takes `policy`,
//! `transfer_schedule` (a cron schedule; `null` removes it), `throttle`
//! (KB/s, `0` unlimited) and `identity_preservation`, which may only be
//! lowered (`full` → `exclude_network_config` →
//! `exclude_network_and_protocol_config`), never raised (ONTAP REST docs,
//! *Update a SnapMirror relationship* and *Update the SnapMirror policy*;
//! Ansible `plugins/modules/na_ontap_snapmirror.py`,
//! `snapmirror_mod_init_resync_break_quiesce_resume_rest`, PATCHes `policy`
//! and `transfer_schedule` the same way).

use std::time::Duration;

use super::observe::Observed;
pub use super::request::DEFAULT_SCHEDULE;
use super::request::PeerRequest;
use crate::ontap::models::{
    IdentityPreservation, PolicyType, Relationship, RelationshipChange, ScheduleType,
};
use crate::status::rpo::{human, schedule_interval};

/// ONTAP's built-in cron schedules that name an interval, most frequent
/// first (`job schedule cron show` on a new cluster).
pub const BUILTIN_SCHEDULES: [&str; 5] = ["5min", "hourly", "8hour", "daily", "weekly"];

/// The least frequent built-in schedule whose interval does not exceed
/// `rpo` (so transfers run at least once per RPO).
///
/// # Errors
/// When `rpo` is shorter than the most frequent built-in schedule.
pub fn schedule_for_rpo(rpo: Duration) -> Result<&'static str, String> {
    BUILTIN_SCHEDULES
        .iter()
        .rev()
        .find(|s| schedule_interval(s).is_some_and(|i| i <= rpo))
        .copied()
        .ok_or_else(|| {
            format!(
                "--rpo {} is shorter than ONTAP's most frequent built-in schedule (5min); \
                 pass --rpo 5m or more, or name a cron schedule of the DR cluster with --schedule",
                human(rpo)
            )
        })
}

fn rank(i: IdentityPreservation) -> u8 {
    match i {
        IdentityPreservation::Full => 3,
        IdentityPreservation::ExcludeNetworkConfig => 2,
        IdentityPreservation::ExcludeNetworkAndProtocolConfig => 1,
        IdentityPreservation::Unknown => 0,
    }
}

/// Checks `--schedule` and `--policy` against what the DR cluster has.
/// Pure; `Err` names the cluster, what exists and the fix.
///
/// # Errors
/// An unknown or unusable schedule or policy.
pub fn validate_names(req: &PeerRequest, obs: &Observed) -> Result<(), String> {
    let dr = obs.dr.name();
    if let Some(name) = &req.schedule {
        let cron = obs
            .schedule
            .as_ref()
            .is_some_and(|s| s.kind != Some(ScheduleType::Interval));
        if !cron {
            let what = if obs.schedule.is_some() {
                format!(
                    "schedule {name} on the DR cluster {dr} is an interval schedule; SnapMirror transfers need a cron schedule"
                )
            } else {
                format!("schedule {name} does not exist on the DR cluster {dr}")
            };
            return Err(format!(
                "{what} (cron schedules there: {}): pass one of them with --schedule (or --rpo), \
                 or create it on {dr} (`job schedule cron create -name {name} ...`), and re-run",
                list(&obs.schedule_names)
            ));
        }
    }
    match &obs.policy {
        None => Err(format!(
            "SnapMirror policy {} does not exist on the DR cluster {dr} (async policies there: {}): \
             pass one of them with --policy (e.g. MirrorAllSnapshots) and re-run",
            req.policy,
            list(&obs.policy_names)
        )),
        Some(p) if p.kind.is_some_and(|k| k != PolicyType::Async) => Err(format!(
            "SnapMirror policy {} on the DR cluster {dr} is type {}; SVM-DR needs an async policy \
             (async policies there: {}): pass one with --policy and re-run",
            req.policy,
            p.kind.map_or("?", |k| k.as_str()),
            list(&obs.policy_names)
        )),
        Some(_) => Ok(()),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The relationship's own schedule, else its policy's.
pub fn effective_schedule(rel: &Relationship, obs: &Observed) -> Option<String> {
    rel.transfer_schedule
        .as_ref()
        .and_then(|s| s.name.clone())
        .or_else(|| {
            obs.relationship_policy
                .as_ref()
                .and_then(|p| p.transfer_schedule.as_ref())
                .and_then(|s| s.name.clone())
        })
}

/// One attribute a PATCH changes: `name: old → new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    /// ONTAP field.
    pub field: &'static str,
    /// Current value (`none` when unset).
    pub old: String,
    /// Requested value.
    pub new: String,
}

impl std::fmt::Display for Delta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} → {}", self.field, self.old, self.new)
    }
}

/// What a PATCH must change so the existing relationship matches the
/// request, with each change as old → new. Pure.
///
/// # Errors
/// A change ONTAP does not allow (raising identity preservation), with
/// what to do instead.
pub fn relationship_change(
    req: &PeerRequest,
    obs: &Observed,
    rel: &Relationship,
) -> Result<(RelationshipChange, Vec<Delta>), String> {
    let mut change = RelationshipChange::default();
    let mut deltas = Vec::new();
    let none = || "none".to_string();
    let cur_policy = rel.policy.as_ref().and_then(|p| p.name.clone());
    if req.explicit.policy && cur_policy.as_deref() != Some(req.policy.as_str()) {
        change.policy = Some(req.policy.clone());
        deltas.push(Delta {
            field: "policy",
            old: cur_policy.unwrap_or_else(none),
            new: req.policy.clone(),
        });
    }
    let own = rel.transfer_schedule.as_ref().and_then(|s| s.name.clone());
    let wanted = req.schedule.clone();
    let schedule_differs = own != wanted && wanted.is_some();
    // Without --schedule, only a relationship that has no effective
    // schedule at all (neither its own nor its policy's) gets one.
    let unprotected = effective_schedule(rel, obs).is_none();
    if schedule_differs && (req.explicit.schedule || unprotected) {
        change.transfer_schedule = Some(wanted.clone());
        deltas.push(Delta {
            field: "transfer_schedule",
            old: own.unwrap_or_else(none),
            new: wanted.unwrap_or_else(none),
        });
    }
    if let Some(t) = req.throttle.filter(|_| req.explicit.throttle)
        && rel.throttle.unwrap_or(0) != t
    {
        change.throttle = Some(t);
        deltas.push(Delta {
            field: "throttle",
            old: throttle_text(rel.throttle.unwrap_or(0)),
            new: throttle_text(t),
        });
    }
    if let Some(cur) = rel.identity_preservation.filter(|_| req.explicit.identity)
        && cur != req.identity_preservation
    {
        if rank(req.identity_preservation) > rank(cur) {
            return Err(format!(
                "identity preservation of the relationship {} -> {}: is {cur}; ONTAP can only \
                 lower it, not raise it to {}: keep --identity-preservation {} (or lower), or \
                 delete the relationship and run peer again (a new baseline transfer)",
                rel.source_path(),
                req.dr_svm,
                req.identity_preservation,
                cur.as_str().replace('_', "-"),
            ));
        }
        change.identity_preservation = Some(req.identity_preservation);
        deltas.push(Delta {
            field: "identity_preservation",
            old: cur.to_string(),
            new: req.identity_preservation.to_string(),
        });
    }
    Ok((change, deltas))
}

fn throttle_text(kbps: u64) -> String {
    if kbps == 0 {
        "unlimited".into()
    } else {
        format!("{kbps} KB/s")
    }
}

/// `schedule hourly, policy MirrorAllSnapshots, throttle unlimited` for an
/// existing relationship.
pub fn describe(rel: &Relationship, obs: &Observed) -> String {
    let policy = rel
        .policy
        .as_ref()
        .and_then(|p| p.name.as_deref())
        .unwrap_or("?");
    let schedule = match (
        rel.transfer_schedule.as_ref().and_then(|s| s.name.clone()),
        effective_schedule(rel, obs),
    ) {
        (Some(s), _) => s,
        (None, Some(p)) => format!("{p} (the policy's)"),
        (None, None) => "none".into(),
    };
    format!(
        "schedule {schedule}, policy {policy}, throttle {}",
        throttle_text(rel.throttle.unwrap_or(0))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpo_picks_the_least_frequent_schedule_that_meets_it() {
        let m = |s: u64| Duration::from_secs(s * 60);
        assert_eq!(schedule_for_rpo(m(5)), Ok("5min"));
        assert_eq!(schedule_for_rpo(m(30)), Ok("5min"));
        assert_eq!(schedule_for_rpo(m(60)), Ok("hourly"));
        assert_eq!(schedule_for_rpo(m(4 * 60)), Ok("hourly"));
        assert_eq!(schedule_for_rpo(m(8 * 60)), Ok("8hour"));
        assert_eq!(schedule_for_rpo(m(24 * 60)), Ok("daily"));
        assert_eq!(schedule_for_rpo(m(30 * 24 * 60)), Ok("weekly"));
        let err = schedule_for_rpo(m(1)).unwrap_err();
        assert!(err.contains("5min"), "{err}");
    }

    #[test]
    fn identity_ranks_follow_ontap() {
        assert!(
            rank(IdentityPreservation::Full) > rank(IdentityPreservation::ExcludeNetworkConfig)
        );
        assert!(
            rank(IdentityPreservation::ExcludeNetworkConfig)
                > rank(IdentityPreservation::ExcludeNetworkAndProtocolConfig)
        );
    }
}
