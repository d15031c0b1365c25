//! Debug logs with tracing, to stderr. `-v` = debug for our crates, `-vv` =
//! trace; `SVMDR_LOG` (an EnvFilter directive) overrides both. Without
//! either only warnings are shown, and none from kube-rs's own client: it
//! logs every failed request at ERROR, which the command already reports
//! once, with context. Without `-v` or `SVMDR_LOG` an event reads as a
//! message does, `warning: ...` (no timestamp, level column or target), so
//! a warning from a library reads like the tool's own. Credentials never reach a log: they are
//! [`svmdr::secret::Secret`]s, which print as `***`.

use std::io::IsTerminal as _;

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn,kube_client=off",
        1 => "warn,svmdr=debug,kubectl_svmdr=debug",
        _ => "info,svmdr=trace,kubectl_svmdr=trace,kube=debug",
    };
    let from_env = EnvFilter::try_from_env("SVMDR_LOG").ok();
    let debugging = verbose > 0 || from_env.is_some();
    let filter = from_env.unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if debugging {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(verbose > 1)
            .try_init()
    } else {
        builder.with_ansi(false).event_format(UserFacing).try_init()
    };
}

/// `warning: message key=value`, the way the tool prints its own notes.
struct UserFacing;

impl<S, N> FormatEvent<S, N> for UserFacing
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "{}: ", label(*event.metadata().level()))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The prefix of an event's line without `-v`.
fn label(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warning",
        Level::INFO => "note",
        _ => "debug",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_as_messages() {
        assert_eq!(label(Level::WARN), "warning");
        assert_eq!(label(Level::ERROR), "error");
    }
}
