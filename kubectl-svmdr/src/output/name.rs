//! `-o name`: one `kind.group/name` line per object, as kubectl's name
//! printer (cli-runtime `pkg/printers/name.go`: lower-case `Kind.group`,
//! then `/`, then the name). A list document prints one line per item.

use serde_json::Value;

/// Documents that are lists of objects: (document kind, JSON pointer of the
/// array, item kind, pointers joined by `-` to make an item's name).
const LISTS: &[(&str, &str, &str, &[&str])] = &[
    (
        "Status",
        "/relationships",
        "Relationship",
        &["/destination/path"],
    ),
    ("BackendList", "/backends", "Backend", &["/name"]),
    (
        "History",
        "/items",
        "WorkflowRun",
        &["/workflow", "/startedAt"],
    ),
];

/// Where a single document's name is, first match wins.
const NAME_FIELDS: &[&str] = &[
    "/metadata/name",
    "/name",
    "/workflow",
    "/destination",
    "/version",
    "/backup/name",
];

/// The `-o name` lines of `doc`.
///
/// # Errors
/// A document without `kind` or without anything that names it.
pub fn names(doc: &Value) -> Result<Vec<String>, String> {
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("-o name: the document has no kind")?;
    let group = doc
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|a| a.split_once('/'))
        .map(|(g, _)| g)
        .unwrap_or("");
    let qualified = |k: &str| {
        let k = k.to_lowercase();
        if group.is_empty() {
            k
        } else {
            format!("{k}.{group}")
        }
    };
    if let Some((_, list, item_kind, fields)) = LISTS.iter().find(|(k, ..)| *k == kind) {
        let items = doc.pointer(list).and_then(Value::as_array);
        return Ok(items
            .into_iter()
            .flatten()
            .map(|item| {
                let name: Vec<String> = fields
                    .iter()
                    .filter_map(|f| item.pointer(f))
                    .map(scalar)
                    .filter(|s| !s.is_empty())
                    .collect();
                format!("{}/{}", qualified(item_kind), object_name(&name.join("-")))
            })
            .collect());
    }
    let name = NAME_FIELDS
        .iter()
        .filter_map(|f| doc.pointer(f))
        .map(scalar)
        .find(|s| !s.is_empty())
        .ok_or_else(|| format!("-o name: a {kind} document has no name; use -o json"))?;
    Ok(vec![format!("{}/{}", qualified(kind), object_name(&name))])
}

/// A name as Kubernetes object names are (DNS-1123 subdomain): lower case,
/// `[a-z0-9.-]`, each run of anything else one `-`, no `-` at either end
/// (`svm1_dr:` → `svm1-dr`, `resync --direction reverse` → `resync-direction-reverse`).
fn object_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_string()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_print_one_line_per_item() {
        let doc = json!({"apiVersion": "svmdr.netapp.io/v1", "kind": "Status",
            "relationships": [{"destination": {"path": "svm1_dr:"}},
                              {"destination": {"path": "svm2_dr:"}}]});
        assert_eq!(
            names(&doc).unwrap(),
            [
                "relationship.svmdr.netapp.io/svm1-dr",
                "relationship.svmdr.netapp.io/svm2-dr"
            ]
        );
    }

    #[test]
    fn single_documents_print_their_kind_and_name() {
        let doc = json!({"apiVersion": "svmdr.netapp.io/v1", "kind": "RestoreReport",
            "name": "r-1"});
        assert_eq!(names(&doc).unwrap(), ["restorereport.svmdr.netapp.io/r-1"]);
        assert!(names(&json!({"kind": "X"})).is_err());
        let runs = json!({"apiVersion": "svmdr.netapp.io/v1", "kind": "History",
            "items": [{"workflow": "resync --direction reverse", "startedAt": "2026-12-07T05:25:54Z"}]});
        assert_eq!(
            names(&runs).unwrap(),
            ["workflowrun.svmdr.netapp.io/resync-direction-reverse-2026-12-07t05-25-54z"]
        );
        assert!(names(&json!({"name": "x"})).is_err());
    }
}
