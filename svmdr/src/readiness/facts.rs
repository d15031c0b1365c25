//! [`SvmFacts`]: what readiness needs to know about one SVM, as collected.

use std::collections::BTreeMap;

use super::export_rule::ExportRule;
use super::transport::Transport;
use crate::trident::volume::Protocol;

/// One SVM as seen at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SvmFacts {
    /// The cluster label (as the ONTAP client names it), for messages.
    pub cluster: String,
    /// SVM name.
    pub svm: String,
    /// SVM UUID, when known.
    pub uuid: Option<String>,
    /// `state`: `running`, `stopped`, `starting`, `stopping`, ...
    pub state: String,
    /// `subtype`: `default`, `dp_destination`, ...
    pub subtype: String,
    /// Volumes by name.
    pub volumes: BTreeMap<String, VolumeFacts>,
    /// Data LIFs (IP interfaces of the SVM).
    pub lifs: Vec<LifFacts>,
    /// NFS service flags, when the SVM reports them.
    pub nfs: Option<ServiceFacts>,
    /// iSCSI service flags, when the SVM reports them.
    pub iscsi: Option<ServiceFacts>,
    /// SMB (`cifs`) service flags, when the SVM reports them.
    pub cifs: Option<ServiceFacts>,
    /// NVMe service flags (NVMe/TCP and NVMe/FC), when the SVM reports them.
    pub nvme: Option<ServiceFacts>,
    /// FC (`fcp`) service flags, when the SVM reports them.
    pub fcp: Option<ServiceFacts>,
    /// Aggregates assigned to the SVM (Trident's physical pools).
    pub aggregates: Vec<String>,
    /// The SVM root volume's export policy (every NFS mount traverses it).
    pub root_export_policy: Option<String>,
    /// NFS export policies by name, each with its rules in index order.
    pub export_policies: BTreeMap<String, Vec<ExportRule>>,
    /// Why the export policies could not be read (`None`: they were).
    pub export_policies_error: Option<String>,
    /// LUNs of the SVM.
    pub luns: Vec<LunFacts>,
    /// Why the LUNs could not be read (`None`: they were).
    pub luns_error: Option<String>,
}

/// One volume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeFacts {
    /// Volume name.
    pub name: String,
    /// `state`: `online`, `offline`, `restricted`, `error`, `mixed`.
    pub state: String,
    /// `type`: `rw`, `dp`, `ls`.
    pub vol_type: String,
    /// `nas.path` (junction path), present only when mounted.
    pub junction: Option<String>,
    /// `is_svm_root`.
    pub is_svm_root: bool,
    /// `nas.export_policy.name`, when reported.
    pub export_policy: Option<String>,
    /// `size` in bytes, when reported.
    pub size_bytes: Option<u64>,
}

/// One LUN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LunFacts {
    /// `name`: the LUN path `/vol/<volume>/<lun>`.
    pub path: String,
    /// `location.volume.name`.
    pub volume: String,
    /// `location.logical_unit` (the LUN's name inside the volume, `lun0`).
    pub name: String,
    /// `status.state`: `online`, `offline`, ...
    pub state: String,
    /// `enabled`.
    pub enabled: bool,
    /// `space.size` in bytes, when reported.
    pub size_bytes: Option<u64>,
}

impl LunFacts {
    /// Online and enabled.
    pub fn is_online(&self) -> bool {
        self.enabled && self.state == "online"
    }
}

/// One IP interface (LIF).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LifFacts {
    /// LIF name.
    pub name: String,
    /// `ip.address`.
    pub ip: String,
    /// Operational `state`: `up` or `down`.
    pub state: String,
    /// Admin `enabled` flag.
    pub enabled: bool,
    /// `services` (e.g. `data_nfs`, `data_cifs`, `data_iscsi`,
    /// `data_nvme_tcp`, `management_https`).
    pub services: Vec<String>,
}

/// A protocol service's flags on the SVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceFacts {
    /// Admin `enabled` flag.
    pub enabled: bool,
}

impl LifFacts {
    /// Whether this LIF serves `protocol` over its default transport
    /// (`data_nfs` / `data_iscsi`).
    pub fn serves(&self, protocol: Protocol) -> bool {
        self.serves_transport(Transport::default_for(protocol))
    }

