//! Seeding a world from a topology, with ONTAP's built-in SnapMirror policies.

use std::collections::BTreeMap;

use crate::ontap::Timing;
use crate::ontap::topology::{Topology, parse_version};

use super::export_policy::{ExportRule, insert_rule};
use super::ids::new_uuid;
use super::lun::Lun;
use super::model::{Account, Cluster, Lif, Node, Policy, Svm, Volume, World};

pub(super) const BUILTIN_POLICIES: &[(&str, &str)] = &[
    ("Asynchronous", "async"),
    ("MirrorAllSnapshots", "async"),
    ("MirrorAllSnapshotsDiscardNetwork", "async"),
    ("MirrorLatest", "async"),
    ("MirrorAndVault", "async"),
    ("MirrorAndVaultDiscardNetwork", "async"),
    ("DPDefault", "async"),
    ("XDPDefault", "async"),
    ("Unified7year", "async"),
    ("DailyBackup", "async"),
    ("CloudBackupDefault", "async"),
    ("Sync", "sync"),
    ("StrictSync", "sync"),
    ("AutomatedFailOver", "sync"),
    ("AutomatedFailOverDuplex", "sync"),
    ("SnapCenterSync", "sync"),
    ("Continuous", "continuous"),
];

pub(super) fn serial_of(uuid: &str) -> String {
    let digits: String = uuid.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("4{:0>11}", &digits[digits.len().saturating_sub(11)..])
}

impl World {
    /// Is `name` one of ONTAP's built-in SnapMirror policies?
    pub fn is_builtin_policy(name: &str) -> bool {
        BUILTIN_POLICIES.iter().any(|(n, _)| *n == name)
    }

    /// What ONTAP creates with an SVM: its root volume (`<name>_root`,
    /// 1 GiB, mounted at `/`) and its `default` export policy, empty.
    pub fn add_svm_root(&mut self, cluster: &str, svm_uuid: &str, svm_name: &str) {
        self.volumes.push(Volume {
            uuid: new_uuid(),
            cluster: cluster.to_string(),
            svm: svm_uuid.to_string(),
            name: format!("{}_root", svm_name.replace('-', "_")),
            size: 1 << 30,
            vtype: "rw".into(),
            state: "online".into(),
            junction: Some("/".into()),
            is_svm_root: true,
            writes: vec![],
            export_policy: "default".into(),
            created: chrono::Utc::now(),
        });
        self.ensure_export_policy(cluster, svm_uuid, "default");
    }

