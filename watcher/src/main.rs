//! `svmdr-watcher`: `run` on the DR cluster, `heartbeat` on the primary.

use clap::Parser as _;
use watcher::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    watcher::logging(cli.log_json);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("svmdr-watcher: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match cli.command {
            Command::Run(args) => watcher::start(args, shutdown).await,
            Command::Heartbeat(args) => {
                let witness =
                    watcher::witness_client::lease_witness(&args.witness, args.every).await?;
                let identity = watcher::cli::identity(args.identity.as_deref());
                watcher::heartbeat::run(&witness, &identity, args.every, shutdown).await;
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("svmdr-watcher: {}", svmdr::error_chain::render(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}
