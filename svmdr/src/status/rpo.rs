//! Schedule names to RPO intervals, and the lag check.
//!
//! The RPO of a relationship is the interval of its transfer schedule (the
//! relationship's own `transfer_schedule`, else its policy's). ONTAP's
//! built-in cron schedules are named for their interval (`5min`, `8hour`,
//! `hourly`, `daily`, `weekly`); other names cannot be turned into an
//! interval without reading the cron fields, so the RPO is reported as
//! unknown for them rather than guessed.
//!
//! The lag exceeds the RPO when `lag > interval`: ONTAP's `lag_time` is the
//! age of the newest snapshot on the destination, so right after each
//! scheduled transfer it drops below the interval again.

use std::time::Duration;

/// What the schedule says about the RPO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rpo {
    /// The schedule's interval.
    Interval(Duration),
    /// No schedule: transfers happen only on demand.
    NoSchedule,
    /// A schedule whose interval cannot be derived from its name.
    Unknown(String),
}

/// The interval of a schedule named like ONTAP's built-in cron schedules.
pub fn schedule_interval(name: &str) -> Option<Duration> {
    let n = name.trim().to_ascii_lowercase();
    let fixed = match n.as_str() {
        "hourly" => Some(3600),
        "daily" => Some(86_400),
        "weekly" => Some(7 * 86_400),
        _ => None,
    };
    if let Some(secs) = fixed {
        return Some(Duration::from_secs(secs));
    }
    let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let count: u64 = digits.parse().ok().filter(|c| *c > 0)?;
    let unit = n[digits.len()..].trim_start_matches(['-', '_', ' ']);
    let secs = match unit {
        "min" | "mins" | "minute" | "minutes" | "m" => 60,
        "hour" | "hours" | "hr" | "hrs" | "h" => 3600,
        "day" | "days" | "d" => 86_400,
        "week" | "weeks" | "w" => 7 * 86_400,
        _ => return None,
    };
    count.checked_mul(secs).map(Duration::from_secs)
}

/// The RPO for an optional schedule name.
pub fn rpo_for(schedule: Option<&str>) -> Rpo {
    match schedule.map(str::trim).filter(|s| !s.is_empty()) {
        None => Rpo::NoSchedule,
        Some(name) => match schedule_interval(name) {
            Some(d) => Rpo::Interval(d),
            None => Rpo::Unknown(name.to_string()),
        },
    }
}

/// Whether `lag` exceeds the RPO: `Some(true|false)` for a known interval,
/// `None` when there is no lag yet or no known interval.
pub fn exceeds(lag: Option<Duration>, rpo: &Rpo) -> Option<bool> {
    match (lag, rpo) {
        (Some(lag), Rpo::Interval(interval)) => Some(lag > *interval),
        _ => None,
    }
}

/// `1h 2m 3s`, `2d 4h`, `45s`: short human durations (whole seconds).
pub fn human(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            parts.push(format!("{}{unit}", secs / size));
            secs %= size;
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = 3600;

    #[test]
    fn builtin_schedule_names() {
        assert_eq!(schedule_interval("hourly"), Some(Duration::from_secs(H)));
        assert_eq!(
            schedule_interval("daily"),
            Some(Duration::from_secs(24 * H))
        );
        assert_eq!(
            schedule_interval("weekly"),
            Some(Duration::from_secs(168 * H))
        );
        assert_eq!(schedule_interval("5min"), Some(Duration::from_secs(300)));
        assert_eq!(schedule_interval("15min"), Some(Duration::from_secs(900)));
        assert_eq!(schedule_interval("8hour"), Some(Duration::from_secs(8 * H)));
        assert_eq!(
            schedule_interval("2-day"),
            Some(Duration::from_secs(48 * H))
        );
        assert_eq!(schedule_interval("pg-nightly"), None);
        assert_eq!(schedule_interval("0min"), None);
        assert_eq!(schedule_interval("99999999999999999999min"), None);
        assert_eq!(schedule_interval("5 fortnights"), None);
    }

    #[test]
    fn rpo_and_lag() {
        assert_eq!(rpo_for(None), Rpo::NoSchedule);
        assert_eq!(rpo_for(Some(" ")), Rpo::NoSchedule);
        assert_eq!(rpo_for(Some("custom")), Rpo::Unknown("custom".into()));
        let hourly = rpo_for(Some("hourly"));
        assert_eq!(
            exceeds(Some(Duration::from_secs(59 * 60)), &hourly),
            Some(false)
        );
        assert_eq!(exceeds(Some(Duration::from_secs(H)), &hourly), Some(false));
        assert_eq!(
            exceeds(Some(Duration::from_secs(H + 1)), &hourly),
            Some(true)
        );
        assert_eq!(exceeds(None, &hourly), None);
        assert_eq!(
            exceeds(Some(Duration::from_secs(1)), &Rpo::NoSchedule),
            None
        );
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_secs(0)), "0s");
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(3723)), "1h 2m");
        assert_eq!(human(Duration::from_secs(2 * 86_400 + 4 * H + 5)), "2d 4h");
    }
}
