//! "Is the storage ready?" for one volume on one backend, with the TCP
//! probe and the bounded wait-for-ready shared by the PV and PVC actions.
//!
//! The backend's [`Transport`] (its `nasType` / `sanType`) decides the SVM
//! service flag, the data LIF service and the probe port. FC backends have
//! no IP data LIF: only the SVM and its FC service are checked, nothing is
//! probed, and the log line says "FC: LIF state not checked over IP".

use std::time::Duration;

use svmdr::poll::{Attempt, Pace, PollError, Tick, poll_until_fn};
use svmdr::readiness::{
    NotReady, Ready, SvmFacts, Transport, check_volume_for, find_volume_by_junction, same_address,
    svm_serving_lif_for,
};
use svmdr::trident::backend::Backend;
use svmdr::trident::volume::Protocol;

use super::RestoreInfo;
use crate::config::PluginConfig;
use crate::storage::DrStorage;

/// Which volume to check.
#[derive(Debug, Clone, Copy)]
pub enum VolumeSel<'a> {
    /// By ONTAP volume name.
    Name(&'a str),
    /// By junction path (legacy NFS PVs).
    Junction(&'a str),
    /// No volume check: a qtree or LUN of an economy backend, inside a shared
    /// FlexVol the facts do not list by that name. SVM and LIF are checked.
    SvmOnly(&'a str),
}

/// A volume that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The readiness facts.
    pub ready: Ready,
    /// The LIF that answered the probe (or was up, without probing): name, address.
    pub lif: (String, String),
    /// Whether the LIF was probed over TCP.
    pub probed: bool,
}

/// The transport to check for `backend` when the caller wants `protocol`:
/// the backend's own ([`Transport::for_backend`]) when it carries that
/// protocol, else the protocol's default (NFS, iSCSI).
pub fn transport_for(backend: &Backend, protocol: Protocol) -> Transport {
    let t = Transport::for_backend(backend);
    if t.protocol() == protocol {
        t
    } else {
        Transport::default_for(protocol)
    }
}

/// Checks, and while the reason is transient and `waitForReady` allows,
/// waits and checks again ([`poll_until_fn`], every `retryInterval`). Another
/// check is made only when it can start within the budget: an attempt that
/// ends with less than `retryInterval` left stops the wait. An SVM whose
/// wait already ran out in this restore is not waited for again.
///
/// # Errors
/// The last [`NotReady`] and how long was waited.
pub async fn ensure_ready(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    backend: &Backend,
    sel: VolumeSel<'_>,
    protocol: Protocol,
    lif_address: Option<&str>,
) -> Result<Checked, (NotReady, Option<Duration>)> {
    let budget = if storage.waited_out(&restore.key, backend) {
        Duration::ZERO
    } else {
        cfg.wait_for_ready
    };
    let transport = transport_for(backend, protocol);
    let start = tokio::time::Instant::now();
    let pace = Pace::every(cfg.retry_interval, budget);
    // `poll_until_fn`: the gRPC server needs this future to be `Send`.
    let result = poll_until_fn(pace, move |tick: Tick| async move {
        let (result, probed_addrs) =
            attempt(storage, restore, cfg, backend, sel, transport, lif_address).await;
        match result {
            Ok(c) => Ok(Attempt::Done(c)),
            // Retry only when the next attempt still starts within the budget.
            Err(e) if e.is_transient() && start.elapsed() + cfg.retry_interval <= budget => {
                tracing::info!(
                    backend = %backend.name, reason = e.reason(), attempt = tick.attempt,
                    "storage not ready yet, retrying in {}: {e}", humantime::format_duration(cfg.retry_interval)
                );
                storage.forget(&restore.key, backend);
                if let Some(port) = cfg.transport_probe_port(transport) {
                    for addr in &probed_addrs {
                        storage.forget_probe(&restore.key, addr, port);
                    }
                }
                Ok(Attempt::Pending(e))
            }
            Err(e) => Err(e),
        }
    })
    .await;
    result.map_err(|e| {
        let e = match e {
            PollError::Failed(e) | PollError::TimedOut { last: e, .. } => e,
        };
        let waited = (!budget.is_zero()).then(|| start.elapsed());
        if !budget.is_zero() && e.is_transient() {
            storage.mark_waited_out(&restore.key, backend);
        }
        (e, waited)
    })
}

async fn attempt(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    backend: &Backend,
    sel: VolumeSel<'_>,
    transport: Transport,
    lif_address: Option<&str>,
) -> (Result<Checked, NotReady>, Vec<String>) {
    let facts = match storage.facts(&restore.key, cfg, backend).await {
        Ok(f) => f,
        Err(e) => return (Err(e), Vec::new()),
    };
    let volume = match sel {
        VolumeSel::Name(n) => n.to_string(),
        VolumeSel::SvmOnly(what) => {
            let lifs = match svm_serving_lif_for(&facts, transport) {
                Ok(l) => l,
                Err(e) => return (Err(e), Vec::new()),
            };
            let ready = Ready {
                cluster: facts.cluster.clone(),
                svm: facts.svm.clone(),
                volume: what.to_string(),
                protocol: transport.protocol(),
                transport,
                lifs,
            };
            return probe_lifs(storage, restore, cfg, &facts, ready, lif_address).await;
        }
        VolumeSel::Junction(path) => match find_volume_by_junction(&facts, path) {
            Some(v) => v.name.clone(),
            None => {
                return (
                    Err(NotReady::VolumeMissing {
                        cluster: facts.cluster.clone(),
                        svm: facts.svm.clone(),
                        volume: format!("<mounted at {path}>"),
                    }),
                    Vec::new(),
                );
            }
        },
    };
    let ready = match check_volume_for(&facts, &volume, transport) {
        Ok(r) => r,
        Err(e) => return (Err(e), Vec::new()),
    };
    probe_lifs(storage, restore, cfg, &facts, ready, lif_address).await
}

/// Picks the LIF(s) that matter and probes them.
async fn probe_lifs(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    facts: &SvmFacts,
    ready: Ready,
    lif_address: Option<&str>,
) -> (Result<Checked, NotReady>, Vec<String>) {
    let transport = ready.transport;
    let Some(port) = cfg.transport_probe_port(transport) else {
        // FC: no IP LIF to pick or probe; the SVM's FC service was checked.
        tracing::debug!(
            svm = %facts.svm, cluster = %facts.cluster,
            "{transport}: LIF state not checked over IP, no TCP probe"
        );
        return (
            Ok(Checked {
                ready,
                lif: (String::new(), String::new()),
                probed: false,
            }),
            Vec::new(),
        );
    };
    // Which LIF(s) matter: the one the PV mounts (legacy NFS server, or the
    // backend's dataLIF for NFS), else any up LIF for the protocol.
    let candidates: Vec<(String, String)> = match lif_address {
        Some(addr) => match facts.lifs.iter().find(|l| same_address(&l.ip, addr)) {
            Some(l) if !l.serves_transport(transport) => {
                return (
                    Err(NotReady::NoDataLif {
                        cluster: facts.cluster.clone(),
                        svm: facts.svm.clone(),
                        transport,
                    }),
                    Vec::new(),
                );
            }
            Some(l) if !l.is_up() => {
                return (
                    Err(NotReady::LifDown {
                        cluster: facts.cluster.clone(),
                        svm: facts.svm.clone(),
                        transport,
                        lifs: vec![l.clone()],
                    }),
                    Vec::new(),
                );
            }
            Some(l) => vec![(l.name.clone(), l.ip.clone())],
            // A DNS name (or an address ONTAP does not list): probe it as given.
            None => vec![("dataLIF".to_string(), addr.to_string())],
        },
        None => ready
            .lifs
            .iter()
            .map(|l| (l.name.clone(), l.ip.clone()))
            .collect(),
    };
    let addrs: Vec<String> = candidates.iter().map(|(_, a)| a.clone()).collect();
    if !cfg.tcp_probe {
        let lif = candidates.into_iter().next().unwrap_or_default();
        return (
            Ok(Checked {
                ready,
                lif,
                probed: false,
            }),
            addrs,
        );
    }
    let mut first_err = None;
    for (name, addr) in candidates {
        match storage.probe(&restore.key, cfg, &addr, port).await {
            Ok(()) => {
                return (
                    Ok(Checked {
                        ready,
                        lif: (name, addr),
                        probed: true,
                    }),
                    addrs,
                );
            }
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(NotReady::ProbeFailed {
                        cluster: facts.cluster.clone(),
                        svm: facts.svm.clone(),
                        transport,
                        lif: name,
                        ip: addr,
                        port,
                        error: e.to_string(),
                    });
                }
            }
        }
    }
    let err = first_err.unwrap_or(NotReady::NoDataLif {
        cluster: facts.cluster.clone(),
        svm: facts.svm.clone(),
        transport,
    });
    (Err(err), addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(driver: &str, nas: Option<&str>, san: Option<&str>) -> Backend {
        Backend {
            driver: driver.into(),
            nas_type: nas.map(str::to_string),
            san_type: san.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn transport_follows_the_backend() {
        let nvme = backend("ontap-san", None, Some("nvme"));
        assert_eq!(transport_for(&nvme, Protocol::Block), Transport::NvmeTcp);
        let fc = backend("ontap-san-economy", None, Some("fcp"));
        assert_eq!(transport_for(&fc, Protocol::Block), Transport::Fc);
        let smb = backend("ontap-nas", Some("smb"), None);
        assert_eq!(transport_for(&smb, Protocol::File), Transport::Smb);
        assert_eq!(
            transport_for(&backend("ontap-nas", None, None), Protocol::File),
            Transport::Nfs
        );
        // A caller asking for the other protocol gets that protocol's default.
        assert_eq!(transport_for(&nvme, Protocol::File), Transport::Nfs);
        assert_eq!(transport_for(&smb, Protocol::Block), Transport::Iscsi);
    }
}
