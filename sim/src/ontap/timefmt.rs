//! ISO-8601 durations as ONTAP writes them (`PT8H35M42S`, `P1DT2H`) and
//! reads them in filters (`lag_time=>P2DT`) and cluster-peer expiry times.

/// Formats whole seconds as an ISO-8601 duration (`PT0S`, `P1DT2H3M4S`).
pub fn format_duration(total_secs: u64) -> String {
    let days = total_secs / 86_400;
    let h = (total_secs % 86_400) / 3600;
    let m = (total_secs % 3600) / 60;
    let s = total_secs % 60;
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if h > 0 || m > 0 || s > 0 || days == 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || (h == 0 && m == 0) {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

/// Parses an ISO-8601 duration with weeks, days, hours, minutes and seconds
/// (`P2DT`, `PT10H`, `P1W`) into seconds. Years and months are refused.
pub fn parse_duration(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P').or_else(|| text.strip_prefix('p'))?;
    let mut total = 0.0;
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'T' | 't' => {
                if !num.is_empty() || in_time {
                    return None;
                }
                in_time = true;
            }
            _ => {
                let n: f64 = num.parse().ok()?;
                num.clear();
                any = true;
                total += n * match (c.to_ascii_uppercase(), in_time) {
                    ('W', false) => 604_800.0,
                    ('D', false) => 86_400.0,
                    ('H', true) => 3600.0,
                    ('M', true) => 60.0,
                    ('S', true) => 1.0,
                    _ => return None,
                };
            }
        }
    }
    if !num.is_empty() || !any {
        return None;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(format_duration(0), "PT0S");
        assert_eq!(format_duration(3600), "PT1H");
        assert_eq!(format_duration(86_400 + 7322), "P1DT2H2M2S");
        assert_eq!(format_duration(86_400 * 2), "P2D");
        for s in [0u64, 59, 61, 3601, 90_061] {
            assert_eq!(parse_duration(&format_duration(s)), Some(s as f64));
        }
    }

    #[test]
    fn parses_ontap_filters() {
        assert_eq!(parse_duration("P2DT"), Some(172_800.0));
        assert_eq!(parse_duration("PT10H"), Some(36_000.0));
        assert_eq!(parse_duration("P1Y"), None);
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("P"), None);
    }
}
