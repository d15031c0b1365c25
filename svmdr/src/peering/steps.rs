//! The peering steps: each with a pure `check` over the observed state, the
//! ONTAP calls it would make (for `--dry-run`), and `apply`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::observe::{ClusterView, Observed};
use super::{PeerRequest, PeeringError, PlannedCall, Side};
use crate::ontap::models::{
    ClusterPeer, IdentityPreservation, PeerAuthState, PeerEncryption, PolicyType,
    RelationshipState, SvmPeer, SvmPeerApplication, SvmPeerState, SvmState, SvmSubtype,
    TransferState,
};
use crate::ontap::{
    CreateClusterPeer, CreateRelationship, LifPlacement, NewInterclusterLif, OntapClient,
    PatchClusterPeer, PatchOptions,
};
use crate::report::Reporter;
use crate::secret::Secret;

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The source SVM exists on the primary cluster.
    SourceSvm,
    /// One intercluster LIF per primary node.
    PrimaryInterclusterLifs,
    /// One intercluster LIF per DR node.
    DrInterclusterLifs,
    /// Cluster peer records on both clusters.
    ClusterPeer,
    /// The `dp_destination` SVM on the DR cluster.
    DestinationSvm,
    /// The SVM peer request from the DR SVM to the source SVM.
    SvmPeer,
    /// Its acceptance on the primary cluster.
    SvmPeerAccept,
    /// The SVM-DR relationship on the DR cluster.
    Relationship,
    /// The DR SVM stopped before the baseline transfer.
    StopDestinationSvm,
    /// The baseline transfer, until `snapmirrored`.
    Initialize,
}

/// Every step, in order.
pub const ALL_STEPS: [Step; 10] = [
    Step::SourceSvm,
    Step::PrimaryInterclusterLifs,
    Step::DrInterclusterLifs,
    Step::ClusterPeer,
    Step::DestinationSvm,
    Step::SvmPeer,
    Step::SvmPeerAccept,
    Step::Relationship,
    Step::StopDestinationSvm,
    Step::Initialize,
];

impl Step {
    /// A short title.
    pub fn title(self) -> &'static str {
        match self {
            Self::SourceSvm => "source SVM",
            Self::PrimaryInterclusterLifs => "intercluster LIFs (primary)",
            Self::DrInterclusterLifs => "intercluster LIFs (dr)",
            Self::ClusterPeer => "cluster peer",
            Self::DestinationSvm => "dp_destination SVM",
            Self::SvmPeer => "SVM peer",
            Self::SvmPeerAccept => "SVM peer acceptance",
            Self::Relationship => "SVM-DR relationship",
            Self::StopDestinationSvm => "DR SVM stopped for the baseline",
            Self::Initialize => "initialize",
        }
    }
}

/// What a step's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Nothing to do.
    Done(String),
    /// Work to do, described.
    Todo(String),
    /// Cannot go on: input or state missing; what to do.
    Blocked(String),
    /// Going on could harm data (exit 3); what to do instead.
    Unsafe(String),
    /// Deliberately not run.
    Skipped(String),
}

fn svm_peer_toward<'a>(
    view: &'a ClusterView,
    local: &str,
    remote_svm: &str,
) -> Option<&'a SvmPeer> {
    view.svm_peers.iter().find(|p| {
        p.svm.as_ref().and_then(|s| s.name.as_deref()) == Some(local)
            && p.peer
                .as_ref()
                .and_then(|x| x.svm.as_ref())
                .and_then(|s| s.name.as_deref())
                == Some(remote_svm)
    })
}

/// The DR cluster's local name for the primary cluster (the cluster peer
/// record's `name`), else the primary's real name.
fn dr_name_for_primary(obs: &Observed) -> String {
    let primary = obs.primary.name().to_string();
    obs.dr
        .peer_for(&primary)
        .and_then(|p| p.name.clone())
        .unwrap_or(primary)
}

/// The source path as the DR cluster knows it: `<alias>:`, where alias is
/// the DR cluster's local name for the peer SVM.
pub(super) fn source_path(obs: &Observed, req: &PeerRequest) -> String {
    let alias = svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm)
        .and_then(|p| p.name.clone())
        .unwrap_or_else(|| req.svm.clone());
    format!("{alias}:")
}

