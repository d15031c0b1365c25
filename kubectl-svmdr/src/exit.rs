//! Exit codes, and the one place an error is turned into one.
//!
//! [`TABLE`] is the one list of codes and meanings: `--help` prints it
//! ([`EXIT_CODES_HELP`], checked against it), the README's "Exit codes"
//! table must equal it (`tests/exit_codes.rs`), and the error document
//! written with `-o json|yaml` ([`error_document`]) carries the meaning.
//!
//! The rule: 2 means the command could not produce its result; 1 means it
//! did, and the result shows a problem. So `status` with a primary site it
//! cannot resolve or reach exits 1 (the report covers the DR half and names
//! the primary's failure as a problem), while a DR site that cannot be
//! resolved or reached exits 2 (no report at all).

use std::fmt;
use std::process::ExitCode;

use serde::Serialize;

use crate::global::OutputFormat;
use crate::output;

/// Every exit code and its meaning (the README's "Exit codes" table).
pub const TABLE: &[(u8, &str)] = &[
    (
        code::OK,
        "success (also when stdout is closed early, e.g. piped into `head`)",
    ),
    (
        code::UNHEALTHY,
        "unhealthy or not ready: the command ran and its result shows a problem (`status` or `backends` found one, an unresolvable or unreachable primary site included; a restore ended `PartiallyFailed`; a workflow's steps succeeded but the DR site is not ready: export policy, restore)",
    ),
    (
        code::ERROR,
        "error, no result: bad flags or config file, the DR site cannot be resolved or reached, ONTAP or Kubernetes refused a call, a step failed, a restore `Failed` or still running at the timeout",
    ),
    (
        code::REFUSED,
        "refused for safety (split-brain guard, declined confirmation, a Velero backup that carries volume data)",
    ),
    (code::INTERRUPTED, "interrupted (Ctrl-C)"),
];

/// The exit-code table, as printed at the end of `--help` ([`TABLE`]).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (also when stdout is closed early, e.g. piped into `head`)
  1    unhealthy or not ready: the command ran and its result shows a problem (`status` or `backends` found one, an unresolvable or unreachable primary site included; a restore ended `PartiallyFailed`; a workflow's steps succeeded but the DR site is not ready: export policy, restore)
  2    error, no result: bad flags or config file, the DR site cannot be resolved or reached, ONTAP or Kubernetes refused a call, a step failed, a restore `Failed` or still running at the timeout
  3    refused for safety (split-brain guard, declined confirmation, a Velero backup that carries volume data)
  130  interrupted (Ctrl-C)";

/// The meaning of exit code `code` ([`TABLE`]).
pub fn meaning(code: u8) -> &'static str {
    TABLE
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("unknown exit code", |(_, m)| m)
}

/// What a command that ran to the end found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All good: exit 0.
    Ok,
    /// The command worked but found something unhealthy or not ready: exit 1.
    Unhealthy,
}

/// A command declined to act because acting could harm data (exit 3).
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The user pressed Ctrl-C (exit 130).
#[derive(Debug)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted; re-run the same command to continue from where the storage is")
    }
}

impl std::error::Error for Interrupted {}

/// Exit code numbers.
pub mod code {
    /// Success.
    pub const OK: u8 = 0;
    /// Unhealthy / not ready.
    pub const UNHEALTHY: u8 = 1;
    /// Error.
    pub const ERROR: u8 = 2;
    /// Refused for safety.
    pub const REFUSED: u8 = 3;
    /// Interrupted.
    pub const INTERRUPTED: u8 = 130;
}

/// The exit code for a finished command.
pub fn from_outcome(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Ok => ExitCode::from(code::OK),
        Outcome::Unhealthy => ExitCode::from(code::UNHEALTHY),
    }
}

/// How an error ends the process: its exit code, and whether to print it.
pub fn classify(err: &anyhow::Error) -> (u8, bool) {
    if is_broken_pipe(err) {
        return (code::OK, false);
    }
    for cause in err.chain() {
        if cause.is::<Refused>() {
            return (code::REFUSED, true);
        }
        if cause.is::<Interrupted>() {
            return (code::INTERRUPTED, true);
        }
    }
    (code::ERROR, true)
}

/// Whether the error is a closed stdout (`kubectl svmdr status | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints the error (with its causes) to stderr and returns the exit code.
/// With `-o json|yaml` it also writes the [`ErrorDocument`] to stdout,
/// unless the command already wrote its one document there (a `--dry-run`
/// plan that shows a refusal, for example).
pub fn report(err: &anyhow::Error, format: OutputFormat) -> ExitCode {
    let (code, print) = classify(err);
    if print {
        eprintln!("error: {}", render(err));
        if format.is_document() && !output::document_written() {
            write_document(&error_document(err, code), format);
        }
    }
    ExitCode::from(code)
}

