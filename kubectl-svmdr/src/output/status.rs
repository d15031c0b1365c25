//! `status` output: sites, relationships, peers, then the problems.

use std::io::Write;

use svmdr::status::velero::VeleroStatus;
use svmdr::status::{SiteStatus, StatusReport};

use super::{bytes, or_dash, table, write_structured};
use crate::global::OutputFormat;

fn site_line(s: &SiteStatus) -> String {
    let who = format!(
        "context {}, backend {}",
        or_dash(s.info.context.as_ref()),
        or_dash(s.info.backend.as_ref())
    );
    if !s.configured {
        return format!("{:<8} not configured", s.role.to_string().to_uppercase());
    }
    if s.error.is_none() {
        format!(
            "{:<8} {} {} ({who})",
            s.role.to_string().to_uppercase(),
            or_dash(s.cluster.as_ref()),
            or_dash(s.version.as_ref()),
        )
    } else {
        format!(
            "{:<8} {} ({who}): {}",
            s.role.to_string().to_uppercase(),
            s.failure.map_or("UNREACHABLE", |f| f.label()),
            or_dash(s.error.as_ref())
        )
    }
}

/// `WATCHER  healthy (mode automatic, armed, leader w-0, observed 4s ago)`.
fn watcher_line(v: &svmdr::status::watcher::WatcherView) -> String {
    let age = v
        .observed_age_seconds
        .map_or("never observed".into(), |s| format!("observed {s}s ago"));
    format!(
        "{:<8} {}{} (mode {}, {}, leader {}, {age}){}",
        "WATCHER",
        v.verdict.as_deref().unwrap_or("-"),
        if v.stale { " STALE" } else { "" },
        v.mode.as_deref().unwrap_or("-"),
        if v.armed { "armed" } else { "disarmed" },
        v.leader.as_deref().unwrap_or("-"),
        v.failover
            .as_deref()
            .map(|o| format!("; automatic failover {o}"))
            .unwrap_or_default()
    )
}

