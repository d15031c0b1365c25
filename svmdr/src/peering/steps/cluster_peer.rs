//! The cluster peer: both clusters' records, made with a generated
//! passphrase and TLS-PSK, and waited for until healthy. A run that
//! stopped between the two POSTs left an unaccepted offer; the next run
//! resumes it with a new random passphrase (see the module caveats in
//! [`crate::peering`]).

use std::time::Duration;

use serde_json::{Value, json};

use super::spec::{Action, Apply, Clients, PeerCheck, PeeringStep, blocked, call, ontap_error};
use crate::ontap::models::{ClusterPeer, PeerAuthState, PeerEncryption};
use crate::ontap::{CreateClusterPeer, OntapClient, PatchClusterPeer};
use crate::peering::observe::{ClusterView, Observed};
use crate::peering::request::{PeerRequest, PeeringError, PlannedCall};
use crate::poll::{Pace, Poller};
use crate::report::Reporter;
use crate::secret::Secret;
use crate::site::SiteRole;

/// Pause between reads of the cluster peer while waiting for it.
const PEER_POLL: Duration = Duration::from_millis(250);

/// Cluster peer records on both clusters.
pub struct ClusterPeering;

impl PeeringStep for ClusterPeering {
    fn title(&self) -> &'static str {
        "cluster peer"
    }

    fn check(&self, _: &PeerRequest, obs: &Observed) -> PeerCheck {
        let p_name = obs.primary.name().to_string();
        let d_name = obs.dr.name().to_string();
        match (obs.primary.peer_for(&d_name), obs.dr.peer_for(&p_name)) {
            (Some(a), Some(b)) => PeerCheck::Done(format!(
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
            (None, None) => PeerCheck::Todo(format!(
                "peer {p_name} and {d_name} (generated passphrase, TLS-PSK encryption)"
            )),
            (Some(offer), None) if is_unaccepted_offer(offer) => PeerCheck::Todo(format!(
                "resume: {p_name} holds an offer for {d_name} that {d_name} never accepted \
                 ({}); set a new passphrase on it and peer {d_name} with it",
                offer_state(offer)
            )),
            (None, Some(offer)) if is_unaccepted_offer(offer) => PeerCheck::Todo(format!(
                "resume: {d_name} holds an offer for {p_name} that {p_name} never accepted \
                 ({}); set a new passphrase on it and peer {p_name} with it",
                offer_state(offer)
            )),
            (Some(a), None) => PeerCheck::Blocked(format!(
                "half-configured cluster peer: {p_name} has a peer record for {d_name} \
                 (authentication {}) but {d_name} has none; it is not an unaccepted offer, so \
                 kubectl svmdr will not change it: delete it on {p_name} (`cluster peer delete \
                 -cluster {d_name}`) and re-run",
                offer_state(a)
            )),
            (None, Some(b)) => PeerCheck::Blocked(format!(
                "half-configured cluster peer: {d_name} has a peer record for {p_name} \
                 (authentication {}) but {p_name} has none; it is not an unaccepted offer, so \
                 kubectl svmdr will not change it: delete it on {d_name} (`cluster peer delete \
                 -cluster {p_name}`) and re-run",
                offer_state(b)
            )),
        }
    }

    fn calls(&self, _: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        let p = obs.primary.name().to_string();
        let d = obs.dr.name().to_string();
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

    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            let Apply {
                req,
                obs,
                clients,
                reporter,
            } = cx;
            let ontap = ontap_error(self);
            if let Some(r) = resume_plan(obs, new_passphrase()) {
                return resume_offer(self, req, &r, clients, reporter).await;
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
            let passphrase = created.passphrase.ok_or_else(|| {
                blocked(
                    self,
                    format!(
                        "{} created the peer offer but returned no passphrase; re-run: the next \
                         run sets a new passphrase on that offer",
                        obs.primary.name(),
                    ),
                )
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
                        self.title(),
                        obs.primary.name(),
                    ),
                    source: Box::new(e),
                })?;
            wait_cluster_peer(clients.dr, obs.primary.name(), req.wait_timeout)
                .await
                .map_err(|detail| blocked(self, detail))
        })
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
    offering: SiteRole,
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
            (Some(o), None) if is_unaccepted_offer(o) => {
                (SiteRole::Primary, o, &obs.primary, &obs.dr)
            }
            (None, Some(o)) if is_unaccepted_offer(o) => (SiteRole::Dr, o, &obs.dr, &obs.primary),
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
pub(crate) fn new_passphrase() -> Secret {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    Secret::new(
        (0..PASSPHRASE_LEN)
            .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
            .collect::<String>(),
    )
}

/// How long the generated cluster peer passphrase stays valid.
const PASSPHRASE_EXPIRY: &str = "PT1H";
/// Completes a peering a previous run left half-done: a new passphrase on
/// the unaccepted offer (PATCH, which also renews its expiry), then the
/// other cluster's POST with it.
async fn resume_offer(
    step: &ClusterPeering,
    req: &PeerRequest,
    r: &Resume<'_>,
    clients: &Clients<'_>,
    reporter: &dyn Reporter,
) -> Result<(), PeeringError> {
    let (offering, accepting) = match r.offering {
        SiteRole::Primary => (clients.primary, clients.dr),
        SiteRole::Dr => (clients.dr, clients.primary),
    };
    let (o_name, a_name) = (r.offer_view.name(), r.accept_view.name());
    let passphrase = r
        .patch
        .passphrase
        .clone()
        .ok_or_else(|| blocked(step, "no passphrase to set on the pending offer"))?;
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

/// Waits until `client`'s cluster peer record of `remote` is healthy.
async fn wait_cluster_peer(
    client: &OntapClient,
    remote: &str,
    timeout: Duration,
) -> Result<(), String> {
    let mut last = String::from("not seen");
    let mut poller = Poller::start(Pace::every(PEER_POLL, timeout));
    loop {
        poller.tick();
        match client.cluster_peers().await {
            Ok(peers) => {
                if let Some(p) = peers.iter().find(|p| {
                    p.remote.as_ref().and_then(|r| r.name.as_deref()) == Some(remote)
                        || p.name.as_deref() == Some(remote)
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
        if let Err(e) = poller.pending::<String, _>(&last).await {
            return Err(e.or_timeout(|_, last| {
                format!(
                    "the cluster peer with {remote} is not healthy after {timeout:?} ({last}); \
                     check that the intercluster LIFs of both clusters reach each other, then \
                     re-run"
                )
            }));
        }
    }
}
