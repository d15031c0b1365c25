//! Integration tests for `sim::kube`: kube-rs (and kubectl, when installed)
//! against the simulated API server, exactly as against a real one.

#[path = "kube/common.rs"]
mod common;
#[path = "kube/verbs.rs"]
mod verbs;
#[path = "kube/watching.rs"]
mod watching;
