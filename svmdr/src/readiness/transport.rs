//! [`Transport`]: the wire protocol a Trident ONTAP backend serves its
//! volumes over (NFS, SMB, iSCSI, NVMe/TCP, FC), with what readiness checks
//! for it on ONTAP: the SVM's protocol service flag, the data LIF service
//! (ONTAP service policies) and the TCP port a node connects to.
//!
//! Trident picks it from the backend's `nasType` (`nfs` default, `smb`) for
//! the ontap-nas drivers and `sanType` (`iscsi` default, `nvme`, `fcp`) for
//! the ontap-san drivers (Trident: `storage_drivers/ontap/ontap_common.go`,
//! `config.NASType` / `config.SANType`). The LIF service names are ONTAP's
//! (`storage_drivers/ontap/api/rest/models/ip_service.go` in Trident's copy of
//! the ONTAP REST models); the SVM flags are `/api/svm/svms` fields
//! (`storage_drivers/ontap/api/rest/models/svm.go`).

use std::fmt;

use crate::trident::backend::Backend;
use crate::trident::volume::Protocol;

/// NFS server port.
pub const NFS_PORT: u16 = 2049;
/// SMB (CIFS) server port.
pub const SMB_PORT: u16 = 445;
/// iSCSI target port.
pub const ISCSI_PORT: u16 = 3260;
/// NVMe/TCP I/O controller port (IANA `nvme-tcp`).
pub const NVME_TCP_PORT: u16 = 4420;

/// How nodes reach a backend's volumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// NFS (`nasType: nfs`, the ontap-nas default).
    Nfs,
    /// SMB (`nasType: smb`).
    Smb,
    /// iSCSI (`sanType: iscsi`, the ontap-san default).
    Iscsi,
    /// NVMe over TCP (`sanType: nvme`).
    NvmeTcp,
    /// Fibre Channel (`sanType: fcp`): no IP LIF, no TCP probe.
    Fc,
}

impl Transport {
    /// Every transport, in a stable order.
    pub const ALL: [Transport; 5] = [
        Transport::Nfs,
        Transport::Smb,
        Transport::Iscsi,
        Transport::NvmeTcp,
        Transport::Fc,
    ];

    /// The transport of a Trident backend: `ontap-san*` drivers use `sanType`
    /// (default `iscsi`), the others `nasType` (default `nfs`). An unknown
    /// value falls back to the driver's default.
    pub fn for_backend(backend: &Backend) -> Self {
        Self::for_driver(
            &backend.driver,
            backend.nas_type.as_deref(),
            backend.san_type.as_deref(),
        )
    }

    /// [`Transport::for_backend`] from the raw fields.
    pub fn for_driver(driver: &str, nas_type: Option<&str>, san_type: Option<&str>) -> Self {
        let norm = |v: Option<&str>| v.map(|s| s.trim().to_ascii_lowercase());
        match Protocol::for_driver(driver) {
            Protocol::Block => match norm(san_type).as_deref() {
                Some("nvme") => Self::NvmeTcp,
                Some("fcp") => Self::Fc,
                _ => Self::Iscsi,
            },
            Protocol::File => match norm(nas_type).as_deref() {
                Some("smb") => Self::Smb,
                _ => Self::Nfs,
            },
        }
    }

    /// The default transport for a Trident protocol (`file` NFS, `block`
    /// iSCSI), for callers that know only the protocol.
    pub fn default_for(protocol: Protocol) -> Self {
        match protocol {
            Protocol::File => Self::Nfs,
            Protocol::Block => Self::Iscsi,
        }
    }

    /// Trident's protocol: `file` (NFS, SMB) or `block` (iSCSI, NVMe, FC).
    pub fn protocol(self) -> Protocol {
        match self {
            Self::Nfs | Self::Smb => Protocol::File,
            Self::Iscsi | Self::NvmeTcp | Self::Fc => Protocol::Block,
        }
    }

