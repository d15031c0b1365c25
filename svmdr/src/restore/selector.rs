//! kubectl-style label selectors (`app=web,tier in (a,b)`) as a
//! `metav1.LabelSelector` for the Restore's `spec.labelSelector`.

use serde_json::{Value, json};

use super::error::RestoreError;

/// Parses a kubectl-style label selector into a `metav1.LabelSelector`
/// (`matchLabels` for `k=v`, `matchExpressions` for `!=`, `in`, `notin`,
/// `k`, `!k`).
///
/// # Errors
///
/// [`RestoreError::Selector`] on malformed input.
pub fn label_selector(selector: &str) -> Result<Value, RestoreError> {
    let bad = |reason: &str| RestoreError::Selector {
        selector: selector.into(),
        reason: reason.into(),
    };
    let mut labels = serde_json::Map::new();
    let mut exprs = Vec::new();
    for term in split_terms(selector) {
        let term = term.trim();
        if term.is_empty() {
            return Err(bad("empty term"));
        }
        let set_op = |op: &str| -> Option<(String, Vec<String>)> {
            let (k, rest) = term.split_once(&format!(" {op} "))?;
            let rest = rest.trim();
            let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
            Some((
                k.trim().to_string(),
                inner.split(',').map(|v| v.trim().to_string()).collect(),
            ))
        };
        if let Some((k, vals)) = set_op("notin") {
            exprs.push(json!({"key": k, "operator": "NotIn", "values": vals}));
        } else if let Some((k, vals)) = set_op("in") {
            exprs.push(json!({"key": k, "operator": "In", "values": vals}));
        } else if let Some((k, v)) = term.split_once("!=") {
            exprs.push(json!({"key": k.trim(), "operator": "NotIn", "values": [v.trim()]}));
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            if k.trim().is_empty() {
                return Err(bad("missing key before '='"));
            }
            labels.insert(k.trim().into(), Value::String(v.trim().into()));
        } else if let Some(k) = term.strip_prefix('!') {
            exprs.push(json!({"key": k.trim(), "operator": "DoesNotExist"}));
        } else if term.contains(' ') || term.contains('(') {
            return Err(bad(&format!("cannot parse {term:?}")));
        } else {
            exprs.push(json!({"key": term, "operator": "Exists"}));
        }
    }
    let mut out = serde_json::Map::new();
    if !labels.is_empty() {
        out.insert("matchLabels".into(), Value::Object(labels));
    }
    if !exprs.is_empty() {
        out.insert("matchExpressions".into(), Value::Array(exprs));
    }
    Ok(Value::Object(out))
}

/// Splits on commas outside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_map_to_label_selector() {
        let v = label_selector("app=web,tier in (a, b),env!=dev,critical,!legacy").expect("sel");
        assert_eq!(v["matchLabels"], json!({"app": "web"}));
        assert_eq!(
            v["matchExpressions"],
            json!([
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "critical", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ])
        );
        assert!(label_selector("a=b,,c").is_err());
        assert!(label_selector("=b").is_err());
        assert!(label_selector("a b c").is_err());
    }
}
