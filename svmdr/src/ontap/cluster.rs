//! Cluster identity and nodes: `GET /api/cluster`, `GET /api/cluster/nodes`.

use super::error::OntapError;
use super::models::{Cluster, Node};
use super::query::Query;
use super::transport::OntapClient;

/// Fields read by [`OntapClient::cluster`].
const CLUSTER_FIELDS: &[&str] = &["name", "uuid", "version", "san_optimized"];
/// Fields read by [`OntapClient::nodes`].
const NODE_FIELDS: &[&str] = &["uuid", "name", "version", "state"];

impl OntapClient {
    /// The cluster's name, UUID, release and All-SAN flag
    /// (`GET /api/cluster?fields=name,uuid,version,san_optimized`). A good
    /// first call: it proves reachability, TLS trust and credentials.
    ///
    /// # Errors
    /// Transport, TLS, authentication or ONTAP errors, each naming this
    /// cluster.
    pub async fn cluster(&self) -> Result<Cluster, OntapError> {
        self.get("/api/cluster", &Query::new().fields(CLUSTER_FIELDS))
            .await
    }

    /// Every node of the cluster.
    ///
    /// # Errors
    /// As for [`OntapClient::cluster`].
    pub async fn nodes(&self) -> Result<Vec<Node>, OntapError> {
        self.get_collection("/api/cluster/nodes", &Query::new().fields(NODE_FIELDS))
            .await
    }
}
