//! [`Query`]: query-string building for ONTAP calls (`fields=`, filters,
//! flags), encoded the way ONTAP's own docs write them (commas kept).

/// An ordered list of query parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// An empty query.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `fields=a,b,c`.
    pub(crate) fn fields(self, fields: &[&str]) -> Self {
        self.param("fields", fields.join(","))
    }

    /// Adds `key=value`.
    pub(crate) fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pairs.push((key.into(), value.into()));
        self
    }

    /// Adds `key=value` when `value` is `Some`.
    pub(crate) fn opt(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.param(key, v),
            None => self,
        }
    }

    /// Adds `key=true` when `flag` is set.
    pub(crate) fn flag(self, key: &str, flag: bool) -> Self {
        if flag { self.param(key, "true") } else { self }
    }

    /// Whether no parameter was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The encoded query string (without `?`).
    pub(crate) fn encode(&self) -> String {
        self.pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Form-encodes, but keeps `,` readable as in ONTAP's documentation.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace("%2C", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_fields_and_filters() {
        let q = Query::new()
            .fields(&["uuid", "state", "transfer.state"])
            .param("destination.path", "svm dr:")
            .opt("svm.name", None::<String>)
            .opt("name", Some("a&b"))
            .flag("list_destinations_only", true)
            .flag("force", false);
        assert_eq!(
            q.encode(),
            "fields=uuid,state,transfer.state&destination.path=svm+dr%3A&name=a%26b&list_destinations_only=true"
        );
        assert!(Query::new().is_empty());
    }

    #[test]
    fn keeps_wildcards_and_encodes_operators() {
        let q = Query::new()
            .param("name", "vol*")
            .param("lag_time", ">P2DT");
        assert_eq!(q.encode(), "name=vol*&lag_time=%3EP2DT");
    }
}