fn lif_check(view: &ClusterView, specs: &[super::LifSpec], side: Side) -> Check {
    let missing = view.nodes_without_intercluster();
    let down: Vec<String> = view
        .intercluster
        .iter()
        .filter(|l| !l.is_serving())
        .filter_map(|l| l.name.clone())
        .collect();
    let unknown: Vec<String> = specs
        .iter()
        .filter(|s| {
            !view
                .nodes
                .iter()
                .any(|n| n.name.as_deref() == Some(s.node.as_str()))
        })
        .map(|s| s.node.clone())
        .collect();
    if !unknown.is_empty() {
        let nodes: Vec<&str> = view
            .nodes
            .iter()
            .filter_map(|n| n.name.as_deref())
            .collect();
        return Check::Blocked(format!(
            "--{side}-intercluster-ip names node(s) {} that {} does not have (nodes: {})",
            unknown.join(", "),
            view.name(),
            nodes.join(", ")
        ));
    }
    if missing.is_empty() {
        if !down.is_empty() {
            return Check::Blocked(format!(
                "intercluster LIF(s) {} on {} are down or disabled: bring them up, then re-run",
                down.join(", "),
                view.name()
            ));
        }
        return Check::Done(format!(
            "{} has an intercluster LIF on every node ({})",
            view.name(),
            view.intercluster_addresses().join(", ")
        ));
    }
    let unplanned: Vec<&String> = missing
        .iter()
        .filter(|n| !specs.iter().any(|s| &s.node == *n))
        .collect();
    if !unplanned.is_empty() {
        let names: Vec<&str> = unplanned.iter().map(|s| s.as_str()).collect();
        return Check::Blocked(format!(
            "node(s) {} of {} have no intercluster LIF; peering needs one per node: give \
             --{side}-intercluster-ip NODE=IP/PREFIX for each (e.g. {}=10.0.0.11/24)",
            names.join(", "),
            view.name(),
            names.first().copied().unwrap_or("node")
        ));
    }
    let todo: Vec<String> = specs
        .iter()
        .filter(|s| missing.contains(&s.node))
        .map(ToString::to_string)
        .collect();
    Check::Todo(format!("create intercluster LIF(s) {}", todo.join(", ")))
}

