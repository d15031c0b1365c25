//! `metav1.MicroTime` fields as the API server decodes and encodes them
//! (`k8s.io/apimachinery` `pkg/apis/meta/v1/micro_time.go`): read with
//! Go's `time.Parse` and the layout `2006-01-02T15:04:05.000000Z07:00`
//! (exactly six fractional digits, `Z` or a `±hh:mm` offset), written back
//! in UTC with six digits, `null` dropped. A value that does not parse
//! makes the body undecodable; the error is worded as Go's `ParseError`
//! words it for the usual mistakes (no fraction, a shorter or longer one,
//! another zone form).

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

/// Go's `metav1.RFC3339Micro`.
pub const LAYOUT: &str = "2006-01-02T15:04:05.000000Z07:00";

/// The MicroTime fields of the built-in kinds, by group and kind.
const FIELDS: &[(&str, &str, &[&str])] = &[
    (
        "coordination.k8s.io",
        "Lease",
        &["/spec/acquireTime", "/spec/renewTime"],
    ),
    (
        "coordination.k8s.io",
        "LeaseCandidate",
        &["/spec/pingTime", "/spec/renewTime"],
    ),
    ("", "Event", &["/eventTime", "/series/lastObservedTime"]),
    (
        "events.k8s.io",
        "Event",
        &["/eventTime", "/series/lastObservedTime"],
    ),
];

/// Parses `s` as Go parses `LAYOUT`.
///
/// # Errors
/// Go's `parsing time ...` message.
pub fn parse(s: &str) -> Result<DateTime<Utc>, String> {
    let fail = |value_elem: &str, layout_elem: &str| {
        format!("parsing time {s:?} as {LAYOUT:?}: cannot parse {value_elem:?} as {layout_elem:?}")
    };
    let (Some(head), Some(rest)) = (s.get(..19), s.get(19..)) else {
        return Err(fail(s, "2006"));
    };
    let naive =
        NaiveDateTime::parse_from_str(head, "%Y-%m-%dT%H:%M:%S").map_err(|_| fail(s, "2006"))?;
    let frac = rest
        .get(..7)
        .filter(|f| f.starts_with(['.', ',']) && f[1..].bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| fail(rest, ".000000"))?;
    let micros: u32 = frac[1..].parse().map_err(|_| fail(rest, ".000000"))?;
    let zone = &rest[7..];
    let offset = if zone == "Z" {
        0
    } else {
        let sign = match zone.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(fail(zone, "Z07:00")),
        };
        let hm = &zone[1..];
        let ok = hm.len() == 5
            && hm.as_bytes()[2] == b':'
            && hm[..2]
                .bytes()
                .chain(hm[3..].bytes())
                .all(|b| b.is_ascii_digit());
        if !ok {
            return Err(fail(zone, "Z07:00"));
        }
        let (h, m): (i32, i32) = (hm[..2].parse().unwrap_or(0), hm[3..].parse().unwrap_or(0));
        if h > 24 || m > 60 {
            return Err(format!(
                "parsing time {s:?}: time zone offset hour out of range"
            ));
        }
        sign * (h * 3600 + m * 60)
    };
    let tz = FixedOffset::east_opt(offset).ok_or_else(|| fail(zone, "Z07:00"))?;
    let local = naive + chrono::Duration::microseconds(i64::from(micros));
    tz.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| fail(s, "2006"))
}

/// `t` as the API server writes a MicroTime.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Rewrites the MicroTime fields of an object of `group`/`kind` as the API
/// server stores them.
///
/// # Errors
/// The decoding error of the first field that does not parse.
pub fn normalize(group: &str, kind: &str, obj: &mut Value) -> Result<(), String> {
    let Some((_, _, fields)) = FIELDS.iter().find(|(g, k, _)| *g == group && *k == kind) else {
        return Ok(());
    };
    for field in *fields {
        let Some((parent, key)) = field.rsplit_once('/') else {
            continue;
        };
        let Some(Value::Object(m)) = obj.pointer_mut(parent) else {
            continue;
        };
        match m.get(key) {
            None => {}
            Some(Value::Null) => {
                m.remove(key);
            }
            Some(Value::String(s)) => {
                let t = parse(s)?;
                m.insert(key.to_string(), Value::String(format(&t)));
            }
            Some(other) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type string",
                    json_type(other)
                ));
            }
        }
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null | Value::String(_) => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn six_digits_in_any_zone_come_back_in_utc() {
        let t = |s: &str| parse(s).map(|t| format(&t));
        let micro = "2026-12-07T15:00:00.000000Z";
        assert_eq!(t(micro).as_deref(), Ok(micro));
        assert_eq!(
            t("2026-12-07T16:00:05.250000+01:00").as_deref(),
            Ok("2026-12-07T15:00:05.250000Z")
        );
        assert_eq!(
            t("2026-12-07T15:00:05,123456Z").as_deref(),
            Ok("2026-12-07T15:00:05.123456Z")
        );
    }

    #[test]
    fn other_forms_fail_as_go_words_it() {
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!(
            err("2026-12-07T15:00:00Z"),
            r#"parsing time "2026-12-07T15:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000""#
        );
        assert!(err("2026-12-07T15:00:00.25Z").ends_with(r#"cannot parse ".25Z" as ".000000""#));
        assert!(
            err("2026-12-07T15:00:00.123456789Z").ends_with(r#"cannot parse "789Z" as "Z07:00""#)
        );
        assert!(err("yesterday").ends_with(r#"cannot parse "yesterday" as "2006""#));
    }

    #[test]
    fn lease_fields_are_rewritten_and_nulls_dropped() {
        let mut lease = json!({"spec": {"holderIdentity": "a",
            "renewTime": "2026-12-07T16:00:00.000001+01:00", "acquireTime": null}});
        normalize("coordination.k8s.io", "Lease", &mut lease).unwrap();
        assert_eq!(
            lease,
            json!({"spec": {"holderIdentity": "a", "renewTime": "2026-12-07T15:00:00.000001Z"}})
        );
        let mut bad = json!({"spec": {"renewTime": 5}});
        let e = normalize("coordination.k8s.io", "Lease", &mut bad).unwrap_err();
        assert_eq!(
            e,
            "json: cannot unmarshal number into Go value of type string"
        );
        let mut cm = json!({"data": {"renewTime": "x"}});
        normalize("", "ConfigMap", &mut cm).unwrap();
    }
}
