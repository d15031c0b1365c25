//! `/api/cluster/peers`: the two-sided cluster peering flow. Each side keeps
//! its own record (own uuid). A POST either makes an offer (pending, with a
//! passphrase that expires) or completes the other side's offer when the
//! passphrase matches, after which both records are `available`/`ok`.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::timefmt::parse_duration;
use super::world::{ClusterPeer, World, new_uuid, ts};

const SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::CLUSTER_PEERS,
};
const MAX_EXPIRY_SECS: i64 = 7 * 86_400;

/// One side's record, every field.
pub fn peer_json(w: &World, p: &ClusterPeer) -> Value {
    let remote = w.cluster(&p.remote);
    let remote_down = w.is_down(&p.remote);
    let state = match p.auth.as_str() {
        "ok" if remote_down => "unavailable",
        "ok" => "available",
        "pending" => "pending",
        _ => "unavailable",
    };
    let mut v = json!({
        "uuid": p.uuid,
        "name": p.name,
        "remote": {
            "name": remote.map(|c| c.name.clone()).unwrap_or_default(),
            "serial_number": remote.map(|c| c.serial.clone()).unwrap_or_default(),
            "ip_addresses": p.remote_ips,
        },
        "status": {"state": state, "update_time": ts(Utc::now())},
        "authentication": {
            "state": p.auth,
            "in_use": if p.auth == "ok" { "ok" } else { "absent" },
            "expiry_time": ts(p.expiry),
        },
        "encryption": {"proposed": p.encryption, "state": if p.auth == "ok" { p.encryption.as_str() } else { "none" }},
        "ipspace": {"name": p.ipspace},
        "peer_applications": p.applications,
        "initial_allowed_svms": p.initial_allowed_svms.iter().map(|s| json!({"name": s})).collect::<Vec<_>>(),
        "_links": {"self": {"href": format!("/api/cluster/peers/{}", p.uuid)}},
    });
    if let Some(c) = remote
        && p.auth == "ok"
    {
        v["version"] = c.version_json();
    }
    v
}

/// Routes the cluster peer endpoints (cluster administrators only).
pub fn handle(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    ctx.require_cluster_admin()?;
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .cluster_peers
                .iter()
                .filter(|p| p.cluster == ctx.cluster)
                .map(|p| peer_json(w, p))
                .collect();
            Ok(Reply::ok(collection(
                "/api/cluster/peers",
                &ctx.query,
                recs,
                &SHAPE,
            )?))
        }
        (&Method::POST, []) => create(w, ctx),
        (m, [id]) => {
            check_uuid(id)?;
            let idx = w
                .cluster_peers
                .iter()
                .position(|p| p.uuid == *id && p.cluster == ctx.cluster)
                .ok_or_else(|| ApiError::not_found(format!("Cluster peer \"{id}\" not found.")))?;
            match *m {
                Method::GET => Ok(Reply::ok(instance(
                    &peer_json(w, &w.cluster_peers[idx]),
                    &ctx.query,
                    &SHAPE,
                )?)),
                Method::PATCH => patch(w, ctx, idx),
                Method::DELETE => {
                    let remote = w.cluster_peers[idx].remote.clone();
                    if w.svm_peers
                        .iter()
                        .any(|s| s.cluster == ctx.cluster && s.peer_cluster == remote)
                    {
                        return Err(ApiError::new(
                            StatusCode::CONFLICT,
                            8,
                            format!(
                                "Cannot delete the peer relationship with cluster \"{}\": SVM peer relationships with it still exist. Delete them first.",
                                w.cluster_name(&remote)
                            ),
                        ));
                    }
                    w.cluster_peers.remove(idx);
                    Ok(Reply::empty())
                }
                _ => Err(not_allowed(ctx)),
            }
        }
        _ => Err(not_allowed(ctx)),
    }
}

fn generate_passphrase() -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn parse_expiry(text: &str) -> Result<DateTime<Utc>, ApiError> {
    let now = Utc::now();
    let at = if let Some(secs) = parse_duration(text) {
        now + ChronoDuration::seconds(secs as i64)
    } else if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.with_timezone(&Utc)
    } else {
        return Err(
            ApiError::invalid(format!("Invalid expiry time \"{text}\"."))
                .target("authentication.expiry_time"),
        );
    };
    if at - now > ChronoDuration::seconds(MAX_EXPIRY_SECS + 1) {
        return Err(ApiError::bad(
            4655058,
            "The expiration time cannot be more than seven days in the future.",
        )
        .target("authentication.expiry_time"));
    }
    Ok(at)
}

