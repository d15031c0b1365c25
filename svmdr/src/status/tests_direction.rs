//! Unit tests of the direction decision, the no-schedule rule and the
//! Velero half (age, Schedule, BackupStorageLocation), facts in ONTAP's and
//! Velero's wire formats.

use chrono::{DateTime, TimeZone as _, Utc};
use kube::api::DynamicObject;
use serde_json::{Value, json};

use super::*;

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture parses")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0)
        .single()
        .expect("valid time")
}

fn peer(name: &str) -> Value {
    json!({"name": name, "remote": {"name": name}, "status": {"state": "available"},
        "authentication": {"state": "ok", "in_use": "ok"}, "encryption": {"state": "tls_psk"}})
}

fn rel(src: &str, src_cluster: &str, dst: &str, state: &str, schedule: Option<&str>) -> Value {
    let mut r = json!({
        "uuid": format!("{src}-{dst}"),
        "source": {"path": format!("{src}:"), "cluster": {"name": src_cluster}},
        "destination": {"path": format!("{dst}:")},
        "policy": {"name": "MirrorAllSnapshots"},
        "state": state, "healthy": true, "group_type": "svm_dr",
        "identity_preservation": "full", "lag_time": "PT10M",
        "transfer": {"state": "success", "type": "update"}
    });
    if let Some(s) = schedule {
        r["transfer_schedule"] = json!({"name": s});
    }
    r
}

/// `forward`/`reverse`: the state of each relationship (`None`: absent);
/// `svm1`/`svm1_dr`: each SVM's (state, subtype).
struct Case {
    forward: Option<&'static str>,
    reverse: Option<&'static str>,
    primary_svm: (&'static str, &'static str),
    dr_svm: (&'static str, &'static str),
    schedule: Option<&'static str>,
}

fn facts(c: &Case) -> (SiteInput, SiteInput) {
    // A policy without a schedule, as ONTAP's MirrorAllSnapshots.
    let policies = json!([{"name": "MirrorAllSnapshots", "type": "async"}]);
    let dr = SiteFacts {
        cluster: from(json!({"name": "ontap-b"})),
        svms: from(json!([{"name": "svm1_dr", "state": c.dr_svm.0, "subtype": c.dr_svm.1}])),
        cluster_peers: from(json!([peer("ontap-a")])),
        svm_peers: from(json!([{"svm": {"name": "svm1_dr"}, "name": "svm1",
            "peer": {"svm": {"name": "svm1"}, "cluster": {"name": "ontap-a"}}, "state": "peered"}])),
        relationships: from(json!(
            c.forward
                .map(|s| vec![rel("svm1", "ontap-a", "svm1_dr", s, c.schedule)])
                .unwrap_or_default()
        )),
        policies: from(policies.clone()),
    };
    let primary = SiteFacts {
        cluster: from(json!({"name": "ontap-a"})),
        svms: from(json!([{"name": "svm1", "state": c.primary_svm.0, "subtype": c.primary_svm.1}])),
        cluster_peers: from(json!([peer("ontap-b")])),
        svm_peers: from(json!([{"svm": {"name": "svm1"}, "name": "svm1_dr",
            "peer": {"svm": {"name": "svm1_dr"}, "cluster": {"name": "ontap-b"}}, "state": "peered"}])),
        relationships: from(json!(
            c.reverse
                .map(|s| vec![rel("svm1_dr", "ontap-b", "svm1", s, c.schedule)])
                .unwrap_or_default()
        )),
        policies: from(policies),
    };
    let input = |f| SiteInput {
        info: SiteInfo::default(),
        facts: Ok(f),
    };
    (input(dr), input(primary))
}

fn eval(c: &Case) -> StatusReport {
    let (dr, primary) = facts(c);
    evaluate(&dr, Some(&primary), None, now())
}

const BEFORE: Case = Case {
    forward: Some("snapmirrored"),
    reverse: None,
    primary_svm: ("running", "default"),
    dr_svm: ("stopped", "dp_destination"),
    schedule: Some("hourly"),
};

#[test]
fn forward_replication_is_primary_active_flowing_to_dr() {
    let r = eval(&BEFORE);
    assert!(r.healthy, "{:?}", r.problems);
    assert_eq!(
        (r.active_site.as_str(), r.flow.as_str()),
        ("primary", "primary → dr")
    );
    let x = &r.relationships[0];
    assert_eq!(x.direction, "forward");
    assert!(x.live && x.protected);
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["activeSite"], "primary");
    assert_eq!(v["flow"], "primary → dr");
    assert_eq!(v["relationships"][0]["heldOn"], "dr");
    assert_eq!(v["relationships"][0]["protected"], true);
}

