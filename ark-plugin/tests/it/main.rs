//! Integration tests of `velero-plugin-svmdr`: the binary is started by
//! `sim::velero::PluginHost` exactly as Velero starts it, and called over
//! go-plugin gRPC; storage tests run it against the simulated lab
//! (`sim::ontap::OntapSim` + `sim::kube::KubeSim`).

mod import;
mod lab;
mod malformed;
mod protocol;
mod storage;
mod transport;
