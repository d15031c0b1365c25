//! `/api/network/ip/interfaces` records (LIFs).

use serde::{Deserialize, Serialize};

use super::{NamedRef, ontap_enum};

ontap_enum! {
    /// Operational state of a LIF.
    pub enum InterfaceState {
        /// Up.
        Up => "up",
        /// Down.
        Down => "down",
    }
}

ontap_enum! {
    /// Whether a LIF belongs to an SVM or to the cluster.
    pub enum InterfaceScope {
        /// SVM-scoped.
        Svm => "svm",
        /// Cluster-scoped (e.g. intercluster LIFs).
        Cluster => "cluster",
    }
}

ontap_enum! {
    /// IP address family.
    pub enum IpFamily {
        /// IPv4.
        Ipv4 => "ipv4",
        /// IPv6.
        Ipv6 => "ipv6",
    }
}

/// One IP interface (LIF).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpInterface {
    /// LIF UUID.
    #[serde(default)]
    pub uuid: Option<String>,
    /// LIF name.
    #[serde(default)]
    pub name: Option<String>,
    /// Address.
    #[serde(default)]
    pub ip: Option<IpInfo>,
    /// Operational state.
    #[serde(default)]
    pub state: Option<InterfaceState>,
    /// Administrative state.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `svm` or `cluster`.
    #[serde(default)]
    pub scope: Option<InterfaceScope>,
    /// Services from the service policy (`intercluster_core`, `data_nfs`,
    /// ...). Kept as text: a long, growing list.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// Service policy.
    #[serde(default)]
    pub service_policy: Option<NamedRef>,
    /// IPspace.
    #[serde(default)]
    pub ipspace: Option<NamedRef>,
    /// Owning SVM (absent for cluster scope).
    #[serde(default)]
    pub svm: Option<NamedRef>,
    /// Home and current node and port.
    #[serde(default)]
    pub location: Option<InterfaceLocation>,
}

impl IpInterface {
    /// Whether the LIF is administratively enabled and operationally up.
    pub fn is_serving(&self) -> bool {
        self.enabled == Some(true) && self.state == Some(InterfaceState::Up)
    }

    /// Whether `service` is among its services.
    pub fn has_service(&self, service: &str) -> bool {
        self.services
            .as_deref()
            .is_some_and(|s| s.iter().any(|x| x == service))
    }

    /// The IP address, when known.
    pub fn address(&self) -> Option<&str> {
        self.ip.as_ref().and_then(|ip| ip.address.as_deref())
    }
}

/// An address and netmask.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpInfo {
    /// IPv4 or IPv6 address.
    #[serde(default)]
    pub address: Option<String>,
    /// Netmask or prefix length.
    #[serde(default)]
    pub netmask: Option<String>,
    /// Family.
    #[serde(default)]
    pub family: Option<IpFamily>,
}

/// Where a LIF lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceLocation {
    /// Home node.
    #[serde(default)]
    pub home_node: Option<NamedRef>,
    /// Current node.
    #[serde(default)]
    pub node: Option<NamedRef>,
    /// Home port.
    #[serde(default)]
    pub home_port: Option<NamedRef>,
    /// Current port.
    #[serde(default)]
    pub port: Option<NamedRef>,
    /// Broadcast domain.
    #[serde(default)]
    pub broadcast_domain: Option<NamedRef>,
    /// Whether it is on its home port.
    #[serde(default)]
    pub is_home: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_intercluster_lif() {
        let lif: IpInterface = serde_json::from_str(
            r#"{"uuid":"u","name":"ic1","ip":{"address":"10.0.0.1","netmask":"24","family":"ipv4"},
                "state":"up","enabled":true,"scope":"cluster","services":["intercluster_core"],
                "service_policy":{"name":"default-intercluster"},"ipspace":{"name":"Default"},
                "location":{"home_node":{"name":"n1"},"node":{"name":"n1"},"home_port":{"name":"e0c"},"is_home":true}}"#,
        )
        .unwrap();
        assert!(lif.is_serving());
        assert!(lif.has_service("intercluster_core"));
        assert_eq!(lif.address(), Some("10.0.0.1"));
        assert_eq!(lif.scope, Some(InterfaceScope::Cluster));
        let odd: IpInterface = serde_json::from_str(r#"{"state":"degraded"}"#).unwrap();
        assert_eq!(odd.state, Some(InterfaceState::Unknown));
        assert!(!odd.is_serving());
    }
}
