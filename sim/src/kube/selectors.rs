//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`, `>`, `<`)
//! and field selectors (`=`, `==`, `!=` on dotted field paths), parsed and
//! matched as the API server does.

use serde_json::Value;

/// One label requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Vec<LabelReq>,
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
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

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 317
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_set(rest: &str, whole: &str) -> Result<Vec<String>, String> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            format!("unable to parse requirement: expected a (value, ...) set in {whole:?}")
        })?;
    let values: Vec<String> = inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err(format!(
            "unable to parse requirement: empty set in {whole:?}"
        ));
    }
    if let Some(bad) = values.iter().find(|v| !valid_value(v)) {
        return Err(format!("invalid label value: {bad:?}"));
    }
    Ok(values)
}

impl LabelSelector {
    /// Parses a `labelSelector` query value.
    ///
    /// # Errors
    /// A message naming the part that does not parse.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self { reqs });
        }
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "unable to parse requirement: empty requirement in {s:?}"
                ));
            }
            if let Some(key) = part.strip_prefix('!') {
                let key = key.trim();
                if !valid_key(key) {
                    return Err(format!("invalid label key: {key:?}"));
                }
                reqs.push(LabelReq::NotExists(key.to_string()));
                continue;
            }
            let key_end = part
                .find(|c: char| c.is_whitespace() || "=!<>(".contains(c))
                .unwrap_or(part.len());
            let key = &part[..key_end];
            if !valid_key(key) {
                return Err(format!("invalid label key: {key:?}"));
            }
            let rest = part[key_end..].trim_start();
            let value = |v: &str| -> Result<String, String> {
                let v = v.trim();
                if valid_value(v) {
                    Ok(v.to_string())
                } else {
                    Err(format!("invalid label value: {v:?}"))
                }
            };
            let number = |v: &str| -> Result<i64, String> {
                v.trim()
                    .parse()
                    .map_err(|_| format!("invalid integer value for {key}: {:?}", v.trim()))
            };
            let req = if rest.is_empty() {
                LabelReq::Exists(key.to_string())
            } else if let Some(v) = rest.strip_prefix("!=") {
                LabelReq::NotEq(key.to_string(), value(v)?)
            } else if let Some(v) = rest.strip_prefix("==") {
                LabelReq::Eq(key.to_string(), value(v)?)
            } else if let Some(v) = rest.strip_prefix('=') {
                LabelReq::Eq(key.to_string(), value(v)?)
            } else if let Some(v) = rest.strip_prefix('>') {
                LabelReq::Gt(key.to_string(), number(v)?)
            } else if let Some(v) = rest.strip_prefix('<') {
                LabelReq::Lt(key.to_string(), number(v)?)
            } else if let Some(v) = rest.strip_prefix("notin") {
                LabelReq::NotIn(key.to_string(), parse_set(v, part)?)
            } else if let Some(v) = rest.strip_prefix("in") {
                LabelReq::In(key.to_string(), parse_set(v, part)?)
            } else {
                return Err(format!("unable to parse requirement: {part:?}"));
            };
            reqs.push(req);
        }
        Ok(Self { reqs })
    }

    /// Whether the object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
            LabelReq::Gt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            LabelReq::Lt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

/// A parsed field selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

/// The field labels a kind can be selected on. From the API server's
/// field label conversions (`kubernetes` `pkg/apis/core/v1/conversion.go`
/// for Pod, Node, ReplicationController, Event, Namespace, Secret and
/// Service; `apps/v1` ReplicaSet, `batch/v1` Job); every other kind,
/// custom resources included, has only `metadata.name` and
/// `metadata.namespace` (`runtime.DefaultMetaV1FieldSelectorConversion`).
pub fn field_labels(group: &str, kind: &str) -> &'static [&'static str] {
    const META: &[&str] = &["metadata.name", "metadata.namespace"];
    match (group, kind) {
        ("", "Pod") => &[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "Node") => &["metadata.name", "spec.unschedulable"],
        ("", "ReplicationController") | ("apps", "ReplicaSet") => {
            &["metadata.name", "metadata.namespace", "status.replicas"]
        }
        ("", "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "metadata.namespace",
            "metadata.name",
        ],
        ("", "Namespace") => &["status.phase", "metadata.name"],
        ("", "Secret") => &["type", "metadata.namespace", "metadata.name"],
        ("", "Service") => &[
            "metadata.namespace",
            "metadata.name",
            "spec.clusterIP",
            "spec.type",
        ],
        ("batch", "Job") => &["metadata.name", "metadata.namespace", "status.successful"],
        _ => META,
    }
}

impl FieldSelector {
    /// Parses a `fieldSelector` query value, allowing only the field labels
    /// in `supported` (see [`field_labels`]; the server's message for any
    /// other).
    ///
    /// # Errors
    /// A message naming the unparsable part or the unsupported field.
    pub fn parse(s: &str, supported: &[&str]) -> Result<Self, String> {
        let mut reqs = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self { reqs });
        }
        for part in s.split(',') {
            let part = part.trim();
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!("invalid selector: {part:?}; can't understand it"));
            };
            let field = field.trim();
            if field.is_empty() {
                return Err(format!("invalid selector: {part:?}"));
            }
            if !supported.contains(&field) {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self { reqs })
    }

    /// Whether the object's fields satisfy every requirement. A missing
    /// field reads as the empty string.
    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|(field, eq, want)| {
            let mut cur = Some(obj);
            for seg in field.split('.') {
                cur = cur.and_then(|v| v.get(seg));
            }
            let got = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (got == *want) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns1", "labels": labels}, "type": "Opaque"})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "web", "tier": "front", "n": "5"}));
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(&o);
        assert!(m(""));
        assert!(m("app=web"));
        assert!(m("app==web"));
        assert!(!m("app!=web"));
        assert!(m("missing!=x"));
        assert!(m("app in (web, api)"));
        assert!(!m("app notin (web,api)"));
        assert!(m("missing notin (web)"));
        assert!(!m("missing in (web)"));
        assert!(m("tier"));
        assert!(!m("!tier"));
        assert!(m("!missing"));
        assert!(m("app=web,tier in (front),!missing"));
        assert!(!m("app=web,tier=back"));
        assert!(m("n>4"));
        assert!(!m("n<4"));
    }

    #[test]
    fn label_parse_errors() {
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("=x").is_err());
        assert!(LabelSelector::parse("a=b,,c").is_err());
        assert!(LabelSelector::parse("a=b c").is_err());
        assert!(LabelSelector::parse("a in ()").is_err());
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        let m = |s: &str| {
            FieldSelector::parse(
                s,
                &[
                    "metadata.name",
                    "metadata.namespace",
                    "type",
                    "spec.missing",
                ],
            )
            .unwrap()
            .matches(&o)
        };
        assert!(m("metadata.name=a"));
        assert!(m("metadata.name==a,metadata.namespace=ns1"));
        assert!(!m("metadata.name!=a"));
        assert!(m("type=Opaque"));
        assert!(m("spec.missing="));
        assert!(
            FieldSelector::parse(
                "spec.x=1",
                field_labels("trident.netapp.io", "TridentBackend")
            )
            .is_err()
        );
        assert!(
            FieldSelector::parse(
                "spec.persistentVolumeReclaimPolicy=Retain",
                field_labels("", "PersistentVolume")
            )
            .is_err()
        );
        assert!(FieldSelector::parse("status.phase=Running", field_labels("", "Pod")).is_ok());
        assert!(FieldSelector::parse("nonsense", &[]).is_err());
    }
}
