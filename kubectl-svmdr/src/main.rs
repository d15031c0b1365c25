//! `kubectl svmdr`: ONTAP SVM-DR for Kubernetes clusters with Trident.
//!
//! Thin on purpose: parse, set up logging, run the subcommand, turn the
//! result into an exit code (see [`kubectl_svmdr::exit`]). No runtime, kube
//! or TLS setup happens before a subcommand asks for it, so `--help` is fast.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};
use kubectl_svmdr::{cli, complete, ctx::Ctx, exit, logging};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // Hidden completion entry point (`kubectl_complete-svmdr` does the same).
    if args.get(1).is_some_and(|a| a == "__complete") {
        return complete::main(&args[2..]);
    }
    let name = cli::display_name(args.first().map(OsString::as_os_str));
    let command = cli::Cli::command().name(name).bin_name(name);
    let parsed = command.try_get_matches_from(&args).and_then(|m| {
        let cli = cli::Cli::from_arg_matches(&m)?;
        Ok((cli, m))
    });
    let cli = match parsed {
        Ok((cli, matches)) => {
            // A global flag the subcommand would ignore is an error (exit 2).
            if let Err(msg) = cli::check_global_flags(&matches) {
                eprintln!("error: {msg}");
                if let Some(format) = exit::requested_format(&args) {
                    exit::write_usage_error(&format!("error: {msg}"), format);
                }
                return ExitCode::from(exit::code::ERROR);
            }
            cli
        }
        Err(e) => {
            let _ = e.print(); // a closed pipe while printing help is fine
            if !e.use_stderr() {
                return ExitCode::from(exit::code::OK);
            }
            // Bad flags with -o json|yaml: still one document on stdout.
            if let Some(format) = exit::requested_format(&args) {
                exit::write_usage_error(&e.render().to_string(), format);
            }
            return ExitCode::from(exit::code::ERROR);
        }
    };
    logging::init(cli.global.verbose);
    let format = cli.global.output;
    let mut ctx = Ctx::new(
        cli.global.clone(),
        name,
        <cli::Cli as clap::CommandFactory>::command,
    );
    match cli.command.run(&mut ctx) {
        Ok(outcome) => exit::from_outcome(outcome),
        // With -o json|yaml this also writes the error document to stdout.
        Err(err) => exit::report(&err, format),
    }
}