/// Checks one step against the observed state. Pure.
pub fn check(step: Step, req: &PeerRequest, obs: &Observed) -> Check {
    match step {
        Step::SourceSvm
            if req.svm == req.dr_svm
                && obs.relationship.is_none()
                && svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm).is_none() =>
        {
            Check::Blocked(format!(
                "the DR SVM would have the source's name ({0}); ONTAP then requires a local \
                 alias for the peer SVM on each cluster (error 9896086), which kubectl svmdr \
                 does not set: pass --dr-svm with another name, e.g. --dr-svm {0}_dr",
                req.svm
            ))
        }
        Step::SourceSvm => match &obs.primary.svm {
            None => Check::Blocked(format!(
                "SVM {} does not exist on the primary cluster {}: check --svm (Trident's backend \
                 uses {})",
                req.svm,
                obs.primary.name(),
                req.backend_svm_hint
                    .as_deref()
                    .unwrap_or("an SVM-scoped LIF")
            )),
            Some(s) if s.subtype.is_some_and(|t| t != SvmSubtype::Default) => {
                Check::Blocked(format!(
                    "SVM {} on {} has subtype {}; an SVM-DR source must be a default SVM",
                    req.svm,
                    obs.primary.name(),
                    s.subtype.map_or("?", |t| t.as_str())
                ))
            }
            Some(s) => Check::Done(format!(
                "SVM {} on {} ({})",
                req.svm,
                obs.primary.name(),
                s.state.map_or("unknown", |x| x.as_str())
            )),
        },
        Step::PrimaryInterclusterLifs => lif_check(&obs.primary, &req.primary_lifs, Side::Primary),
        Step::DrInterclusterLifs => lif_check(&obs.dr, &req.dr_lifs, Side::Dr),
        Step::ClusterPeer => {
            let p_name = obs.primary.name().to_string();
            let d_name = obs.dr.name().to_string();
            match (obs.primary.peer_for(&d_name), obs.dr.peer_for(&p_name)) {
                (Some(a), Some(b)) => Check::Done(format!(
                    "{p_name} <-> {d_name} ({} / {})",
                    a.status
                        .as_ref()
                        .and_then(|s| s.state)
                        .map_or("?", |s| s.as_str()),
                    b.status
                        .as_ref()
                        .and_then(|s| s.state)
                        .map_or("?", |s| s.as_str())
                )),
                (None, None) => Check::Todo(format!(
                    "peer {p_name} and {d_name} (generated passphrase, TLS-PSK encryption)"
                )),
                (Some(offer), None) if is_unaccepted_offer(offer) => Check::Todo(format!(
                    "resume: {p_name} holds an offer for {d_name} that {d_name} never accepted \
                     ({}); set a new passphrase on it and peer {d_name} with it",
                    offer_state(offer)
                )),
                (None, Some(offer)) if is_unaccepted_offer(offer) => Check::Todo(format!(
                    "resume: {d_name} holds an offer for {p_name} that {p_name} never accepted \
                     ({}); set a new passphrase on it and peer {p_name} with it",
                    offer_state(offer)
                )),
                (Some(a), None) => Check::Blocked(format!(
                    "half-configured cluster peer: {p_name} has a peer record for {d_name} \
                     (authentication {}) but {d_name} has none; it is not an unaccepted offer, so \
                     kubectl svmdr will not change it: delete it on {p_name} (`cluster peer delete \
                     -cluster {d_name}`) and re-run",
                    offer_state(a)
                )),
                (None, Some(b)) => Check::Blocked(format!(
                    "half-configured cluster peer: {d_name} has a peer record for {p_name} \
                     (authentication {}) but {p_name} has none; it is not an unaccepted offer, so \
                     kubectl svmdr will not change it: delete it on {d_name} (`cluster peer delete \
                     -cluster {p_name}`) and re-run",
                    offer_state(b)
                )),
            }
        }
        Step::DestinationSvm => match &obs.dr.svm {
            None => Check::Todo(format!(
                "create SVM {} (subtype dp_destination) on {}",
                req.dr_svm,
                obs.dr.name()
            )),
            Some(s) if s.subtype == Some(SvmSubtype::DpDestination) => Check::Done(format!(
                "SVM {} on {} is a dp_destination",
                req.dr_svm,
                obs.dr.name()
            )),
            Some(s) if obs.relationship.is_some() => Check::Done(format!(
                "SVM {} on {} (subtype {}, in an SVM-DR relationship)",
                req.dr_svm,
                obs.dr.name(),
                s.subtype.map_or("?", |t| t.as_str())
            )),
            Some(s) => Check::Blocked(format!(
                "SVM {} already exists on {} with subtype {}; an SVM-DR destination must be \
                 created as dp_destination: pick another --dr-svm or remove that SVM",
                req.dr_svm,
                obs.dr.name(),
                s.subtype.map_or("?", |t| t.as_str())
            )),
        },
        Step::SvmPeer => match svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm) {
            Some(p)
                if matches!(
                    p.state,
                    Some(SvmPeerState::Rejected | SvmPeerState::Suspended)
                ) =>
            {
                Check::Blocked(format!(
                    "the SVM peer {} <-> {} is {}: resume or delete it on {}, then re-run",
                    req.dr_svm,
                    req.svm,
                    p.state.map_or("?", |s| s.as_str()),
                    obs.dr.name()
                ))
            }
            Some(p) => Check::Done(format!(
                "{} <-> {} ({})",
                req.dr_svm,
                req.svm,
                p.state.map_or("?", |s| s.as_str())
            )),
            None => Check::Todo(format!(
                "request SVM peering {}:{} -> {}:{} (application snapmirror)",
                obs.dr.name(),
                req.dr_svm,
                obs.primary.name(),
                req.svm
            )),
        },
        Step::SvmPeerAccept => {
            let dr_side = svm_peer_toward(&obs.dr, &req.dr_svm, &req.svm);
            if dr_side.and_then(|p| p.state) == Some(SvmPeerState::Peered) {
                return Check::Done(format!("{} <-> {} peered", req.dr_svm, req.svm));
            }
            match svm_peer_toward(&obs.primary, &req.svm, &req.dr_svm) {
                Some(p) if p.state == Some(SvmPeerState::Peered) => {
                    Check::Done(format!("{} <-> {} peered", req.dr_svm, req.svm))
                }
                Some(p) => Check::Todo(format!(
                    "accept the SVM peer on {} (now {})",
                    obs.primary.name(),
                    p.state.map_or("?", |s| s.as_str())
                )),
                None => Check::Todo(format!(
                    "accept the SVM peer on {} once the request arrives",
                    obs.primary.name()
                )),
            }
        }
        Step::Relationship => {
            let wanted_src = source_path(obs, req);
            if let Some(r) = &obs.relationship {
                if r.source_path() != wanted_src {
                    return Check::Blocked(format!(
                        "{}: is already the destination of {} on {}; pick another --dr-svm",
                        req.dr_svm,
                        r.source_path(),
                        obs.dr.name()
                    ));
                }
                return match super::settings::relationship_change(req, obs, r) {
                    Err(refusal) => Check::Blocked(refusal),
                    Ok((change, _)) if change.is_empty() => Check::Done(format!(
                        "{} -> {}: ({}), {}",
                        r.source_path(),
                        req.dr_svm,
                        r.state.map_or("?", |s| s.as_str()),
                        super::settings::describe(r, obs)
                    )),
                    Ok((_, deltas)) => Check::Todo(format!(
                        "change {} -> {}: {}",
                        r.source_path(),
                        req.dr_svm,
                        deltas
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
            }
            match &obs.policy {
                None => Check::Blocked(format!(
                    "SnapMirror policy {} does not exist on {}: pass an existing async policy \
                     with --policy (e.g. MirrorAllSnapshots)",
                    req.policy,
                    obs.dr.name()
                )),
                Some(p) if p.kind.is_some_and(|k| k != PolicyType::Async) => {
                    Check::Blocked(format!(
                        "SnapMirror policy {} is type {}; SVM-DR needs an async policy such as \
                     MirrorAllSnapshots",
                        req.policy,
                        p.kind.map_or("?", |k| k.as_str())
                    ))
                }
                Some(_) => Check::Todo(format!(
                    "create {wanted_src} -> {}: (policy {}, identity preservation {}, schedule {}{})",
                    req.dr_svm,
                    req.policy,
                    req.identity_preservation,
                    req.schedule.as_deref().unwrap_or("the policy's"),
                    req.throttle
                        .map(|t| format!(", throttle {t} KB/s"))
                        .unwrap_or_default()
                )),
            }
        }
        Step::StopDestinationSvm => {
            if !req.initialize {
                return Check::Skipped("--no-initialize".into());
            }
            let uninitialized = obs
                .relationship
                .as_ref()
                .is_none_or(|r| r.state == Some(RelationshipState::Uninitialized));
            match &obs.dr.svm {
                None => Check::Todo(format!(
                    "make sure SVM {} on {} is stopped before the baseline transfer",
                    req.dr_svm,
                    obs.dr.name()
                )),
                Some(s) if uninitialized && s.state == Some(SvmState::Running) => {
                    Check::Todo(format!("stop SVM {} on {}", req.dr_svm, obs.dr.name()))
                }
                _ => Check::Done(format!("SVM {} is not running", req.dr_svm)),
            }
        }
        Step::Initialize => {
            if !req.initialize {
                return Check::Skipped("--no-initialize".into());
            }
            match obs
                .relationship
                .as_ref()
                .map(|r| (r.state, r.transfer_state()))
            {
                None | Some((Some(RelationshipState::Uninitialized), _)) => {
                    Check::Todo("baseline transfer until snapmirrored".into())
                }
                Some((
                    Some(RelationshipState::Snapmirrored),
                    Some(TransferState::Transferring | TransferState::Queued),
                )) => Check::Todo("wait for the running transfer".into()),
                Some((Some(RelationshipState::Snapmirrored | RelationshipState::Paused), _)) => {
                    Check::Done("snapmirrored".into())
                }
                Some((Some(RelationshipState::BrokenOff), _)) => Check::Unsafe(format!(
                    "the relationship to {}: is broken off (the DR SVM was activated and may hold \
                     new data); peer will not overwrite it: use `kubectl svmdr resync` or \
                     `kubectl svmdr failback`",
                    req.dr_svm
                )),
                Some((state, _)) => Check::Blocked(format!(
                    "the relationship is {}; peer can initialize only an uninitialized one",
                    state.map_or("unknown", |s| s.as_str())
                )),
            }
        }
    }
}

fn redacted() -> Value {
    json!("<redacted>")
}

/// A one-sided cluster peer that waits for the other cluster: the offer
/// was made (`pending`, or `problem` once it expired) and never accepted.
/// Setting a new passphrase on it cannot disturb a working peering.
fn is_unaccepted_offer(peer: &ClusterPeer) -> bool {
    matches!(
        peer.authentication.as_ref().and_then(|a| a.state),
        Some(PeerAuthState::Pending | PeerAuthState::Problem)
    )
}

fn offer_state(peer: &ClusterPeer) -> String {
    let auth = peer.authentication.as_ref();
    let state = auth.and_then(|a| a.state).map_or("unknown", |s| s.as_str());
    match auth.and_then(|a| a.expiry_time.as_deref()) {
        Some(t) if is_past(t) => format!("{state}, expired {t}"),
        Some(t) => format!("{state}, expires {t}"),
        None => state.to_string(),
    }
}

/// Whether an ONTAP date-time lies in the past (durations never do).
fn is_past(t: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(t).is_ok_and(|at| at < chrono::Utc::now())
}

/// Which cluster holds the unaccepted offer and which must accept it.
struct Resume<'a> {
    /// The side holding the offer.
    offering: Side,
    /// The offer's UUID on that side.
    uuid: String,
    /// The offering cluster's view.
    offer_view: &'a ClusterView,
    /// The accepting cluster's view.
    accept_view: &'a ClusterView,
    /// What the PATCH on the offer sends.
    patch: PatchClusterPeer,
}

