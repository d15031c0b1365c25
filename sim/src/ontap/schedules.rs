//! `/api/cluster/schedules` (GET): the job schedules every ONTAP cluster
//! has from the start, and the one rule SnapMirror applies to them.
//!
//! The record shape (`uuid`, `name`, `type` `cron`|`interval`, `cron`
//! `{minutes, hours, days, weekdays, months}`, `interval` as ISO-8601,
//! `cluster`, `scope`) follows ONTAP's REST reference, *Retrieve schedules*
//! (`GET /cluster/schedules`, 9.6+; `scope` and `svm` 9.10+). The built-in
//! cron schedules are those `job schedule cron show` lists on a new cluster
//! (`5min`, `8hour`, `daily`, `hourly`, `monthly`, `weekly`); the interval
//! ones are the system schedules of the reference's own example. Creating
//! or changing schedules is not modelled.

use axum::http::Method;
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::world::World;

const SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::SCHEDULES,
};

/// A built-in cron schedule: name, minutes, hours, days of month, weekdays
/// (0 = Sunday). Empty lists mean "every".
struct Cron {
    name: &'static str,
    minutes: &'static [u8],
    hours: &'static [u8],
    days: &'static [u8],
    weekdays: &'static [u8],
}

const CRON: &[Cron] = &[
    Cron {
        name: "5min",
        minutes: &[0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55],
        hours: &[],
        days: &[],
        weekdays: &[],
    },
    Cron {
        name: "8hour",
        minutes: &[15],
        hours: &[2, 10, 18],
        days: &[],
        weekdays: &[],
    },
    Cron {
        name: "daily",
        minutes: &[10],
        hours: &[0],
        days: &[],
        weekdays: &[],
    },
    Cron {
        name: "hourly",
        minutes: &[5],
        hours: &[],
        days: &[],
        weekdays: &[],
    },
    Cron {
        name: "monthly",
        minutes: &[20],
        hours: &[0],
        days: &[1],
        weekdays: &[],
    },
    Cron {
        name: "weekly",
        minutes: &[15],
        hours: &[0],
        days: &[],
        weekdays: &[0],
    },
];

/// System interval schedules (name, ISO-8601 interval).
const INTERVAL: &[(&str, &str)] = &[
    ("Auto Balance Aggregate Scheduler", "PT1H"),
    ("Balanced Placement Model Cache Update", "PT7M30S"),
    ("RepositoryBalanceMonitorJobSchedule", "PT10M"),
];

/// A stable UUID per cluster and schedule: the cluster UUID with its last
/// group replaced by the schedule's index.
fn schedule_uuid(cluster_uuid: &str, index: usize) -> String {
    let head: String = cluster_uuid.chars().take(24).collect();
    format!("{head}{:012x}", index + 1)
}

fn records(w: &World, cluster: &str) -> Vec<Value> {
    let c_uuid = w.cluster_uuid(cluster);
    let c_ref = json!({"name": w.cluster_name(cluster), "uuid": c_uuid});
    let link = |uuid: &str| json!({"self": {"href": format!("/api/cluster/schedules/{uuid}")}});
    let mut out: Vec<Value> = CRON
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let uuid = schedule_uuid(&c_uuid, i);
            let mut cron = json!({"minutes": c.minutes});
            if !c.hours.is_empty() {
                cron["hours"] = json!(c.hours);
            }
            if !c.days.is_empty() {
                cron["days"] = json!(c.days);
            }
            if !c.weekdays.is_empty() {
                cron["weekdays"] = json!(c.weekdays);
            }
            json!({"uuid": uuid, "name": c.name, "type": "cron", "cron": cron,
                   "cluster": c_ref, "scope": "cluster", "_links": link(&uuid)})
        })
        .collect();
    out.extend(INTERVAL.iter().enumerate().map(|(i, (name, iv))| {
        let uuid = schedule_uuid(&c_uuid, CRON.len() + i);
        json!({"uuid": uuid, "name": name, "type": "interval", "interval": iv,
               "cluster": c_ref, "scope": "cluster", "_links": link(&uuid)})
    }));
    out
}

/// Routes `/api/cluster/schedules`.
pub fn handle(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    if ctx.method != Method::GET {
        return Err(not_allowed(ctx));
    }
    let recs = records(w, &ctx.cluster);
    match rest {
        [] => Ok(Reply::ok(collection(
            "/api/cluster/schedules",
            &ctx.query,
            recs,
            &SHAPE,
        )?)),
        [id] => {
            check_uuid(id)?;
            let r = recs
                .iter()
                .find(|r| r["uuid"] == *id)
                .ok_or_else(|| ApiError::not_found("entry doesn't exist").target("uuid"))?;
            Ok(Reply::ok(instance(r, &ctx.query, &SHAPE)?))
        }
        _ => Err(not_allowed(ctx)),
    }
}

/// Checks a relationship's `transfer_schedule.name`: it must name a cron
/// schedule of the cluster (ONTAP: "only cron schedules" for SnapMirror
/// transfers; REST reference, `snapmirror_relationship` `transfer_schedule`).
/// The ONTAP error code for this refusal is not in the sources read, so the
/// generic invalid-field code 2 is used.
///
/// # Errors
/// 400 naming the schedule.
pub fn check_transfer_schedule(name: &str) -> Result<(), ApiError> {
    if CRON.iter().any(|c| c.name == name) {
        return Ok(());
    }
    let what = if INTERVAL.iter().any(|(n, _)| *n == name) {
        format!(
            "Schedule \"{name}\" is an interval schedule; SnapMirror transfers use cron schedules."
        )
    } else {
        format!("Schedule \"{name}\" does not exist.")
    };
    Err(ApiError::invalid(what).target("transfer_schedule.name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_cron_schedules_are_accepted_others_are_not() {
        for ok in ["5min", "hourly", "8hour", "daily", "weekly", "monthly"] {
            assert!(check_transfer_schedule(ok).is_ok(), "{ok}");
        }
        let e = check_transfer_schedule("bogus").unwrap_err();
        assert!(e.message.contains("does not exist"), "{}", e.message);
        let e = check_transfer_schedule("RepositoryBalanceMonitorJobSchedule").unwrap_err();
        assert!(e.message.contains("interval"), "{}", e.message);
    }

    #[test]
    fn uuids_are_stable_and_distinct() {
        let c = "1cd8a442-86d1-11e0-ae1c-123478563412";
        assert_eq!(schedule_uuid(c, 0), "1cd8a442-86d1-11e0-ae1c-000000000001");
        assert_ne!(schedule_uuid(c, 0), schedule_uuid(c, 1));
        assert!(uuid::Uuid::parse_str(&schedule_uuid(c, 7)).is_ok());
    }
}
