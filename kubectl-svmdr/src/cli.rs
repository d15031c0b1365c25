//! The clap types: global flags (kubectl conventions plus the site flags) and
//! the subcommand list.
//!
//! Adding a subcommand is one file and one line: write
//! `src/commands/<name>.rs` with `pub struct Args` (clap `Args`) and
//! `pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome>`, then
//! add `Name(name)` to the [`subcommands!`] list below with its doc comment
//! (and `pub mod name;` in `commands/mod.rs`).

use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};

use crate::commands;
use crate::ctx::Ctx;
use crate::exit::{EXIT_CODES_HELP, Outcome};

/// Output format (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    #[default]
    Table,
    /// A table with more columns.
    Wide,
    /// JSON (a stable, documented schema).
    Json,
    /// YAML (same schema as JSON).
    Yaml,
}

impl OutputFormat {
    /// Whether the output is meant for machines (no progress bars).
    pub fn is_machine(self) -> bool {
        matches!(self, Self::Json | Self::Yaml)
    }
}

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

/// Help heading of the kubectl-style global flags.
const GLOBAL: &str = "Global options";

/// Flags shared by every subcommand (kubectl plugin conventions: the plugin
/// parses its own `--kubeconfig`, `--context` and `-n`).
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file of both sites; beats $KUBECONFIG and the
    /// config file's `kubeconfig` (default: $KUBECONFIG, then the config
    /// file's, then ~/.kube/config). A missing or malformed file is an error.
    #[arg(long, global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub kubeconfig: Option<PathBuf>,
    /// Kube context of the site to act on: the DR site, as --dr-context
    /// (default: the DR site from the config file, else the current context).
    #[arg(long, global = true, value_name = "NAME", help_heading = GLOBAL)]
    pub context: Option<String>,
    /// Namespace Trident runs in [default: the site's namespace from the
    /// config file, else trident].
    #[arg(short = 'n', long, global = true, value_name = "NS", help_heading = GLOBAL)]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t, help_heading = GLOBAL)]
    pub output: OutputFormat,
    /// Debug logs on stderr (-v: debug, -vv: trace).
    #[arg(short = 'v', long, global = true, action = ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short = 'y', long, global = true, help_heading = GLOBAL)]
    pub yes: bool,
    /// Show every ONTAP call that would be made (secrets redacted) and change nothing.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub dry_run: bool,

    /// Config file naming the sites (default: <config dir>/kubectl-svmdr/config.yaml).
    #[arg(
        long,
        global = true,
        env = "SVMDR_CONFIG",
        value_name = "PATH",
        help_heading = "Sites"
    )]
    pub config: Option<PathBuf>,
    /// Kube context of the primary site.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Sites")]
    pub primary_context: Option<String>,
    /// Kube context of the DR site.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Sites")]
    pub dr_context: Option<String>,
    /// Kubeconfig for the primary site (before --kubeconfig).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Sites")]
    pub primary_kubeconfig: Option<PathBuf>,
    /// Kubeconfig for the DR site (before --kubeconfig).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Sites")]
    pub dr_kubeconfig: Option<PathBuf>,
    /// Trident backend (backend name, TridentBackendConfig name or UUID) on both sites.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Sites")]
    pub backend: Option<String>,
    /// Trident backend on the primary site (overrides --backend).
    #[arg(long, global = true, value_name = "NAME", help_heading = "Sites")]
    pub primary_backend: Option<String>,
    /// Trident backend on the DR site (overrides --backend).
    #[arg(long, global = true, value_name = "NAME", help_heading = "Sites")]
    pub dr_backend: Option<String>,
    /// ONTAP cluster management address of the primary site (default: the
    /// backend's managementLIF).
    #[arg(long, global = true, value_name = "HOST", help_heading = "Sites")]
    pub primary_cluster: Option<String>,
    /// ONTAP cluster management address of the DR site.
    #[arg(long, global = true, value_name = "HOST", help_heading = "Sites")]
    pub dr_cluster: Option<String>,
    /// CA certificate (PEM) that signs both ONTAP clusters' certificates.
    #[arg(long, global = true, value_name = "PATH", help_heading = "Sites")]
    pub ca_file: Option<PathBuf>,
    /// Do not verify ONTAP's TLS certificate (insecure; explicit only).
    #[arg(long, global = true, help_heading = "Sites")]
    pub insecure_skip_tls_verify: bool,
    /// Timeout of one ONTAP or Kubernetes request.
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s",
          value_parser = humantime::parse_duration, help_heading = "Sites")]
    pub request_timeout: std::time::Duration,
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
    /// The simulated lab: `drill` runs the whole DR scenario, `up`/`down` keep one running.
    Lab(lab),
    /// Print version, git commit and build date.
    Version(version),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completion(completion),
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
