//! A go-plugin host for Velero plugins, written against the same protos as
//! Velero: it starts a plugin binary the way Velero does (magic cookie,
//! `PLUGIN_PROTOCOL_VERSIONS`, Velero's server flags), reads the handshake
//! line, connects over the announced unix socket or TCP address, and calls
//! PluginLister, RestoreItemAction (v1 and v2), health and
//! GRPCController.Shutdown as Velero's client does.
//!
//! Used by the plugin's integration tests and by the lab. It never depends
//! on the plugin crate: both sides are generated from `proto/velero`.
//!
//! - [`PluginHost`]: one running plugin process.
//! - [`proto`]: the generated client code.

mod host;
pub mod proto;

pub use host::{ExitReport, Handshake, HostError, PluginHost, SpawnOptions, VELERO_SERVER_ARGS};
pub use proto::generated::{
    PluginIdentifier, ResourceIdentifier, ResourceSelector,
    RestoreItemActionExecuteResponse as ExecuteResponse,
};
