//! The clap types: the command line and the subcommand list. The global
//! flags (kubectl conventions plus the site flags) and `-o` are in
//! [`crate::global`], which every command reads through [`Ctx`].
//!
//! Adding a subcommand is one file and one line: write
//! `src/commands/<name>.rs` with `pub struct Args` (clap `Args`) and
//! `pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome>`, then
//! add `Name(name)` to the [`subcommands!`] list below with its doc comment
//! (and `pub mod name;` in `commands/mod.rs`).

use clap::Parser;

use crate::commands;
use crate::ctx::Ctx;
use crate::exit::{EXIT_CODES_HELP, Outcome};
pub use crate::global::{
    GlobalArgs, OUTPUT_FORMATS, OutputFormat, OutputParser, parse_request_timeout,
};

/// ONTAP SVM-DR for Kubernetes clusters whose storage is provisioned by
/// Trident: peering, status, failover, switchover, restore, resync, failback.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl svmdr",
    bin_name = "kubectl svmdr",
    version = svmdr::VERSION,
    disable_version_flag = true,
    after_long_help = EXIT_CODES_HELP,
    after_help = EXIT_CODES_HELP,
    max_term_width = 100,
    propagate_version = false
)]
pub struct Cli {
    /// Flags every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Declares the subcommand enum and its dispatch from one list, so a new
/// subcommand is one line here plus its module.
macro_rules! subcommands {
    ($( $(#[$meta:meta])* $variant:ident($module:ident) ),+ $(,)?) => {
        /// The subcommands.
        #[derive(Debug, clap::Subcommand)]
        pub enum Command {
            $( $(#[$meta])* $variant(commands::$module::Args), )+
        }

        impl Command {
            /// Runs the subcommand.
            pub fn run(self, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
                match self {
                    $( Self::$variant(args) => commands::$module::run(args, ctx), )+
                }
            }
        }
    };
}

subcommands! {
    /// List the Trident ONTAP backends of a cluster and the ONTAP cluster behind each.
    Backends(backends),
    /// SVM-DR health: relationship state, lag against the RPO, SVM and peer health.
    Status(status),
    /// Set up intercluster LIFs, cluster and SVM peering and the SVM-DR relationship (idempotent).
    Peer(peer),
    /// Start a transfer now (optionally wait for it) and show the new lag.
    Sync(sync),
    /// Unplanned failover to the DR site (works with the primary site down); optional Velero restore.
    Failover(failover),
    /// Planned switchover to the DR site without data loss, then reverse resync.
    Switchover(switchover),
    /// Resync after a failover: forward (discard DR writes) or reverse (DR → primary).
    Resync(resync),
    /// Back to the primary site: reverse resync, switch back, restore the original direction.
    Failback(failback),
    /// Velero restore on the DR cluster from the newest (or a named) backup, with a summary.
    Restore(restore),
    /// DR workflows recorded on this cluster (who, when, outcome).
    History(history),
    /// The in-cluster watcher: `status` (what it sees and decided), `arm`, `disarm`.
    Watcher(watcher),
    /// The simulated lab: `drill` runs the whole DR scenario, `up`/`down` keep one running.
    Lab(lab),
    /// Print version, git commit and build date.
    Version(version),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completion(completion),
}

/// Commands that reach a site's Kubernetes cluster.
const SITE: &[&str] = &[
    "backends",
    "status",
    "peer",
    "sync",
    "failover",
    "switchover",
    "resync",
    "failback",
    "restore",
    "history",
    "watcher",
];
/// Commands that talk to ONTAP (and so to Trident backends). `restore` and
/// `history` only read the DR cluster's Kubernetes API.
const ONTAP: &[&str] = &[
    "backends",
    "status",
    "peer",
    "sync",
    "failover",
    "switchover",
    "resync",
    "failback",
];
/// Commands that change something (`--dry-run`) or may (`--yes`).
const CHANGES: &[&str] = &[
    "peer",
    "sync",
    "failover",
    "switchover",
    "resync",
    "failback",
    "restore",
    "watcher",
];
/// Commands that print a result (`-o`); `completion` prints a script.
const PRINTS: &[&str] = &[
    "backends",
    "status",
    "peer",
    "sync",
    "failover",
    "switchover",
    "resync",
    "failback",
    "restore",
    "history",
    "watcher",
    "lab",
    "version",
];

/// The one table of which subcommands use each global flag (by clap id,
/// the field name in [`GlobalArgs`]). A flag typed on the command line of a
/// subcommand that does not use it is an error (exit 2), never silently
/// ignored. `-v` is used everywhere and not listed.
pub const GLOBAL_FLAG_USERS: &[(&str, &[&str])] = &[
    ("yes", CHANGES),
    ("dry_run", CHANGES),
    ("output", PRINTS),
    ("kubeconfig", SITE),
    ("context", SITE),
    ("namespace", SITE),
    ("config", SITE),
    ("dr_context", SITE),
    ("dr_kubeconfig", SITE),
    ("request_timeout", SITE),
    ("primary_context", ONTAP),
    ("primary_kubeconfig", ONTAP),
    ("backend", ONTAP),
    ("primary_backend", ONTAP),
    ("dr_backend", ONTAP),
    ("primary_cluster", ONTAP),
    ("dr_cluster", ONTAP),
    ("ca_file", ONTAP),
    ("insecure_skip_tls_verify", ONTAP),
];

/// Checks that every global flag given on the command line is used by the
/// subcommand ([`GLOBAL_FLAG_USERS`]).
///
/// # Errors
/// A message naming the flag, the subcommand and the commands that use it.
pub fn check_global_flags(matches: &clap::ArgMatches) -> Result<(), String> {
    let Some((command, sub)) = matches.subcommand() else {
        return Ok(());
    };
    for (id, users) in GLOBAL_FLAG_USERS {
        let typed = [matches, sub].iter().any(|m| {
            m.try_get_raw(id).is_ok_and(|v| v.is_some())
                && m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        });
        if typed && !users.contains(&command) {
            let flag = format!("--{}", id.replace('_', "-"));
            return Err(format!(
                "{flag} has no effect on `{command}`; remove it (it is used by: {})",
                users.join(", ")
            ));
        }
    }
    Ok(())
}

/// `argv[0]` decides how usage is printed: as a kubectl plugin it reads
/// `kubectl svmdr ...`, otherwise the binary name.
pub fn display_name(argv0: Option<&std::ffi::OsStr>) -> &'static str {
    let base = argv0
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if base.starts_with("kubectl-") || base.is_empty() {
        "kubectl svmdr"
    } else {
        "svmdr"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn globals_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "kubectl-svmdr",
            "status",
            "-n",
            "trident-system",
            "-o",
            "json",
            "--context",
            "dr",
            "-vv",
        ])
        .unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("trident-system"));
        assert_eq!(cli.global.output, OutputFormat::Json);
        assert_eq!(cli.global.context.as_deref(), Some("dr"));
        assert_eq!(cli.global.verbose, 2);
    }

    #[test]
    fn help_reads_as_a_kubectl_plugin_and_lists_exit_codes() {
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("kubectl svmdr"), "{help}");
        assert!(help.contains("130"), "{help}");
    }

