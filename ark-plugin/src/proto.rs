//! Generated gRPC code for the protos in the workspace's `proto/velero`:
//! Velero's `generated` package, go-plugin's `plugin` package, and the
//! Heptio Ark v0.10 variant of `generated` (same service path, other messages).

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// Velero's plugin protos (package `generated`): PluginLister and
/// RestoreItemAction v1.
pub mod generated {
    tonic::include_proto!("generated");
}

/// go-plugin's internal services (package `plugin`): GRPCController,
/// GRPCStdio, GRPCBroker.
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Heptio Ark v0.10's RestoreItemAction (package `generated`, other messages).
pub mod ark {
    include!(concat!(env!("OUT_DIR"), "/ark/generated.rs"));
}
