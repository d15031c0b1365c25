//! `velero-plugin-svmdr`: started by Velero (or Heptio Ark) as a go-plugin.

use std::process::ExitCode;

use ark_plugin::{args::Args, server};

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
    server::run(host, args.log_level.as_deref())
}
