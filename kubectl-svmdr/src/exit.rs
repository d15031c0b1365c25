//! Exit codes, and the one place an error is turned into one.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success (also when stdout is closed early, e.g. piped into `head`) |
//! | 1    | unhealthy or not ready (`status` found a problem) |
//! | 2    | error: bad flags or config, unreachable cluster, ONTAP refused a call |
//! | 3    | refused for safety (split-brain guard, declined confirmation, a backup that carries volume data) |
//! | 130  | interrupted (Ctrl-C) |

use std::fmt;
use std::process::ExitCode;

/// The exit-code table, as printed at the end of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (also when the output pipe is closed early)
  1    unhealthy or not ready (status found a problem)
  2    error (bad input, unreachable cluster, refused ONTAP call)
  3    refused for safety (split-brain guard, declined confirmation,
       a Velero backup that carries volume data)
  130  interrupted (Ctrl-C)";

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
pub fn report(err: &anyhow::Error) -> ExitCode {
    let (code, print) = classify(err);
    if print {
        eprintln!("error: {}", render(err));
    }
    ExitCode::from(code)
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
    fn help_table_lists_every_code() {
        for c in ["0 ", "1 ", "2 ", "3 ", "130"] {
            assert!(EXIT_CODES_HELP.contains(c), "{c}");
        }
    }
}
