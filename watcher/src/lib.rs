//! `svmdr-watcher`: watches an SVM-DR pair from the DR site, exports
//! Prometheus metrics, and fails over on its own only when a witness's
//! quorum says the primary is lost (the decision is
//! [`svmdr::watch::decide`]). Thin over `svmdr`:
//!
//! - [`metrics`]: the Prometheus registry and its families;
//! - [`http`]: `/metrics`, `/healthz` and `/readyz`.

pub mod http;
pub mod metrics;
