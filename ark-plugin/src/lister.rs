//! `generated.PluginLister`: what this binary registers. Pure and static, so
//! discovery can never fail (a discovery error crash-loops the Velero server).

use tonic::{Request, Response, Status};

use crate::proto::generated::{
    Empty, ListPluginsResponse, PluginIdentifier, plugin_lister_server::PluginLister,
};

/// The one RestoreItemAction this binary registers (v1 only: Velero adapts
/// it to v2, and listing the same name under both kinds would run it twice).
pub const PLUGIN_NAME: &str = "svmdr.netapp.io/trident-storage";
/// The plugin kind string on the wire.
pub const KIND_RESTORE_ITEM_ACTION: &str = "RestoreItemAction";

/// Every (kind, name) served, for ListPlugins and name routing.
pub const REGISTERED: &[(&str, &str)] = &[(KIND_RESTORE_ITEM_ACTION, PLUGIN_NAME)];

/// Answers ListPlugins with `command` = the path this process was started
/// with, which Velero execs again to run the actions.
pub struct Lister {
    pub command: String,
}

impl Lister {
    /// The command to report: argv\[0\] as Velero exec'd it. A bare name (only
    /// when started by hand from `$PATH`) is resolved to the running
    /// executable so the answer stays exec-able.
    pub fn command_from_env() -> String {
        let argv0 = std::env::args_os()
            .next()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        if argv0.contains('/') {
            return argv0;
        }
        std::env::current_exe()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or(argv0)
    }

    /// The ListPlugins answer (pure).
    pub fn plugins(&self) -> ListPluginsResponse {
        ListPluginsResponse {
            plugins: REGISTERED
                .iter()
                .map(|(kind, name)| PluginIdentifier {
                    command: self.command.clone(),
                    kind: (*kind).to_string(),
                    name: (*name).to_string(),
                })
                .collect(),
        }
    }
}

#[tonic::async_trait]
impl PluginLister for Lister {
    async fn list_plugins(
        &self,
        _req: Request<Empty>,
    ) -> Result<Response<ListPluginsResponse>, Status> {
        Ok(Response::new(self.plugins()))
    }
}

/// Whether `name` is a valid Velero plugin name: exactly one `/`, a DNS-1123
/// subdomain before it and a label-like name after it.
pub fn valid_plugin_name(name: &str) -> bool {
    let Some((prefix, rest)) = name.split_once('/') else {
        return false;
    };
    if rest.is_empty() || rest.contains('/') || prefix.is_empty() || prefix.len() > 253 {
        return false;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    prefix.split('.').all(label_ok)
        && rest.len() <= 63
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_names_are_valid_and_unique() {
        for (kind, name) in REGISTERED {
            assert!(valid_plugin_name(name), "{name}");
            assert_ne!(*kind, "PluginLister");
        }
        let mut seen = std::collections::HashSet::new();
        for n in REGISTERED.iter().map(|(_, n)| n) {
            assert!(seen.insert(n), "{n} registered twice");
        }
    }

    #[test]
    fn name_rule_matches_velero() {
        assert!(valid_plugin_name("example.io/my-plugin"));
        assert!(!valid_plugin_name("noslash"));
        assert!(!valid_plugin_name("a/b/c"));
        assert!(!valid_plugin_name("Example.io/x"));
        assert!(!valid_plugin_name("example.io/"));
    }

    #[test]
    fn lists_command_as_given() {
        let l = Lister {
            command: "/plugins/velero-plugin-svmdr".into(),
        };
        let r = l.plugins();
        assert_eq!(r.plugins.len(), 1);
        assert_eq!(r.plugins[0].command, "/plugins/velero-plugin-svmdr");
        assert_eq!(r.plugins[0].kind, "RestoreItemAction");
        assert_eq!(r.plugins[0].name, PLUGIN_NAME);
    }
}
