//! `kubectl_complete-svmdr`: kubectl (1.26+) runs this to complete
//! `kubectl svmdr <TAB>`. Install it next to `kubectl-svmdr` on the PATH
//! (krew does not install it for you). Same as `kubectl-svmdr __complete`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    kubectl_svmdr::complete::main(&args)
}