#[test]
fn no_schedule_is_unprotected_never_healthy() {
    let r = eval(&Case {
        schedule: None,
        ..BEFORE
    });
    assert!(!r.healthy);
    let x = &r.relationships[0];
    assert!(x.live && !x.protected && !x.healthy);
    assert_eq!(x.rpo, "none (no schedule)");
    let p = r
        .problems
        .iter()
        .find(|p| p.contains("unprotected"))
        .expect("an unprotected problem");
    assert!(p.contains("no transfer schedule"), "{p}");
    assert!(p.contains("--schedule hourly"), "{p}");
}

#[test]
fn a_policy_schedule_protects() {
    let (mut dr, primary) = facts(&Case {
        schedule: None,
        ..BEFORE
    });
    if let Ok(f) = &mut dr.facts {
        f.policies = from(json!([{"name": "MirrorAllSnapshots", "type": "async",
            "transfer_schedule": {"name": "15min"}}]));
    }
    let r = evaluate(&dr, Some(&primary), None, now());
    assert!(r.healthy, "{:?}", r.problems);
    assert_eq!(r.relationships[0].schedule.as_deref(), Some("15min"));
}

#[test]
fn after_a_reverse_resync_dr_is_active_flowing_to_primary() {
    let r = eval(&Case {
        forward: Some("broken_off"),
        reverse: Some("snapmirrored"),
        primary_svm: ("stopped", "dp_destination"),
        dr_svm: ("running", "default"),
        schedule: Some("hourly"),
    });
    assert!(r.healthy, "{:?}", r.problems);
    assert_eq!(
        (r.active_site.as_str(), r.flow.as_str()),
        ("dr", "dr → primary")
    );
    let fwd = r
        .relationships
        .iter()
        .find(|x| x.direction == "forward")
        .expect("forward");
    let rev = r
        .relationships
        .iter()
        .find(|x| x.direction == "reverse")
        .expect("reverse");
    assert!(!fwd.live && fwd.problems.is_empty(), "{:?}", fwd.problems);
    assert!(rev.live && rev.protected);
    assert_eq!(rev.held_on, crate::site::SiteRole::Primary);
    assert_eq!(rev.source.svm, "svm1_dr");
    assert_eq!(rev.destination.svm, "svm1");
    assert_eq!(rev.destination.cluster.as_deref(), Some("ontap-a"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("forward relationship") && n.contains("failback")),
        "{:?}",
        r.notes
    );
    // The DR cluster's own peer only: no "no cluster peer for ontap-b".
    assert!(!r.problems.iter().any(|p| p.contains("cluster peer")));
}

#[test]
fn a_reverse_relationship_without_schedule_is_unprotected() {
    let r = eval(&Case {
        forward: Some("broken_off"),
        reverse: Some("snapmirrored"),
        primary_svm: ("stopped", "dp_destination"),
        dr_svm: ("running", "default"),
        schedule: None,
    });
    assert!(!r.healthy);
    assert_eq!(r.flow, "dr → primary");
    let p = r
        .problems
        .iter()
        .find(|p| p.contains("unprotected"))
        .expect("problem");
    assert!(p.starts_with("relationship svm1_dr → svm1:"), "{p}");
    assert!(p.contains("on the primary cluster"), "{p}");
}

#[test]
fn after_failover_nothing_flows_and_dr_is_active() {
    let r = eval(&Case {
        forward: Some("broken_off"),
        reverse: None,
        primary_svm: ("stopped", "default"),
        dr_svm: ("running", "default"),
        schedule: Some("hourly"),
    });
    assert!(!r.healthy);
    assert_eq!((r.active_site.as_str(), r.flow.as_str()), ("dr", "none"));
    assert!(r.problems.iter().any(|p| p.contains("broken off")));
}

#[test]
fn both_broken_off_is_unprotected() {
    let r = eval(&Case {
        forward: Some("broken_off"),
        reverse: Some("broken_off"),
        primary_svm: ("running", "default"),
        dr_svm: ("stopped", "default"),
        schedule: Some("hourly"),
    });
    assert!(!r.healthy);
    assert_eq!(
        (r.active_site.as_str(), r.flow.as_str()),
        ("primary", "none")
    );
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("both the forward and the reverse relationship")),
        "{:?}",
        r.problems
    );
}

