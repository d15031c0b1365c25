//! The DR workflows as a front end runs them: failover, switchover, resync
//! and failback (with the Velero restore a failover may chain), and the
//! `restore` command. The CLI only parses flags, confirms and renders.
//!
//! A workflow runs in two calls, so that a front end can show a `--dry-run`
//! or ask for confirmation in between:
//!
//! 1. [`prepare`]: resolve the SVM pair on the DR cluster, observe both
//!    sites (a primary that did not resolve is marked unreachable), plan,
//!    look up the DR workloads a failback scales down, and judge the Velero
//!    backup a failover restores, all before any change. A refusal is
//!    recorded in the audit and returned.
//! 2. [`run`]: scale the DR workloads, execute the plan on the engine, show
//!    the Trident backend changes a DR SVM without preserved identity needs
//!    (and apply them when asked), check the DR SVM's export policies,
//!    restore the judged backup, and record the outcome.
//!
//! Every run is recorded on the DR cluster through one
//! [`crate::audit::Recorder`], with the outcome its exit code reports.

mod prepare;
pub mod restore;
mod run;
mod types;

use std::time::Duration;

pub use prepare::{Prepared, Preview, Refusal, prepare};
pub use run::{WorkflowRun, run};
pub use types::{Primary, WorkflowError, WorkflowOptions};

use crate::plan::driver::Command;
use crate::plan::resync::Direction;
use crate::report::Reporter;
use crate::site::{Access, CredentialPrompt, SiteSpec};

/// The workflow's name in the audit (`failover --force`,
/// `resync --direction reverse`).
pub fn audit_name(command: Command) -> String {
    match command {
        Command::Failover(o) if o.force => "failover --force".into(),
        Command::Failover(_) => "failover".into(),
        Command::Switchover => "switchover".into(),
        Command::Resync { direction, .. } => format!(
            "resync --direction {}",
            match direction {
                Direction::Forward => "forward",
                Direction::Reverse => "reverse",
            }
        ),
        Command::Failback { .. } => "failback".into(),
    }
}

/// Resolves the primary site, bounded by `request_timeout` (`0`: no limit,
/// kubectl's meaning), and notes why it is unavailable.
pub async fn resolve_primary(
    spec: Option<SiteSpec>,
    request_timeout: Duration,
    prompt: &dyn CredentialPrompt,
    reporter: &dyn Reporter,
) -> Primary {
    let primary = match spec {
        None => Primary::Unavailable(
            "no primary site configured (--primary-context or the config file)".into(),
        ),
        Some(spec) => {
            let bound = if request_timeout.is_zero() {
                Duration::MAX
            } else {
                request_timeout
            };
            let resolve = crate::site::resolve(&spec, Access::ClusterAdmin, prompt, reporter);
            match tokio::time::timeout(bound, resolve).await {
                Ok(Ok(site)) => Primary::Site(Box::new(site)),
                Ok(Err(e)) => Primary::Unavailable(e.to_string()),
                Err(_) => Primary::Unavailable(format!(
                    "no answer within {}",
                    humantime::format_duration(bound)
                )),
            }
        }
    };
    if let Primary::Unavailable(p) = &primary {
        reporter.note(&format!("primary site unavailable: {p}"));
    }
    primary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::failover::FailoverOptions;
    use crate::report::RecordingReporter;
    use crate::site::NoPrompt;

    #[test]
    fn audit_names_say_the_command_and_its_guard() {
        let o = FailoverOptions {
            force: true,
            backend_grace: Duration::from_secs(1),
            backend_wait: Duration::from_secs(2),
        };
        assert_eq!(audit_name(Command::Failover(o)), "failover --force");
        let o = FailoverOptions { force: false, ..o };
        assert_eq!(audit_name(Command::Failover(o)), "failover");
        assert_eq!(
            audit_name(Command::Resync {
                direction: Direction::Reverse,
                quick: false
            }),
            "resync --direction reverse"
        );
        assert_eq!(audit_name(Command::Failback { quick: true }), "failback");
    }

    #[tokio::test]
    async fn no_primary_is_noted_as_unavailable() {
        let r = RecordingReporter::default();
        let p = resolve_primary(None, Duration::from_secs(1), &NoPrompt, &r).await;
        assert!(matches!(p, Primary::Unavailable(_)));
        assert_eq!(
            r.events(),
            [
                "note: primary site unavailable: no primary site configured (--primary-context or the config file)"
            ]
        );
    }
}
