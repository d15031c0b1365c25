//! The simulated lab: a stateful ONTAP REST simulator and an in-memory
//! Kubernetes API, for tests, benchmarks and `kubectl svmdr lab`.
//!
//! This crate never depends on `svmdr`: it writes ONTAP's JSON from ONTAP's
//! reference (`docs/ontap-rest.md`) on its own, so a wrong field name in the
//! client cannot hide behind the same mistake here.
//!
//! - [`tls`]: the lab CA and certificates, and a TLS server loop.
//! - [`ontap`]: the ONTAP REST simulator.
//! - [`kube`]: the in-memory Kubernetes API.
//! - [`velero`]: a go-plugin host for Velero plugins.
//! - [`lab`]: both sites, the sample app, and a Velero restore runner
//!   driving the real plugin (`kubectl svmdr lab`).

pub mod kube;
pub mod lab;
pub mod ontap;
pub mod tls;
pub mod velero;
