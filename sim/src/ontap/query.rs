//! Collection queries as ONTAP answers them: `fields=` projection (keys by
//! default, `*`, `**`; names checked against the resource's catalogue), field filters (exact, `*` wildcard, `!`, `<`/`>`/`<=`/`>=`,
//! `null`/`!null`, `|` or `,` for OR), `order_by`, `max_records` with a
//! `_links.next` continuation, and `return_records`.

use serde_json::{Map, Value, json};

use super::catalogue::Catalogue;
use super::error::ApiError;
use super::timefmt::parse_duration;

/// Query parameters that are not field filters.
const RESERVED: &[&str] = &[
    "fields",
    "max_records",
    "return_records",
    "return_timeout",
    "order_by",
    "start.index",
    "list_destinations_only",
    "validate_only",
    "destination_only",
    "source_only",
    "source_info_only",
    "failover",
    "force_failover",
    "failback",
    "force",
    "allow_delete_while_mapped",
];

/// The parsed query string of one request.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// All pairs in order, percent-decoded.
    pub pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean parameter (absent = false).
    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") || v.is_empty() => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::invalid(format!(
                "Invalid value \"{v}\" for parameter \"{key}\": expected true or false."
            ))
            .target(key)),
        }
    }

    /// `return_timeout` in seconds (0..=120).
    pub fn return_timeout(&self, default: u64) -> Result<u64, ApiError> {
        match self.get("return_timeout") {
            None => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= 120 => Ok(n),
                _ => Err(ApiError::invalid(format!(
                    "Invalid value \"{v}\" for \"return_timeout\": must be an integer from 0 to 120."
                ))
                .target("return_timeout")),
            },
        }
    }

    /// Field filters: every pair that is not a reserved parameter.
    pub fn filters(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// How a resource projects its records.
pub struct Shape<'a> {
    /// Always-present key fields (besides `_links`).
    pub keys: &'a [&'a str],
    /// Fields only returned when named or with `fields=**`.
    pub expensive: &'a [&'a str],
    /// The names ONTAP knows for the resource; `fields=` is checked against it.
    pub fields: Catalogue,
}

/// Answers a collection GET: filters, orders, paginates and projects the
/// full records.
///
/// # Errors
/// Bad `max_records`, `order_by` or `return_records` values (400, code 2);
/// an unknown name in `fields=` (400, code 262197).
pub fn collection(
    base: &str,
    q: &Query,
    records: Vec<Value>,
    shape: &Shape<'_>,
) -> Result<Value, ApiError> {
    if let Some(list) = q.get("fields") {
        shape.fields.check(list)?;
    }
    let mut recs: Vec<Value> = records
        .into_iter()
        .filter(|r| q.filters().all(|(k, v)| matches_filter(r, k, v)))
        .collect();
    if let Some(order) = q.get("order_by") {
        let mut parts = order.split_whitespace();
        let field = parts.next().unwrap_or("");
        let desc = match parts.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(
                    ApiError::invalid(format!("Invalid order_by direction \"{other}\"."))
                        .target("order_by"),
                );
            }
        };
        recs.sort_by(|a, b| {
            let x = lookup(a, field)
                .first()
                .map(|v| scalar(v))
                .unwrap_or_default();
            let y = lookup(b, field)
                .first()
                .map(|v| scalar(v))
                .unwrap_or_default();
            compare_text(&x, &y)
        });
        if desc {
            recs.reverse();
        }
    }
    let total = recs.len();
    let start: usize = match q.get("start.index") {
        None => 0,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::invalid("Invalid start.index.").target("start.index"))?,
    };
    let max: usize = match q.get("max_records") {
        None => 10_000,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid value \"{s}\" for \"max_records\"."
                ))
                .target("max_records"));
            }
        },
    };
    let page: Vec<Value> = recs.into_iter().skip(start).take(max).collect();
    let n = page.len();
    let mut links = json!({ "self": { "href": self_href(base, q) } });
    if start + n < total {
        let mut pairs: Vec<(String, String)> = q
            .pairs
            .iter()
            .filter(|(k, _)| k != "start.index")
            .cloned()
            .collect();
        pairs.push(("start.index".into(), (start + n).to_string()));
        links["next"] = json!({ "href": format!("{base}?{}", encode(&pairs)) });
    }
    let mut out = Map::new();
    let return_records =
        !matches!(q.get("return_records"), Some(v) if v.eq_ignore_ascii_case("false"));
    if return_records {
        let fields = q.get("fields");
        let projected = page
            .iter()
            .map(|r| project(r, fields, shape))
            .collect::<Result<Vec<Value>, ApiError>>()?;
        out.insert("records".into(), Value::Array(projected));
    }
    out.insert("num_records".into(), json!(n));
    out.insert("_links".into(), links);
    Ok(Value::Object(out))
}

/// Projects one record for an instance GET (default `*`).
///
/// # Errors
/// An unknown name in `fields=` (400, code 262197).
pub fn instance(record: &Value, q: &Query, shape: &Shape<'_>) -> Result<Value, ApiError> {
    project(record, Some(q.get("fields").unwrap_or("*")), shape)
}

