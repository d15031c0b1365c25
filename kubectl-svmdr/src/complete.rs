//! The completion engine behind `kubectl svmdr __complete` and the
//! `kubectl_complete-svmdr` binary (what kubectl >= 1.26 runs to complete a
//! plugin's arguments).
//!
//! Protocol (cobra's `__complete`, which kubectl expects): the arguments are
//! the words typed after `kubectl svmdr`, the last one being the word under
//! the cursor (possibly empty). The answer is one candidate per line
//! (`value<TAB>description`), then a line `:<directive>`: 4 = no file
//! completion, 0 = default (the shell may complete file names).

use clap::CommandFactory as _;

use crate::cli::Cli;

/// cobra's ShellCompDirectiveDefault: the shell may complete files.
pub const DIRECTIVE_DEFAULT: u32 = 0;
/// cobra's ShellCompDirectiveNoFileComp.
pub const DIRECTIVE_NO_FILES: u32 = 4;

/// Flags whose values are kube context names.
const CONTEXT_FLAGS: &[&str] = &["context", "primary-context", "dr-context"];

/// Completes `words` (the last one is being typed). Returns the candidates
/// (`value` or `value\tdescription`) and the cobra directive.
pub fn complete(words: &[String]) -> (Vec<String>, u32) {
    let mut cmd = Cli::command();
    cmd.build();
    let (typed, current) = match words.split_last() {
        Some((last, rest)) => (rest, last.as_str()),
        None => (&[][..], ""),
    };
    // Walk the typed words: descend into subcommands, skip flag values.
    let mut path = vec![cmd.clone()];
    let mut pending_value: Option<clap::Arg> = None;
    for word in typed {
        let here = path.last().cloned().unwrap_or_else(|| cmd.clone());
        if pending_value.take().is_some() {
            continue;
        }
        if let Some(flag) = word.strip_prefix("--") {
            if !flag.contains('=')
                && let Some(arg) = find_long(&here, flag)
                && takes_value(&arg)
            {
                pending_value = Some(arg);
            }
            continue;
        }
        if let Some(short) = word.strip_prefix('-') {
            if short.len() == 1
                && let Some(arg) = find_short(&here, short.chars().next().unwrap_or(' '))
                && takes_value(&arg)
            {
                pending_value = Some(arg);
            }
            continue;
        }
        if let Some(sub) = here.find_subcommand(word) {
            path.push(sub.clone());
        }
    }
    let here = path.last().cloned().unwrap_or(cmd);

    if let Some(arg) = pending_value {
        return value_candidates(&arg, current);
    }
    if let Some((flag, partial)) = current.strip_prefix("--").and_then(|f| f.split_once('=')) {
        if let Some(arg) = find_long(&here, flag) {
            let (values, directive) = value_candidates(&arg, partial);
            let prefixed = values
                .into_iter()
                .map(|v| format!("--{flag}={v}"))
                .collect();
            return (prefixed, directive);
        }
        return (Vec::new(), DIRECTIVE_NO_FILES);
    }
    let mut out = Vec::new();
    if current.starts_with('-') {
        for arg in here.get_arguments() {
            if arg.is_hide_set() {
                continue;
            }
            if let Some(long) = arg.get_long() {
                let cand = format!("--{long}");
                if cand.starts_with(current) {
                    out.push(with_help(&cand, arg.get_help()));
                }
            }
        }
        return (out, DIRECTIVE_NO_FILES);
    }
    for sub in here.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        if sub.get_name().starts_with(current) {
            out.push(with_help(sub.get_name(), sub.get_about()));
        }
    }
    for arg in here.get_positionals() {
        for v in arg.get_possible_values() {
            if !v.is_hide_set() && v.get_name().starts_with(current) {
                out.push(with_help(v.get_name(), v.get_help()));
            }
        }
    }
    (out, DIRECTIVE_NO_FILES)
}

/// Formats the answer as cobra does.
pub fn render(candidates: &[String], directive: u32) -> String {
    let mut s = String::new();
    for c in candidates {
        s.push_str(c);
        s.push('\n');
    }
    s.push_str(&format!(":{directive}\n"));
    s
}

