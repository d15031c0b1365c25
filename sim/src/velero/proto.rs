//! Generated gRPC client code for Velero's plugin protos.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// Velero's package `generated`: PluginLister, RestoreItemAction v1, shared messages.
pub mod generated {
    tonic::include_proto!("generated");
}

/// Velero's package `v2`: RestoreItemAction v2.
pub mod v2 {
    tonic::include_proto!("v2");
}

/// go-plugin's package `plugin`: GRPCController, GRPCStdio, GRPCBroker.
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Heptio Ark v0.10's RestoreItemAction (package `generated`, other messages).
pub mod ark {
    include!(concat!(env!("OUT_DIR"), "/ark/generated.rs"));
}