/// The resume plan when exactly one side holds an unaccepted offer.
/// `passphrase` is the new one (a placeholder in dry runs).
fn resume_plan(obs: &Observed, passphrase: Secret) -> Option<Resume<'_>> {
    let p_name = obs.primary.name();
    let d_name = obs.dr.name();
    let (offering, offer, offer_view, accept_view) =
        match (obs.primary.peer_for(d_name), obs.dr.peer_for(p_name)) {
            (Some(o), None) if is_unaccepted_offer(o) => (Side::Primary, o, &obs.primary, &obs.dr),
            (None, Some(o)) if is_unaccepted_offer(o) => (Side::Dr, o, &obs.dr, &obs.primary),
            _ => return None,
        };
    // Point the offer at the accepting cluster's current intercluster LIFs
    // when they changed since it was made.
    let wanted = accept_view.intercluster_addresses();
    let mut have = offer
        .remote
        .as_ref()
        .and_then(|r| r.ip_addresses.clone())
        .unwrap_or_default();
    have.sort();
    let mut sorted = wanted.clone();
    sorted.sort();
    let remote_ips = (!wanted.is_empty() && have != sorted).then_some(wanted);
    Some(Resume {
        offering,
        uuid: offer
            .uuid
            .clone()
            .unwrap_or_else(|| "<uuid of the pending offer>".into()),
        offer_view,
        accept_view,
        patch: PatchClusterPeer {
            remote_ips,
            passphrase: Some(passphrase),
            // A new passphrase also renews an expired offer.
            expiry: Some(PASSPHRASE_EXPIRY.into()),
            ..PatchClusterPeer::default()
        },
    })
}

