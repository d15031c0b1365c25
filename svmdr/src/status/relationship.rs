//! One SVM-DR relationship in the report: its state, lag against the RPO,
//! schedule, SVMs and SVM peer, evaluated on the cluster that holds it (the
//! destination: the DR cluster for the forward relationship, the primary
//! cluster for the reverse one). Which of the two protects a pair is decided
//! in [`super::direction`].

use super::report::{Endpoint, RelationshipStatus, SiteFacts, TransferStatus};
use super::rpo::{self, Rpo};
use crate::ontap::models::{
    GroupType, IdentityPreservation, Relationship, RelationshipState, Svm, SvmPeer, SvmPeerState,
    SvmState, SvmSubtype, TransferState,
};
use crate::site::SiteRole;

/// The SVM names of a relationship, resolved on the cluster that holds it.
pub(super) struct Names<'a> {
    /// Real name of the source SVM (through the SVM peer alias).
    pub src_svm: String,
    /// Destination SVM (local to the holder).
    pub dst_svm: String,
    /// The holder's SVM peer record for this pair.
    pub svm_peer: Option<&'a SvmPeer>,
}

pub(super) fn svm_of_path(path: &str) -> &str {
    path.split(':').next().unwrap_or("")
}

fn find_svm<'a>(svms: &'a [Svm], name: &str) -> Option<&'a Svm> {
    svms.iter().find(|s| s.name.as_deref() == Some(name))
}

/// Resolves the source alias of `r` through `holder`'s SVM peers.
pub(super) fn names<'a>(r: &Relationship, holder: &'a SiteFacts) -> Names<'a> {
    let dst_svm = svm_of_path(r.destination_path()).to_string();
    let alias = svm_of_path(r.source_path()).to_string();
    // The source path carries the holder's alias of the peer SVM.
    let svm_peer = holder.svm_peers.iter().find(|p| {
        p.svm.as_ref().and_then(|s| s.name.as_deref()) == Some(dst_svm.as_str())
            && (p.name.as_deref() == Some(alias.as_str())
                || p.peer
                    .as_ref()
                    .and_then(|x| x.svm.as_ref())
                    .and_then(|s| s.name.as_deref())
                    == Some(alias.as_str()))
    });
    let src_svm = svm_peer
        .and_then(|p| p.peer.as_ref())
        .and_then(|x| x.svm.as_ref())
        .and_then(|s| s.name.clone())
        .unwrap_or(alias);
    Names {
        src_svm,
        dst_svm,
        svm_peer,
    }
}

fn site_name(role: SiteRole) -> &'static str {
    match role {
        SiteRole::Primary => "primary",
        SiteRole::Dr => "DR",
    }
}

/// `none`, `primary → dr` or `dr → primary`.
pub(super) fn flow_text(from: Option<SiteRole>) -> String {
    match from {
        None => "none".into(),
        Some(SiteRole::Primary) => "primary → dr".into(),
        Some(SiteRole::Dr) => "dr → primary".into(),
    }
}

/// The ONTAP hint to give a relationship a schedule.
fn schedule_hint(holder: SiteRole, dst_path: &str) -> String {
    match holder {
        SiteRole::Dr => {
            "give it one: `kubectl svmdr peer --schedule hourly` (or on the DR cluster \
             `snapmirror modify -destination-path "
                .to_string()
                + dst_path
                + " -schedule hourly`)"
        }
        SiteRole::Primary => format!(
            "give it one on the primary cluster: `snapmirror modify -destination-path {dst_path} \
             -schedule hourly` (PATCH transfer_schedule.name), or fail back with `kubectl svmdr failback`"
        ),
    }
}

