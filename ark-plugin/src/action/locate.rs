//! Finding which of the restore cluster's Trident backends holds a volume:
//! by explicit mapping, by UUID, or by looking for the volume on the SVMs
//! of the candidate backends (one cached volume listing per SVM).

use std::collections::BTreeMap;

use svmdr::readiness::SvmFacts;
use svmdr::trident::backend::Backend;

use super::RestoreInfo;
use crate::config::PluginConfig;
use crate::storage::DrStorage;

/// Result of a search across backends.
pub enum Located {
    /// Exactly one SVM holds the volume (the backend to use, the ONTAP name).
    Found(Backend, String),
    /// The only candidate, whose SVM could not be read: check it directly
    /// (its errors are the answer).
    Only(Backend, String),
    /// No candidate holds it; the text says what was searched.
    Missing(String),
    /// Several SVMs hold a volume of that name.
    Ambiguous(String),
}

/// Names a backend for messages: `name (SVM svm at mgmt)`.
pub fn describe(b: &Backend) -> String {
    format!(
        "{} (SVM {} at {})",
        b.name,
        b.svm.as_deref().unwrap_or("<from management LIF>"),
        b.management_lif
    )
}

/// The backend a `backendMapping` entry for `key` names, if there is an entry.
///
/// # Errors
/// The entry names no backend of the restore cluster.
pub fn mapped<'a>(
    cfg: &PluginConfig,
    backends: &'a [Backend],
    key: &str,
) -> Option<Result<&'a Backend, String>> {
    let to = cfg.backend_mapping.get(key)?;
    Some(backends.iter().find(|b| b.matches(to)).ok_or_else(|| {
        format!(
            "backendMapping ({}) maps {key} to {to}, but the restore cluster has no Trident backend {to} (backends: {})",
            cfg.source,
            list(backends)
        )
    }))
}

/// A comma-separated list of backend names.
pub fn list(backends: &[Backend]) -> String {
    if backends.is_empty() {
        return "none".into();
    }
    backends
        .iter()
        .map(|b| b.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Looks for the volume on the candidates' SVMs: `find` names the volume
/// to use on a backend's SVM, if it holds one. Backends sharing an SVM are
/// looked up once; among them, the one whose storage prefix fits the name
/// and that is online wins. With one candidate whose SVM cannot be read,
/// `Only` hands it on with `fallback` so the readiness check reports why.
pub async fn search(
    storage: &DrStorage,
    restore: &RestoreInfo,
    cfg: &PluginConfig,
    candidates: &[&Backend],
    fallback: impl Fn(&Backend) -> String,
    find: impl Fn(&Backend, &SvmFacts) -> Option<String>,
) -> Located {
    let mut found: BTreeMap<String, Vec<(&Backend, String)>> = BTreeMap::new();
    let mut notes = Vec::new();
    for b in candidates {
        match storage.facts(&restore.key, cfg, b).await {
            Ok(f) => match find(b, &f) {
                Some(name) => found
                    .entry(format!("{}|{}", b.management_lif, f.svm))
                    .or_default()
                    .push((b, name)),
                None => notes.push(format!("{}: not on SVM {}", b.name, f.svm)),
            },
            Err(e) => {
                if let [only] = candidates {
                    return Located::Only((*only).clone(), fallback(only));
                }
                notes.push(format!("{}: {e}", b.name));
            }
        }
    }
    match found.len() {
        0 => Located::Missing(notes.join("; ")),
        1 => {
            let mut hits = found.into_values().next().unwrap_or_default();
            hits.sort_by_key(|(b, name)| {
                (
                    !name.starts_with(&b.storage_prefix.replace(['-', '.'], "_")),
                    !b.online,
                    b.name.clone(),
                )
            });
            match hits.into_iter().next() {
                Some((b, name)) => Located::Found(b.clone(), name),
                None => Located::Missing(notes.join("; ")),
            }
        }
        _ => Located::Ambiguous(
            found
                .values()
                .filter_map(|hits| hits.first())
                .map(|(b, name)| format!("{name} on {}", describe(b)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}

/// The volume Trident made for PV `pv_name` on this SVM, whatever prefix
/// the backend that made it had: named `<anything>pvc_<uid>` (one match).
pub fn by_pv_name(facts: &SvmFacts, pv_name: &str) -> Option<String> {
    let suffix = svmdr::trident::volume::internal_name_suffix(pv_name);
    let mut hits = facts
        .volumes
        .keys()
        .filter(|v| *v == &suffix || v.ends_with(&format!("_{suffix}")));
    match (hits.next(), hits.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}