    /// Seeds a world from a topology.
    pub fn new(
        topo: &Topology,
        timing: Timing,
        nfs_port: u16,
        iscsi_port: u16,
    ) -> anyhow::Result<World> {
        let mut w = World {
            timing,
            nfs_port,
            iscsi_port,
            clusters: vec![],
            svms: vec![],
            lifs: vec![],
            volumes: vec![],
            cluster_peers: vec![],
            svm_peers: vec![],
            permissions: vec![],
            policies: vec![],
            relationships: vec![],
            jobs: vec![],
            next_write: 1,
            export_policies: vec![],
            // ONTAP's export policy ids are large integers.
            next_policy_id: 8589934592,
            luns: vec![],
        };
        for c in &topo.clusters {
            let uuid = c.uuid.clone().unwrap_or_else(new_uuid);
            let nodes = c
                .nodes
                .iter()
                .map(|n| {
                    let u = new_uuid();
                    Node {
                        name: n.clone(),
                        serial: serial_of(&u),
                        uuid: u,
                    }
                })
                .collect();
            w.clusters.push(Cluster {
                key: c.key.clone(),
                name: c.name.clone(),
                serial: serial_of(&uuid),
                uuid,
                version: parse_version(&c.version)?,
                nodes,
                accounts: c
                    .accounts
                    .iter()
                    .map(|a| Account {
                        username: a.username.clone(),
                        password: a.password.clone(),
                        role: a.role,
                        svm: a.svm.clone(),
                    })
                    .collect(),
                down: false,
                port: 0,
                requests: 0,
                per_path: BTreeMap::new(),
                faults: vec![],
            });
            for lif in &c.intercluster_lifs {
                w.lifs.push(Lif {
                    uuid: new_uuid(),
                    cluster: c.key.clone(),
                    name: lif.name.clone(),
                    svm: None,
                    ip: lif.ip.clone(),
                    netmask: lif.netmask.clone().unwrap_or_else(|| "24".into()),
                    service_policy: "default-intercluster".into(),
                    home_node: lif.node.clone(),
                    home_port: "e0c".into(),
                    enabled: true,
                    sim_down: false,
                    ipspace: "Default".into(),
                });
            }
            for (name, ptype) in BUILTIN_POLICIES {
                w.policies.push(Policy {
                    uuid: new_uuid(),
                    cluster: c.key.clone(),
                    name: (*name).into(),
                    ptype: (*ptype).into(),
                    identity_preservation: (*ptype == "async")
                        .then(|| "exclude_network_and_protocol_config".to_string()),
                    comment: String::new(),
                });
            }
            for s in &c.svms {
                let su = s.uuid.clone().unwrap_or_else(new_uuid);
                w.svms.push(Svm {
                    uuid: su.clone(),
                    cluster: c.key.clone(),
                    name: s.name.clone(),
                    state: s.state.clone(),
                    subtype: s.subtype.clone(),
                    comment: String::new(),
                    ipspace: "Default".into(),
                    nfs: s.nfs,
                    iscsi: s.iscsi,
                    cifs: s.cifs,
                    nvme: s.nvme,
                    fcp: s.fcp,
                    iscsi_target_sn: new_uuid().replace('-', ""),
                });
                for l in &s.lifs {
                    let policy = if l.services.iter().any(|x| x == "data_nfs") {
                        if l.services.iter().any(|x| x == "data_iscsi") {
                            "data-nfs-iscsi"
                        } else {
                            "default-data-files"
                        }
                    } else if l.services.iter().any(|x| x == "data_cifs") {
                        "default-data-files"
                    } else if l.services.iter().any(|x| x == "data_nvme_tcp") {
                        "default-data-nvme-tcp"
                    } else {
                        "default-data-iscsi"
                    };
                    let family_default = if l.ip.contains(':') { "64" } else { "8" };
                    w.lifs.push(Lif {
                        uuid: new_uuid(),
                        cluster: c.key.clone(),
                        name: l.name.clone(),
                        svm: Some(su.clone()),
                        ip: l.ip.clone(),
                        netmask: l.netmask.clone().unwrap_or_else(|| family_default.into()),
                        service_policy: policy.into(),
                        home_node: l.home_node.clone(),
                        home_port: "e0d".into(),
                        enabled: true,
                        sim_down: false,
                        ipspace: "Default".into(),
                    });
                }
                for v in &s.volumes {
                    w.volumes.push(Volume {
                        uuid: new_uuid(),
                        cluster: c.key.clone(),
                        svm: su.clone(),
                        name: v.name.clone(),
                        size: v.size.bytes()?,
                        vtype: v.vtype.clone(),
                        state: v.state.clone(),
                        junction: v.junction_path.clone(),
                        is_svm_root: v.is_svm_root,
                        writes: vec![],
                        export_policy: v.export_policy.clone(),
                        created: chrono::Utc::now(),
                    });
                    for l in &v.luns {
                        w.luns.push(Lun::new(
                            &c.key,
                            &su,
                            &v.name,
                            &l.name,
                            l.size
                                .as_ref()
                                .map(|s| s.bytes())
                                .transpose()?
                                .unwrap_or(v.size.bytes()?),
                        ));
                    }
                }
                w.ensure_export_policy(&c.key, &su, "default");
                for p in &s.export_policies {
                    let i = w.ensure_export_policy(&c.key, &su, &p.name);
                    for r in &p.rules {
                        let rule = ExportRule::from_value(r).map_err(|e| {
                            anyhow::anyhow!(
                                "SVM {:?}: export policy {:?}: {}",
                                s.name,
                                p.name,
                                e.message
                            )
                        })?;
                        insert_rule(&mut w.export_policies[i].rules, rule);
                    }
                }
            }
        }
        Ok(w)
    }
}
