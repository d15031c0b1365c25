//! The flags every subcommand accepts (kubectl conventions plus the site
//! flags) and the output format (`-o`). A leaf module: the command line
//! (`cli`) flattens them, the context (`ctx`) hands them to the commands.

use std::path::PathBuf;

use clap::ArgAction;

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
    /// document (see [`crate::jsonpath`]). The template lives for
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
                crate::jsonpath::Template::parse(template)
                    .map_err(|e| format!("invalid jsonpath template {template:?}: {e}"))?;
                // Leaked once per process: the format is `Copy` and passed
                // by value everywhere.
                Self::JsonPath(Box::leak(template.to_string().into_boxed_str()))
            }
        })
    }
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
