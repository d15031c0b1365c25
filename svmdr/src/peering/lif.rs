//! `NODE=IP/PREFIX[@PORT]`: an intercluster LIF to create on a node.

use std::fmt;
use std::net::IpAddr;

/// An intercluster LIF the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifSpec {
    /// Home node name.
    pub node: String,
    /// IP address.
    pub address: String,
    /// Prefix length (or a dotted netmask), as ONTAP's `ip.netmask` takes it.
    pub netmask: String,
    /// Home port; `None` places the LIF in the `Default` broadcast domain.
    pub port: Option<String>,
}

impl fmt::Display for LifSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}/{}", self.node, self.address, self.netmask)?;
        if let Some(p) = &self.port {
            write!(f, "@{p}")?;
        }
        Ok(())
    }
}

impl LifSpec {
    /// The LIF name used: `svmdr_ic_<node>` (non-alphanumerics become `_`).
    pub fn lif_name(&self) -> String {
        let node: String = self
            .node
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        format!("svmdr_ic_{node}")
    }
}

impl std::str::FromStr for LifSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            format!("{s:?}: {why}; expected NODE=IP/PREFIX[@PORT], e.g. node-01=10.0.0.11/24")
        };
        let (node, rest) = s.split_once('=').ok_or_else(|| bad("missing `=`"))?;
        let node = node.trim();
        if node.is_empty() {
            return Err(bad("empty node name"));
        }
        let (addr_mask, port) = match rest.split_once('@') {
            Some((a, p)) if !p.trim().is_empty() => (a, Some(p.trim().to_string())),
            Some(_) => return Err(bad("empty port after `@`")),
            None => (rest, None),
        };
        let (address, netmask) = addr_mask
            .split_once('/')
            .ok_or_else(|| bad("missing `/PREFIX`"))?;
        let ip: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| bad("not an IP address"))?;
        let netmask = netmask.trim();
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let valid = match netmask.parse::<u8>() {
            Ok(p) => p > 0 && p <= max,
            Err(_) => ip.is_ipv4() && netmask.parse::<std::net::Ipv4Addr>().is_ok(),
        };
        if !valid {
            return Err(bad("bad prefix length or netmask"));
        }
        Ok(Self {
            node: node.to_string(),
            address: ip.to_string(),
            netmask: netmask.to_string(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let s: LifSpec = "node-01=10.0.0.11/24".parse().unwrap();
        assert_eq!(s.node, "node-01");
        assert_eq!(s.address, "10.0.0.11");
        assert_eq!(s.netmask, "24");
        assert_eq!(s.port, None);
        assert_eq!(s.lif_name(), "svmdr_ic_node_01");
        let s: LifSpec = "n2=192.168.1.5/255.255.255.0@e0c".parse().unwrap();
        assert_eq!(s.port.as_deref(), Some("e0c"));
        assert_eq!(s.to_string(), "n2=192.168.1.5/255.255.255.0@e0c");
        let s: LifSpec = "n3=fd00::5/64".parse().unwrap();
        assert_eq!(s.address, "fd00::5");
    }

    #[test]
    fn rejects_bad_specs_with_the_expected_form() {
        for bad in [
            "10.0.0.1/24",
            "=10.0.0.1/24",
            "n=10.0.0.1",
            "n=x/24",
            "n=10.0.0.1/33",
            "n=10.0.0.1/24@",
        ] {
            let e = bad.parse::<LifSpec>().unwrap_err();
            assert!(e.contains("NODE=IP/PREFIX"), "{bad}: {e}");
        }
    }
}
