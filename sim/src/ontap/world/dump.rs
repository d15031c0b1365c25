//! The JSON dump of the whole lab (no passwords).

use serde_json::{Value, json};

use super::model::World;

impl World {
    /// A JSON dump of the whole lab (no passwords).
    pub fn dump(&self) -> Value {
        let clusters: Vec<Value> = self
            .clusters
            .iter()
            .map(|c| {
                json!({
                    "key": c.key, "name": c.name, "uuid": c.uuid, "down": c.down,
                    "port": c.port, "requests": c.requests,
                    "accounts": c.accounts.iter().map(|a| json!({"username": a.username, "role": format!("{:?}", a.role).to_lowercase(), "svm": a.svm})).collect::<Vec<_>>(),
                    "faults": c.faults.len(),
                })
            })
            .collect();
        let svms: Vec<Value> = self
            .svms
            .iter()
            .map(|s| json!({"cluster": s.cluster, "name": s.name, "uuid": s.uuid, "state": s.state, "subtype": s.subtype, "nfs": s.nfs, "iscsi": s.iscsi}))
            .collect();
        let lifs: Vec<Value> = self
            .lifs
            .iter()
            .map(|l| json!({"cluster": l.cluster, "name": l.name, "svm": l.svm.as_ref().map(|s| self.svm_name(s)), "ip": l.ip, "service_policy": l.service_policy, "up": self.lif_up(l), "sim_down": l.sim_down}))
            .collect();
        let volumes: Vec<Value> = self
            .volumes
            .iter()
            .map(|v| json!({"cluster": v.cluster, "svm": self.svm_name(&v.svm), "name": v.name, "type": v.vtype, "state": v.state, "writes": v.writes, "export_policy": v.export_policy, "size": v.size}))
            .collect();
        let peers: Vec<Value> = self
            .cluster_peers
            .iter()
            .map(|p| json!({"cluster": p.cluster, "remote": p.remote, "uuid": p.uuid, "auth": p.auth}))
            .collect();
        let svm_peers: Vec<Value> = self
            .svm_peers
            .iter()
            .map(|p| json!({"cluster": p.cluster, "uuid": p.uuid, "svm": self.svm_name(&p.svm), "peer_svm": self.svm_name(&p.peer_svm), "name": p.name, "state": p.state}))
            .collect();
        let rels: Vec<Value> = self
            .relationships
            .iter()
            .map(|r| json!({
                "uuid": r.uuid, "source": format!("{}:{}:", r.src_cluster, self.svm_name(&r.src_svm)),
                "destination": format!("{}:{}:", r.dst_cluster, self.svm_name(&r.dst_svm)),
                "state": r.state, "healthy": r.healthy, "identity_preservation": r.identity,
                "transfer_state": r.transfer.as_ref().map(|t| t.state.clone()),
                "dst_present": r.dst_present, "src_present": r.src_present,
            }))
            .collect();
        let jobs: Vec<Value> = self
            .jobs
            .iter()
            .map(|j| json!({"cluster": j.cluster, "uuid": j.uuid, "state": j.state.as_str(), "description": j.description}))
            .collect();
        json!({
            "clusters": clusters, "svms": svms, "lifs": lifs, "volumes": volumes,
            "cluster_peers": peers, "svm_peers": svm_peers, "relationships": rels, "jobs": jobs,
            "probe_ports": {"nfs": self.nfs_port, "iscsi": self.iscsi_port},
            "export_policies": self.dump_export_policies(), "luns": self.dump_luns(),
        })
    }
}