/// The encryption the accepting side proposes: the offer's, else TLS-PSK.
fn offer_encryption(offer_view: &ClusterView, accept_view: &ClusterView) -> PeerEncryption {
    offer_view
        .peer_for(accept_view.name())
        .and_then(|p| p.encryption.as_ref())
        .and_then(|e| e.proposed)
        .unwrap_or(PeerEncryption::TlsPsk)
}

/// Characters of a passphrase svmdr sets on a resumed offer.
const PASSPHRASE_LEN: usize = 40;

/// A strong random passphrase (letters and digits, 40 characters, about
/// 238 bits), well above ONTAP's minimum length.
pub(super) fn new_passphrase() -> Secret {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    Secret::new(
        (0..PASSPHRASE_LEN)
            .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
            .collect::<String>(),
    )
}

/// The ONTAP calls a step would make (secrets redacted). Pure; objects not
/// created yet appear as `<uuid of ...>`.
pub fn planned_calls(step: Step, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
    let p = obs.primary.name().to_string();
    let d = obs.dr.name().to_string();
    let call = |cluster: &str, method: &str, path: &str, body: Option<Value>| PlannedCall {
        cluster: cluster.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        body,
    };
    match step {
        Step::SourceSvm => Vec::new(),
        Step::PrimaryInterclusterLifs | Step::DrInterclusterLifs => {
            let (view, specs, name) = if step == Step::PrimaryInterclusterLifs {
                (&obs.primary, &req.primary_lifs, &p)
            } else {
                (&obs.dr, &req.dr_lifs, &d)
            };
            let missing = view.nodes_without_intercluster();
            specs
                .iter()
                .filter(|s| missing.contains(&s.node))
                .map(|s| {
                    call(
                        name,
                        "POST",
                        "/api/network/ip/interfaces",
                        Some(lif_body(&new_lif(s, &req.ipspace))),
                    )
                })
                .collect()
        }
        Step::ClusterPeer => {
            if let Some(r) = resume_plan(obs, Secret::new("<redacted>")) {
                let enc = offer_encryption(r.offer_view, r.accept_view);
                return vec![
                    call(
                        r.offer_view.name(),
                        "PATCH",
                        &format!("/api/cluster/peers/{}", r.uuid),
                        Some(r.patch.redacted_body()),
                    ),
                    call(
                        r.accept_view.name(),
                        "POST",
                        "/api/cluster/peers",
                        Some(json!({
                            "remote": {"ip_addresses": r.offer_view.intercluster_addresses()},
                            "authentication": {"passphrase": redacted()},
                            "encryption": {"proposed": enc.as_str()},
                        })),
                    ),
                ];
            }
            vec![
                call(
                    &p,
                    "POST",
                    "/api/cluster/peers",
                    Some(json!({
                        "remote": {"ip_addresses": obs.dr.intercluster_addresses()},
                        "authentication": {"generate_passphrase": true, "expiry_time": PASSPHRASE_EXPIRY},
                        "encryption": {"proposed": "tls_psk"},
                    })),
                ),
                call(
                    &d,
                    "POST",
                    "/api/cluster/peers",
                    Some(json!({
                        "remote": {"ip_addresses": obs.primary.intercluster_addresses()},
                        "authentication": {"passphrase": redacted()},
                        "encryption": {"proposed": "tls_psk"},
                    })),
                ),
            ]
        }
        Step::DestinationSvm => vec![call(
            &d,
            "POST",
            "/api/svm/svms",
            Some(json!({"name": req.dr_svm, "subtype": "dp_destination"})),
        )],
        Step::SvmPeer => vec![call(
            &d,
            "POST",
            "/api/svm/peers?return_records=true",
            Some(json!({
                "svm": {"name": req.dr_svm},
                "peer": {"cluster": {"name": dr_name_for_primary(obs)}, "svm": {"name": req.svm}},
                "applications": ["snapmirror"],
            })),
        )],
        Step::SvmPeerAccept => {
            let uuid = svm_peer_toward(&obs.primary, &req.svm, &req.dr_svm)
                .and_then(|x| x.uuid.clone())
                .unwrap_or_else(|| "<uuid of the pending SVM peer>".into());
            vec![call(
                &p,
                "PATCH",
                &format!("/api/svm/peers/{uuid}"),
                Some(json!({"state": "peered"})),
            )]
        }
        Step::Relationship => {
            if let Some(r) = &obs.relationship {
                let Ok((change, _)) = super::settings::relationship_change(req, obs, r) else {
                    return Vec::new();
                };
                if change.is_empty() {
                    return Vec::new();
                }
                let uuid = r
                    .uuid
                    .clone()
                    .unwrap_or_else(|| "<uuid of the relationship>".into());
                return vec![call(
                    &d,
                    "PATCH",
                    &format!("/api/snapmirror/relationships/{uuid}"),
                    Some(change.body()),
                )];
            }
            let mut body = json!({
                "source": {"path": source_path(obs, req), "cluster": {"name": dr_name_for_primary(obs)}},
                "destination": {"path": format!("{}:", req.dr_svm)},
                "policy": {"name": req.policy},
                "identity_preservation": req.identity_preservation.as_str(),
            });
            if let Some(s) = &req.schedule {
                body["transfer_schedule"] = json!({"name": s});
            }
            if let Some(t) = req.throttle {
                body["throttle"] = json!(t);
            }
            vec![call(
                &d,
                "POST",
                "/api/snapmirror/relationships",
                Some(body),
            )]
        }
        Step::StopDestinationSvm => {
            let uuid = obs
                .dr
                .svm
                .as_ref()
                .and_then(|s| s.uuid.clone())
                .unwrap_or_else(|| "<uuid of the DR SVM>".into());
            vec![call(
                &d,
                "PATCH",
                &format!("/api/svm/svms/{uuid}"),
                Some(json!({"state": "stopped"})),
            )]
        }
        Step::Initialize => {
            let uuid = obs
                .relationship
                .as_ref()
                .and_then(|r| r.uuid.clone())
                .unwrap_or_else(|| "<uuid of the new relationship>".into());
            vec![call(
                &d,
                "PATCH",
                &format!("/api/snapmirror/relationships/{uuid}"),
                Some(json!({"state": "snapmirrored"})),
            )]
        }
    }
}

