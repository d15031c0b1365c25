//! `kubectl svmdr` as a library: the binaries (`kubectl-svmdr`,
//! `kubectl_complete-svmdr`) are thin wrappers around it, and tests drive it
//! directly.
//!
//! - [`cli`]: clap types and the subcommand list.
//! - [`commands`]: one module per subcommand (`Args` + `run`).
//! - [`ctx`]: what a command gets: flags, lazily built runtime, sites.
//! - [`output`]: tables, JSON and YAML, written to any `io::Write`.
//! - [`progress`], [`prompt`]: indicatif and dialoguer front ends.
//! - [`exit`]: exit codes. [`complete`]: shell completion engine.

pub mod cli;
pub mod commands;
pub mod complete;
pub mod ctx;
pub mod exit;
pub mod logging;
pub mod output;
pub mod progress;
pub mod prompt;
