//! Unit tests of the pure evaluation, with facts in ONTAP's wire format.

use chrono::{TimeZone as _, Utc};
use serde_json::{Value, json};

use super::*;
use crate::ontap::Failure;

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture parses")
}

fn healthy_peer(name: &str) -> Value {
    json!({"uuid": "p1", "name": name, "remote": {"name": name},
        "status": {"state": "available"},
        "authentication": {"state": "ok", "in_use": "ok"},
        "encryption": {"state": "tls_psk"}})
}

fn relationship(state: &str, lag: Option<&str>, schedule: Option<&str>) -> Value {
    let mut r = json!({
        "uuid": "r1",
        "source": {"path": "svm1:", "cluster": {"name": "ontap-a"}},
        "destination": {"path": "svm1_dr:"},
        "policy": {"name": "MirrorAllSnapshots", "type": "async"},
        "state": state, "healthy": true, "group_type": "svm_dr",
        "identity_preservation": "full",
        "transfer": {"state": "success", "type": "update", "bytes_transferred": 1024,
                     "end_time": "2026-11-28T04:00:00+00:00"}
    });
    if let Some(l) = lag {
        r["lag_time"] = json!(l);
    }
    if let Some(s) = schedule {
        r["transfer_schedule"] = json!({"name": s});
    }
    r
}

fn dr_facts(rel: Value) -> SiteFacts {
    SiteFacts {
        cluster: from(
            json!({"name": "ontap-b", "version": {"generation": 9, "major": 14, "minor": 1}}),
        ),
        svms: from(json!([{"name": "svm1_dr", "state": "stopped", "subtype": "dp_destination"}])),
        cluster_peers: from(json!([healthy_peer("ontap-a")])),
        svm_peers: from(
            json!([{"uuid": "sp", "svm": {"name": "svm1_dr"}, "name": "svm1",
            "peer": {"svm": {"name": "svm1"}, "cluster": {"name": "ontap-a"}}, "state": "peered"}]),
        ),
        relationships: from(json!([rel])),
        policies: from(json!([{"name": "MirrorAllSnapshots", "type": "async",
            "identity_preservation": "full", "transfer_schedule": {"name": "hourly"}}])),
    }
}

fn primary_facts(svm_state: &str) -> SiteFacts {
    SiteFacts {
        cluster: from(json!({"name": "ontap-a"})),
        svms: from(json!([{"name": "svm1", "state": svm_state, "subtype": "default"}])),
        cluster_peers: from(json!([healthy_peer("ontap-b")])),
        svm_peers: vec![],
        ..SiteFacts::default()
    }
}

fn input(facts: Result<SiteFacts, String>) -> SiteInput {
    SiteInput {
        info: SiteInfo::default(),
        facts: facts.map_err(|m| SiteFailure::new(Failure::Unreachable, m)),
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 5, 0, 0)
        .single()
        .expect("valid time")
}

#[test]
fn healthy_pair() {
    let dr = input(Ok(dr_facts(relationship(
        "snapmirrored",
        Some("PT20M"),
        None,
    ))));
    let primary = input(Ok(primary_facts("running")));
    let r = evaluate(&dr, Some(&primary), None, now());
    assert!(r.healthy, "{:?}", r.problems);
    assert_eq!(r.api_version, "svmdr.netapp.io/v1");
    assert_eq!(r.kind, "Status");
    assert_eq!(r.cluster_peers.len(), 2);
    let rel = &r.relationships[0];
    assert_eq!(rel.source.svm, "svm1");
    assert_eq!(rel.source.svm_state.as_deref(), Some("running"));
    assert_eq!(rel.destination.cluster.as_deref(), Some("ontap-b"));
    assert_eq!(rel.schedule.as_deref(), Some("hourly"), "from the policy");
    assert_eq!(rel.rpo_seconds, Some(3600));
    assert_eq!(rel.rpo_exceeded, Some(false));
    assert_eq!(rel.lag.as_deref(), Some("20m"));
    assert_eq!(rel.identity_preservation.as_deref(), Some("full"));
    assert_eq!(rel.last_transfer.as_ref().and_then(|t| t.bytes), Some(1024));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["relationships"][0]["rpoExceeded"], json!(false));
    assert_eq!(json["sites"]["dr"]["cluster"], json!("ontap-b"));
    assert_eq!(json["sites"]["dr"]["version"], json!("9.14.1"));
}

#[test]
fn lag_over_rpo_and_unknown_schedule() {
    let dr = input(Ok(dr_facts(relationship(
        "snapmirrored",
        Some("PT1H30M"),
        Some("5min"),
    ))));
    let primary = input(Ok(primary_facts("running")));
    let r = evaluate(&dr, Some(&primary), None, now());
    assert!(!r.healthy);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("exceeds the RPO of 5m")),
        "{:?}",
        r.problems
    );

    let dr = input(Ok(dr_facts(relationship(
        "snapmirrored",
        Some("P2D"),
        Some("pg-custom"),
    ))));
    let r = evaluate(&dr, Some(&primary), None, now());
    let rel = &r.relationships[0];
    assert_eq!(rel.rpo, "unknown (schedule pg-custom)");
    assert_eq!(rel.rpo_exceeded, None);
    assert!(
        r.healthy,
        "unknown RPO is reported, not failed: {:?}",
        r.problems
    );
}

