//! Integration tests of `svmdr::ontap::OntapClient`: transport behaviour
//! and bad input against tiny local HTTPS servers, and every operation
//! against the ONTAP simulator (`sim::ontap`).

// OntapError is large on purpose (cluster, call, ONTAP's fault); see svmdr::ontap.
#![allow(clippy::result_large_err)]

mod ontap {
    pub mod fake;

    mod bad_input;
    mod readiness;
    mod sim_ops;
    mod transport;
    mod waits;
}
