//! The few command-line arguments the plugin reads. Velero starts every
//! plugin with all of its own server flags (`--features=`, `--uploader-type`,
//! `--log-level debug`, ...), so anything unknown is ignored, never an error.

/// What the plugin takes from its command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// `--log-level` (`--log-level=x` or `--log-level x`; one or two dashes).
    pub log_level: Option<String>,
    /// `--version` (only honoured when run by hand, outside a plugin host).
    pub version: bool,
}

impl Args {
    /// Reads the arguments after argv\[0\]. Never fails.
    pub fn parse<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut out = Args::default();
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            let flag = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
            if let Some(flag) = flag {
                let (name, inline) = match flag.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (flag, None),
                };
                match name {
                    "log-level" => match inline {
                        Some(v) => out.log_level = Some(v.to_string()),
                        None => {
                            // `--log-level x`: take the next word unless it is a flag.
                            if let Some(next) = args.get(i + 1).filter(|n| !n.starts_with('-')) {
                                out.log_level = Some(next.clone());
                                i += 1;
                            }
                        }
                    },
                    "version" => out.version = true,
                    _ => {}
                }
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_level_in_both_forms() {
        assert_eq!(
            Args::parse(["--log-level=debug"]).log_level.as_deref(),
            Some("debug")
        );
        assert_eq!(
            Args::parse(["--log-level", "warn"]).log_level.as_deref(),
            Some("warn")
        );
        assert_eq!(
            Args::parse(["-log-level", "error"]).log_level.as_deref(),
            Some("error")
        );
    }

    #[test]
    fn unknown_flags_and_arguments_are_ignored() {
        let a = Args::parse([
            "--features=",
            "--uploader-type=kopia",
            "--log-level",
            "debug",
            "--default-volumes-to-fs-backup=false",
            "stray",
            "-x",
        ]);
        assert_eq!(a.log_level.as_deref(), Some("debug"));
        assert!(!a.version);
    }

    #[test]
    fn log_level_without_value_is_ignored() {
        assert_eq!(Args::parse(["--log-level", "--features="]).log_level, None);
        assert_eq!(Args::parse(["--log-level"]).log_level, None);
    }
}
