//! ISO-8601 durations as ONTAP writes them (`lag_time`, `total_duration`):
//! `PnDTnHnMnS`, with optional weeks, fractional seconds and a leading sign
//! only when zero. Years and months are refused (no fixed length).

use std::time::Duration;

/// Parses `P[nW][nD][T[nH][nM][n[.f]S]]` into a [`Duration`].
///
/// # Errors
/// A message naming the bad input: missing `P`, unknown or repeated unit,
/// years/months, a number without a unit, an empty duration, overflow.
pub fn parse_iso8601_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| format!("bad ISO-8601 duration {text:?}: {why}");
    let s = text.trim();
    let rest = s
        .strip_prefix('P')
        .or_else(|| s.strip_prefix('p'))
        .ok_or_else(|| bad("it must start with P"))?;
    if rest.is_empty() {
        return Err(bad("no value after P"));
    }
    let mut total = 0f64;
    let mut in_time = false;
    let mut number = String::new();
    let mut seen_units = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            'T' | 't' => {
                if in_time || !number.is_empty() {
                    return Err(bad("misplaced T"));
                }
                in_time = true;
            }
            '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
            unit => {
                let unit = unit.to_ascii_uppercase();
                if number.is_empty() {
                    return Err(bad(&format!("unit {unit} has no number")));
                }
                let value: f64 = number
                    .parse()
                    .map_err(|_| bad(&format!("bad number {number:?}")))?;
                let key = if in_time {
                    unit.to_ascii_lowercase()
                } else {
                    unit
                };
                if seen_units.contains(key) {
                    return Err(bad(&format!("unit {unit} repeated")));
                }
                seen_units.push(key);
                let secs = match (in_time, unit) {
                    (false, 'W') => 604_800.0,
                    (false, 'D') => 86_400.0,
                    (false, 'Y' | 'M') => {
                        return Err(bad("years and months have no fixed length"));
                    }
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return Err(bad(&format!("unknown unit {unit}"))),
                };
                if value.fract() != 0.0 && !(in_time && unit == 'S') {
                    return Err(bad("only seconds may have a fraction"));
                }
                total += value * secs;
                number.clear();
                any = true;
            }
        }
    }
    if !number.is_empty() {
        return Err(bad("number without a unit at the end"));
    }
    if !any {
        return Err(bad("no value"));
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad("out of range"))
}

/// Formats a duration as ONTAP does (`P1DT2H3M4S`, `PT0S`), dropping
/// sub-second parts below a millisecond.
pub fn format_iso8601_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3_600, rem % 3_600 / 60, rem % 60);
    let ms = d.subsec_millis();
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if h > 0 || m > 0 || s > 0 || ms > 0 || days == 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || ms > 0 || (h == 0 && m == 0) {
            if ms > 0 {
                out.push_str(&format!("{s}.{ms:03}S"));
            } else {
                out.push_str(&format!("{s}S"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> f64 {
        parse_iso8601_duration(s).unwrap().as_secs_f64()
    }

    #[test]
    fn parses_ontap_lag_times() {
        assert_eq!(secs("PT8H35M42S"), 8.0 * 3600.0 + 35.0 * 60.0 + 42.0);
        assert_eq!(secs("P1DT2H3M4.5S"), 86400.0 + 7200.0 + 180.0 + 4.5);
        assert_eq!(secs("P2D"), 172_800.0);
        assert_eq!(secs("P2DT"), 172_800.0);
        assert_eq!(secs("PT0S"), 0.0);
        assert_eq!(secs("PT1M"), 60.0);
        assert_eq!(secs("P1W"), 604_800.0);
        assert_eq!(secs("PT0,5S"), 0.5);
        assert_eq!(secs("PT90M"), 5400.0);
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in [
            "", "P", "PT", "8H", "P1Y", "P1M", "PT1X", "PT5", "P1DT1H1H", "PTT1H", "P1.5D", "PTH",
            "P-1D",
        ] {
            let err = parse_iso8601_duration(bad).unwrap_err();
            assert!(err.contains("ISO-8601"), "{bad}: {err}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for d in [0u64, 1, 59, 60, 3599, 3600, 86_400, 90_061, 1_000_000] {
            let d = Duration::from_secs(d);
            assert_eq!(
                parse_iso8601_duration(&format_iso8601_duration(d)).unwrap(),
                d
            );
        }
        assert_eq!(
            format_iso8601_duration(Duration::from_secs(90_061)),
            "P1DT1H1M1S"
        );
        assert_eq!(format_iso8601_duration(Duration::ZERO), "PT0S");
        assert_eq!(format_iso8601_duration(Duration::from_secs(86_400)), "P1D");
        assert_eq!(
            format_iso8601_duration(Duration::from_millis(4500)),
            "PT4.500S"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_whole_second_duration_round_trips(n in 0u64..10_000_000) {
            let d = Duration::from_secs(n);
            proptest::prop_assert_eq!(parse_iso8601_duration(&format_iso8601_duration(d)).unwrap(), d);
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = parse_iso8601_duration(&s);
        }
    }
}