    /// Whether this LIF carries `transport` (its [`Transport::lif_service`]);
    /// never for FC, which has no IP LIFs.
    pub fn serves_transport(&self, transport: Transport) -> bool {
        transport
            .lif_service()
            .is_some_and(|wanted| self.services.iter().any(|s| s == wanted))
    }

    /// Up and enabled.
    pub fn is_up(&self) -> bool {
        self.enabled && self.state == "up"
    }
}

impl SvmFacts {
    /// The service flags for `protocol`'s default transport (NFS / iSCSI).
    pub fn service(&self, protocol: Protocol) -> Option<ServiceFacts> {
        self.service_for(Transport::default_for(protocol))
    }

    /// The SVM's service flags for `transport`, when reported.
    pub fn service_for(&self, transport: Transport) -> Option<ServiceFacts> {
        match transport {
            Transport::Nfs => self.nfs,
            Transport::Smb => self.cifs,
            Transport::Iscsi => self.iscsi,
            Transport::NvmeTcp => self.nvme,
            Transport::Fc => self.fcp,
        }
    }

    /// The LUNs inside `volume`.
    pub fn luns_in(&self, volume: &str) -> impl Iterator<Item = &LunFacts> {
        self.luns.iter().filter(move |l| l.volume == volume)
    }

    /// Whether the SVM has a LIF with this address (IP compare, or exact text).
    pub fn has_lif_address(&self, address: &str) -> bool {
        self.lifs.iter().any(|l| same_address(&l.ip, address))
    }
}

/// Compares two addresses: as IPs when both parse (so `::1` equals
/// `0:0::1`), else as case-insensitive text (host names).
pub fn same_address(a: &str, b: &str) -> bool {
    let strip = |s: &str| {
        s.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    };
    let (a, b) = (strip(a), strip(b));
    match (a.parse::<std::net::IpAddr>(), b.parse::<std::net::IpAddr>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_flags_per_transport() {
        let on = Some(ServiceFacts { enabled: true });
        let off = Some(ServiceFacts { enabled: false });
        let f = SvmFacts {
            nfs: on,
            cifs: off,
            iscsi: None,
            nvme: on,
            fcp: off,
            ..Default::default()
        };
        assert_eq!(f.service_for(Transport::Nfs), on);
        assert_eq!(f.service_for(Transport::Smb), off);
        assert_eq!(f.service_for(Transport::Iscsi), None);
        assert_eq!(f.service_for(Transport::NvmeTcp), on);
        assert_eq!(f.service_for(Transport::Fc), off);
        assert_eq!(f.service(Protocol::File), on);
        assert_eq!(f.service(Protocol::Block), None);
    }

    #[test]
    fn addresses_compare_as_ips() {
        assert!(same_address("::1", "0:0:0:0:0:0:0:1"));
        assert!(same_address("[::1]", "::1"));
        assert!(same_address("10.0.0.1", " 10.0.0.1"));
        assert!(same_address("NFS.example.com", "nfs.example.com"));
        assert!(!same_address("10.0.0.1", "10.0.0.2"));
    }

    #[test]
    fn lif_protocols() {
        let l = LifFacts {
            name: "lif1".into(),
            ip: "10.0.0.1".into(),
            state: "up".into(),
            enabled: true,
            services: vec!["data_core".into(), "data_nfs".into()],
        };
        assert!(l.serves(Protocol::File));
        assert!(!l.serves(Protocol::Block));
        assert!(l.serves_transport(Transport::Nfs));
        assert!(!l.serves_transport(Transport::Smb));
        let nvme = LifFacts {
            services: vec!["data_core".into(), "data_nvme_tcp".into()],
            ..l.clone()
        };
        assert!(nvme.serves_transport(Transport::NvmeTcp));
        assert!(!nvme.serves(Protocol::Block), "iSCSI is the block default");
        assert!(!nvme.serves_transport(Transport::Fc));
        let smb = LifFacts {
            services: vec!["data_cifs".into()],
            ..l.clone()
        };
        assert!(smb.serves_transport(Transport::Smb));
        assert!(!smb.serves(Protocol::File));
        assert!(l.is_up());
        assert!(
            !LifFacts {
                enabled: false,
                ..l
            }
            .is_up()
        );
    }
}