#[test]
fn unhealthy_states_name_what_to_do() {
    let mut rel = relationship("broken_off", Some("PT5M"), None);
    rel["healthy"] = json!(false);
    rel["unhealthy_reason"] = json!([{"code": "6621444", "message": "Failed to complete update"}]);
    let dr = input(Ok(dr_facts(rel)));
    let r = evaluate(&dr, Some(&input(Ok(primary_facts("running")))), None, now());
    assert!(!r.healthy);
    let all = r.problems.join("\n");
    assert!(all.contains("broken off"), "{all}");
    assert!(all.contains("[6621444] Failed to complete update"), "{all}");
}

#[test]
fn split_brain_risk_is_flagged() {
    let mut facts = dr_facts(relationship("snapmirrored", Some("PT5M"), None));
    facts.svms =
        from(json!([{"name": "svm1_dr", "state": "running", "subtype": "dp_destination"}]));
    let r = evaluate(
        &input(Ok(facts)),
        Some(&input(Ok(primary_facts("running")))),
        None,
        now(),
    );
    assert!(
        r.problems.iter().any(|p| p.contains("split-brain")),
        "{:?}",
        r.problems
    );
}

#[test]
fn unreachable_primary_and_unconfigured_primary() {
    let dr = input(Ok(dr_facts(relationship(
        "snapmirrored",
        Some("PT5M"),
        None,
    ))));
    let r = evaluate(
        &dr,
        Some(&input(Err("connection refused".into()))),
        None,
        now(),
    );
    assert!(!r.healthy);
    assert!(!r.sites.primary.reachable);
    assert!(r.problems[0].contains("primary site unreachable: connection refused"));
    // The relationship itself is still evaluated from the DR side.
    assert_eq!(r.relationships.len(), 1);
    assert_eq!(r.relationships[0].source.svm_state, None);

    let r = evaluate(&dr, None, None, now());
    assert!(!r.sites.primary.configured);
    assert!(r.notes.iter().any(|p| p.contains("not configured")));
    assert!(
        r.healthy,
        "an unconfigured primary is a note, not a problem: {:?}",
        r.problems
    );
}

#[test]
fn unreachable_dr_and_no_relationship() {
    let r = evaluate(&input(Err("timed out".into())), None, None, now());
    assert!(!r.healthy && r.relationships.is_empty());
    let mut facts = dr_facts(relationship("snapmirrored", None, None));
    facts.relationships.clear();
    let r = evaluate(
        &input(Ok(facts)),
        Some(&input(Ok(primary_facts("running")))),
        None,
        now(),
    );
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("no SVM-DR relationship")),
        "{:?}",
        r.problems
    );
}

#[test]
fn svm_filter_and_volume_relationships_ignored() {
    let mut facts = dr_facts(relationship("snapmirrored", Some("PT5M"), None));
    facts
        .relationships
        .push(from(json!({"uuid": "v", "source": {"path": "svm1:vol1"},
        "destination": {"path": "svm1_dr:vol1"}, "state": "snapmirrored", "group_type": "none"})));
    let primary = input(Ok(primary_facts("running")));
    let dr = input(Ok(facts));
    let r = evaluate(&dr, Some(&primary), None, now());
    assert_eq!(
        r.relationships.len(),
        1,
        "volume relationships are not SVM-DR"
    );
    let r = evaluate(&dr, Some(&primary), Some("svm1_dr"), now());
    assert_eq!(r.relationships.len(), 1);
    let r = evaluate(&dr, Some(&primary), Some("other"), now());
    assert!(r.relationships.is_empty());
    assert!(r.problems.iter().any(|p| p.contains("--svm other")));
}

#[test]
fn unhealthy_cluster_peer() {
    let mut facts = dr_facts(relationship("snapmirrored", Some("PT5M"), None));
    facts.cluster_peers = from(
        json!([{"name": "ontap-a", "status": {"state": "unavailable"},
        "authentication": {"state": "ok", "in_use": "ok"}}]),
    );
    let r = evaluate(
        &input(Ok(facts)),
        Some(&input(Ok(primary_facts("running")))),
        None,
        now(),
    );
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("cluster peer ontap-a on the dr side is unhealthy")),
        "{:?}",
        r.problems
    );
}

mod trident_backends {
    use super::*;
    use crate::site::SiteRole;
    use crate::trident::backend::Backend;

