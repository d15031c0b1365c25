//! Helpers for the end-to-end tests that run the built binaries together.
//!
//! - [`krew`]: krew's validation rules for plugin manifests.
//! - [`bins`]: finding (and if needed building) the workspace's binaries.

pub mod bins;
pub mod krew;