    /// The ONTAP IP LIF service that carries it; `None` for FC (FC LIFs are
    /// `/api/network/fc/interfaces`, not IP interfaces).
    pub fn lif_service(self) -> Option<&'static str> {
        match self {
            Self::Nfs => Some("data_nfs"),
            Self::Smb => Some("data_cifs"),
            Self::Iscsi => Some("data_iscsi"),
            Self::NvmeTcp => Some("data_nvme_tcp"),
            Self::Fc => None,
        }
    }

    /// The TCP port a node connects to; `None` for FC.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Self::Nfs => Some(NFS_PORT),
            Self::Smb => Some(SMB_PORT),
            Self::Iscsi => Some(ISCSI_PORT),
            Self::NvmeTcp => Some(NVME_TCP_PORT),
            Self::Fc => None,
        }
    }

    /// The `/api/svm/svms` field holding the SVM's service flag
    /// (`nfs.enabled`, `cifs.enabled`, `iscsi.enabled`, `nvme.enabled`,
    /// `fcp.enabled`).
    pub fn svm_service_field(self) -> &'static str {
        match self {
            Self::Nfs => "nfs.enabled",
            Self::Smb => "cifs.enabled",
            Self::Iscsi => "iscsi.enabled",
            Self::NvmeTcp => "nvme.enabled",
            Self::Fc => "fcp.enabled",
        }
    }

    /// The `/api/svm/svms` object name of the service (`nfs`, `cifs`, ...).
    pub fn svm_service_key(self) -> &'static str {
        match self.svm_service_field().split_once('.') {
            Some((key, _)) => key,
            None => self.svm_service_field(),
        }
    }

    /// Trident's config value (`nfs`, `smb`, `iscsi`, `nvme`, `fcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nfs => "nfs",
            Self::Smb => "smb",
            Self::Iscsi => "iscsi",
            Self::NvmeTcp => "nvme",
            Self::Fc => "fcp",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Nfs => "NFS",
            Self::Smb => "SMB",
            Self::Iscsi => "iSCSI",
            Self::NvmeTcp => "NVMe/TCP",
            Self::Fc => "FC",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_backend_fields() {
        let t = Transport::for_driver;
        assert_eq!(t("ontap-nas", None, None), Transport::Nfs);
        assert_eq!(t("ontap-nas-economy", Some("nfs"), None), Transport::Nfs);
        assert_eq!(t("ontap-nas", Some("SMB"), None), Transport::Smb);
        // sanType is ignored on NAS drivers and nasType on SAN drivers.
        assert_eq!(t("ontap-nas", None, Some("nvme")), Transport::Nfs);
        assert_eq!(t("ontap-san", Some("smb"), None), Transport::Iscsi);
        assert_eq!(t("ontap-san", None, Some("iscsi")), Transport::Iscsi);
        assert_eq!(t("ontap-san", None, Some("nvme")), Transport::NvmeTcp);
        assert_eq!(t("ontap-san-economy", None, Some("fcp")), Transport::Fc);
        assert_eq!(t("ontap-san", None, Some("bogus")), Transport::Iscsi);
    }

    #[test]
    fn for_backend_reads_nas_and_san_type() {
        let mut b = Backend {
            driver: "ontap-san".into(),
            san_type: Some("nvme".into()),
            ..Default::default()
        };
        assert_eq!(Transport::for_backend(&b), Transport::NvmeTcp);
        b.driver = "ontap-nas".into();
        b.nas_type = Some("smb".into());
        assert_eq!(Transport::for_backend(&b), Transport::Smb);
    }

    #[test]
    fn services_ports_and_flags() {
        let want = [
            (
                Transport::Nfs,
                Some("data_nfs"),
                Some(2049),
                "nfs.enabled",
                "NFS",
            ),
            (
                Transport::Smb,
                Some("data_cifs"),
                Some(445),
                "cifs.enabled",
                "SMB",
            ),
            (
                Transport::Iscsi,
                Some("data_iscsi"),
                Some(3260),
                "iscsi.enabled",
                "iSCSI",
            ),
            (
                Transport::NvmeTcp,
                Some("data_nvme_tcp"),
                Some(4420),
                "nvme.enabled",
                "NVMe/TCP",
            ),
            (Transport::Fc, None, None, "fcp.enabled", "FC"),
        ];
        for (t, svc, port, flag, shown) in want {
            assert_eq!(t.lif_service(), svc, "{t}");
            assert_eq!(t.default_port(), port, "{t}");
            assert_eq!(t.svm_service_field(), flag, "{t}");
            assert_eq!(t.to_string(), shown);
            assert_eq!(format!("{}.enabled", t.svm_service_key()), flag);
        }
    }

    #[test]
    fn protocol_round_trip() {
        for t in Transport::ALL {
            let back = Transport::default_for(t.protocol());
            assert_eq!(back.protocol(), t.protocol());
        }
        assert_eq!(Transport::Smb.protocol(), Protocol::File);
        assert_eq!(Transport::NvmeTcp.protocol(), Protocol::Block);
        assert_eq!(Transport::Fc.protocol(), Protocol::Block);
        assert_eq!(Transport::default_for(Protocol::File), Transport::Nfs);
        assert_eq!(Transport::default_for(Protocol::Block), Transport::Iscsi);
    }
}