    fn tbe(name: &str, svm: &str, state: &str, user: &str) -> Backend {
        Backend {
            name: name.into(),
            uuid: format!("uuid-{name}"),
            svm: Some(svm.into()),
            state: state.into(),
            user_state: user.into(),
            state_reason: if state == "online" {
                String::new()
            } else {
                format!("SVM {svm} is not in running state")
            },
            online: state == "online",
            config_ref: Some("tbc".into()),
            ..Default::default()
        }
    }

    /// The report before (`failed_over` false: the DR SVM is a stopped
    /// dp_destination) or after a failover (broken off, DR SVM running).
    fn report(failed_over: bool) -> StatusReport {
        let mut dr = dr_facts(relationship(
            if failed_over {
                "broken_off"
            } else {
                "snapmirrored"
            },
            Some("PT10M"),
            Some("hourly"),
        ));
        if failed_over {
            dr.svms = from(json!([{"name": "svm1_dr", "state": "running", "subtype": "default"}]));
        }
        evaluate(&input(Ok(dr)), None, None, now())
    }

    #[test]
    fn offline_dr_backend_before_failover_is_expected() {
        let mut r = report(false);
        let problems_before = r.problems.clone();
        let dr = [tbe("nas-dr", "svm1_dr", "offline", "normal")];
        backends::apply(&mut r, SiteRole::Dr, Ok(&dr));
        assert_eq!(r.problems, problems_before);
        assert!(r.trident_backends[0].expected_offline);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("nas-dr") && n.contains("as expected")),
            "{:?}",
            r.notes
        );
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["tridentBackends"][0]["state"], "offline");
        assert_eq!(json["tridentBackends"][0]["userState"], "normal");
        assert_eq!(json["tridentBackends"][0]["site"], "dr");
        assert_eq!(json["tridentBackends"][0]["svm"], "svm1_dr");
    }

    #[test]
    fn offline_dr_backend_after_failover_is_a_problem() {
        let mut r = report(true);
        let dr = [tbe("nas-dr", "svm1_dr", "offline", "normal")];
        backends::apply(&mut r, SiteRole::Dr, Ok(&dr));
        assert!(!r.healthy);
        let p = r
            .problems
            .iter()
            .find(|p| p.contains("Trident backend nas-dr"))
            .expect("problem");
        assert!(
            p.contains("(SVM svm1_dr) is offline (SVM svm1_dr is not in running state)"),
            "{p}"
        );
        assert!(!r.trident_backends[0].expected_offline);
    }

    #[test]
    fn online_and_suspended_backends() {
        let mut r = report(true);
        let before = r.problems.len();
        let dr = [
            tbe("nas-dr", "svm1_dr", "online", "normal"),
            tbe("san-dr", "svm1_dr", "online", "suspended"),
        ];
        backends::apply(&mut r, SiteRole::Dr, Ok(&dr));
        assert_eq!(r.problems.len(), before);
        assert_eq!(r.trident_backends.len(), 2);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("san-dr") && n.contains("suspended"))
        );
        backends::apply(&mut r, SiteRole::Primary, Err("403 forbidden"));
        assert!(r.notes.iter().any(|n| n.contains("primary cluster: 403")));
    }
}

mod velero_backups {
    use super::*;
    use crate::restore::backup_data::analyze;

    fn report() -> StatusReport {
        let dr = dr_facts(relationship("snapmirrored", Some("PT10M"), Some("hourly")));
        evaluate(&input(Ok(dr)), None, None, now())
    }

    fn status(backup: Value) -> velero::VeleroStatus {
        velero::VeleroStatus {
            namespace: "velero".into(),
            latest_backup: Some("nightly".into()),
            backup_data: Some(analyze(&backup, &[], &[], &[])),
            ..velero::VeleroStatus::default()
        }
    }

    #[test]
    fn a_backup_with_volume_data_is_a_problem() {
        let mut r = report();
        velero::apply(
            &mut r,
            status(
                json!({"metadata": {"name": "nightly"}, "spec": {"snapshotVolumes": false},
                "status": {"csiVolumeSnapshotsAttempted": 2}}),
            ),
        );
        assert!(!r.healthy);
        let p = r.problems.last().expect("problem");
        assert!(
            p.contains("newest Velero backup nightly carries volume data"),
            "{p}"
        );
        assert!(p.contains("csiVolumeSnapshotsAttempted = 2"), "{p}");
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["velero"]["latestBackup"], "nightly");
        assert_eq!(
            v["velero"]["backupData"]["findings"][0]["kind"],
            "csiSnapshot"
        );
    }

    #[test]
    fn a_clean_backup_or_none_is_not_a_problem() {
        let mut r = report();
        let before = r.problems.len();
        velero::apply(
            &mut r,
            status(json!({"metadata": {"name": "nightly"}, "spec": {"snapshotVolumes": false}})),
        );
        assert_eq!(r.problems.len(), before);
        let mut r = report();
        velero::apply(
            &mut r,
            velero::VeleroStatus {
                namespace: "velero".into(),
                ..velero::VeleroStatus::default()
            },
        );
        assert_eq!(r.problems.len(), before);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("no Completed Velero backup"))
        );
    }
}
