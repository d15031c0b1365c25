//! NFS export rules as ONTAP's REST API reports them
//! (`GET /api/protocols/nfs/export-policies?fields=name,rules`); how they are
//! evaluated is in [`super::exports`].

use std::collections::BTreeMap;

use serde_json::Value;

/// One export rule, as ONTAP's REST API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportRule {
    /// `index` (evaluation order).
    pub index: u64,
    /// `clients[].match`.
    pub clients: Vec<String>,
    /// `protocols` (`any`, `nfs`, `nfs3`, `nfs4`, `cifs`, `flexcache`).
    pub protocols: Vec<String>,
    /// `ro_rule` security flavours.
    pub ro_rule: Vec<String>,
    /// `rw_rule` security flavours.
    pub rw_rule: Vec<String>,
    /// `superuser` security flavours.
    pub superuser: Vec<String>,
    /// `anonymous_user` (user id anonymous access maps to).
    pub anonymous_user: Option<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

impl ExportRule {
    /// Decodes one REST rule record (missing lists stay empty).
    pub fn from_json(v: &Value) -> ExportRule {
        ExportRule {
            index: v.get("index").and_then(Value::as_u64).unwrap_or(0),
            clients: v
                .get("clients")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.get("match").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            protocols: strings(v, "protocols"),
            ro_rule: strings(v, "ro_rule"),
            rw_rule: strings(v, "rw_rule"),
            superuser: strings(v, "superuser"),
            anonymous_user: v.get("anonymous_user").and_then(|a| match a {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
        }
    }

    /// The clientmatch text (`a,b`), for messages.
    pub fn clientmatch(&self) -> String {
        self.clients.join(",")
    }
}

/// Decodes `GET /api/protocols/nfs/export-policies?fields=name,rules`
/// records into policy name → rules sorted by index.
pub fn export_policies_from_json(records: &[Value]) -> BTreeMap<String, Vec<ExportRule>> {
    records
        .iter()
        .filter_map(|p| {
            let name = p.get("name").and_then(Value::as_str)?;
            let mut rules: Vec<ExportRule> = p
                .get("rules")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(ExportRule::from_json).collect())
                .unwrap_or_default();
            rules.sort_by_key(|r| r.index);
            Some((name.to_string(), rules))
        })
        .collect()
}
