//! The export policy model: policies, rules and their client matches, in
//! ONTAP's REST record shape (the `/api/protocols/nfs/export-policies`
//! handlers are in `ontap::exports`; evaluation against a client is in
//! `ontap::mount`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ontap::error::ApiError;

/// One `clients[]` entry of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMatch {
    /// Hostname, IP, CIDR, `addr/mask`, netgroup (`@ng`) or domain (`.dom`).
    #[serde(rename = "match")]
    pub matches: String,
}

fn any() -> Vec<String> {
    vec!["any".into()]
}
fn anon() -> String {
    "65534".into()
}
fn yes() -> bool {
    true
}
fn fail() -> String {
    "fail".into()
}
fn restricted() -> String {
    "restricted".into()
}

/// One export rule, in ONTAP's REST record shape. Defaults are the ones
/// ONTAP documents for `POST .../rules` (protocols and superuser `any`,
/// suid and device creation allowed, `ntfs_unix_security` fail, `chown_mode`
/// restricted) and anonymous user 65534.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRule {
    /// Position in the policy (1-based; evaluation order).
    #[serde(default)]
    pub index: u64,
    /// Client matches (required, non-empty).
    pub clients: Vec<ClientMatch>,
    /// `any`, `nfs`, `nfs3`, `nfs4`, `cifs`, `flexcache`.
    #[serde(default = "any")]
    pub protocols: Vec<String>,
    /// Security flavours granted read-only access (required).
    pub ro_rule: Vec<String>,
    /// Security flavours granted read-write access (required).
    pub rw_rule: Vec<String>,
    /// Security flavours granted superuser access.
    #[serde(default = "any")]
    pub superuser: Vec<String>,
    /// User id anonymous users are mapped to.
    #[serde(default = "anon")]
    pub anonymous_user: String,
    /// Honour SetUID bits.
    #[serde(default = "yes")]
    pub allow_suid: bool,
    /// Allow device creation.
    #[serde(default = "yes")]
    pub allow_device_creation: bool,
    /// NTFS UNIX security options.
    #[serde(default = "fail")]
    pub ntfs_unix_security: String,
    /// Who may change ownership.
    #[serde(default = "restricted")]
    pub chown_mode: String,
}

impl ExportRule {
    /// Parses a REST rule body, with ONTAP's defaults and checks.
    ///
    /// # Errors
    /// Missing or empty `clients`, `ro_rule`, `rw_rule`; unknown values.
    pub fn from_value(v: &Value) -> Result<ExportRule, ApiError> {
        for req in ["clients", "ro_rule", "rw_rule"] {
            if v.get(req).is_none_or(Value::is_null) {
                return Err(ApiError::invalid(format!(
                    "Missing value for required field \"{req}\"."
                ))
                .target(req));
            }
        }
        let mut v = v.clone();
        // ONTAP accepts a single string where it expects a list of flavours.
        for key in ["protocols", "ro_rule", "rw_rule", "superuser"] {
            if let Some(s) = v.get(key).and_then(Value::as_str).map(str::to_string) {
                v[key] = json!([s]);
            }
        }
        if let Some(c) = v.get("clients").filter(|c| c.is_object()).cloned() {
            v["clients"] = json!([c]);
        }
        if let Some(n) = v.get("anonymous_user").and_then(Value::as_u64) {
            v["anonymous_user"] = json!(n.to_string());
        }
        let rule: ExportRule = serde_json::from_value(v)
            .map_err(|e| ApiError::invalid(format!("Invalid export rule: {e}.")))?;
        if rule.clients.is_empty() || rule.clients.iter().any(|c| c.matches.trim().is_empty()) {
            return Err(
                ApiError::invalid("Export rule clients must not be empty.").target("clients")
            );
        }
        const FLAVOURS: &[&str] = &[
            "any", "none", "never", "krb5", "krb5i", "krb5p", "ntlm", "sys",
        ];
        for (key, list) in [
            ("ro_rule", &rule.ro_rule),
            ("rw_rule", &rule.rw_rule),
            ("superuser", &rule.superuser),
        ] {
            if let Some(bad) = list.iter().find(|f| !FLAVOURS.contains(&f.as_str())) {
                return Err(ApiError::invalid(format!(
                    "Invalid value \"{bad}\" for \"{key}\": use any, none, never, krb5, krb5i, krb5p, ntlm or sys."
                ))
                .target(key));
            }
        }
        const PROTOCOLS: &[&str] = &["any", "nfs", "nfs3", "nfs4", "cifs", "flexcache"];
        if let Some(bad) = rule
            .protocols
            .iter()
            .find(|p| !PROTOCOLS.contains(&p.as_str()))
        {
            return Err(ApiError::invalid(format!(
                "Invalid value \"{bad}\" for \"protocols\": use any, nfs, nfs3, nfs4, cifs or flexcache."
            ))
            .target("protocols"));
        }
        Ok(rule)
    }

    /// The REST record (without `policy`/`svm`).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// An export policy of one SVM.
#[derive(Debug, Clone)]
pub struct ExportPolicy {
    /// ONTAP's numeric policy id.
    pub id: u64,
    /// Cluster key.
    pub cluster: String,
    /// Owning SVM uuid.
    pub svm: String,
    /// Policy name.
    pub name: String,
    /// Rules in index order (indexes 1..=n).
    pub rules: Vec<ExportRule>,
}

/// Renumbers rules 1..=n in their order.
pub fn renumber(rules: &mut [ExportRule]) {
    for (i, r) in rules.iter_mut().enumerate() {
        r.index = i as u64 + 1;
    }
}

/// Inserts `rule` at its `index` (0 or past the end = append), shifting the
/// rules from that index on, as ONTAP does.
pub fn insert_rule(rules: &mut Vec<ExportRule>, rule: ExportRule) -> u64 {
    let pos = match rule.index {
        0 => rules.len(),
        n => (n as usize - 1).min(rules.len()),
    };
    rules.insert(pos, rule);
    renumber(rules);
    pos as u64 + 1
}