/// How long the generated cluster peer passphrase stays valid.
const PASSPHRASE_EXPIRY: &str = "PT1H";

fn new_lif(spec: &super::LifSpec, ipspace: &str) -> NewInterclusterLif {
    NewInterclusterLif {
        name: spec.lif_name(),
        address: spec.address.clone(),
        netmask: spec.netmask.clone(),
        home_node: spec.node.clone(),
        placement: match &spec.port {
            Some(p) => LifPlacement::Port(p.clone()),
            None => LifPlacement::BroadcastDomain("Default".into()),
        },
        ipspace: ipspace.to_string(),
    }
}

fn lif_body(l: &NewInterclusterLif) -> Value {
    let mut location = json!({"home_node": {"name": l.home_node}});
    match &l.placement {
        LifPlacement::Port(p) => location["home_port"] = json!({"name": p}),
        LifPlacement::BroadcastDomain(b) => location["broadcast_domain"] = json!({"name": b}),
    }
    json!({
        "name": l.name,
        "ip": {"address": l.address, "netmask": l.netmask},
        "ipspace": {"name": l.ipspace},
        "service_policy": {"name": "default-intercluster"},
        "location": location,
    })
}

/// Both sites' clients.
pub struct Clients<'a> {
    /// Primary cluster.
    pub primary: &'a OntapClient,
    /// DR cluster.
    pub dr: &'a OntapClient,
}

