//! Integration tests for `sim::kube`: kube-rs (and kubectl, when installed)
//! against the simulated API server, exactly as against a real one.

#[path = "kube/access.rs"]
mod access;
#[path = "kube/common.rs"]
mod common;
#[path = "kube/lab.rs"]
mod lab;
#[path = "kube/lease.rs"]
mod lease;
#[path = "kube/verbs.rs"]
mod verbs;
#[path = "kube/watching.rs"]
mod watching;
