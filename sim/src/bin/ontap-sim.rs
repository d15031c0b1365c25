//! `ontap-sim --topology FILE [--timing fast|realistic] [--ca-out FILE]`:
//! serve simulated ONTAP clusters until SIGINT/SIGTERM. Prints one
//! `NAME URL` line per cluster (and `ca FILE` with `--ca-out`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use sim::ontap::{OntapSim, Timing, Topology};

#[derive(Clone, Copy, ValueEnum)]
enum TimingArg {
    Fast,
    Realistic,
}

/// Serve a simulated ONTAP lab over HTTPS on 127.0.0.1.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Topology YAML (see sim/examples/two-sites.yaml).
    #[arg(long)]
    topology: PathBuf,
    /// How long jobs and transfers take.
    #[arg(long, value_enum, default_value = "realistic")]
    timing: TimingArg,
    /// Write the lab CA certificate (PEM) here, for `curl --cacert`.
    #[arg(long)]
    ca_out: Option<PathBuf>,
}

async fn run(args: Args) -> Result<()> {
    let text = std::fs::read_to_string(&args.topology)
        .with_context(|| format!("reading {}", args.topology.display()))?;
    let topology = Topology::from_yaml(&text)?;
    let timing = match args.timing {
        TimingArg::Fast => Timing::fast(),
        TimingArg::Realistic => Timing::realistic(),
    };
    let lab = OntapSim::start_with(topology, timing).await?;
    for c in lab.clusters() {
        println!("{c} {}", lab.url(&c));
    }
    if let Some(path) = &args.ca_out {
        std::fs::write(path, lab.ca_pem())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("ca {}", path.display());
    }
    let (nfs, iscsi) = lab.probe_ports();
    eprintln!("data LIF probe ports: nfs {nfs}, iscsi {iscsi}");
    shutdown_signal().await?;
    drop(lab);
    Ok(())
}

async fn shutdown_signal() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ontap-sim: {err:#}");
            ExitCode::from(2)
        }
    }
}
