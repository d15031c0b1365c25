//! Finding clusters, SVMs and LIFs by key, name or uuid.

use super::model::{Cluster, Lif, Svm, World, policy_services};

impl World {
    /// A cluster by key or ONTAP name.
    pub fn cluster_idx(&self, key_or_name: &str) -> Option<usize> {
        self.clusters
            .iter()
            .position(|c| c.key == key_or_name)
            .or_else(|| self.clusters.iter().position(|c| c.name == key_or_name))
    }

    pub fn cluster(&self, key: &str) -> Option<&Cluster> {
        self.cluster_idx(key).map(|i| &self.clusters[i])
    }

    pub fn cluster_mut(&mut self, key: &str) -> Option<&mut Cluster> {
        self.cluster_idx(key).map(move |i| &mut self.clusters[i])
    }

    pub fn cluster_name(&self, key: &str) -> String {
        self.cluster(key)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    pub fn cluster_uuid(&self, key: &str) -> String {
        self.cluster(key)
            .map(|c| c.uuid.clone())
            .unwrap_or_default()
    }

    pub fn is_down(&self, key: &str) -> bool {
        self.cluster(key).is_none_or(|c| c.down)
    }

    pub fn svm(&self, uuid: &str) -> Option<&Svm> {
        self.svms.iter().find(|s| s.uuid == uuid)
    }

    pub fn svm_mut(&mut self, uuid: &str) -> Option<&mut Svm> {
        self.svms.iter_mut().find(|s| s.uuid == uuid)
    }

    pub fn svm_by_name(&self, cluster: &str, name: &str) -> Option<&Svm> {
        self.svms
            .iter()
            .find(|s| s.cluster == cluster && s.name == name)
    }

    pub fn svm_name(&self, uuid: &str) -> String {
        self.svm(uuid).map(|s| s.name.clone()).unwrap_or_default()
    }

    /// Is the SVM up and serving (running, on an up cluster)?
    pub fn svm_serving(&self, uuid: &str) -> bool {
        self.svm(uuid)
            .is_some_and(|s| s.state == "running" && !self.is_down(&s.cluster))
    }

    /// Operational state of a LIF.
    pub fn lif_up(&self, lif: &Lif) -> bool {
        if !lif.enabled || lif.sim_down || self.is_down(&lif.cluster) {
            return false;
        }
        match &lif.svm {
            None => true,
            Some(svm) => self
                .svm(svm)
                .is_some_and(|s| s.state == "running" && s.subtype != "dp_destination"),
        }
    }

    /// The (ip, port) pairs data LIFs should be listening on now.
    pub fn data_listeners(&self) -> Vec<(String, u16)> {
        let mut out = Vec::new();
        for l in &self.lifs {
            if l.svm.is_none() || !self.lif_up(l) {
                continue;
            }
            let svcs = policy_services(&l.service_policy);
            for (svc, port) in [("data_nfs", self.nfs_port), ("data_iscsi", self.iscsi_port)] {
                if svcs.contains(&svc) && !out.contains(&(l.ip.clone(), port)) {
                    out.push((l.ip.clone(), port));
                }
            }
        }
        out
    }
}