fn with_help(value: &str, help: Option<&clap::builder::StyledStr>) -> String {
    match help {
        Some(h) => {
            let text = h.to_string();
            let first = text.lines().next().unwrap_or("").trim_end_matches('.');
            format!("{value}\t{first}")
        }
        None => value.to_string(),
    }
}

fn find_long(cmd: &clap::Command, long: &str) -> Option<clap::Arg> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(long))
        .cloned()
}

fn find_short(cmd: &clap::Command, short: char) -> Option<clap::Arg> {
    cmd.get_arguments()
        .find(|a| a.get_short() == Some(short))
        .cloned()
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

fn value_candidates(arg: &clap::Arg, partial: &str) -> (Vec<String>, u32) {
    let possible = arg.get_possible_values();
    if !possible.is_empty() {
        let out = possible
            .iter()
            .filter(|v| !v.is_hide_set() && v.get_name().starts_with(partial))
            .map(|v| with_help(v.get_name(), v.get_help()))
            .collect();
        return (out, DIRECTIVE_NO_FILES);
    }
    let id = arg.get_id().as_str().replace('_', "-");
    if CONTEXT_FLAGS.contains(&id.as_str()) {
        let out = kube_contexts()
            .into_iter()
            .filter(|c| c.starts_with(partial))
            .collect();
        return (out, DIRECTIVE_NO_FILES);
    }
    if arg.get_value_hint() == clap::ValueHint::AnyPath
        || arg
            .get_value_names()
            .is_some_and(|n| n.iter().any(|v| v == "PATH"))
    {
        return (Vec::new(), DIRECTIVE_DEFAULT);
    }
    (Vec::new(), DIRECTIVE_NO_FILES)
}

/// Context names from $KUBECONFIG (or ~/.kube/config); empty on any problem.
fn kube_contexts() -> Vec<String> {
    kube::config::Kubeconfig::read()
        .map(|k| k.contexts.into_iter().map(|c| c.name).collect())
        .unwrap_or_default()
}

/// Entry point of `__complete` / `kubectl_complete-svmdr`: prints the answer
/// and exits 0 (completion must never print errors into the shell).
pub fn main(args: &[std::ffi::OsString]) -> std::process::ExitCode {
    use std::io::Write as _;
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (candidates, directive) = complete(&words);
    let _ = std::io::stdout().write_all(render(&candidates, directive).as_bytes());
    std::process::ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn completes_subcommands() {
        let (c, d) = complete(&words(&["st"]));
        assert_eq!(d, DIRECTIVE_NO_FILES);
        assert!(c.iter().any(|c| c.starts_with("status\t")), "{c:?}");
        assert!(!c.iter().any(|c| c.starts_with("sync")), "{c:?}");
        let (c, _) = complete(&words(&[""]));
        for sub in [
            "backends",
            "status",
            "peer",
            "sync",
            "version",
            "completion",
        ] {
            assert!(
                c.iter().any(|c| c.split('\t').next() == Some(sub)),
                "{sub}: {c:?}"
            );
        }
        assert!(!c.iter().any(|c| c.starts_with("__complete")));
    }

    #[test]
    fn completes_flags_and_values() {
        let (c, _) = complete(&words(&["status", "--wat"]));
        assert!(c.iter().any(|c| c.starts_with("--watch")), "{c:?}");
        let (c, _) = complete(&words(&["status", "-o", ""]));
        let names: Vec<_> = c
            .iter()
            .map(|c| c.split('\t').next().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            ["table", "wide", "json", "yaml", "name", "jsonpath="]
        );
        let (c, _) = complete(&words(&["status", "--output=ya"]));
        assert_eq!(c.len(), 1);
        assert!(c[0].starts_with("--output=yaml"));
        let (c, _) = complete(&words(&["completion", "z"]));
        assert!(c.iter().any(|c| c.starts_with("zsh")), "{c:?}");
        let (_, d) = complete(&words(&["--kubeconfig", ""]));
        assert_eq!(d, DIRECTIVE_DEFAULT);
    }

    #[test]
    fn renders_cobra_protocol() {
        assert_eq!(render(&words(&["a", "b\tB"]), 4), "a\nb\tB\n:4\n");
    }
}
