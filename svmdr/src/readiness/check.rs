//! Pure decisions over [`SvmFacts`]: is a volume ready to be used, and if
//! not, why ([`NotReady`]), with a message that names the cluster, SVM,
//! volume and LIF and says what to do next.

use std::fmt;

use super::facts::{LifFacts, SvmFacts, VolumeFacts};
pub use super::not_ready::NotReady;
use super::transport::Transport;
use crate::trident::volume::Protocol;

/// The volume is usable: the SVM runs, the volume is online and writable,
/// and at least one data LIF for the transport is up (FC: the SVM's FC
/// service is on; its LIFs are not IP interfaces and are not checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// Cluster label.
    pub cluster: String,
    /// SVM name.
    pub svm: String,
    /// Volume name.
    pub volume: String,
    /// Protocol checked.
    pub protocol: Protocol,
    /// Transport checked (its protocol is `protocol`).
    pub transport: Transport,
    /// The data LIFs for the transport that are up and enabled (never empty,
    /// except for FC, which has no IP LIFs).
    pub lifs: Vec<LifFacts>,
}

/// Checks the SVM, the SVM's service and LIFs for `protocol` over its
/// default transport (NFS, iSCSI), without looking at a volume. `Ok` carries
/// the up LIFs. [`svm_serving_lif_for`] takes the transport.
///
/// # Errors
/// [`NotReady`] for the SVM state, protocol service and LIF checks.
pub fn svm_serving_lif(facts: &SvmFacts, protocol: Protocol) -> Result<Vec<LifFacts>, NotReady> {
    svm_serving_lif_for(facts, Transport::default_for(protocol))
}

/// Checks the SVM state, its service flag for `transport` and its data LIFs
/// for it (the LIFs whose services include [`Transport::lif_service`]).
/// `Ok` carries the up LIFs; for FC it is empty (FC LIFs are not IP
/// interfaces and are not checked here).
///
/// # Errors
/// [`NotReady`] for the SVM state, service and LIF checks.
pub fn svm_serving_lif_for(
    facts: &SvmFacts,
    transport: Transport,
) -> Result<Vec<LifFacts>, NotReady> {
    let (cluster, svm) = (facts.cluster.clone(), facts.svm.clone());
    if facts.state != "running" {
        return Err(NotReady::SvmNotRunning {
            cluster,
            svm,
            state: if facts.state.is_empty() {
                "unknown".into()
            } else {
                facts.state.clone()
            },
            subtype: facts.subtype.clone(),
        });
    }
    if facts.service_for(transport).is_some_and(|s| !s.enabled) {
        return Err(NotReady::ProtocolDisabled {
            cluster,
            svm,
            transport,
        });
    }
    if transport.lif_service().is_none() {
        return Ok(Vec::new());
    }
    let serving: Vec<&LifFacts> = facts
        .lifs
        .iter()
        .filter(|l| l.serves_transport(transport))
        .collect();
    if serving.is_empty() {
        return Err(NotReady::NoDataLif {
            cluster,
            svm,
            transport,
        });
    }
    let up: Vec<LifFacts> = serving
        .iter()
        .filter(|l| l.is_up())
        .map(|l| (*l).clone())
        .collect();
    if up.is_empty() {
        return Err(NotReady::LifDown {
            cluster,
            svm,
            transport,
            lifs: serving.into_iter().cloned().collect(),
        });
    }
    Ok(up)
}

/// Checks that `volume` on the SVM can serve `protocol` now, over the
/// protocol's default transport (NFS, iSCSI); see [`check_volume_for`].
///
/// # Errors
/// The first [`NotReady`] reason found.
pub fn check_volume(facts: &SvmFacts, volume: &str, protocol: Protocol) -> Result<Ready, NotReady> {
    check_volume_for(facts, volume, Transport::default_for(protocol))
}

/// Checks that `volume` on the SVM can be used over `transport` now.
///
/// Order: SVM running, volume exists, online, rw, mounted (NFS, SMB),
/// service enabled, a data LIF for the transport up (not for FC). (A TCP
/// probe of the LIF is separate: [`super::probe_tcp`].)
///
/// # Errors
/// The first [`NotReady`] reason found.
pub fn check_volume_for(
    facts: &SvmFacts,
    volume: &str,
    transport: Transport,
) -> Result<Ready, NotReady> {
    let (cluster, svm) = (facts.cluster.clone(), facts.svm.clone());
    if facts.state != "running" {
        // Reported before the volume: a stopped SVM hides everything else.
        svm_serving_lif_for(facts, transport)?;
    }
    let vol = facts
        .volumes
        .get(volume)
        .ok_or_else(|| NotReady::VolumeMissing {
            cluster: cluster.clone(),
            svm: svm.clone(),
            volume: volume.to_string(),
        })?;
    check_volume_facts(facts, vol, transport)?;
    let lifs = svm_serving_lif_for(facts, transport)?;
    Ok(Ready {
        cluster,
        svm,
        volume: volume.to_string(),
        protocol: transport.protocol(),
        transport,
        lifs,
    })
}

fn check_volume_facts(
    facts: &SvmFacts,
    vol: &VolumeFacts,
    transport: Transport,
) -> Result<(), NotReady> {
    let (cluster, svm, volume) = (facts.cluster.clone(), facts.svm.clone(), vol.name.clone());
    if vol.state != "online" {
        return Err(NotReady::VolumeOffline {
            cluster,
            svm,
            volume,
            state: if vol.state.is_empty() {
                "unknown".into()
            } else {
                vol.state.clone()
            },
        });
    }
    if vol.vol_type != "rw" {
        return Err(NotReady::VolumeNotWritable {
            cluster,
            svm,
            volume,
            vol_type: vol.vol_type.clone(),
        });
    }
    if transport.protocol() == Protocol::File && vol.junction.is_none() {
        return Err(NotReady::VolumeNotMounted {
            cluster,
            svm,
            volume,
            transport,
        });
    }
    Ok(())
}

