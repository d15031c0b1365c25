//! `velero-plugin-svmdr`: started by Velero (or Heptio Ark) as a go-plugin.

use std::process::ExitCode;

use ark_plugin::{args::Args, logging, server};

fn main() -> ExitCode {
    let args = Args::parse(std::env::args_os().skip(1));
    let Some(host) = server::Host::from_env() else {
        if args.version {
            println!("velero-plugin-svmdr {}", svmdr::VERSION);
            return ExitCode::SUCCESS;
        }
        eprintln!("{}", server::NOT_A_HOST);
        return ExitCode::FAILURE;
    };
    logging::init(args.log_level.as_deref());
    // One thread serves Velero's sequential calls; blocking work (DNS) goes
    // to tokio's blocking pool. Small and fast to start.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::serve(host)) {
        Ok(()) => {
            // Do not wait for idle blocking threads (DNS) to wind down.
            runtime.shutdown_timeout(std::time::Duration::from_millis(100));
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
