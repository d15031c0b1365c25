//! IP interfaces (`/api/network/ip/interfaces`): data and intercluster
//! LIFs. Creating a LIF is synchronous (201).

use http::Method;
use serde_json::json;

use super::error::OntapError;
use super::models::IpInterface;
use super::query::Query;
use super::transport::{CallMode, OntapClient};

/// Fields read for LIFs.
const LIF_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "ip",
    "state",
    "enabled",
    "scope",
    "services",
    "service_policy.name",
    "ipspace.name",
    "svm.name",
    "svm.uuid",
    "location.home_node.name",
    "location.node.name",
    "location.home_port.name",
    "location.port.name",
    "location.is_home",
];

/// The service every intercluster LIF has.
pub const INTERCLUSTER_SERVICE: &str = "intercluster_core";

/// Filters for [`OntapClient::ip_interfaces`]; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct InterfaceQuery {
    /// Owning SVM name.
    pub svm: Option<String>,
    /// A service the LIF must have, e.g. `data_nfs`, `intercluster_core`.
    pub services: Option<String>,
    /// LIF name.
    pub name: Option<String>,
}

/// Where a new intercluster LIF goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifPlacement {
    /// A home port on the home node, e.g. `e0c`.
    Port(String),
    /// A broadcast domain (ONTAP picks a port on the home node).
    BroadcastDomain(String),
}

/// A new cluster-scoped intercluster LIF.
#[derive(Debug, Clone)]
pub struct NewInterclusterLif {
    /// LIF name.
    pub name: String,
    /// IP address.
    pub address: String,
    /// Netmask or prefix length.
    pub netmask: String,
    /// Home node.
    pub home_node: String,
    /// Port or broadcast domain.
    pub placement: LifPlacement,
    /// IPspace (`Default` usually).
    pub ipspace: String,
}

impl OntapClient {
    /// LIFs matching `query`. The `services` filter is applied on the
    /// server and again here, as array filters vary by release.
    ///
    /// # Errors
    /// As for any call.
    pub async fn ip_interfaces(
        &self,
        query: &InterfaceQuery,
    ) -> Result<Vec<IpInterface>, OntapError> {
        let q = Query::new()
            .fields(LIF_FIELDS)
            .opt("svm.name", query.svm.clone())
            .opt("services", query.services.clone())
            .opt("name", query.name.clone());
        let mut lifs: Vec<IpInterface> = self
            .get_collection("/api/network/ip/interfaces", &q)
            .await?;
        if let Some(service) = &query.services {
            lifs.retain(|l| l.has_service(service));
        }
        Ok(lifs)
    }

    /// The intercluster LIFs (service `intercluster_core`).
    ///
    /// # Errors
    /// As for any call.
    pub async fn intercluster_interfaces(&self) -> Result<Vec<IpInterface>, OntapError> {
        self.ip_interfaces(&InterfaceQuery {
            services: Some(INTERCLUSTER_SERVICE.to_string()),
            ..Default::default()
        })
        .await
    }

    /// Creates a cluster-scoped intercluster LIF with service policy
    /// `default-intercluster`, and returns it as read back.
    ///
    /// # Errors
    /// e.g. ONTAP 1376963 (duplicate IP), 1966140 (name exists), or any
    /// call error.
    pub async fn create_intercluster_interface(
        &self,
        lif: &NewInterclusterLif,
    ) -> Result<IpInterface, OntapError> {
        let mut location = json!({ "home_node": { "name": lif.home_node } });
        match &lif.placement {
            LifPlacement::Port(port) => location["home_port"] = json!({ "name": port }),
            LifPlacement::BroadcastDomain(bd) => {
                location["broadcast_domain"] = json!({ "name": bd });
            }
        }
        let body = json!({
            "name": lif.name,
            "ip": { "address": lif.address, "netmask": lif.netmask },
            "ipspace": { "name": lif.ipspace },
            "service_policy": { "name": "default-intercluster" },
            "location": location,
        });
        let path = "/api/network/ip/interfaces";
        self.mutate(
            Method::POST,
            path,
            Query::new(),
            Some(&body),
            CallMode::Immediate,
        )
        .await?;
        let found = self
            .ip_interfaces(&InterfaceQuery {
                name: Some(lif.name.clone()),
                ..Default::default()
            })
            .await?;
        found
            .into_iter()
            .find(|l| l.name.as_deref() == Some(lif.name.as_str()) && l.svm.is_none())
            .ok_or_else(|| self.missing_uuid(&format!("POST {path}")))
    }
}