#[test]
fn after_failback_forward_again_and_a_leftover_reverse_is_a_note() {
    let r = eval(&Case {
        forward: Some("snapmirrored"),
        reverse: Some("broken_off"),
        primary_svm: ("running", "default"),
        dr_svm: ("stopped", "dp_destination"),
        schedule: Some("hourly"),
    });
    assert!(r.healthy, "{:?}", r.problems);
    assert_eq!(
        (r.active_site.as_str(), r.flow.as_str()),
        ("primary", "primary → dr")
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("reverse relationship") && n.contains("left from a failback"))
    );
}

#[test]
fn both_directions_mirroring_is_a_problem() {
    let r = eval(&Case {
        forward: Some("snapmirrored"),
        reverse: Some("snapmirrored"),
        ..BEFORE
    });
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("both directions replicate")),
        "{:?}",
        r.problems
    );
}

#[test]
fn reverse_only_and_the_svm_filter() {
    let c = Case {
        forward: None,
        reverse: Some("snapmirrored"),
        primary_svm: ("stopped", "dp_destination"),
        dr_svm: ("running", "default"),
        schedule: Some("hourly"),
    };
    let r = eval(&c);
    assert!(r.healthy, "{:?}", r.problems);
    assert_eq!(r.flow, "dr → primary");
    let (dr, primary) = facts(&c);
    assert_eq!(
        evaluate(&dr, Some(&primary), Some("svm1"), now())
            .relationships
            .len(),
        1
    );
    assert!(
        evaluate(&dr, Some(&primary), Some("other"), now())
            .relationships
            .is_empty()
    );
}

mod velero_half {
    use super::*;

    fn obj(v: Value) -> DynamicObject {
        from(v)
    }