fn self_href(base: &str, q: &Query) -> String {
    if q.pairs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", encode(&q.pairs))
    }
}

fn encode(pairs: &[(String, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Keeps the key fields, `_links` and the requested fields of `full`.
///
/// # Errors
/// An unknown name in `fields` (400, code 262197).
pub fn project(full: &Value, fields: Option<&str>, shape: &Shape<'_>) -> Result<Value, ApiError> {
    if let Some(list) = fields {
        shape.fields.check(list)?;
    }
    let mut out = Value::Object(Map::new());
    let mut want: Vec<&str> = shape.keys.to_vec();
    want.push("_links");
    match fields {
        Some("**") => return Ok(full.clone()),
        Some(list) => {
            let mut star = false;
            for f in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                if f == "*" || f == "**" {
                    star = true;
                } else {
                    want.push(f);
                }
            }
            if star && let Value::Object(m) = full {
                for (k, v) in m {
                    if !shape.expensive.contains(&k.as_str()) {
                        out[k.as_str()] = v.clone();
                    }
                }
            }
        }
        None => {}
    }
    for path in want {
        let parts: Vec<&str> = path.split('.').collect();
        if let Some(v) = pick(full, &parts) {
            merge(&mut out, v);
        }
    }
    Ok(out)
}

/// The sub-tree of `v` along `path`, keeping the enclosing objects.
fn pick(v: &Value, path: &[&str]) -> Option<Value> {
    let Some((head, rest)) = path.split_first() else {
        return Some(v.clone());
    };
    match v {
        Value::Object(m) => {
            let child = m.get(*head)?;
            let inner = pick(child, rest)?;
            let mut o = Map::new();
            o.insert((*head).to_string(), inner);
            Some(Value::Object(o))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|i| pick(i, path).unwrap_or(Value::Object(Map::new())))
                .collect(),
        )),
        _ => None,
    }
}

fn merge(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        d.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(s)) if d.len() == s.len() => {
            for (a, b) in d.iter_mut().zip(s) {
                merge(a, b);
            }
        }
        (d, s) => *d = s,
    }
}

/// Every value at a dotted path, flattening arrays on the way.
pub fn lookup<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur = vec![v];
    for part in path.split('.') {
        let mut next = Vec::new();
        for c in cur {
            match c {
                Value::Object(m) => {
                    if let Some(x) = m.get(part) {
                        next.push(x);
                    }
                }
                Value::Array(items) => {
                    for i in items {
                        if let Some(x) = i.get(part) {
                            next.push(x);
                        }
                    }
                }
                _ => {}
            }
        }
        cur = next;
    }
    let mut out = Vec::new();
    for c in cur {
        match c {
            Value::Array(items) => out.extend(items.iter()),
            Value::Null => {}
            other => out.push(other),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Does `record` match the ONTAP filter `field=pattern`?
pub fn matches_filter(record: &Value, field: &str, pattern: &str) -> bool {
    let values: Vec<String> = lookup(record, field).into_iter().map(scalar).collect();
    pattern
        .split(['|', ','])
        .any(|alt| matches_one(&values, alt.trim()))
}

fn matches_one(values: &[String], pat: &str) -> bool {
    if pat.eq_ignore_ascii_case("null") {
        return values.is_empty();
    }
    if let Some(neg) = pat.strip_prefix('!') {
        if neg.eq_ignore_ascii_case("null") {
            return !values.is_empty();
        }
        return !values.is_empty()
            && !values
                .iter()
                .any(|v| matches_one(std::slice::from_ref(v), neg));
    }
    for (op, f) in [
        (
            "<=",
            (|o: std::cmp::Ordering| o != std::cmp::Ordering::Greater)
                as fn(std::cmp::Ordering) -> bool,
        ),
        (">=", |o| o != std::cmp::Ordering::Less),
        ("<", |o| o == std::cmp::Ordering::Less),
        (">", |o| o == std::cmp::Ordering::Greater),
    ] {
        if let Some(rhs) = pat.strip_prefix(op) {
            return values.iter().any(|v| f(compare_text(v, rhs)));
        }
    }
    if pat.contains('*') {
        return values
            .iter()
            .any(|v| glob(&v.to_ascii_lowercase(), &pat.to_ascii_lowercase()));
    }
    values.iter().any(|v| v.eq_ignore_ascii_case(pat))
}

/// Compares as durations, then numbers, then text.
fn compare_text(a: &str, b: &str) -> std::cmp::Ordering {
    if let (Some(x), Some(y)) = (parse_duration(a), parse_duration(b)) {
        return x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
    }
    a.cmp(b)
}

fn glob(text: &str, pat: &str) -> bool {
    let parts: Vec<&str> = pat.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            if !text.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return text.len() >= pos + part.len() && text[pos..].ends_with(part);
        } else {
            match text[pos..].find(part) {
                Some(idx) => pos += idx + part.len(),
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