/// Resolves remote IPs to one remote cluster key.
fn resolve_remote(w: &World, ctx: &Ctx, ips: &[String]) -> Result<String, ApiError> {
    let mut remote: Option<String> = None;
    for ip in ips {
        let owner = w
            .lifs
            .iter()
            .find(|l| l.svm.is_none() && l.service_policy == "default-intercluster" && &l.ip == ip)
            .map(|l| l.cluster.clone());
        match owner {
            Some(c) if c == ctx.cluster => {
                return Err(ApiError::bad(4653058, format!("Cannot peer with the local cluster: {ip} is one of this cluster's intercluster addresses.")).target("remote.ip_addresses"));
            }
            Some(c) => {
                if remote.as_ref().is_some_and(|r| *r != c) {
                    return Err(ApiError::bad(
                        4653368,
                        "The remote addresses belong to more than one cluster.",
                    )
                    .target("remote.ip_addresses"));
                }
                remote = Some(c);
            }
            None => {
                return Err(ApiError::bad(4653368, format!("Invalid peer address {ip}: no intercluster LIF answers on it. Use the remote cluster's intercluster LIF addresses.")).target("remote.ip_addresses"));
            }
        }
    }
    remote.ok_or_else(|| {
        ApiError::bad(4656077, "Specify remote.ip_addresses.").target("remote.ip_addresses")
    })
}

fn create(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let ips: Vec<String> = ctx
        .v("remote.ip_addresses")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let passphrase = ctx.s("authentication.passphrase").map(str::to_string);
    let generate = ctx.b("authentication.generate_passphrase").unwrap_or(false);
    if passphrase.is_some() && generate {
        return Err(ApiError::invalid("Specify either authentication.passphrase or authentication.generate_passphrase, not both.").target("authentication.passphrase"));
    }
    if passphrase.is_some() && ips.is_empty() {
        return Err(
            ApiError::bad(4656069, "A passphrase requires remote.ip_addresses.")
                .target("remote.ip_addresses"),
        );
    }
    if passphrase.is_none() && !generate {
        return Err(ApiError::bad(4656077, "Either give remote.ip_addresses with authentication.passphrase, or set authentication.generate_passphrase.").target("authentication"));
    }
    if ips.is_empty() {
        return Err(ApiError::bad(
            4656077,
            "The simulator needs remote.ip_addresses to know which cluster to peer with.",
        )
        .target("remote.ip_addresses"));
    }
    if let Some(p) = &passphrase
        && p.chars().count() < 8
    {
        return Err(ApiError::bad(
            4653236,
            "The passphrase must be at least 8 characters long.",
        )
        .target("authentication.passphrase"));
    }
    let expiry = match ctx.s("authentication.expiry_time") {
        Some(t) => parse_expiry(t)?,
        None => Utc::now() + ChronoDuration::hours(1),
    };
    let encryption = ctx
        .s("encryption.proposed")
        .unwrap_or("tls_psk")
        .to_string();
    if !matches!(encryption.as_str(), "none" | "tls_psk") {
        return Err(ApiError::invalid(format!(
            "Invalid value \"{encryption}\" for encryption.proposed."
        ))
        .target("encryption.proposed"));
    }
    let remote = resolve_remote(w, ctx, &ips)?;
    let local_ic = w.lifs.iter().any(|l| {
        l.cluster == ctx.cluster && l.svm.is_none() && l.service_policy == "default-intercluster"
    });
    if !local_ic {
        return Err(ApiError::bad(4653368, "This cluster has no intercluster LIF: create one per node first (POST /api/network/ip/interfaces with service_policy default-intercluster).").target("remote.ip_addresses"));
    }
    if w.cluster_peers
        .iter()
        .any(|p| p.cluster == ctx.cluster && p.remote == remote)
    {
        return Err(ApiError::duplicate(format!(
            "A peer relationship with cluster \"{}\" already exists.",
            w.cluster_name(&remote)
        )));
    }
    let remote_name = w.cluster_name(&remote);
    let name = ctx.s("name").unwrap_or(&remote_name).to_string();
    let allowed: Vec<String> = ctx
        .v("initial_allowed_svms")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let phrase = passphrase.clone().unwrap_or_else(generate_passphrase);
    // Does the other side have an offer for us?
    let offer = w
        .cluster_peers
        .iter()
        .position(|p| p.cluster == remote && p.remote == ctx.cluster);
    let mut auth = "pending".to_string();
    if let Some(o) = offer
        && passphrase.is_some()
    {
        let theirs = &w.cluster_peers[o];
        // The second side must use the offer's current passphrase, before
        // it expires. ONTAP's reference lists no code for a failed
        // authentication, so this answers as a rejected field value:
        // 400 with code "2" (invalid field) naming authentication.passphrase,
        // and creates nothing.
        if theirs.auth != "ok" {
            if theirs.passphrase.as_deref() != Some(phrase.as_str()) {
                return Err(ApiError::invalid(format!(
                    "Authentication with cluster \"{}\" failed: the passphrase does not match its current peer offer. Use the passphrase of the latest offer, or set a new one on it.",
                    w.cluster_name(&remote)
                ))
                .target("authentication.passphrase"));
            }
            if Utc::now() > theirs.expiry {
                return Err(ApiError::invalid(format!(
                    "Authentication with cluster \"{}\" failed: its peer offer expired at {}. Set a new passphrase (and expiry_time) on the offer.",
                    w.cluster_name(&remote),
                    ts(theirs.expiry)
                ))
                .target("authentication.passphrase"));
            }
        }
        let ok = theirs.auth != "ok";
        auth = if ok { "ok".into() } else { "problem".into() };
        if ok {
            let local_ips: Vec<String> = w
                .lifs
                .iter()
                .filter(|l| {
                    l.cluster == ctx.cluster
                        && l.svm.is_none()
                        && l.service_policy == "default-intercluster"
                })
                .map(|l| l.ip.clone())
                .collect();
            let theirs = &mut w.cluster_peers[o];
            theirs.auth = "ok".into();
            if theirs.remote_ips.is_empty() {
                theirs.remote_ips = local_ips;
            }
        }
    }
    let peer = ClusterPeer {
        uuid: new_uuid(),
        cluster: ctx.cluster.clone(),
        remote,
        name,
        remote_ips: ips,
        passphrase: Some(phrase.clone()),
        expiry,
        encryption,
        auth,
        ipspace: ctx.s("ipspace.name").unwrap_or("Default").to_string(),
        initial_allowed_svms: allowed,
        applications: vec!["snapmirror".into(), "flexcache".into()],
    };
    let href = format!("/api/cluster/peers/{}", peer.uuid);
    let local_ip = w
        .lifs
        .iter()
        .find(|l| {
            l.cluster == ctx.cluster
                && l.svm.is_none()
                && l.service_policy == "default-intercluster"
        })
        .map(|l| l.ip.clone())
        .unwrap_or_default();
    let rec = json!({
        "uuid": peer.uuid,
        "name": peer.name,
        "authentication": {"passphrase": phrase, "expiry_time": ts(expiry)},
        "ip_address": local_ip,
        "_links": {"self": {"href": href}},
    });
    w.cluster_peers.push(peer);
    Ok(Reply::created(
        json!({"num_records": 1, "records": [rec]}),
        href,
    ))
}

