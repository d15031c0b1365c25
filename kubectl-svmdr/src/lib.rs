//! `kubectl svmdr` as a library: the binaries (`kubectl-svmdr`,
//! `kubectl_complete-svmdr`) are thin wrappers around it, and tests drive it
//! directly.
//!
//! - [`cli`]: clap types and the subcommand list; [`global`]: the global
//!   flags and `-o`.
//! - [`commands`]: one module per subcommand (`Args` + `run`).
//! - [`ctx`]: what a command gets: flags, lazily built runtime, sites.
//! - [`output`]: tables, JSON and YAML, written to any `io::Write`;
//!   [`jsonpath`]: kubectl's `-o jsonpath=` templates.
//! - [`progress`], [`prompt`]: indicatif and dialoguer front ends.
//! - [`exit`]: exit codes; [`failure`]: workflow and restore errors as the
//!   CLI reports them. [`complete`]: shell completion engine.

pub mod cli;
pub mod commands;
pub mod complete;
pub mod ctx;
pub mod exit;
pub mod failure;
pub mod global;
pub mod jsonpath;
pub mod logging;
pub mod output;
pub mod progress;
pub mod prompt;
