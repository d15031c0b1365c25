//! Reading fields of Kubernetes objects held as JSON, the way the lab's
//! controllers and Velero stand-in all do.

use serde_json::Value;

/// `v.pointer(p)` as a `&str`, `""` when absent or not a string.
pub(crate) fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::str_at;

    #[test]
    fn absent_and_non_string_fields_read_as_empty() {
        let v = json!({"metadata": {"name": "web", "generation": 2}});
        assert_eq!(str_at(&v, "/metadata/name"), "web");
        assert_eq!(str_at(&v, "/metadata/generation"), "");
        assert_eq!(str_at(&v, "/spec/replicas"), "");
    }
}
