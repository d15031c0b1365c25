//! A TCP reachability probe for data LIFs, always bounded by a timeout.

use std::net::SocketAddr;
use std::time::Duration;

use super::transport::{ISCSI_PORT, NFS_PORT, Transport};
use crate::trident::volume::Protocol;

/// The standard port for `protocol`'s default transport (NFS 2049, iSCSI
/// 3260); [`Transport::default_port`] for the others.
pub fn default_port(protocol: Protocol) -> u16 {
    Transport::default_for(protocol)
        .default_port()
        .unwrap_or(match protocol {
            Protocol::File => NFS_PORT,
            Protocol::Block => ISCSI_PORT,
        })
}

/// Why a probe failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The address is not an IP and did not resolve.
    #[error("cannot resolve {host}: {detail}")]
    Resolve {
        /// Host as given.
        host: String,
        /// Resolver error.
        detail: String,
    },
    /// The connection was refused or failed.
    #[error("TCP connect to {addr} failed: {detail}")]
    Connect {
        /// Address tried.
        addr: String,
        /// OS error.
        detail: String,
    },
    /// No answer within the timeout.
    #[error("no TCP answer from {addr} within {timeout:?}")]
    Timeout {
        /// Address tried.
        addr: String,
        /// The timeout.
        timeout: Duration,
    },
}

/// Opens (and closes) a TCP connection to `host:port` within `timeout`.
/// `host` may be an IPv4/IPv6 address (brackets allowed) or a DNS name.
///
/// # Errors
/// [`ProbeError`] when the name does not resolve, the connection fails, or
/// nothing answers in time (the whole probe, resolution included, is bounded).
pub async fn probe_tcp(host: &str, port: u16, timeout: Duration) -> Result<(), ProbeError> {
    let bare = host.trim().trim_start_matches('[').trim_end_matches(']');
    let shown = if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    };
    let attempt = async {
        let addrs: Vec<SocketAddr> = match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| ProbeError::Resolve {
                    host: bare.to_string(),
                    detail: e.to_string(),
                })?
                .collect(),
        };
        let mut last = None;
        for addr in addrs {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(_stream) => return Ok(()),
                Err(e) => {
                    last = Some(ProbeError::Connect {
                        addr: addr.to_string(),
                        detail: e.to_string(),
                    })
                }
            }
        }
        Err(last.unwrap_or(ProbeError::Resolve {
            host: bare.to_string(),
            detail: "no addresses".into(),
        }))
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(ProbeError::Timeout {
            addr: shown,
            timeout,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_and_closed_ports() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        probe_tcp("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap();
        drop(listener);
        let e = probe_tcp("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(e, ProbeError::Connect { .. }), "{e}");
        assert!(e.to_string().contains(&port.to_string()));
    }

    #[test]
    fn default_ports() {
        assert_eq!(default_port(Protocol::File), 2049);
        assert_eq!(default_port(Protocol::Block), 3260);
    }
}