    fn backup(name: &str, completed: &str, schedule: Option<&str>) -> DynamicObject {
        let mut b = json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero"},
            "spec": {"snapshotVolumes": false, "storageLocation": "default"},
            "status": {"phase": "Completed", "completionTimestamp": completed}});
        if let Some(s) = schedule {
            b["metadata"]["labels"] = json!({ velero::SCHEDULE_LABEL: s });
        }
        obj(b)
    }

    fn bsl(name: &str, phase: &str) -> DynamicObject {
        obj(
            json!({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": name, "namespace": "velero"},
            "spec": {"default": name == "default", "provider": "aws"},
            "status": {"phase": phase}}),
        )
    }

    fn schedule(name: &str, paused: bool) -> DynamicObject {
        obj(json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": {"name": name, "namespace": "velero"},
            "spec": {"schedule": "@every 1h", "paused": paused},
            "status": {"phase": "Enabled"}}))
    }

    fn facts(
        backups: Vec<DynamicObject>,
        schedules: Vec<DynamicObject>,
        locations: Vec<DynamicObject>,
    ) -> velero::VeleroFacts {
        velero::VeleroFacts {
            backups,
            schedules: Ok(schedules),
            locations: Ok(locations),
        }
    }

    fn report() -> StatusReport {
        eval(&BEFORE)
    }

    #[test]
    fn a_fresh_scheduled_backup_in_an_available_location_is_healthy() {
        let f = facts(
            vec![
                backup("hourly-1", "2026-11-28T03:00:00Z", Some("hourly")),
                backup("hourly-2", "2026-11-28T04:30:00Z", Some("hourly")),
            ],
            vec![schedule("hourly", false)],
            vec![bsl("default", "Available")],
        );
        let v = velero::from_facts("velero", &f, now());
        assert_eq!(v.latest_backup.as_deref(), Some("hourly-2"));
        assert_eq!(v.latest_backup_age_seconds, Some(1800));
        let mut r = report();
        velero::apply(&mut r, v);
        assert!(r.healthy, "{:?}", r.problems);
        let j = serde_json::to_value(&r).expect("json");
        assert_eq!(j["velero"]["stale"], false);
        assert_eq!(
            j["velero"]["maxAgeSeconds"], 3600,
            "the RPO of the live relationship"
        );
        assert_eq!(j["velero"]["latestBackupAge"], "30m");
        assert_eq!(j["velero"]["schedule"]["name"], "hourly");
        assert_eq!(j["velero"]["schedule"]["cron"], "@every 1h");
        assert_eq!(j["velero"]["storageLocations"][0]["phase"], "Available");
        assert_eq!(j["velero"]["storageLocations"][0]["usedByBackup"], true);
    }

    #[test]
    fn a_backup_older_than_the_rpo_is_stale() {
        let f = facts(
            vec![backup("nightly-1", "2026-11-27T01:00:00Z", Some("nightly"))],
            vec![schedule("nightly", false)],
            vec![bsl("default", "Available")],
        );
        let mut r = report();
        velero::apply(&mut r, velero::from_facts("velero", &f, now()));
        assert!(!r.healthy);
        let p = r
            .problems
            .iter()
            .find(|p| p.contains("nightly-1"))
            .expect("stale problem");
        assert!(p.contains("is 1d 4h old, older than 1h"), "{p}");
        assert!(p.contains("velero schedule describe nightly"), "{p}");
        assert_eq!(r.velero.as_ref().and_then(|v| v.stale), Some(true));

        // --backup-max-age 2d accepts it.
        let mut r = report();
        let mut v = velero::from_facts("velero", &f, now());
        v.max_age_override = Some(std::time::Duration::from_secs(2 * 86_400));
        velero::apply(&mut r, v);
        assert!(r.healthy, "{:?}", r.problems);
    }

    #[test]
    fn an_unavailable_location_of_the_backup_is_a_problem() {
        let f = facts(
            vec![backup("hourly-2", "2026-11-28T04:30:00Z", Some("hourly"))],
            vec![schedule("hourly", false)],
            vec![bsl("default", "Unavailable"), bsl("other", "Unavailable")],
        );
        let mut r = report();
        velero::apply(&mut r, velero::from_facts("velero", &f, now()));
        let p: Vec<&String> = r
            .problems
            .iter()
            .filter(|p| p.contains("Unavailable"))
            .collect();
        assert_eq!(p.len(), 1, "{:?}", r.problems);
        assert!(
            p[0].contains("velero/default") && p[0].contains("a restore would fail"),
            "{}",
            p[0]
        );
        assert!(r.notes.iter().any(|n| n.contains("velero/other")));
    }

    #[test]
    fn a_paused_schedule_is_a_problem_and_a_hand_made_backup_a_note() {
        let f = facts(
            vec![backup("hourly-2", "2026-11-28T04:30:00Z", Some("hourly"))],
            vec![schedule("hourly", true)],
            vec![bsl("default", "Available")],
        );
        let mut r = report();
        velero::apply(&mut r, velero::from_facts("velero", &f, now()));
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("velero/hourly is paused"))
        );

        let f = facts(
            vec![backup("by-hand", "2026-11-28T04:30:00Z", None)],
            vec![],
            vec![bsl("default", "Available")],
        );
        let mut r = report();
        velero::apply(&mut r, velero::from_facts("velero", &f, now()));
        assert!(r.healthy, "{:?}", r.problems);
        assert!(r.notes.iter().any(|n| n.contains("not made by a Schedule")));
    }

    #[test]
    fn no_backup_is_a_note_with_the_command_to_make_them() {
        let mut r = report();
        velero::apply(
            &mut r,
            velero::from_facts("velero", &facts(vec![], vec![], vec![]), now()),
        );
        assert!(r.healthy, "{:?}", r.problems);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("no Completed Velero backup")
                    && n.contains("velero schedule create"))
        );
    }

    #[test]
    fn namespaces_with_protected_data_left_out_of_the_backup_are_a_problem() {
        let mut b = backup("hourly-2", "2026-11-28T04:30:00Z", Some("hourly"));
        b.data["spec"]["includedNamespaces"] = json!(["shop"]);
        let f = facts(
            vec![b],
            vec![schedule("hourly", false)],
            vec![bsl("default", "Available")],
        );
        let mut r = report();
        r.protected_namespaces = Some(vec!["billing".into(), "shop".into()]);
        velero::apply(&mut r, velero::from_facts("velero", &f, now()));
        let p = r
            .problems
            .iter()
            .find(|p| p.contains("leaves out namespaces billing"))
            .unwrap_or_else(|| panic!("{:?}", r.problems));
        assert!(p.contains("--include-namespaces"), "{p}");
        let j = serde_json::to_value(&r).expect("json");
        assert_eq!(j["velero"]["uncoveredNamespaces"], json!(["billing"]));
        assert_eq!(j["velero"]["backupIncludedNamespaces"], json!(["shop"]));
        assert_eq!(j["protectedNamespaces"], json!(["billing", "shop"]));
    }
}