/// `VELERO   newest backup velero/b (30m old, max 1h): no volume data;
/// schedule hourly (@every 1h); location default Available`.
fn velero_line(v: &VeleroStatus) -> String {
    let Some(b) = &v.latest_backup else {
        return format!(
            "{:<8} no Completed backup in namespace {}{}",
            "VELERO",
            v.namespace,
            v.error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    };
    let data = match &v.backup_data {
        Some(d) if d.carries_volume_data() => "CARRIES VOLUME DATA",
        Some(_) => "no volume data",
        None => "not inspected",
    };
    let age = match (&v.latest_backup_age, v.max_age_seconds, v.stale) {
        (Some(a), Some(m), Some(true)) => format!(" ({a} old, max {}: STALE)", human_secs(m)),
        (Some(a), Some(m), _) => format!(" ({a} old, max {})", human_secs(m)),
        (Some(a), None, _) => format!(" ({a} old)"),
        (None, ..) => String::new(),
    };
    let schedule = match &v.schedule {
        None => "no schedule".to_string(),
        Some(s) if !s.found => format!("schedule {} (missing)", s.name),
        Some(s) => format!(
            "schedule {}{}{}",
            s.name,
            s.cron
                .as_ref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            if s.paused { " PAUSED" } else { "" }
        ),
    };
    let location = v
        .storage_locations
        .iter()
        .find(|l| l.used_by_backup)
        .map_or_else(
            || "location -".to_string(),
            |l| format!("location {} {}", l.name, or_dash(l.phase.as_ref())),
        );
    format!(
        "{:<8} newest backup {}/{b}{age}: {data}; {schedule}; {location}",
        "VELERO", v.namespace
    )
}

/// `APP      runs on primary  (restored on DR: shop scaled to 0)`.
fn app_line(r: &StatusReport) -> Option<String> {
    let dr = r.dr_workloads.as_ref()?;
    let detail = if let Some(e) = &dr.error {
        format!("DR not checked: {e}")
    } else if dr.namespaces.is_empty() {
        "nothing restored by Velero on DR".into()
    } else {
        let ns: Vec<String> = dr
            .namespaces
            .iter()
            .map(|n| {
                format!(
                    "{} {}",
                    n.namespace,
                    if n.scaled_up {
                        "scaled up"
                    } else {
                        "scaled to 0"
                    }
                )
            })
            .collect();
        format!("restored on DR: {}", ns.join(", "))
    };
    Some(format!(
        "{:<8} runs on {}  ({detail})",
        "APP", r.app_runs_on
    ))
}

fn human_secs(s: u64) -> String {
    svmdr::status::rpo::human(std::time::Duration::from_secs(s))
}

/// Renders the status report.
///
/// # Errors
/// Write errors.
pub fn render(w: &mut impl Write, format: OutputFormat, r: &StatusReport) -> anyhow::Result<()> {
    if format.is_machine() {
        return write_structured(w, format, r);
    }
    let wide = format == OutputFormat::Wide;
    writeln!(w, "{}", site_line(&r.sites.dr))?;
    writeln!(w, "{}", site_line(&r.sites.primary))?;
    writeln!(w, "{:<8} {}  FLOW {}", "ACTIVE", r.active_site, r.flow)?;
    if let Some(line) = app_line(r) {
        writeln!(w, "{line}")?;
    }
    if let Some(v) = &r.velero {
        writeln!(w, "{}", velero_line(v))?;
    }
    if let Some(v) = &r.watcher {
        writeln!(w, "{}", watcher_line(v))?;
    }
    writeln!(w)?;
    if !r.relationships.is_empty() {
        let mut header = vec![
            "source",
            "destination",
            "state",
            "healthy",
            "protected",
            "lag",
            "rpo",
            "last transfer",
            "svm states",
        ];
        if wide {
            header.extend([
                "direction",
                "live",
                "policy",
                "identity",
                "schedule",
                "svm peer",
                "uuid",
            ]);
        }
        let rows = r
            .relationships
            .iter()
            .map(|x| {
                let src = format!("{}:{}", or_dash(x.source.cluster.as_ref()), x.source.svm);
                let dst = format!(
                    "{}:{}",
                    or_dash(x.destination.cluster.as_ref()),
                    x.destination.svm
                );
                let lag = match (x.lag.as_ref(), x.rpo_exceeded) {
                    (Some(l), Some(true)) => format!("{l} (over RPO)"),
                    (Some(l), _) => l.clone(),
                    (None, _) => "-".into(),
                };
                let last = x
                    .last_transfer
                    .as_ref()
                    .map(|t| {
                        format!(
                            "{} {}{}",
                            or_dash(t.r#type.as_ref()),
                            or_dash(t.state.as_ref()),
                            t.bytes
                                .map(|b| format!(" {}", bytes(b)))
                                .unwrap_or_default()
                        )
                    })
                    .unwrap_or_else(|| "-".into());
                let svms = format!(
                    "{} / {}",
                    or_dash(x.source.svm_state.as_ref()),
                    or_dash(x.destination.svm_state.as_ref())
                );
                let mut row = vec![
                    src,
                    dst,
                    x.state.clone(),
                    if x.healthy { "yes".into() } else { "NO".into() },
                    match (x.live, x.protected) {
                        (true, true) => "yes".into(),
                        (true, false) => "NO".into(),
                        (false, _) => "- (not in use)".into(),
                    },
                    lag,
                    x.rpo.clone(),
                    last,
                    svms,
                ];
                if wide {
                    row.extend([
                        x.direction.clone(),
                        if x.live { "yes".into() } else { "no".into() },
                        or_dash(x.policy.as_ref()),
                        or_dash(x.identity_preservation.as_ref()),
                        or_dash(x.schedule.as_ref()),
                        or_dash(x.svm_peer_state.as_ref()),
                        or_dash(x.uuid.as_ref()),
                    ]);
                }
                row
            })
            .collect();
        writeln!(w, "{}", table(&header, rows))?;
        writeln!(w)?;
    }
    if !r.cluster_peers.is_empty() {
        let rows = r
            .cluster_peers
            .iter()
            .map(|p| {
                vec![
                    p.side.to_string(),
                    p.peer.clone(),
                    p.availability.clone(),
                    p.authentication.clone(),
                    p.encryption.clone(),
                    if p.healthy { "yes".into() } else { "NO".into() },
                ]
            })
            .collect();
        writeln!(
            w,
            "{}",
            table(
                &[
                    "side",
                    "cluster peer",
                    "availability",
                    "authentication",
                    "encryption",
                    "healthy"
                ],
                rows
            )
        )?;
        writeln!(w)?;
    }
    if !r.trident_backends.is_empty() {
        let rows = r
            .trident_backends
            .iter()
            .map(|b| {
                let state = if b.expected_offline {
                    format!("{} (expected)", b.state)
                } else {
                    b.state.clone()
                };
                let mut row = vec![
                    b.site.to_string(),
                    b.name.clone(),
                    or_dash(b.svm.as_ref()),
                    state,
                    b.user_state.clone(),
                ];
                if wide {
                    row.push(or_dash(b.state_reason.as_ref()));
                }
                row
            })
            .collect();
        let mut header = vec!["site", "trident backend", "svm", "state", "user state"];
        if wide {
            header.push("state reason");
        }
        writeln!(w, "{}", table(&header, rows))?;
        writeln!(w)?;
    }
    for n in &r.notes {
        writeln!(w, "note: {n}")?;
    }
    if r.healthy {
        writeln!(w, "Healthy.")?;
    } else {
        writeln!(w, "Problems:")?;
        for p in &r.problems {
            writeln!(w, "  - {p}")?;
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};
    use serde_json::json;
    use svmdr::status::{SiteFacts, SiteInfo, SiteInput, evaluate};

    use super::*;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("fixture")
    }

    fn report(lag: &str) -> StatusReport {
        let peer = |n: &str| {
            json!({"name": n, "remote": {"name": n}, "status": {"state": "available"},
                "authentication": {"state": "ok", "in_use": "ok"}, "encryption": {"state": "tls_psk"}})
        };
        let dr = SiteFacts {
            cluster: from(
                json!({"name": "ontap-b", "version": {"generation": 9, "major": 14, "minor": 1}}),
            ),
            svms: from(
                json!([{"name": "svm1_dr", "state": "stopped", "subtype": "dp_destination"}]),
            ),
            cluster_peers: from(json!([peer("ontap-a")])),
            svm_peers: from(json!([{"svm": {"name": "svm1_dr"}, "name": "svm1",
                "peer": {"svm": {"name": "svm1"}, "cluster": {"name": "ontap-a"}}, "state": "peered"}])),
            relationships: from(
                json!([{"uuid": "r1", "source": {"path": "svm1:", "cluster": {"name": "ontap-a"}},
                "destination": {"path": "svm1_dr:"}, "state": "snapmirrored", "healthy": true,
                "group_type": "svm_dr", "lag_time": lag, "transfer_schedule": {"name": "hourly"},
                "policy": {"name": "MirrorAllSnapshots"},
                "transfer": {"state": "success", "type": "update", "bytes_transferred": 2048}}]),
            ),
            policies: vec![],
        };
        let primary = SiteFacts {
            cluster: from(json!({"name": "ontap-a"})),
            svms: from(json!([{"name": "svm1", "state": "running", "subtype": "default"}])),
            cluster_peers: from(json!([peer("ontap-b")])),
            ..SiteFacts::default()
        };
        let input = |facts| SiteInput {
            info: SiteInfo {
                context: Some("ctx".into()),
                ..SiteInfo::default()
            },
            facts: Ok(facts),
        };
        let now = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        evaluate(&input(dr), Some(&input(primary)), None, now)
    }

    #[test]
    fn app_line_says_where_the_app_runs() {
        use svmdr::plan::workloads::RestoredWorkload;
        let mut r = report("PT20M");
        assert_eq!(app_line(&r), None);
        let web = RestoredWorkload {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
            restore: "nightly-svmdr-1".into(),
            replicas: 0,
            ready_replicas: 0,
            replicas_before_failback: Some(1),
        };
        svmdr::status::workloads::apply(&mut r, Ok(vec![web]));
        assert_eq!(
            app_line(&r).as_deref(),
            Some("APP      runs on primary  (restored on DR: shop scaled to 0)")
        );
    }

    #[test]
    fn healthy_table() {
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Table, &report("PT20M")).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("DR       ontap-b 9.14.1 (context ctx"),
            "{text}"
        );
        assert!(text.contains("ontap-a:svm1"), "{text}");
        assert!(text.contains("ontap-b:svm1_dr"), "{text}");
        assert!(text.contains("20m"), "{text}");
        assert!(text.contains("update success 2.0 KiB"), "{text}");
        assert!(text.contains("running / stopped"), "{text}");
        assert!(
            text.contains("ACTIVE   primary  FLOW primary → dr"),
            "{text}"
        );
        assert!(text.contains("PROTECTED"), "{text}");
        assert!(text.trim_end().ends_with("Healthy."), "{text}");
    }

    #[test]
    fn velero_line_shows_age_schedule_and_location() {
        use svmdr::status::velero::{LocationStatus, ScheduleStatus, VeleroStatus};
        let v = VeleroStatus {
            namespace: "velero".into(),
            latest_backup: Some("hourly-2".into()),
            latest_backup_age: Some("2h".into()),
            max_age_seconds: Some(3600),
            stale: Some(true),
            schedule: Some(ScheduleStatus {
                name: "hourly".into(),
                found: true,
                cron: Some("@every 1h".into()),
                phase: Some("Enabled".into()),
                paused: false,
            }),
            storage_locations: vec![LocationStatus {
                name: "default".into(),
                phase: Some("Unavailable".into()),
                default: true,
                used_by_backup: true,
            }],
            ..VeleroStatus::default()
        };
        assert_eq!(
            velero_line(&v),
            "VELERO   newest backup velero/hourly-2 (2h old, max 1h: STALE): not inspected; \
             schedule hourly (@every 1h); location default Unavailable"
        );
        let none = VeleroStatus {
            namespace: "velero".into(),
            ..VeleroStatus::default()
        };
        assert_eq!(
            velero_line(&none),
            "VELERO   no Completed backup in namespace velero"
        );
    }

    #[test]
    fn trident_backends_table_and_json() {
        use svmdr::site::SiteRole;
        use svmdr::trident::backend::Backend;
        let tbe = |name: &str, svm: &str, state: &str| Backend {
            name: name.into(),
            uuid: "u".into(),
            svm: Some(svm.into()),
            state: state.into(),
            user_state: "normal".into(),
            online: state == "online",
            ..Default::default()
        };
        let mut r = report("PT20M");
        svmdr::status::backends::apply(
            &mut r,
            SiteRole::Dr,
            Ok(&[tbe("nas-dr", "svm1_dr", "offline")]),
        );
        svmdr::status::backends::apply(
            &mut r,
            SiteRole::Primary,
            Ok(&[tbe("nas-a", "svm1", "online")]),
        );
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Table, &r).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("TRIDENT BACKEND"), "{text}");
        assert!(text.contains("nas-dr"), "{text}");
        assert!(text.contains("offline (expected)"), "{text}");
        assert!(text.contains("nas-a"), "{text}");
        assert!(text.contains("as expected"), "{text}");
        assert!(text.trim_end().ends_with("Healthy."), "{text}");
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Json, &r).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let b = &v["tridentBackends"][0];
        for key in [
            "site",
            "name",
            "svm",
            "state",
            "userState",
            "expectedOffline",
        ] {
            assert!(b.get(key).is_some(), "backend field {key} missing");
        }
    }

    #[test]
    fn lag_over_rpo_is_marked_and_listed() {
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Wide, &report("PT2H")).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("2h (over RPO)"), "{text}");
        assert!(text.contains("hourly"), "{text}");
        assert!(text.contains("Problems:"), "{text}");
        assert!(text.contains("lag 2h exceeds the RPO of 1h"), "{text}");
    }

    #[test]
    fn json_is_the_documented_schema() {
        let mut out = Vec::new();
        render(&mut out, OutputFormat::Json, &report("PT20M")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["apiVersion"], json!("svmdr.netapp.io/v1"));
        assert_eq!(v["kind"], json!("Status"));
        let r = &v["relationships"][0];
        for key in [
            "uuid",
            "source",
            "destination",
            "state",
            "healthy",
            "ontapHealthy",
            "unhealthyReasons",
            "lagSeconds",
            "lag",
            "schedule",
            "rpoSeconds",
            "rpo",
            "rpoExceeded",
            "lastTransfer",
            "transferring",
            "policy",
            "identityPreservation",
            "svmPeerState",
            "problems",
            "direction",
            "heldOn",
            "live",
            "protected",
            "activeSite",
            "flow",
        ] {
            assert!(r.get(key).is_some(), "relationship field {key} missing");
        }
        assert_eq!(r["rpoSeconds"], json!(3600));
        assert_eq!(r["lagSeconds"], json!(1200));
        assert_eq!(v["activeSite"], json!("primary"));
        assert_eq!(v["flow"], json!("primary → dr"));
    }
}
