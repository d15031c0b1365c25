//! `kubectl svmdr version`: version, git commit and build date.

use std::io::Write as _;

use serde::Serialize;

use crate::ctx::Ctx;
use crate::exit::Outcome;
use crate::global::OutputFormat;

/// Flags of `version` (none besides the global `-o`).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// What `version` prints.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfo {
    /// Crate version.
    pub version: &'static str,
    /// `git rev-parse --short HEAD` at build time, or "unknown".
    pub git_commit: &'static str,
    /// Build date (UTC, honours SOURCE_DATE_EPOCH).
    pub build_date: &'static str,
}

/// This binary's version info.
pub const INFO: VersionInfo = VersionInfo {
    version: svmdr::VERSION,
    git_commit: env!("SVMDR_GIT_COMMIT"),
    build_date: env!("SVMDR_BUILD_DATE"),
};

/// Prints the version.
///
/// # Errors
/// Only when stdout cannot be written.
pub fn run(_args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match ctx.global.output {
        OutputFormat::Table | OutputFormat::Wide => writeln!(
            out,
            "kubectl-svmdr {} (commit {}, built {})",
            INFO.version, INFO.git_commit, INFO.build_date
        )?,
        format => {
            let doc = crate::output::typed("Version", &INFO);
            crate::output::write_structured(&mut out, format, &doc)?;
        }
    }
    Ok(Outcome::Ok)
}
