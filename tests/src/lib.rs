//! The krew checks: the plugin manifest against krew's validation rules, and the binaries it packages.
//!
//! - [`krew`]: krew's validation rules for plugin manifests.
//! - [`bins`]: finding (and if needed building) the workspace's binaries.

pub mod bins;
pub mod krew;