/// Performs a step whose check said `Todo`.
///
/// # Errors
/// [`PeeringError::Ontap`] naming the step, or `Blocked` when a wait ran out.
pub async fn apply(
    step: Step,
    req: &PeerRequest,
    obs: &Observed,
    clients: &Clients<'_>,
    reporter: &dyn Reporter,
) -> Result<(), PeeringError> {
    let ontap = |e| PeeringError::Ontap {
        step: step.title().to_string(),
        source: Box::new(e),
    };
    match step {
        Step::SourceSvm => Ok(()),
        Step::PrimaryInterclusterLifs | Step::DrInterclusterLifs => {
            let (view, specs, client) = if step == Step::PrimaryInterclusterLifs {
                (&obs.primary, &req.primary_lifs, clients.primary)
            } else {
                (&obs.dr, &req.dr_lifs, clients.dr)
            };
            let missing = view.nodes_without_intercluster();
            for spec in specs.iter().filter(|s| missing.contains(&s.node)) {
                client
                    .create_intercluster_interface(&new_lif(spec, &req.ipspace))
                    .await
                    .map_err(ontap)?;
                reporter.note(&format!(
                    "created intercluster LIF {} ({spec}) on {}",
                    spec.lif_name(),
                    view.name()
                ));
            }
            Ok(())
        }
        Step::ClusterPeer => {
            if let Some(r) = resume_plan(obs, new_passphrase()) {
                return resume_offer(step, req, &r, clients, reporter).await;
            }
            let created = clients
                .primary
                .create_cluster_peer(&CreateClusterPeer {
                    remote_ips: obs.dr.intercluster_addresses(),
                    passphrase: None,
                    expiry: Some(PASSPHRASE_EXPIRY.into()),
                    encryption: Some(PeerEncryption::TlsPsk),
                    ..CreateClusterPeer::default()
                })
                .await
                .map_err(ontap)?;
            let passphrase = created.passphrase.ok_or_else(|| PeeringError::Blocked {
                step: step.title().into(),
                detail: format!(
                    "{} created the peer offer but returned no passphrase; re-run: the next \
                     run sets a new passphrase on that offer",
                    obs.primary.name(),
                ),
            })?;
            clients
                .dr
                .create_cluster_peer(&CreateClusterPeer {
                    remote_ips: obs.primary.intercluster_addresses(),
                    passphrase: Some(passphrase),
                    encryption: Some(PeerEncryption::TlsPsk),
                    ..CreateClusterPeer::default()
                })
                .await
                .map_err(|e| PeeringError::Ontap {
                    step: format!(
                        "{} (the offer on {} stays pending; a re-run sets a new passphrase on it \
                         and continues)",
                        step.title(),
                        obs.primary.name(),
                    ),
                    source: Box::new(e),
                })?;
            wait_cluster_peer(clients.dr, obs.primary.name(), req.wait_timeout)
                .await
                .map_err(|detail| PeeringError::Blocked {
                    step: step.title().into(),
                    detail,
                })
        }
        Step::DestinationSvm => {
            clients
                .dr
                .create_dp_destination_svm(&req.dr_svm)
                .await
                .map_err(ontap)?;
            Ok(())
        }
        Step::SvmPeer => {
            clients
                .dr
                .create_svm_peer(
                    &req.dr_svm,
                    &dr_name_for_primary(obs),
                    &req.svm,
                    &[SvmPeerApplication::Snapmirror],
                )
                .await
                .map_err(ontap)?;
            Ok(())
        }
        Step::SvmPeerAccept => {
            let deadline = Instant::now() + req.wait_timeout;
            loop {
                let pending = clients
                    .primary
                    .svm_peers(&crate::ontap::SvmPeerQuery {
                        svm: Some(req.svm.clone()),
                        peer_svm: Some(req.dr_svm.clone()),
                        ..Default::default()
                    })
                    .await
                    .map_err(ontap)?;
                match pending.first() {
                    Some(p) if p.state == Some(SvmPeerState::Peered) => return Ok(()),
                    Some(p) if p.state == Some(SvmPeerState::Pending) => {
                        let uuid = p.uuid.clone().unwrap_or_default();
                        clients
                            .primary
                            .accept_svm_peer(&uuid)
                            .await
                            .map_err(ontap)?;
                        return Ok(());
                    }
                    _ if Instant::now() >= deadline => {
                        return Err(PeeringError::Blocked {
                            step: step.title().into(),
                            detail: format!(
                                "the SVM peer request from {} did not reach {} as pending within \
                                 {:?}; check the cluster peer health and re-run",
                                obs.dr.name(),
                                obs.primary.name(),
                                req.wait_timeout
                            ),
                        });
                    }
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        }
        Step::Relationship => {
            if let Some(r) = &obs.relationship {
                let (change, deltas) =
                    super::settings::relationship_change(req, obs, r).map_err(|detail| {
                        PeeringError::Blocked {
                            step: step.title().into(),
                            detail,
                        }
                    })?;
                // Without a UUID the PATCH would go to the collection path.
                let uuid = r.uuid.clone().ok_or_else(|| PeeringError::Blocked {
                    step: step.title().into(),
                    detail: "ONTAP reported the relationship without a uuid; cannot change it"
                        .into(),
                })?;
                clients
                    .dr
                    .patch_relationship(&uuid, &change)
                    .await
                    .map_err(ontap)?;
                let text: Vec<String> = deltas.iter().map(ToString::to_string).collect();
                reporter.note(&format!(
                    "changed the relationship {} -> {}: on {}: {}",
                    r.source_path(),
                    req.dr_svm,
                    obs.dr.name(),
                    text.join(", ")
                ));
                return Ok(());
            }
            let identity = match &obs.policy {
                // Before 9.11.1 identity preservation lives on the policy only.
                Some(p)
                    if !obs
                        .dr
                        .cluster
                        .version
                        .as_ref()
                        .is_some_and(|v| v.at_least(9, 11, 1))
                        && obs.dr.cluster.version.is_some() =>
                {
                    if p.identity_preservation != Some(req.identity_preservation) {
                        reporter.note(&format!(
                            "{} is older than 9.11.1: identity preservation comes from policy {} ({})",
                            obs.dr.name(),
                            req.policy,
                            p.identity_preservation.map_or("unset", |i| i.as_str())
                        ));
                    }
                    None
                }
                _ => Some(req.identity_preservation),
            };
            clients
                .dr
                .create_relationship_throttled(
                    &CreateRelationship {
                        source_path: source_path(obs, req),
                        source_cluster: Some(dr_name_for_primary(obs)),
                        destination_path: format!("{}:", req.dr_svm),
                        policy: Some(req.policy.clone()),
                        identity_preservation: identity,
                        transfer_schedule: req.schedule.clone(),
                    },
                    req.throttle,
                )
                .await
                .map_err(ontap)?;
            Ok(())
        }
        Step::StopDestinationSvm => {
            let uuid = obs
                .dr
                .svm
                .as_ref()
                .and_then(|s| s.uuid.clone())
                .unwrap_or_default();
            clients
                .dr
                .set_svm_state(&uuid, SvmState::Stopped)
                .await
                .map_err(ontap)?;
            Ok(())
        }
        Step::Initialize => {
            let rel = obs
                .relationship
                .as_ref()
                .ok_or_else(|| PeeringError::Blocked {
                    step: step.title().into(),
                    detail: "the relationship is missing".into(),
                })?;
            let uuid = rel.uuid.clone().unwrap_or_default();
            if rel.state == Some(RelationshipState::Uninitialized) && !rel.is_transferring() {
                clients
                    .dr
                    .patch_relationship_state(
                        &uuid,
                        RelationshipState::Snapmirrored,
                        PatchOptions::default(),
                    )
                    .await
                    .map_err(ontap)?;
            }
            let task = format!("initialize {}:", req.dr_svm);
            let done = clients
                .dr
                .wait_relationship(
                    &uuid,
                    |r| {
                        r.state == Some(RelationshipState::Snapmirrored) && !r.is_transferring()
                            || matches!(
                                r.transfer_state(),
                                Some(
                                    TransferState::Failed
                                        | TransferState::Aborted
                                        | TransferState::HardAborted
                                )
                            )
                    },
                    req.init_timeout,
                    Duration::from_millis(250),
                    |r| {
                        let bytes = r
                            .transfer
                            .as_ref()
                            .and_then(|t| t.bytes_transferred)
                            .unwrap_or(0);
                        reporter.progress(&task, bytes, None, r.state.map_or("", |s| s.as_str()));
                    },
                )
                .await;
            reporter.progress_finished(&task);
            let done = done.map_err(ontap)?;
            if done.state != Some(RelationshipState::Snapmirrored) {
                return Err(PeeringError::Blocked {
                    step: step.title().into(),
                    detail: format!(
                        "the baseline transfer ended {}: {}; fix the cause and re-run",
                        done.transfer_state().map_or("?", |s| s.as_str()),
                        done.summary()
                    ),
                });
            }
            Ok(())
        }
    }
}

/// Completes a peering a previous run left half-done: a new passphrase on
/// the unaccepted offer (PATCH, which also renews its expiry), then the
/// other cluster's POST with it.
async fn resume_offer(
    step: Step,
    req: &PeerRequest,
    r: &Resume<'_>,
    clients: &Clients<'_>,
    reporter: &dyn Reporter,
) -> Result<(), PeeringError> {
    let (offering, accepting) = match r.offering {
        Side::Primary => (clients.primary, clients.dr),
        Side::Dr => (clients.dr, clients.primary),
    };
    let (o_name, a_name) = (r.offer_view.name(), r.accept_view.name());
    let passphrase = r
        .patch
        .passphrase
        .clone()
        .ok_or_else(|| PeeringError::Blocked {
            step: step.title().into(),
            detail: "no passphrase to set on the pending offer".into(),
        })?;
    offering
        .patch_cluster_peer(&r.uuid, &r.patch)
        .await
        .map_err(|e| PeeringError::Ontap {
            step: format!(
                "{} (setting a new passphrase on the pending offer on {o_name})",
                step.title()
            ),
            source: Box::new(e),
        })?;
    reporter.note(&format!(
        "resumed: new passphrase on the pending offer on {o_name} (valid {PASSPHRASE_EXPIRY})"
    ));
    accepting
        .create_cluster_peer(&CreateClusterPeer {
            remote_ips: r.offer_view.intercluster_addresses(),
            passphrase: Some(passphrase),
            encryption: Some(offer_encryption(r.offer_view, r.accept_view)),
            ..CreateClusterPeer::default()
        })
        .await
        .map_err(|e| PeeringError::Ontap {
            step: format!(
                "{} (the offer on {o_name} stays pending; a re-run sets a new passphrase on it \
                 and continues)",
                step.title()
            ),
            source: Box::new(e),
        })?;
    wait_cluster_peer(accepting, o_name, req.wait_timeout)
        .await
        .map_err(|detail| PeeringError::Blocked {
            step: format!("{} ({a_name})", step.title()),
            detail,
        })
}

async fn wait_cluster_peer(
    dr: &OntapClient,
    primary: &str,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut last = String::from("not seen");
    while Instant::now() < deadline {
        match dr.cluster_peers().await {
            Ok(peers) => {
                if let Some(p) = peers.iter().find(|p| {
                    p.remote.as_ref().and_then(|r| r.name.as_deref()) == Some(primary)
                        || p.name.as_deref() == Some(primary)
                }) {
                    if p.is_healthy() {
                        return Ok(());
                    }
                    last = format!(
                        "availability {}, authentication {}",
                        p.status
                            .as_ref()
                            .and_then(|s| s.state)
                            .map_or("?", |s| s.as_str()),
                        p.authentication
                            .as_ref()
                            .and_then(|a| a.state)
                            .map_or("?", |s| s.as_str())
                    );
                }
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(format!(
        "the cluster peer with {primary} is not healthy after {timeout:?} ({last}); check that \
         the intercluster LIFs of both clusters reach each other, then re-run"
    ))
}

/// The identity-preservation values, for flags.
pub fn identity_from_flag(s: &str) -> Option<IdentityPreservation> {
    match s {
        "full" => Some(IdentityPreservation::Full),
        "exclude-network-config" | "exclude_network_config" => {
            Some(IdentityPreservation::ExcludeNetworkConfig)
        }
        "exclude-network-and-protocol-config" | "exclude_network_and_protocol_config" => {
            Some(IdentityPreservation::ExcludeNetworkAndProtocolConfig)
        }
        _ => None,
    }
}
