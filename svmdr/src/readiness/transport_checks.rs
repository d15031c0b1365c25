//! Tests of the readiness checks per [`Transport`]: which SVM flag and LIF
//! service each one needs, and what the refusal says.

use super::facts::{LifFacts, ServiceFacts, SvmFacts, VolumeFacts};
use super::{Transport, check_volume, check_volume_for, svm_serving_lif_for};
use crate::trident::volume::Protocol;

const VOL: &str = "trident_pvc_1";

fn lif(name: &str, ip: &str, service: &str) -> LifFacts {
    LifFacts {
        name: name.into(),
        ip: ip.into(),
        state: "up".into(),
        enabled: true,
        services: vec!["data_core".into(), service.into()],
    }
}

/// An SVM with every service on and one LIF per IP transport.
fn facts() -> SvmFacts {
    let on = Some(ServiceFacts { enabled: true });
    let mut f = SvmFacts {
        cluster: "dr (ontap-b)".into(),
        svm: "svm1".into(),
        state: "running".into(),
        subtype: "default".into(),
        nfs: on,
        cifs: on,
        iscsi: on,
        nvme: on,
        fcp: on,
        ..Default::default()
    };
    f.volumes.insert(
        VOL.into(),
        VolumeFacts {
            name: VOL.into(),
            state: "online".into(),
            vol_type: "rw".into(),
            junction: Some(format!("/{VOL}")),
            ..Default::default()
        },
    );
    f.lifs = vec![
        lif("nfs_lif", "10.1.0.10", "data_nfs"),
        lif("smb_lif", "10.1.0.11", "data_cifs"),
        lif("iscsi_lif", "10.1.0.12", "data_iscsi"),
        lif("nvme_lif", "10.1.0.13", "data_nvme_tcp"),
    ];
    f
}

fn flag(f: &mut SvmFacts, t: Transport) -> &mut Option<ServiceFacts> {
    match t {
        Transport::Nfs => &mut f.nfs,
        Transport::Smb => &mut f.cifs,
        Transport::Iscsi => &mut f.iscsi,
        Transport::NvmeTcp => &mut f.nvme,
        Transport::Fc => &mut f.fcp,
    }
}

#[test]
fn each_ip_transport_uses_its_own_lif() {
    for (t, want) in [
        (Transport::Nfs, "nfs_lif"),
        (Transport::Smb, "smb_lif"),
        (Transport::Iscsi, "iscsi_lif"),
        (Transport::NvmeTcp, "nvme_lif"),
    ] {
        let r = check_volume_for(&facts(), VOL, t).unwrap();
        let names: Vec<&str> = r.lifs.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, [want], "{t}");
        assert_eq!((r.transport, r.protocol), (t, t.protocol()));
        assert!(r.to_string().contains(&t.to_string()), "{r}");
    }
}

#[test]
fn protocol_api_keeps_the_default_transports() {
    let r = check_volume(&facts(), VOL, Protocol::Block).unwrap();
    assert_eq!(r.transport, Transport::Iscsi);
    assert_eq!(r.lifs[0].name, "iscsi_lif");
    let r = check_volume(&facts(), VOL, Protocol::File).unwrap();
    assert_eq!(r.transport, Transport::Nfs);
}

#[test]
fn disabled_service_names_the_transport_and_flag() {
    for t in Transport::ALL {
        let mut f = facts();
        *flag(&mut f, t) = Some(ServiceFacts { enabled: false });
        let e = check_volume_for(&f, VOL, t).unwrap_err();
        assert_eq!(e.reason(), "ProtocolDisabled", "{t}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{t} is disabled on SVM svm1"))
                && msg.contains(t.svm_service_field()),
            "{msg}"
        );
        // The other transports are not affected.
        for other in Transport::ALL.into_iter().filter(|o| *o != t) {
            assert!(
                check_volume_for(&f, VOL, other).is_ok(),
                "{t} off broke {other}"
            );
        }
    }
}

#[test]
fn nvme_lif_down_is_named() {
    let mut f = facts();
    f.lifs[3].state = "down".into();
    let e = check_volume_for(&f, VOL, Transport::NvmeTcp).unwrap_err();
    assert_eq!(e.reason(), "LifDown");
    let msg = e.to_string();
    assert!(
        msg.contains("every NVMe/TCP data LIF of SVM svm1")
            && msg.contains("nvme_lif (10.1.0.13, down)"),
        "{msg}"
    );
    // iSCSI on the same SVM is still fine.
    assert!(check_volume_for(&f, VOL, Transport::Iscsi).is_ok());
}

#[test]
fn missing_lif_names_the_lif_service() {
    for t in [Transport::Smb, Transport::NvmeTcp] {
        let mut f = facts();
        f.lifs.retain(|l| !l.serves_transport(t));
        let e = check_volume_for(&f, VOL, t).unwrap_err();
        assert_eq!(e.reason(), "NoDataLif", "{t}");
        let msg = e.to_string();
        let svc = t.lif_service().unwrap_or_default();
        assert!(
            msg.contains(&format!("has no {t} data LIF")) && msg.contains(svc),
            "{msg}"
        );
    }
}

#[test]
fn smb_needs_a_junction_and_says_smb() {
    let mut f = facts();
    if let Some(v) = f.volumes.get_mut(VOL) {
        v.junction = None;
    }
    let e = check_volume_for(&f, VOL, Transport::Smb).unwrap_err();
    assert_eq!(e.reason(), "VolumeNotMounted");
    assert!(e.to_string().contains("SMB clients"), "{e}");
    assert!(check_volume_for(&f, VOL, Transport::NvmeTcp).is_ok());
}

#[test]
fn fc_checks_the_fcp_flag_but_no_ip_lif() {
    let mut f = facts();
    f.lifs.clear();
    let r = check_volume_for(&f, VOL, Transport::Fc).unwrap();
    assert!(r.lifs.is_empty());
    assert!(
        r.to_string().contains("FC: LIF state not checked over IP"),
        "{r}"
    );
    assert_eq!(svm_serving_lif_for(&f, Transport::Fc), Ok(Vec::new()));
    // A stopped SVM still stops FC.
    f.state = "stopped".into();
    let e = check_volume_for(&f, VOL, Transport::Fc).unwrap_err();
    assert_eq!(e.reason(), "SvmNotRunning");
}
