//! Rendering: tables (tabled, kubectl style: no borders), JSON and YAML, all
//! written to any `io::Write` so tests render into a `Vec<u8>`. Data goes to
//! stdout; progress and notes go to stderr (see [`crate::progress`]).

pub mod backends;
pub use crate::jsonpath;
pub mod name;
pub mod peer;
pub mod restore;
pub mod status;
pub mod sync;
pub mod workflow;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::{Padding, Style};

use crate::global::OutputFormat;

/// Set once a JSON or YAML document went to stdout (see [`document_written`]).
static DOCUMENT_WRITTEN: AtomicBool = AtomicBool::new(false);

/// Whether this process already wrote a JSON or YAML document with
/// [`write_structured`]: an error then adds no second document
/// ([`crate::exit::report`]).
pub fn document_written() -> bool {
    DOCUMENT_WRITTEN.load(Ordering::SeqCst)
}

/// The `apiVersion` of every document this tool writes.
pub const API_VERSION: &str = "svmdr.netapp.io/v1";

/// A document made of `apiVersion`, `kind` and the fields of `inner`, for
/// result types (from `svmdr`) that do not carry them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Typed<'a, T: Serialize> {
    /// [`API_VERSION`].
    pub api_version: &'static str,
    /// The document's kind.
    pub kind: &'static str,
    /// The fields.
    #[serde(flatten)]
    pub inner: &'a T,
}

/// `inner` as a document of `kind`.
pub fn typed<'a, T: Serialize>(kind: &'static str, inner: &'a T) -> Typed<'a, T> {
    Typed {
        api_version: API_VERSION,
        kind,
        inner,
    }
}

/// Writes `value` as pretty JSON or YAML, through a kubectl JSONPath
/// template, or as `-o name` lines (`format` must not be a table). Every
/// document carries `apiVersion` and `kind` (wrap it in [`typed`]).
///
/// # Errors
/// Serialization or write errors (a closed pipe is classified at the edge),
/// a template that cannot be evaluated, a document `-o name` cannot name.
pub fn write_structured<T: Serialize>(
    w: &mut impl Write,
    format: OutputFormat,
    value: &T,
) -> anyhow::Result<()> {
    let doc = serde_json::to_value(value)?;
    debug_assert!(
        doc.get("apiVersion").is_some() && doc.get("kind").is_some(),
        "every document carries apiVersion and kind: {doc}"
    );
    match format {
        OutputFormat::JsonPath(template) => {
            let t = jsonpath::Template::parse(template).map_err(anyhow::Error::msg)?;
            let text = t.render(&doc).map_err(anyhow::Error::msg)?;
            w.write_all(text.as_bytes())?;
        }
        OutputFormat::Name => {
            let mut text = String::new();
            for n in name::names(&doc).map_err(anyhow::Error::msg)? {
                text.push_str(&n);
                text.push('\n');
            }
            w.write_all(text.as_bytes())?;
        }
        OutputFormat::Yaml => {
            let text = serde_yaml::to_string(value)?;
            w.write_all(text.as_bytes())?;
        }
        _ => {
            // Serialize first: serde_json hides an io::Error (e.g. a closed
            // pipe) from the error chain, and exit codes depend on it.
            let mut text = serde_json::to_vec_pretty(value)?;
            text.push(b'\n');
            w.write_all(&text)?;
        }
    }
    DOCUMENT_WRITTEN.store(true, Ordering::SeqCst);
    w.flush()?;
    Ok(())
}

/// A borderless table with an upper-case header row, like kubectl's.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|h| h.to_uppercase()));
    for r in rows {
        b.push_record(r);
    }
    let mut t = b.build();
    t.with(Style::blank()).with(Padding::new(0, 2, 0, 0));
    // tabled pads every line; kubectl output has no trailing spaces.
    t.to_string()
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `-` for an absent value.
pub fn or_dash(v: Option<impl ToString>) -> String {
    v.map(|x| x.to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".into())
}

/// Bytes, human (`1.5 GiB`).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_no_borders_or_trailing_space() {
        let t = table(
            &["name", "state"],
            vec![
                vec!["a".into(), "online".into()],
                vec!["bb".into(), "-".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("NAME"), "{t}");
        assert!(lines.iter().all(|l| !l.ends_with(' ')), "{t:?}");
        assert!(!t.contains('|') && !t.contains('+'), "{t}");
    }

    #[test]
    fn structured_output() {
        let mut out = Vec::new();
        let a = serde_json::json!({"a": 1});
        let doc = typed("Thing", &a);
        write_structured(&mut out, OutputFormat::Json, &doc).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"apiVersion\": \"svmdr.netapp.io/v1\",\n  \"kind\": \"Thing\",\n  \"a\": 1\n}\n"
        );
        let mut out = Vec::new();
        write_structured(&mut out, OutputFormat::Yaml, &doc).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "apiVersion: svmdr.netapp.io/v1\nkind: Thing\na: 1\n"
        );
        let mut out = Vec::new();
        write_structured(&mut out, OutputFormat::JsonPath("{.kind}/{.a}"), &doc).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Thing/1");
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(or_dash(None::<String>), "-");
        assert_eq!(or_dash(Some("")), "-");
    }
}
