//! SnapMirror transfers: starting one, and what a finished one changes.
use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use serde_json::json;

use super::ids::new_uuid;
use super::model::{Lif, Transfer, Volume, World, WriteRec};

impl World {
    /// The source SVM's volume contents, or `None` when unreachable.
    pub(super) fn capture(&self, svm_uuid: &str) -> Option<BTreeMap<String, Vec<WriteRec>>> {
        let svm = self.svm(svm_uuid)?;
        if self.is_down(&svm.cluster) {
            return None;
        }
        Some(
            self.volumes
                .iter()
                .filter(|v| v.svm == svm_uuid && !v.is_svm_root)
                .map(|v| (v.name.clone(), v.writes.clone()))
                .collect(),
        )
    }

    /// Starts a transfer on relationship `i`; on success it enters `target_state`.
    pub fn start_transfer(&mut self, i: usize, ttype: &str, target_state: &str) -> String {
        let now = Instant::now();
        let rel = &self.relationships[i];
        let data = if self.is_down(&rel.dst_cluster) {
            None
        } else {
            self.capture(&rel.src_svm)
        };
        let uuid = new_uuid();
        let snapshot_time = Utc::now();
        let t = Transfer {
            uuid: uuid.clone(),
            state: "transferring".into(),
            ttype: ttype.into(),
            bytes: 0,
            started: now,
            ends: now + self.timing.transfer,
            start_time: snapshot_time,
            end_time: None,
            data,
            snapshot_time,
            snapshot_name: format!(
                "vserverdr.2.{}.{}",
                self.relationships[i].uuid,
                snapshot_time.format("%Y-%m-%d_%H%M%S")
            ),
            target_state: target_state.into(),
        };
        self.relationships[i].transfer = Some(t);
        uuid
    }

    pub(super) fn complete_transfer(&mut self, i: usize) {
        let Some(mut t) = self.relationships[i].transfer.take() else {
            return;
        };
        let (src_cluster, dst_cluster, src_svm, dst_svm) = {
            let r = &self.relationships[i];
            (
                r.src_cluster.clone(),
                r.dst_cluster.clone(),
                r.src_svm.clone(),
                r.dst_svm.clone(),
            )
        };
        t.end_time = Some(Utc::now());
        let reachable = !self.is_down(&src_cluster) && !self.is_down(&dst_cluster);
        let Some(data) = t.data.clone().filter(|_| reachable) else {
            t.state = "failed".into();
            let src_name = self.cluster_name(&src_cluster);
            let r = &mut self.relationships[i];
            r.healthy = false;
            r.unhealthy = vec![
                json!({"code": "6621444", "message": "Failed to complete update operation on one or more item relationships.", "arguments": []}),
                json!({"code": "13303812", "message": format!("Transfer failed: cannot connect to source cluster \"{src_name}\" (intercluster network unreachable)."), "arguments": [src_name]}),
            ];
            r.last_transfer_type = Some(t.ttype.clone());
            r.transfer = Some(t);
            return;
        };
        // Copy every source volume to the destination SVM.
        let dst_dp = self
            .svm(&dst_svm)
            .is_some_and(|s| s.subtype == "dp_destination")
            || t.target_state == "snapmirrored";
        let mut bytes = 0;
        for (name, writes) in &data {
            let existing = self
                .volumes
                .iter()
                .position(|v| v.svm == dst_svm && &v.name == name);
            let idx = match existing {
                Some(idx) => idx,
                None => {
                    let template = self
                        .volumes
                        .iter()
                        .find(|v| v.svm == src_svm && &v.name == name)
                        .cloned();
                    let (size, junction) = template
                        .map(|v| (v.size, v.junction))
                        .unwrap_or((1 << 30, None));
                    self.volumes.push(Volume {
                        uuid: new_uuid(),
                        cluster: dst_cluster.clone(),
                        svm: dst_svm.clone(),
                        name: name.clone(),
                        size,
                        vtype: "dp".into(),
                        state: "online".into(),
                        junction,
                        is_svm_root: false,
                        writes: vec![],
                        export_policy: "default".into(),
                        created: chrono::Utc::now(),
                    });
                    self.volumes.len() - 1
                }
            };
            let v = &mut self.volumes[idx];
            bytes += writes
                .iter()
                .filter(|w| !v.writes.contains(w))
                .map(|w| w.bytes)
                .sum::<u64>();
            v.writes = writes.clone();
            if dst_dp {
                v.vtype = "dp".into();
            }
        }
        // LUNs are volume data: they follow whatever the identity setting.
        self.replicate_luns(&src_svm, &dst_svm, &dst_cluster);
        // Identity preservation: protocols (and with `full`, LIFs) follow.
        let identity = self.relationships[i].identity.clone();
        let src = self.svm(&src_svm).cloned();
        if let Some(src) = src {
            if identity != "exclude_network_and_protocol_config" {
                if let Some(d) = self.svm_mut(&dst_svm) {
                    d.nfs = src.nfs;
                    d.iscsi = src.iscsi;
                    d.cifs = src.cifs;
                    d.nvme = src.nvme;
                    d.fcp = src.fcp;
                }
                // Export policies travel with the protocol configuration
                // (`World::replicate_exports` cites the ONTAP doc).
                self.replicate_exports(&src_svm, &dst_svm, &dst_cluster);
            }
            if identity == "full" {
                let dst_nodes: Vec<String> = self
                    .cluster(&dst_cluster)
                    .map(|c| c.nodes.iter().map(|n| n.name.clone()).collect())
                    .unwrap_or_default();
                let src_nodes: Vec<String> = self
                    .cluster(&src_cluster)
                    .map(|c| c.nodes.iter().map(|n| n.name.clone()).collect())
                    .unwrap_or_default();
                let src_lifs: Vec<Lif> = self
                    .lifs
                    .iter()
                    .filter(|l| l.svm.as_deref() == Some(src_svm.as_str()))
                    .cloned()
                    .collect();
                for l in src_lifs {
                    if self
                        .lifs
                        .iter()
                        .any(|x| x.svm.as_deref() == Some(dst_svm.as_str()) && x.name == l.name)
                    {
                        continue;
                    }
                    let pos = src_nodes
                        .iter()
                        .position(|n| *n == l.home_node)
                        .unwrap_or(0);
                    let home = dst_nodes
                        .get(pos)
                        .or(dst_nodes.first())
                        .cloned()
                        .unwrap_or_default();
                    self.lifs.push(Lif {
                        uuid: new_uuid(),
                        cluster: dst_cluster.clone(),
                        svm: Some(dst_svm.clone()),
                        home_node: home,
                        sim_down: false,
                        ..l
                    });
                }
            }
        }
        t.state = "success".into();
        t.bytes = bytes;
        let r = &mut self.relationships[i];
        r.total_bytes += bytes;
        r.healthy = true;
        r.unhealthy.clear();
        r.snapshot_time = Some(t.snapshot_time);
        r.snapshot_name = Some(t.snapshot_name.clone());
        r.common = Some(data);
        r.last_transfer_type = Some(t.ttype.clone());
        if r.state != "paused" || t.target_state != "snapmirrored" {
            r.state = t.target_state.clone();
        }
        r.transfer = Some(t);
    }
}
