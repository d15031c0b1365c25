//! `-o jsonpath=TEMPLATE`: kubectl's JSONPath template dialect (client-go
//! `util/jsonpath`, documented at kubernetes.io "JSONPath Support") on top
//! of the `jsonpath-rust` crate, which evaluates RFC 9535 paths.
//!
//! The adapter covers what kubectl adds to JSONPath: `{...}` actions
//! between plain text, an optional leading `$` (paths start at the current
//! object), `{"quoted text"}` with escapes, `{range PATH}...{end}` (nested
//! allowed), `\.` in a key and unquoted keys with `-` or `/`. Results of
//! one action are separated by a space; strings print raw, objects and
//! arrays as compact JSON; a path that matches nothing prints nothing
//! (kubectl's default `--allow-missing-template-keys=true`).

use jsonpath_rust::JsonPath as _;
use serde_json::Value;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Node>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    /// An RFC 9535 path (`$...`), evaluated on the current object.
    Path(String),
    Range(String, Vec<Node>),
}

impl Template {
    /// Parses a kubectl JSONPath template.
    ///
    /// # Errors
    /// Unbalanced braces or quotes, `range` without `end` (or the reverse),
    /// or a path `jsonpath-rust` rejects.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut stack: Vec<(String, Vec<Node>)> = Vec::new();
        let mut nodes = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                nodes.push(Node::Text(rest.to_string()));
                break;
            };
            if open > 0 {
                nodes.push(Node::Text(rest[..open].to_string()));
            }
            let close = action_end(&rest[open + 1..])
                .ok_or_else(|| format!("unclosed action {:?}", &rest[open..]))?;
            let action = rest[open + 1..open + 1 + close].trim();
            rest = &rest[open + 1 + close + 1..];
            if action.starts_with('"') {
                let lit: String = serde_json::from_str(action)
                    .map_err(|e| format!("bad quoted text {action}: {e}"))?;
                nodes.push(Node::Text(lit));
            } else if action == "end" {
                let (path, outer) = stack
                    .pop()
                    .ok_or_else(|| "{end} without {range ...}".to_string())?;
                let body = std::mem::replace(&mut nodes, outer);
                nodes.push(Node::Range(path, body));
            } else if let Some(path) = action.strip_prefix("range ") {
                stack.push((to_rfc9535(path.trim())?, std::mem::take(&mut nodes)));
            } else {
                nodes.push(Node::Path(to_rfc9535(action)?));
            }
        }
        if !stack.is_empty() {
            return Err("{range ...} without {end}".into());
        }
        Ok(Self(nodes))
    }

    /// Applies the template to `doc`.
    ///
    /// # Errors
    /// A path that cannot be evaluated.
    pub fn render(&self, doc: &Value) -> Result<String, String> {
        let mut out = String::new();
        render_nodes(&self.0, doc, &mut out)?;
        Ok(out)
    }
}

fn render_nodes(nodes: &[Node], current: &Value, out: &mut String) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(p) => {
                let found = query(current, p)?;
                let texts: Vec<String> = found.into_iter().map(text).collect();
                out.push_str(&texts.join(" "));
            }
            Node::Range(p, body) => {
                for v in query(current, p)? {
                    match v {
                        Value::Array(items) => {
                            for item in items {
                                render_nodes(body, item, out)?;
                            }
                        }
                        other => render_nodes(body, other, out)?,
                    }
                }
            }
        }
    }
    Ok(())
}

fn query<'a>(current: &'a Value, path: &str) -> Result<Vec<&'a Value>, String> {
    current
        .query(path)
        .map_err(|e| format!("cannot evaluate {path}: {e}"))
}

/// How kubectl prints one result.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Where the action that starts `s` ends (the index of its `}`), skipping
/// quoted text.
fn action_end(s: &str) -> Option<usize> {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '}' => return Some(i),
                _ => {}
            },
        }
    }
    None
}

