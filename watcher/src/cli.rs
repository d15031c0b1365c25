//! `svmdr-watcher`'s command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Watches an SVM-DR pair from the DR site; fails over on its own only on
/// a witness's quorum (see docs/watcher.md).
#[derive(Debug, clap::Parser)]
#[command(name = "svmdr-watcher", version = svmdr::VERSION)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
    /// Log as JSON lines (for log collectors).
    #[arg(long, global = true)]
    pub log_json: bool,
}

/// The two modes of the binary.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The watcher, on the DR cluster.
    Run(RunArgs),
    /// The heartbeat, on the primary site: renews the witness Lease.
    Heartbeat(HeartbeatArgs),
}

/// Where the witness is.
#[derive(Debug, Clone, clap::Args)]
pub struct WitnessArgs {
    /// Kubeconfig of the witness cluster (a third cluster).
    #[arg(long, value_name = "PATH")]
    pub witness_kubeconfig: PathBuf,
    /// Its context (default: the file's current context).
    #[arg(long, value_name = "NAME")]
    pub witness_context: Option<String>,
    /// Namespace of the heartbeat Lease.
    #[arg(long, default_value = "svmdr-witness", value_name = "NS")]
    pub witness_namespace: String,
    /// Name of the heartbeat Lease.
    #[arg(long, default_value = svmdr::watch::witness::DEFAULT_LEASE, value_name = "NAME")]
    pub witness_lease: String,
}

/// Flags of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The kubectl-svmdr config file naming both sites (`primary:`, `dr:`).
    #[arg(long, value_name = "PATH")]
    pub config: PathBuf,
    /// The watcher's namespace on the DR cluster (policy, status, leader
    /// Lease, Events).
    #[arg(long, default_value = "svmdr", value_name = "NS")]
    pub namespace: String,
    /// The witness.
    #[command(flatten)]
    pub witness: WitnessArgs,
    /// Where /metrics, /healthz and /readyz listen.
    #[arg(long, default_value = "0.0.0.0:9090", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// This replica's name (in the leader Lease, the audit and Events).
    #[arg(long, env = "POD_NAME", value_name = "NAME")]
    pub identity: Option<String>,
    /// Bound on each call to ONTAP, Kubernetes or the witness.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub request_timeout: Duration,
    /// Length of the leader Lease (a dead leader is replaced after it).
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub leader_lease: Duration,
}

/// Flags of `heartbeat`.
#[derive(Debug, clap::Args)]
pub struct HeartbeatArgs {
    /// The witness.
    #[command(flatten)]
    pub witness: WitnessArgs,
    /// This heartbeat's name (the Lease's holder).
    #[arg(long, env = "POD_NAME", value_name = "NAME")]
    pub identity: Option<String>,
    /// Renewal period.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub every: Duration,
}

/// This replica's name: the flag, else the host name.
pub fn identity(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| format!("svmdr-watcher-{}", std::process::id()))
}
