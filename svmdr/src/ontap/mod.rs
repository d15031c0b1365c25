//! An async ONTAP REST client for what SVM-DR needs.
//!
//! One [`OntapClient`] per cluster (cheap to clone, connections reused).
//! Every call bounds its time ([`Timeouts`]), verifies TLS unless told
//! otherwise ([`TlsOptions`]), waits for any async job it starts, and fails
//! with an [`OntapError`] naming the cluster, the call, ONTAP's code and
//! message and a hint. Credentials never appear in errors, logs or `Debug`.
//!
//! - [`config`]: endpoint, auth, TLS options, timeouts.
//! - [`error`]: the error type and ONTAP code mapping.
//! - [`models`]: typed records.
//! - Operations live in one file per resource family: `cluster`,
//!   `network`, `peers`, `svm`, `snapmirror`, `volumes`, `protocols`,
//!   `jobs`, `wait`.

// OntapError carries the cluster, the call and ONTAP's code and message so
// every failure explains itself; its size is irrelevant next to a network
// round trip.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod error;
pub mod models;

mod cluster;
mod jobs;
pub mod network;
pub mod peers;
mod pem;
mod protocols;
mod query;
pub mod snapmirror;
pub mod svm;
mod tls;
mod transport;
pub mod volumes;
mod wait;

pub use config::{Auth, OntapConfig, Timeouts, TlsOptions};
pub use error::{ApiFault, ErrorKind, Failure, OntapError};
pub use network::{INTERCLUSTER_SERVICE, InterfaceQuery, LifPlacement, NewInterclusterLif};
pub use peers::{CreateClusterPeer, CreatedClusterPeer, PatchClusterPeer, SvmPeerQuery};
pub use snapmirror::{CreateRelationship, DeleteOptions, PatchOptions, RelationshipQuery};
pub use svm::SvmQuery;
pub use tls::verified_client_config;
pub use transport::OntapClient;
pub use volumes::VolumeQuery;

/// Percent-encodes one URL path segment (a UUID or name from outside), so
/// it can never change the path.
pub(crate) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out == "." || out == ".." {
        out = out.replace('.', "%2E");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(super::path_segment("0a1b-2c"), "0a1b-2c");
        assert_eq!(super::path_segment("../x"), "..%2Fx");
        assert_eq!(super::path_segment(".."), "%2E%2E");
        assert_eq!(super::path_segment("a b?c"), "a%20b%3Fc");
    }
}