/// kubectl path → RFC 9535 path: `$` prepended, `@` (the current object)
/// read as `$`, dotted keys that RFC 9535 shorthand cannot spell (`-`,
/// `/`, `\.`) bracket-quoted. The result is checked by parsing it.
fn to_rfc9535(path: &str) -> Result<String, String> {
    let body = path
        .strip_prefix('$')
        .or_else(|| path.strip_prefix('@'))
        .unwrap_or(path);
    let mut out = String::from("$");
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
                i += 1;
            }
            '[' | '(' => {
                depth += 1;
                out.push(c);
                i += 1;
            }
            ']' | ')' => {
                depth = depth.saturating_sub(1);
                out.push(c);
                i += 1;
            }
            '.' if depth == 0 => {
                // `..` (descendants) stays; then one key up to `.` or `[`.
                out.push('.');
                i += 1;
                if chars.get(i) == Some(&'.') {
                    out.push('.');
                    i += 1;
                }
                let mut key = String::new();
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    if chars[i] == '\\' && chars.get(i + 1) == Some(&'.') {
                        key.push('.');
                        i += 2;
                    } else {
                        key.push(chars[i]);
                        i += 1;
                    }
                }
                let plain = key.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !key.starts_with(|c: char| c.is_ascii_digit());
                if key.is_empty() || key == "*" || plain {
                    out.push_str(&key);
                } else {
                    // `.a-b` → `['a-b']` (the `.` pushed above is dropped).
                    out.pop();
                    out.push_str(&format!("['{}']", key.replace('\'', "\\'")));
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    // kubectl's `{.}` and `{@}` are the current object.
    if out == "$." {
        out.truncate(1);
    }
    Value::Null
        .query(&out)
        .map_err(|e| format!("{path}: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The input of kubernetes.io "JSONPath Support" (reference/kubectl/jsonpath).
    fn doc() -> Value {
        json!({
          "kind": "List",
          "items": [
            {"kind": "None", "metadata": {"name": "127.0.0.1"},
             "status": {"capacity": {"cpu": "4"},
                        "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
            {"kind": "None", "metadata": {"name": "127.0.0.2"},
             "status": {"capacity": {"cpu": "8"},
                        "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"},
                                      {"type": "another", "address": "127.0.0.3"}]}}
          ],
          "users": [
            {"name": "myself", "user": {}},
            {"name": "e2e", "user": {"username": "admin", "password": "secret"}}
          ]
        })
    }

    fn run(t: &str) -> String {
        Template::parse(t).unwrap().render(&doc()).unwrap()
    }

    #[test]
    fn kubectl_documented_examples() {
        assert_eq!(run("kind is {.kind}"), "kind is List");
        assert_eq!(run(r#"{"{"}"#), "{");
        assert_eq!(run("{.kind}"), "List");
        assert_eq!(run("{['kind']}"), "List");
        assert_eq!(run("{$.kind}"), "List");
        assert_eq!(run("{.items[*].metadata.name}"), "127.0.0.1 127.0.0.2");
        assert_eq!(run("{.users[0].name}"), "myself");
        assert_eq!(run("{.items[-1:].metadata.name}"), "127.0.0.2");
        assert_eq!(run(r#"{.users[?(@.name=="e2e")].user.password}"#), "secret");
        assert_eq!(
            run("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}"),
            r#"[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] "#
        );
        let mut names: Vec<String> = run("{..name}").split(' ').map(str::to_string).collect();
        names.sort();
        assert_eq!(names, ["127.0.0.1", "127.0.0.2", "e2e", "myself"]);
        assert_eq!(serde_json::from_str::<Value>(&run("{@}")).unwrap(), doc());
    }

    #[test]
    fn range_with_quoted_escapes_and_nesting() {
        assert_eq!(
            run(
                r#"{range .items[*]}{.metadata.name}{"\t"}{range .status.addresses[*]}{.type},{end}{"\n"}{end}"#
            ),
            "127.0.0.1\tLegacyHostIP,\n127.0.0.2\tLegacyHostIP,another,\n"
        );
    }

    #[test]
    fn kubectl_keys_with_dashes_and_escaped_dots() {
        let d = json!({"metadata": {"labels": {"app-name": "x", "a.b/c": "y"}}});
        let t = |s: &str| Template::parse(s).unwrap().render(&d).unwrap();
        assert_eq!(t("{.metadata.labels.app-name}"), "x");
        assert_eq!(t(r"{.metadata.labels.a\.b/c}"), "y");
        assert_eq!(t("{.metadata.missing}"), "");
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert!(Template::parse("{.items").is_err());
        assert!(Template::parse("{range .items[*]}{.x}").is_err());
        assert!(Template::parse("{end}").is_err());
        assert!(Template::parse("{.items[}").is_err());
    }
}
