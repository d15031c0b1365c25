//! Reading `kubectl svmdr status -o json` as the drill ran it: one line for
//! the summary, and the check that the status is healthy (or reports only
//! the problem the scenario set up).

use serde_json::Value;

use super::report::DrillCheck;

/// How a `status -o json` command ended, as plain data.
#[derive(Debug, Clone, Copy)]
pub struct StatusOutput<'a> {
    /// Exit code.
    pub code: i32,
    /// Its stdout as JSON, when it was.
    pub json: Option<&'a Value>,
    /// The last line of its stderr (the error, for a failed command).
    pub last_error: &'a str,
}

/// One line from `status -o json` (or its error).
pub fn status_line(run: StatusOutput<'_>) -> String {
    let Some(j) = run.json else {
        return format!("exit {}: {}", run.code, run.last_error);
    };
    let mut parts = Vec::new();
    for r in j["relationships"].as_array().into_iter().flatten() {
        let f = |p: &str| {
            r.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string()
        };
        parts.push(format!(
            "{} → {} {}{}",
            f("/source/svm"),
            f("/destination/svm"),
            f("/state"),
            if r["healthy"] == true {
                ", healthy"
            } else {
                ", unhealthy"
            }
        ));
    }
    if let Some(p) = j["problems"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    {
        parts.push(format!("problem: {}", truncate(p, 120)));
    }
    format!("exit {}: {}", run.code, parts.join("; "))
}

/// Check `id`: `status` healthy; in a scenario that sets up a problem
/// `status` must see (`expected`, words the problem contains), unhealthy
/// for that reason alone (check `<id>-but-problem-reported`).
pub fn status_check(id: &str, run: StatusOutput<'_>, expected: Option<&str>) -> DrillCheck {
    let Some(expected) = expected else {
        return DrillCheck::new(id, run.code == 0, status_line(run));
    };
    let problems: Vec<String> = run
        .json
        .and_then(|j| j["problems"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect();
    let only_expected = !problems.is_empty() && problems.iter().all(|p| p.contains(expected));
    DrillCheck::new(
        &format!("{id}-but-problem-reported"),
        run.code == 1 && only_expected,
        status_line(run),
    )
}

/// `s` cut to `n` characters, with `…` when cut.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn healthy_status_passes_and_an_expected_problem_must_be_the_only_one() {
        let j = json!({"relationships": [{"source": {"svm": "svm1"}, "destination": {"svm": "svm1_dr"},
            "state": "snapmirrored", "healthy": true}], "problems": []});
        let run = StatusOutput {
            code: 0,
            json: Some(&j),
            last_error: "",
        };
        let c = status_check("healthy-before", run, None);
        assert!(c.ok);
        assert_eq!(c.detail, "exit 0: svm1 → svm1_dr snapmirrored, healthy");
        let j = json!({"problems": ["the newest backup carries volume data", "other"]});
        let run = StatusOutput {
            code: 1,
            json: Some(&j),
            last_error: "",
        };
        let c = status_check("healthy-before", run, Some("carries volume data"));
        assert_eq!(c.id, "healthy-before-but-problem-reported");
        assert!(!c.ok, "a second problem fails the check");
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("→→→", 2), "→→…");
        assert_eq!(truncate("ab", 2), "ab");
    }
}