/// Evaluates `r`, held by the `holder` site (whose facts are `facts`), with
/// the other site's facts when it answered.
///
/// `selected`: this relationship is the one that speaks for its SVM pair
/// (see [`super::direction`]); the other one's state is expected (a
/// broken-off forward relationship while the reverse one protects) and is
/// not reported as a problem.
pub(super) fn relationship_status(
    r: &Relationship,
    holder: SiteRole,
    facts: &SiteFacts,
    other: Option<&SiteFacts>,
    selected: bool,
) -> RelationshipStatus {
    let mut problems = Vec::new();
    let src_path = r.source_path().to_string();
    let dst_path = r.destination_path().to_string();
    let Names {
        src_svm: src_svm_name,
        dst_svm: dst_svm_name,
        svm_peer,
    } = names(r, facts);
    let here = site_name(holder);
    let there = site_name(match holder {
        SiteRole::Dr => SiteRole::Primary,
        SiteRole::Primary => SiteRole::Dr,
    });
    let src_cluster = r
        .source
        .as_ref()
        .and_then(|e| e.cluster.as_ref())
        .and_then(|c| c.name.clone())
        .or_else(|| {
            svm_peer
                .and_then(|p| p.peer.as_ref())
                .and_then(|x| x.cluster.as_ref())
                .and_then(|c| c.name.clone())
        });

    let dst_svm = find_svm(&facts.svms, &dst_svm_name);
    let src_svm = other.and_then(|p| find_svm(&p.svms, &src_svm_name));

    let state = r.state.unwrap_or(RelationshipState::Unknown);
    let live = selected && state != RelationshipState::BrokenOff;
    if selected {
        match state {
            RelationshipState::Snapmirrored => {}
            RelationshipState::Uninitialized => problems.push(match holder {
                SiteRole::Dr => "not initialized yet: run `kubectl svmdr peer` (or wait for the \
                                 initial transfer)"
                    .into(),
                SiteRole::Primary => "not initialized yet: resync it (`kubectl svmdr resync \
                                      --direction reverse`)"
                    .into(),
            }),
            RelationshipState::Paused => {
                problems.push("quiesced (paused): scheduled transfers are not running".into());
            }
            RelationshipState::BrokenOff => problems.push(match holder {
                SiteRole::Dr => {
                    "broken off: the DR SVM is writable and no longer protected; resync or fail back"
                        .into()
                }
                SiteRole::Primary => "broken off: the primary SVM is writable and no longer \
                                      protected; finish with `kubectl svmdr failback`"
                    .into(),
            }),
            other => problems.push(format!("state is {other}, expected snapmirrored")),
        }
    }
    let reasons: Vec<String> = r
        .unhealthy_reason
        .iter()
        .flatten()
        .map(|u| match (&u.code, &u.message) {
            (Some(c), Some(m)) => format!("[{c}] {m}"),
            (None, Some(m)) => m.clone(),
            (Some(c), None) => format!("[{c}]"),
            (None, None) => "unspecified".into(),
        })
        .collect();
    if selected && r.healthy == Some(false) {
        if reasons.is_empty() {
            problems.push("ONTAP reports the relationship unhealthy".into());
        } else {
            problems.push(format!(
                "ONTAP reports it unhealthy: {}",
                reasons.join("; ")
            ));
        }
    }
    let transfer_state = r.transfer_state();
    if live
        && matches!(
            transfer_state,
            Some(TransferState::Failed | TransferState::Aborted | TransferState::HardAborted)
        )
    {
        problems.push(format!(
            "the last transfer {}: run `kubectl svmdr sync --wait` to retry",
            transfer_state.map_or("", |t| t.as_str())
        ));
    }

    let policy = r.policy.as_ref().and_then(|p| p.name.clone());
    let policy_record = policy.as_deref().and_then(|name| {
        crate::ontap::snapmirror::pick_policy(&facts.policies, name, Some(dst_svm_name.as_str()))
    });
    let schedule = r
        .transfer_schedule
        .as_ref()
        .and_then(|s| s.name.clone())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            policy_record
                .and_then(|p| p.transfer_schedule.as_ref())
                .and_then(|s| s.name.clone())
        });
    let identity = r
        .identity_preservation
        .or_else(|| policy_record.and_then(|p| p.identity_preservation));
    let rpo = rpo::rpo_for(schedule.as_deref());
    let lag = r.lag_time;
    let rpo_exceeded = if live { rpo::exceeds(lag, &rpo) } else { None };
    if rpo_exceeded == Some(true)
        && let (Some(lag), Rpo::Interval(i)) = (lag, &rpo)
    {
        problems.push(format!(
            "lag {} exceeds the RPO of {} (schedule {})",
            rpo::human(lag),
            rpo::human(*i),
            schedule.as_deref().unwrap_or("")
        ));
    }
    if live && rpo == Rpo::NoSchedule {
        problems.push(format!(
            "unprotected: no transfer schedule on the relationship or its policy {}, so data \
             reaches {dst_svm_name} only when someone runs `kubectl svmdr sync`; {}",
            policy.as_deref().unwrap_or("(none)"),
            schedule_hint(holder, &dst_path)
        ));
    }

    match (dst_svm, state) {
        (None, _) => problems.push(format!(
            "destination SVM {dst_svm_name} not found on the {here} cluster"
        )),
        (Some(s), RelationshipState::Snapmirrored | RelationshipState::Paused)
            if selected && s.subtype.is_some_and(|t| t != SvmSubtype::DpDestination) =>
        {
            problems.push(format!(
                "destination SVM {dst_svm_name} has subtype {}, expected dp_destination",
                s.subtype.map_or("?", |t| t.as_str())
            ));
        }
        _ => {}
    }
    if let Some(pf) = other {
        match src_svm {
            None => problems.push(format!(
                "source SVM {src_svm_name} not found on the {there} cluster{}",
                pf.cluster
                    .name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            )),
            Some(s) if live && s.state != Some(SvmState::Running) => {
                problems.push(format!(
                    "source SVM {src_svm_name} is {}, not running",
                    s.state.map_or("unknown", |x| x.as_str())
                ));
            }
            Some(_) => {}
        }
    }
    let both_running = src_svm.and_then(|s| s.state) == Some(SvmState::Running)
        && dst_svm.and_then(|s| s.state) == Some(SvmState::Running);
    if selected && both_running && identity == Some(IdentityPreservation::Full) {
        problems.push(format!(
            "both {src_svm_name} and {dst_svm_name} are running with full identity preservation \
             (same LIF addresses): split-brain risk; stop one of them"
        ));
    }
    let svm_peer_state = svm_peer.and_then(|p| p.state);
    match svm_peer_state {
        Some(SvmPeerState::Peered) => {}
        Some(other) => problems.push(format!(
            "SVM peer {src_svm_name} <-> {dst_svm_name} is {other}, not peered"
        )),
        None => problems.push(format!(
            "no SVM peer between {src_svm_name} and {dst_svm_name} on the {here} cluster"
        )),
    }

    let endpoint =
        |cluster: Option<String>, svm: String, path: String, record: Option<&Svm>| Endpoint {
            cluster,
            svm,
            path,
            svm_state: record.and_then(|s| s.state).map(|s| s.to_string()),
            svm_subtype: record.and_then(|s| s.subtype).map(|s| s.to_string()),
        };
    let rpo_text = match &rpo {
        Rpo::Interval(d) => rpo::human(*d),
        Rpo::NoSchedule => "none (no schedule)".into(),
        Rpo::Unknown(name) => format!("unknown (schedule {name})"),
    };
    let from = match holder {
        SiteRole::Dr => SiteRole::Primary,
        SiteRole::Primary => SiteRole::Dr,
    };
    RelationshipStatus {
        uuid: r.uuid.clone(),
        source: endpoint(src_cluster, src_svm_name, src_path, src_svm),
        destination: endpoint(facts.cluster.name.clone(), dst_svm_name, dst_path, dst_svm),
        state: state.to_string(),
        healthy: problems.is_empty(),
        ontap_healthy: r.healthy,
        unhealthy_reasons: reasons,
        lag_seconds: lag.map(|d| d.as_secs()),
        lag: lag.map(rpo::human),
        schedule,
        rpo_seconds: match rpo {
            Rpo::Interval(d) => Some(d.as_secs()),
            _ => None,
        },
        rpo: rpo_text,
        rpo_exceeded,
        last_transfer: r.transfer.as_ref().map(|t| TransferStatus {
            r#type: t.kind.or(r.last_transfer_type).map(|k| k.to_string()),
            state: t.state.map(|s| s.to_string()),
            end_time: t.end_time.map(|e| e.to_rfc3339()),
            bytes: t.bytes_transferred,
        }),
        transferring: r.is_transferring(),
        policy,
        identity_preservation: identity.map(|i| i.to_string()),
        svm_peer_state: svm_peer_state.map(|s| s.to_string()),
        problems,
        direction: match holder {
            SiteRole::Dr => "forward".into(),
            SiteRole::Primary => "reverse".into(),
        },
        held_on: holder,
        live,
        protected: live && state == RelationshipState::Snapmirrored && rpo != Rpo::NoSchedule,
        active_site: if live {
            from.to_string()
        } else {
            "unknown".into()
        },
        flow: flow_text(live.then_some(from)),
    }
}

/// Whether a relationship is SVM-DR: `group_type=svm_dr`, or both paths
/// end in `:` (releases without `group_type`).
pub fn is_svm_dr(r: &Relationship) -> bool {
    match r.group_type {
        Some(GroupType::SvmDr) => true,
        Some(GroupType::None | GroupType::Unknown) | None => {
            r.source_path().ends_with(':') && r.destination_path().ends_with(':')
        }
        Some(_) => false,
    }
}
