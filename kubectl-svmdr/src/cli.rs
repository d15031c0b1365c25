//! The clap types: global flags (kubectl conventions plus the site flags) and
//! the subcommand list.
//!
//! Adding a subcommand is one file and one line: write
//! `src/commands/<name>.rs` with `pub struct Args` (clap `Args`) and
//! `pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome>`, then
//! add `Name(name)` to the [`subcommands!`] list below with its doc comment
//! (and `pub mod name;` in `commands/mod.rs`).

use std::path::PathBuf;

use clap::{ArgAction, Parser};

use crate::commands;
use crate::ctx::Ctx;
use crate::exit::{EXIT_CODES_HELP, Outcome};

/// The `-o` parser: [`OutputFormat::parse`], with the formats listed for
/// help and shell completion.
#[derive(Debug, Clone, Copy)]
pub struct OutputParser;

impl clap::builder::TypedValueParser for OutputParser {
    type Value = OutputFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<OutputFormat, clap::Error> {
        let v = value.to_str().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                "-o: the output format is not UTF-8\n",
            )
            .with_cmd(cmd)
        })?;
        OutputFormat::parse(v).map_err(|e| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("-o: {e}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            ["table", "wide", "json", "yaml", "name", "jsonpath="]
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

/// Output format (`-o`), as kubectl spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    /// `jsonpath=TEMPLATE`: kubectl's JSONPath template applied to the JSON
    /// document (see [`crate::output::jsonpath`]). The template lives for
    /// the whole process, hence `'static`.
    JsonPath(&'static str),
    /// `name`: one `kind.group/name` line per object, as `kubectl -o name`.
    Name,
}

/// The `-o` values `--help` lists.
pub const OUTPUT_FORMATS: &str = "table, wide, json, yaml, name, jsonpath=TEMPLATE";

impl OutputFormat {
    /// Whether the output is meant for machines (no progress bars).
    pub fn is_machine(self) -> bool {
        !matches!(self, Self::Table | Self::Wide)
    }

    /// Whether errors are also written as a document to stdout (JSON and
    /// YAML only; kubectl's `jsonpath` and `name` print errors on stderr).
    pub fn is_document(self) -> bool {
        matches!(self, Self::Json | Self::Yaml)
    }

    /// Parses an `-o` value (`jsonpath=...` and `jsonpath='...'` included).
    ///
    /// # Errors
    /// An unknown format, or a malformed JSONPath template.
    pub fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "table" => Self::Table,
            "wide" => Self::Wide,
            "json" => Self::Json,
            "yaml" => Self::Yaml,
            "name" => Self::Name,
            _ => {
                let Some(template) = value.strip_prefix("jsonpath=") else {
                    return Err(format!(
                        "unknown output format {value:?}; use one of: {OUTPUT_FORMATS}"
                    ));
                };
                crate::output::jsonpath::Template::parse(template)
                    .map_err(|e| format!("invalid jsonpath template {template:?}: {e}"))?;
                // Leaked once per process: the format is `Copy` and passed
                // by value everywhere.
                Self::JsonPath(Box::leak(template.to_string().into_boxed_str()))
            }
        })
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
    /// Output format: table, wide, json, yaml, name or jsonpath=TEMPLATE
    /// (kubectl's JSONPath, e.g. '{.relationships[*].state}').
    #[arg(short = 'o', long, global = true, value_name = "FORMAT", default_value = "table",
          value_parser = OutputParser, help_heading = GLOBAL)]
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
    /// Timeout of one ONTAP or Kubernetes request, as kubectl's: a whole
    /// number of seconds or a number with a unit (1s, 2m, 3h); 0 means no
    /// timeout.
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s",
          value_parser = parse_request_timeout, help_heading = "Sites")]
    pub request_timeout: std::time::Duration,
}

/// Parses `--request-timeout` as kubectl does (client-go
/// `tools/clientcmd/overrides.go` `ParseTimeout`): a non-negative whole
/// number is seconds, else a duration with units; `0` is no timeout
/// ([`Duration::ZERO`], which `svmdr::ontap::Timeouts` reads as "none").
///
/// # Errors
/// A negative or malformed value.
pub fn parse_request_timeout(value: &str) -> Result<std::time::Duration, String> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    humantime::parse_duration(v).map_err(|e| {
        format!(
            "invalid timeout {value:?} ({e}): use a whole number of seconds or a number \
             with a unit (1s, 2m, 3h); 0 means no timeout"
        )
    })
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