/// `PATCH /api/cluster/peers/{uuid}`: remote IPs, name, passphrase,
/// expiry, encryption (200, synchronous). Everything is validated before
/// anything changes.
///
/// The answer is an empty object: ONTAP's reference documents the generated
/// passphrase in the POST response only (201 with the record); a PATCH
/// answers 200 without it (`docs/ontap-rest.md` §7).
/// So `generate_passphrase` is accepted here and sets a new passphrase, but
/// the simulator, like a client must assume of ONTAP, does not hand it back;
/// a client that needs to know it sets `authentication.passphrase` itself.
fn patch(w: &mut World, ctx: &Ctx, idx: usize) -> Result<Reply, ApiError> {
    let ips = match ctx.v("remote.ip_addresses") {
        None => None,
        Some(v) => {
            let ips: Vec<String> = v
                .as_array()
                .ok_or_else(|| {
                    ApiError::invalid("remote.ip_addresses must be an array.")
                        .target("remote.ip_addresses")
                })?
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            let remote = resolve_remote(w, ctx, &ips)?;
            if remote != w.cluster_peers[idx].remote {
                return Err(ApiError::bad(
                    4653368,
                    "The new addresses belong to a different cluster.",
                )
                .target("remote.ip_addresses"));
            }
            Some(ips)
        }
    };
    let expiry = match ctx.s("authentication.expiry_time") {
        Some(t) => Some(parse_expiry(t)?),
        None => None,
    };
    let given = ctx.s("authentication.passphrase").map(str::to_string);
    let generate = ctx.b("authentication.generate_passphrase") == Some(true);
    if given.is_some() && generate {
        return Err(ApiError::invalid("Specify either authentication.passphrase or authentication.generate_passphrase, not both.").target("authentication.passphrase"));
    }
    if let Some(p) = &given
        && p.chars().count() < 8
    {
        return Err(ApiError::bad(
            4653236,
            "The passphrase must be at least 8 characters long.",
        )
        .target("authentication.passphrase"));
    }
    let encryption = ctx.s("encryption.proposed");
    if let Some(e) = encryption
        && !matches!(e, "none" | "tls_psk")
    {
        return Err(
            ApiError::invalid(format!("Invalid value \"{e}\" for encryption.proposed."))
                .target("encryption.proposed"),
        );
    }
    let phrase = given.or_else(|| generate.then(generate_passphrase));
    let p = &mut w.cluster_peers[idx];
    if let Some(ips) = ips {
        p.remote_ips = ips;
    }
    if let Some(phrase) = phrase {
        // A new passphrase renews the offer (default 1 h, like a create).
        p.passphrase = Some(phrase);
        p.expiry = expiry.unwrap_or_else(|| Utc::now() + ChronoDuration::hours(1));
        if p.auth != "ok" {
            p.auth = "pending".into();
        }
    } else if let Some(e) = expiry {
        p.expiry = e;
    }
    if let Some(n) = ctx.s("name") {
        p.name = n.to_string();
    }
    if let Some(e) = encryption {
        p.encryption = e.to_string();
    }
    Ok(Reply::ok(json!({})))
}
