//! Debug logs with tracing, to stderr. `-v` = debug for our crates, `-vv` =
//! trace; `SVMDR_LOG` (an EnvFilter directive) overrides both. Without
//! either only warnings are shown, and none from kube-rs's own client: it
//! logs every failed request at ERROR, which the command already reports
//! once, with context. Credentials never reach a log: they are
//! [`svmdr::secret::Secret`]s, which print as `***`.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn,kube_client=off",
        1 => "warn,svmdr=debug,kubectl_svmdr=debug",
        _ => "info,svmdr=trace,kubectl_svmdr=trace,kube=debug",
    };
    let filter = EnvFilter::try_from_env("SVMDR_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbose > 1)
        .try_init();
}
