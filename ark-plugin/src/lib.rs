//! `velero-plugin-svmdr`: a Velero RestoreItemAction, served over
//! hashicorp/go-plugin gRPC, that checks the ONTAP storage behind Trident
//! PVs and PVCs before Velero restores them.
//!
//! - [`server`]: handshake, listener, services, shutdown.
//! - [`lister`]: PluginLister (what this binary registers).
//! - [`ria`]: the RestoreItemAction gRPC service (Velero v1, Ark v0.10).
//! - [`action`]: the action itself (PVs, PVCs), independent of gRPC.
//! - [`storage`], [`cache`]: lazily built clients and cached ONTAP facts.
//! - [`kubeapi`]: the small read-only Kubernetes client.
//! - [`config`]: the plugin ConfigMap.
//! - [`goplugin`]: go-plugin's controller, stdio and broker services.
//! - [`logging`]: hclog JSON lines on stderr.
//! - [`args`]: the flags read (all others ignored).

pub mod action;
pub mod args;
pub mod cache;
pub mod config;
pub mod goplugin;
pub mod kubeapi;
pub mod lister;
pub mod logging;
pub mod proto;
pub mod ria;
pub mod server;
pub mod storage;