/// What `-o json|yaml` writes to stdout when a run ends in an error, so that
/// `kubectl svmdr status -o json > s.json || jq -r '.problems[]' s.json`
/// always has a document to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDocument {
    /// `svmdr.netapp.io/v1`.
    pub api_version: &'static str,
    /// `Error`.
    pub kind: &'static str,
    /// What went wrong, one entry per line of the message (the `next:` hint
    /// of a workflow error is its own entry).
    pub problems: Vec<String>,
    /// The process's exit code.
    pub exit_code: u8,
    /// What the exit code means ([`TABLE`]).
    pub meaning: &'static str,
}

fn write_document(doc: &ErrorDocument, format: OutputFormat) {
    let mut w = std::io::stdout().lock();
    // A closed stdout cannot take the document; the exit code stands.
    let _ = output::write_structured(&mut w, format, doc);
}

/// Writes the error document of a command line clap rejected (exit 2):
/// `text` is clap's message, of which the lines before `Usage:` are kept.
pub fn write_usage_error(text: &str, format: OutputFormat) {
    let problems = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(|l| l.trim().trim_start_matches("error: ").to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let doc = ErrorDocument {
        api_version: "svmdr.netapp.io/v1",
        kind: "Error",
        problems,
        exit_code: code::ERROR,
        meaning: meaning(code::ERROR),
    };
    write_document(&doc, format);
}

/// The `-o`/`--output` format a command line asks for, when it is JSON or
/// YAML, read without clap (for a command line clap rejected). The last
/// one given wins, as with clap.
pub fn requested_format(args: &[std::ffi::OsString]) -> Option<OutputFormat> {
    let mut found = None;
    let mut iter = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = iter.next() {
        let value = match a {
            "--" => break,
            "-o" | "--output" => iter.next(),
            _ => a
                .strip_prefix("--output=")
                .or_else(|| a.strip_prefix("-o="))
                .or_else(|| a.strip_prefix("-o").filter(|v| !v.is_empty())),
        };
        match value {
            Some("json") => found = Some(OutputFormat::Json),
            Some("yaml") => found = Some(OutputFormat::Yaml),
            Some(_) => found = None,
            None => {}
        }
    }
    found
}

/// The error document for `err`, which exits with `code`.
pub fn error_document(err: &anyhow::Error, code: u8) -> ErrorDocument {
    let problems = render(err)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    ErrorDocument {
        api_version: "svmdr.netapp.io/v1",
        kind: "Error",
        problems,
        exit_code: code,
        meaning: meaning(code),
    }
}

/// The error and its causes, `: `-joined like `{:#}`, but without causes
/// whose text the message already contains (error types that both print
/// and chain their source would otherwise say everything twice).
pub fn render(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_errors() {
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing the table");
        assert_eq!(classify(&pipe), (code::OK, false));
        let refused = anyhow::Error::new(Refused("primary SVM is running".into()));
        assert_eq!(classify(&refused), (code::REFUSED, true));
        let int = anyhow::Error::new(Interrupted).context("waiting for transfer");
        assert_eq!(classify(&int), (code::INTERRUPTED, true));
        let other = anyhow::anyhow!("context not found");
        assert_eq!(classify(&other), (code::ERROR, true));
    }

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "reading both clusters: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e =
            anyhow::Error::new(Outer(std::io::Error::other("refused"))).context("peering stopped");
        assert_eq!(
            render(&e),
            "peering stopped: reading both clusters: refused"
        );
    }

    #[test]
    fn help_is_the_table() {
        let mut help = String::from("Exit codes:");
        for (c, m) in TABLE {
            help.push_str(&format!("\n  {c:<4} {m}"));
        }
        assert_eq!(EXIT_CODES_HELP, help);
    }

    #[test]
    fn the_requested_format_is_found_without_clap() {
        let args = |a: &[&str]| -> Vec<std::ffi::OsString> {
            std::iter::once("kubectl-svmdr")
                .chain(a.iter().copied())
                .map(Into::into)
                .collect()
        };
        assert_eq!(
            requested_format(&args(&["status", "-o", "json", "--bogus"])),
            Some(OutputFormat::Json)
        );
        assert_eq!(
            requested_format(&args(&["--output=yaml", "status"])),
            Some(OutputFormat::Yaml)
        );
        assert_eq!(requested_format(&args(&["-ojson", "-o", "wide"])), None);
        assert_eq!(requested_format(&args(&["status", "--bogus"])), None);
        assert_eq!(requested_format(&args(&["--", "-o", "json"])), None);
    }

    #[test]
    fn error_documents_carry_problems_code_and_meaning() {
        let e = anyhow::Error::new(Refused(
            "refused: split-brain guard\n  next: use switchover".into(),
        ));
        let doc = error_document(&e, code::REFUSED);
        assert_eq!(doc.kind, "Error");
        assert_eq!(doc.exit_code, 3);
        assert_eq!(
            doc.problems,
            ["refused: split-brain guard", "next: use switchover"]
        );
        assert!(doc.meaning.starts_with("refused for safety"));
        let v = serde_json::to_value(&doc).unwrap_or_default();
        assert_eq!(v["apiVersion"], "svmdr.netapp.io/v1");
        assert_eq!(v["exitCode"], 3);
        assert_eq!(meaning(42), "unknown exit code");
    }
}