/// Finds the volume mounted at `junction` (a legacy NFS PV's `spec.nfs.path`).
/// `None` if no volume has that junction path.
pub fn find_volume_by_junction<'a>(facts: &'a SvmFacts, junction: &str) -> Option<&'a VolumeFacts> {
    let want = junction.trim_end_matches('/');
    facts.volumes.values().find(|v| {
        v.junction
            .as_deref()
            .is_some_and(|j| j.trim_end_matches('/') == want && !want.is_empty())
    })
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lifs.is_empty() {
            return write!(
                f,
                "volume {} on SVM {} ({}) is online and rw; {}: LIF state not checked over IP",
                self.volume, self.svm, self.cluster, self.transport
            );
        }
        write!(
            f,
            "volume {} on SVM {} ({}) is online and rw; {} LIF(s) up: {}",
            self.volume,
            self.svm,
            self.cluster,
            self.transport,
            self.lifs
                .iter()
                .map(|l| format!("{} ({})", l.name, l.ip))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readiness::facts::ServiceFacts;

    fn facts() -> SvmFacts {
        let mut f = SvmFacts {
            cluster: "dr (ontap-b)".into(),
            svm: "svm1".into(),
            uuid: None,
            state: "running".into(),
            subtype: "default".into(),
            nfs: Some(ServiceFacts { enabled: true }),
            iscsi: Some(ServiceFacts { enabled: true }),
            ..Default::default()
        };
        f.volumes.insert(
            "trident_pvc_1".into(),
            VolumeFacts {
                name: "trident_pvc_1".into(),
                state: "online".into(),
                vol_type: "rw".into(),
                junction: Some("/trident_pvc_1".into()),
                is_svm_root: false,
                ..Default::default()
            },
        );
        f.lifs.push(LifFacts {
            name: "nfs_lif1".into(),
            ip: "10.1.0.10".into(),
            state: "up".into(),
            enabled: true,
            services: vec!["data_core".into(), "data_nfs".into()],
        });
        f.lifs.push(LifFacts {
            name: "iscsi_lif1".into(),
            ip: "10.1.0.11".into(),
            state: "up".into(),
            enabled: true,
            services: vec!["data_iscsi".into()],
        });
        f
    }

    #[test]
    fn ready_volume() {
        let r = check_volume(&facts(), "trident_pvc_1", Protocol::File).unwrap();
        assert_eq!(r.lifs.len(), 1);
        assert_eq!(r.lifs[0].name, "nfs_lif1");
        assert!(r.to_string().contains("nfs_lif1"));
    }

    #[test]
    fn stopped_svm_comes_first_and_names_failover_for_dr() {
        let mut f = facts();
        f.state = "stopped".into();
        f.subtype = "dp_destination".into();
        let e = check_volume(&f, "missing", Protocol::File).unwrap_err();
        assert_eq!(e.reason(), "SvmNotRunning");
        let msg = e.to_string();
        assert!(
            msg.contains("svm1") && msg.contains("kubectl svmdr failover"),
            "{msg}"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn dp_volume_says_svm_dr_not_broken() {
        let mut f = facts();
        f.volumes.get_mut("trident_pvc_1").unwrap().vol_type = "dp".into();
        let e = check_volume(&f, "trident_pvc_1", Protocol::File).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("SVM-DR not broken: run `kubectl svmdr failover`")
                && msg.contains("trident_pvc_1")
                && msg.contains("svm1"),
            "{msg}"
        );
    }

    #[test]
    fn volume_problems() {
        let e = check_volume(&facts(), "nope", Protocol::File).unwrap_err();
        assert_eq!(e.reason(), "VolumeMissing");
        assert!(e.to_string().contains("nope"));
        let mut f = facts();
        f.volumes.get_mut("trident_pvc_1").unwrap().state = "offline".into();
        assert_eq!(
            check_volume(&f, "trident_pvc_1", Protocol::File)
                .unwrap_err()
                .reason(),
            "VolumeOffline"
        );
        let mut f = facts();
        f.volumes.get_mut("trident_pvc_1").unwrap().junction = None;
        assert_eq!(
            check_volume(&f, "trident_pvc_1", Protocol::File)
                .unwrap_err()
                .reason(),
            "VolumeNotMounted"
        );
        // A block volume needs no junction.
        assert!(check_volume(&f, "trident_pvc_1", Protocol::Block).is_ok());
    }

    #[test]
    fn lif_problems_name_the_lifs() {
        let mut f = facts();
        f.lifs[0].state = "down".into();
        let e = check_volume(&f, "trident_pvc_1", Protocol::File).unwrap_err();
        assert_eq!(e.reason(), "LifDown");
        assert!(e.to_string().contains("nfs_lif1 (10.1.0.10, down)"), "{e}");
        f.lifs.retain(|l| !l.serves(Protocol::File));
        let e = check_volume(&f, "trident_pvc_1", Protocol::File).unwrap_err();
        assert_eq!(e.reason(), "NoDataLif");
        let mut f = facts();
        f.nfs = Some(ServiceFacts { enabled: false });
        let e = check_volume(&f, "trident_pvc_1", Protocol::File).unwrap_err();
        assert_eq!(e.reason(), "ProtocolDisabled");
    }

    #[test]
    fn junction_lookup() {
        let f = facts();
        assert_eq!(
            find_volume_by_junction(&f, "/trident_pvc_1/").unwrap().name,
            "trident_pvc_1"
        );
        assert!(find_volume_by_junction(&f, "/other").is_none());
        assert!(find_volume_by_junction(&f, "/").is_none());
    }
}
