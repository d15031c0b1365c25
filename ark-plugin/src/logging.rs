//! Logs on stderr as hclog JSON lines, the format go-plugin parses and Velero
//! forwards into the restore log.
//!
//! Every line carries `@level` and `@message` as JSON strings (a non-string
//! value there panics the Velero host inside go-plugin), `logSource` and
//! `@logSourceSetBy: "plugin"` (so Velero keeps our source location), and the
//! event's fields. No `@timestamp`: go-plugin demands one exact layout and
//! Velero stamps the line itself. Lines are capped well below go-plugin's
//! 64 KiB line buffer.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Longest `@message` written; go-plugin splits lines over 64 KiB.
const MAX_MESSAGE: usize = 16 * 1024;
/// Longest value of any other field.
const MAX_FIELD: usize = 4 * 1024;

/// Maps a Velero/logrus level name (`trace`, `debug`, `info`, `warning`,
/// `error`, `fatal`, `panic`) to a filter; `None` for an unknown name.
pub fn parse_level(name: &str) -> Option<LevelFilter> {
    match name.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(LevelFilter::TRACE),
        "debug" => Some(LevelFilter::DEBUG),
        "info" => Some(LevelFilter::INFO),
        "warn" | "warning" => Some(LevelFilter::WARN),
        "error" | "fatal" | "panic" => Some(LevelFilter::ERROR),
        "off" => Some(LevelFilter::OFF),
        _ => None,
    }
}

/// Installs the hclog layer as the global subscriber at `level` (Velero's
/// `--log-level`; default `info`). An unknown level logs a warning and uses
/// `info`. Also routes panic messages through the same JSON format.
pub fn init(level: Option<&str>) {
    let parsed = level.map(|l| (l, parse_level(l)));
    let filter = match parsed {
        Some((_, Some(f))) => f,
        _ => LevelFilter::INFO,
    };
    // Our crates at the requested level; libraries (hyper, h2, tonic, kube)
    // only from warn up, so `--log-level debug` does not flood the restore log.
    let others = if filter > LevelFilter::WARN {
        LevelFilter::WARN
    } else {
        filter
    };
    let targets = Targets::new()
        .with_default(others)
        .with_target("ark_plugin", filter)
        .with_target("velero_plugin_svmdr", filter)
        .with_target("svmdr", filter);
    let subscriber = tracing_subscriber::registry().with(HclogLayer.with_filter(targets));
    // Only fails if a subscriber is already set (tests); then keep that one.
    let _ = tracing::subscriber::set_global_default(subscriber);
    if let Some((name, None)) = parsed {
        tracing::warn!(level = name, "unknown --log-level, using info");
    }
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = panic_message(info.payload());
        let mut fields = Map::new();
        fields.insert("panic".into(), Value::String(msg.clone()));
        write_line("error", &format!("panic: {msg}"), &location, fields);
    }));
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// A tracing layer writing hclog JSON lines to stderr.
struct HclogLayer;

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::TRACE => "trace",
            Level::DEBUG => "debug",
            Level::INFO => "info",
            Level::WARN => "warn",
            Level::ERROR => "error",
        };
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let source = match (meta.file(), meta.line()) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            _ => meta.target().to_string(),
        };
        write_line(level, &visitor.message, &source, visitor.fields);
    }
}

/// Renders one hclog line (pure, for tests).
pub fn render_line(level: &str, message: &str, source: &str, fields: Map<String, Value>) -> String {
    let mut obj = Map::new();
    obj.insert("@level".into(), Value::String(level.to_string()));
    obj.insert(
        "@message".into(),
        Value::String(truncate(message, MAX_MESSAGE)),
    );
    obj.insert("logSource".into(), Value::String(source.to_string()));
    obj.insert("@logSourceSetBy".into(), Value::String("plugin".into()));
    for (k, v) in fields {
        // Never let a field overwrite the keys go-plugin and Velero rely on,
        // nor the ones Velero drops (`time`, `timestamp`, `level`).
        let key = if k.starts_with('@')
            || matches!(k.as_str(), "logSource" | "time" | "timestamp" | "level")
        {
            format!("field.{}", k.trim_start_matches('@'))
        } else {
            k
        };
        obj.insert(key, v);
    }
    let mut line = Value::Object(obj).to_string();
    line.push('\n');
    line
}

fn write_line(level: &str, message: &str, source: &str, fields: Map<String, Value>) {
    let line = render_line(level, message, source, fields);
    // One write per line so concurrent lines never interleave; a closed
    // stderr is not a reason to fail a restore.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &s[..end], s.len() - end)
}

#[derive(Default)]
struct FieldVisitor {
    message: String,
    fields: Map<String, Value>,
}

impl Visit for FieldVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        if field.name() == "message" {
            self.message = s;
        } else {
            self.fields.insert(
                field.name().to_string(),
                Value::String(truncate(&s, MAX_FIELD)),
            );
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.insert(
                field.name().to_string(),
                Value::String(truncate(value, MAX_FIELD)),
            );
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields
            .insert(field.name().to_string(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields
            .insert(field.name().to_string(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields
            .insert(field.name().to_string(), Value::from(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_string_level_and_message_and_source() {
        let mut f = Map::new();
        f.insert("pv".into(), Value::String("pvc-1".into()));
        f.insert("@message".into(), Value::from(3));
        f.insert("level".into(), Value::from(3));
        let line = render_line("info", "hello", "src/x.rs:1", f);
        assert!(line.ends_with('\n'));
        let v: Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "hello");
        assert_eq!(v["logSource"], "src/x.rs:1");
        assert_eq!(v["@logSourceSetBy"], "plugin");
        assert_eq!(v["pv"], "pvc-1");
        assert_eq!(v["field.message"], 3);
        assert_eq!(v["field.level"], 3);
        assert!(v.get("@timestamp").is_none());
    }

    #[test]
    fn long_messages_stay_under_the_go_plugin_line_buffer() {
        let msg = "é".repeat(100_000);
        let line = render_line("error", &msg, "s", Map::new());
        assert!(line.len() < 64 * 1024);
        let v: Value = serde_json::from_str(line.trim_end()).unwrap();
        assert!(v["@message"].as_str().unwrap().contains("bytes cut"));
    }

    #[test]
    fn levels_follow_velero_names() {
        assert_eq!(parse_level("DEBUG"), Some(LevelFilter::DEBUG));
        assert_eq!(parse_level("warning"), Some(LevelFilter::WARN));
        assert_eq!(parse_level("fatal"), Some(LevelFilter::ERROR));
        assert_eq!(parse_level("loud"), None);
    }
}