    fn flag_check(args: &[&str]) -> Result<(), String> {
        let m = Cli::command().try_get_matches_from(args).unwrap();
        check_global_flags(&m)
    }

    #[test]
    fn global_flags_a_command_ignores_are_errors() {
        let e = flag_check(&["k", "version", "--yes"]).unwrap_err();
        assert!(e.contains("--yes") && e.contains("`version`"), "{e}");
        assert!(flag_check(&["k", "--dry-run", "status"]).is_err());
        assert!(flag_check(&["k", "history", "--backend", "b"]).is_err());
        assert!(flag_check(&["k", "completion", "bash", "-o", "json"]).is_err());
        flag_check(&["k", "peer", "--yes", "--dry-run", "--backend", "b"]).unwrap();
        flag_check(&["k", "version", "-o", "json", "-v"]).unwrap();
        flag_check(&["k", "status", "--request-timeout", "0"]).unwrap();
    }

    #[test]
    fn every_global_flag_is_in_the_table_and_every_command_known() {
        let cmd = Cli::command();
        let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        for (id, users) in GLOBAL_FLAG_USERS {
            assert!(cmd.get_arguments().any(|a| a.get_id() == *id), "{id}");
            for u in *users {
                assert!(names.contains(u), "{id}: {u}");
            }
        }
        for a in cmd.get_arguments().filter(|a| a.is_global_set()) {
            let id = a.get_id().as_str();
            let listed = GLOBAL_FLAG_USERS.iter().any(|(i, _)| *i == id);
            assert!(
                listed || id == "verbose",
                "{id} is not in GLOBAL_FLAG_USERS"
            );
        }
    }

    #[test]
    fn request_timeout_follows_kubectl() {
        assert_eq!(parse_request_timeout("0"), Ok(std::time::Duration::ZERO));
        assert_eq!(
            parse_request_timeout("30"),
            Ok(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            parse_request_timeout("2m"),
            Ok(std::time::Duration::from_secs(120))
        );
        assert!(parse_request_timeout("-1").is_err());
        assert!(parse_request_timeout("soon").is_err());
    }

    #[test]
    fn output_formats_parse_as_kubectl_spells_them() {
        assert_eq!(OutputFormat::parse("name"), Ok(OutputFormat::Name));
        assert_eq!(
            OutputFormat::parse("jsonpath={.kind}"),
            Ok(OutputFormat::JsonPath("{.kind}"))
        );
        assert!(OutputFormat::parse("jsonpath={.kind").is_err());
        assert!(OutputFormat::parse("xml").is_err());
    }

    #[test]
    fn plugin_name_from_argv0() {
        assert_eq!(
            display_name(Some("kubectl-svmdr".as_ref())),
            "kubectl svmdr"
        );
        assert_eq!(
            display_name(Some("/usr/local/bin/kubectl-svmdr".as_ref())),
            "kubectl svmdr"
        );
        assert_eq!(display_name(Some("svmdr".as_ref())), "svmdr");
    }
}
