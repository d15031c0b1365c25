//! [`OntapError`]: every failure of the ONTAP client, naming the cluster, the
//! call, ONTAP's own code and message, and what to do next.
//!
//! Errors never carry credentials: the client never puts the Authorization
//! header, a password, a passphrase or a key into an error, and response
//! excerpts are passed through [`redact_excerpt`] first.

use std::fmt;
use std::time::Duration;

/// One failed ONTAP call. An authentication or permission failure also
/// names where the credentials came from, when the client knows it.
#[derive(Debug, thiserror::Error)]
#[error("{cluster}: {call}: {kind}{}", credentials_note(.kind, .credentials.as_deref()))]
pub struct OntapError {
    /// The cluster label from the config, e.g. `primary (ontap-a)`.
    pub cluster: String,
    /// The call, e.g. `PATCH /api/snapmirror/relationships/{uuid}` (never
    /// with a query string).
    pub call: String,
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where the client's credentials came from (e.g. `Secret trident/admin
    /// from the config file`), never the credentials themselves.
    pub credentials: Option<String>,
    /// The underlying error, when there is one (I/O, TLS, JSON).
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// ONTAP's `{"error": {...}}` body together with the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFault {
    /// HTTP status of the response.
    pub http_status: u16,
    /// ONTAP's error code (a string of digits), when the body had one.
    pub code: Option<String>,
    /// ONTAP's message.
    pub message: String,
    /// The field ONTAP blames, when given.
    pub target: Option<String>,
}

/// The kinds of failure, each with its own hint in `Display`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object does not exist (ONTAP code `4`, or HTTP 404).
    NotFound(ApiFault),
    /// The object already exists (ONTAP code `1`).
    Duplicate(ApiFault),
    /// The account may not do this (ONTAP code `6`, or HTTP 403).
    PermissionDenied(ApiFault),
    /// A field or value was rejected (ONTAP code `2`).
    InvalidField(ApiFault),
    /// The object is in a state that does not allow this (SnapMirror state
    /// transition codes such as 13303818).
    WrongState(ApiFault),
    /// Any other ONTAP error.
    Api(ApiFault),
    /// HTTP 401: bad credentials.
    Unauthorized {
        /// HTTP status (401).
        http_status: u16,
    },
    /// The TLS handshake failed (usually an untrusted certificate).
    Tls {
        /// What the TLS layer said.
        detail: String,
    },
    /// No complete answer within the request timeout.
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },
    /// TCP connect failed (refused, unreachable, DNS).
    Connect {
        /// What the OS said.
        detail: String,
    },
    /// The connection broke mid-request.
    Transport {
        /// What the HTTP layer said.
        detail: String,
    },
    /// The response was not the JSON we expected.
    Malformed {
        /// What was wrong.
        detail: String,
        /// The start of the body, secrets redacted.
        excerpt: String,
    },
    /// An ONTAP job ended in `failure`.
    JobFailed {
        /// Job UUID.
        job: String,
        /// ONTAP's code (`error.code`, else the integer `code`).
        code: Option<String>,
        /// ONTAP's message.
        message: String,
    },
    /// A job was still running at the deadline.
    JobTimeout {
        /// Job UUID.
        job: String,
        /// How long we waited.
        waited: Duration,
        /// The last state seen (`queued`, `running`, `paused`).
        last_state: String,
    },
    /// The job record disappeared (ONTAP deletes finished jobs after ~5 min).
    JobVanished {
        /// Job UUID.
        job: String,
    },
    /// A bounded wait for an object's state ran out.
    WaitTimeout {
        /// What we waited for.
        what: String,
        /// How long we waited.
        waited: Duration,
        /// A summary of the last state seen.
        last: String,
    },
    /// The client configuration is unusable.
    Config {
        /// What is wrong with it.
        detail: String,
    },
}

/// ONTAP codes for SnapMirror state transitions refused or failed.
const WRONG_STATE_CODES: &[&str] = &[
    "13303808", "13303809", "13303810", "13303811", "13303812", "13303818", "13303828", "13303833",
    "26345576",
];

/// ONTAP codes meaning "busy, retry later".
const RETRY_LATER_CODES: &[&str] = &["6619715", "6619720", "13434894"];

impl ErrorKind {
    /// Classifies an ONTAP error body by code first, then HTTP status.
    ///
    /// The generic codes (`1`, `2`, `4`, `6`) count only on a 4xx: a 5xx
    /// is a server failure whatever its code says.
    pub fn from_fault(fault: ApiFault) -> Self {
        let client_side = fault.http_status < 500;
        match fault.code.as_deref() {
            Some("1") if client_side => Self::Duplicate(fault),
            Some("2") if client_side => Self::InvalidField(fault),
            Some("4") if client_side => Self::NotFound(fault),
            Some("6") if client_side => Self::PermissionDenied(fault),
            Some(c) if WRONG_STATE_CODES.contains(&c) => Self::WrongState(fault),
            Some(_) => Self::Api(fault),
            None => match fault.http_status {
                401 => Self::Unauthorized {
                    http_status: fault.http_status,
                },
                403 => Self::PermissionDenied(fault),
                404 => Self::NotFound(fault),
                409 => Self::Duplicate(fault),
                _ => Self::Api(fault),
            },
        }
    }

    fn fault(&self) -> Option<&ApiFault> {
        match self {
            Self::NotFound(f)
            | Self::Duplicate(f)
            | Self::PermissionDenied(f)
            | Self::InvalidField(f)
            | Self::WrongState(f)
            | Self::Api(f) => Some(f),
            _ => None,
        }
    }
}

impl OntapError {
    /// An error without an underlying source.
    pub fn new(cluster: impl Into<String>, call: impl Into<String>, kind: ErrorKind) -> Self {
        Self {
            cluster: cluster.into(),
            call: call.into(),
            kind,
            credentials: None,
            source: None,
        }
    }

    /// Names where the credentials came from (shown on 401/403).
    pub fn with_credentials(mut self, source: Option<String>) -> Self {
        self.credentials = source;
        self
    }

    /// What went wrong, without the cluster and call: the kind's text and,
    /// for a refused login or call, where the credentials came from.
    pub fn detail(&self) -> String {
        format!(
            "{}{}",
            self.kind,
            credentials_note(&self.kind, self.credentials.as_deref())
        )
    }

    /// What kind of access failure this is, for reports that must not call
    /// a refused login "unreachable".
    pub fn failure(&self) -> Failure {
        if self.is_unauthorized() {
            Failure::AuthenticationFailed
        } else if self.is_permission_denied() {
            Failure::NotPermitted
        } else if self.is_tls() {
            Failure::Tls
        } else if self.is_unreachable() || matches!(self.kind, ErrorKind::Transport { .. }) {
            Failure::Unreachable
        } else {
            Failure::Other
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// ONTAP's error code, from the error body or the failed job.
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::JobFailed { code, .. } => code.as_deref(),
            kind => kind.fault().and_then(|f| f.code.as_deref()),
        }
    }

    /// The HTTP status, for errors that came with one.
    pub fn http_status(&self) -> Option<u16> {
        match &self.kind {
            ErrorKind::Unauthorized { http_status } => Some(*http_status),
            kind => kind.fault().map(|f| f.http_status),
        }
    }

    /// The object does not exist (also a failed job with code `4`).
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, ErrorKind::NotFound(_)) || self.job_code_is(&["4"])
    }

    /// The object already exists (also a failed job with code `1`).
    pub fn is_duplicate(&self) -> bool {
        matches!(self.kind, ErrorKind::Duplicate(_)) || self.job_code_is(&["1"])
    }

    /// The account lacks the rights for this call.
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.kind, ErrorKind::PermissionDenied(_)) || self.job_code_is(&["6"])
    }

    /// The credentials were refused (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.kind, ErrorKind::Unauthorized { .. })
    }

    /// The object's state forbids the operation (also a failed job with a
    /// state-transition code).
    pub fn is_wrong_state(&self) -> bool {
        matches!(self.kind, ErrorKind::WrongState(_)) || self.job_code_is(WRONG_STATE_CODES)
    }

    /// ONTAP asked us to retry later (operation in progress, too many jobs).
    pub fn is_retry_later(&self) -> bool {
        self.code().is_some_and(|c| RETRY_LATER_CODES.contains(&c))
    }

    /// The request or a wait ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Timeout { .. }
                | ErrorKind::JobTimeout { .. }
                | ErrorKind::WaitTimeout { .. }
        )
    }

    /// The cluster could not be reached at all (connect failure or timeout).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Connect { .. } | ErrorKind::Timeout { .. }
        )
    }

    /// A TLS (certificate) problem.
    pub fn is_tls(&self) -> bool {
        matches!(self.kind, ErrorKind::Tls { .. })
    }

    fn job_code_is(&self, codes: &[&str]) -> bool {
        matches!(&self.kind, ErrorKind::JobFailed { code: Some(c), .. } if codes.contains(&c.as_str()))
    }
}

/// How a call to a cluster failed, in the words a report uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Failure {
    /// No answer (connect failure, timeout, broken connection).
    Unreachable,
    /// HTTP 401: the credentials were refused.
    AuthenticationFailed,
    /// HTTP 403 / ONTAP code 6: the account may not do this.
    NotPermitted,
    /// The TLS handshake failed (certificate not trusted).
    Tls,
    /// Anything else.
    Other,
}

impl Failure {
    /// Upper-case label for tables: `UNREACHABLE`, `AUTHENTICATION FAILED`...
    pub fn label(self) -> &'static str {
        match self {
            Self::Unreachable => "UNREACHABLE",
            Self::AuthenticationFailed => "AUTHENTICATION FAILED",
            Self::NotPermitted => "NOT PERMITTED",
            Self::Tls => "TLS FAILED",
            Self::Other => "ERROR",
        }
    }

    /// Whether re-running the same command, unchanged, can succeed (a
    /// cluster may come back; refused credentials or an untrusted
    /// certificate will not fix themselves).
    pub fn rerun_helps(self) -> bool {
        matches!(self, Self::Unreachable | Self::Other)
    }
}

/// ` (credentials: <source>)` after an authentication or permission failure.
fn credentials_note(kind: &ErrorKind, credentials: Option<&str>) -> String {
    let auth = matches!(
        kind,
        ErrorKind::Unauthorized { .. } | ErrorKind::PermissionDenied(_)
    );
    match credentials {
        Some(c) if auth => format!(" (credentials: {c})"),
        _ => String::new(),
    }
}

fn fmt_fault(f: &mut fmt::Formatter<'_>, what: &str, fault: &ApiFault, hint: &str) -> fmt::Result {
    write!(f, "{what}: ")?;
    match &fault.code {
        Some(code) => write!(f, "ONTAP error {code}")?,
        None => write!(f, "ONTAP error")?,
    }
    write!(f, " (HTTP {})", fault.http_status)?;
    if !fault.message.is_empty() {
        write!(f, ": {}", fault.message)?;
    }
    if let Some(target) = &fault.target {
        write!(f, " [field: {target}]")?;
    }
    write!(f, "; {hint}")
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(x) => fmt_fault(
                f,
                "not found",
                x,
                "check the name or UUID, and that SnapMirror calls go to the destination cluster",
            ),
            Self::Duplicate(x) => fmt_fault(
                f,
                "already exists",
                x,
                "re-read the existing object instead of creating it again",
            ),
            Self::PermissionDenied(x) => fmt_fault(
                f,
                "not permitted",
                x,
                "the account may not do this: use a cluster-admin account (SVM-DR needs cluster \
                 scope, not vsadmin)",
            ),
            Self::InvalidField(x) => fmt_fault(
                f,
                "invalid request",
                x,
                "check the named field and value, and that this ONTAP release supports it",
            ),
            Self::WrongState(x) => fmt_fault(
                f,
                "wrong state for this operation",
                x,
                "re-read the object's state (a transfer may be running) and retry when it allows this",
            ),
            Self::Api(x) => {
                let hint = if x
                    .code
                    .as_deref()
                    .is_some_and(|c| RETRY_LATER_CODES.contains(&c))
                {
                    "ONTAP is busy with this object: retry in a few seconds"
                } else if x.http_status >= 500 {
                    "ONTAP failed internally: retry, and check the cluster's event log if it persists"
                } else {
                    "see ONTAP's message above"
                };
                fmt_fault(f, "request failed", x, hint)
            }
            Self::Unauthorized { http_status } => write!(
                f,
                "authentication failed (HTTP {http_status}): the cluster refused the \
                 credentials; check the username/password (or client certificate) configured \
                 for this cluster"
            ),
            Self::Tls { detail } => write!(
                f,
                "TLS handshake failed: {detail}; trust the cluster's CA (--ca-file, or `caFile` \
                 in the config file, or Trident's trustedCACertificate), or, only for a lab, \
                 pass --insecure-skip-tls-verify"
            ),
            Self::Timeout { after } => write!(
                f,
                "no complete answer within {}; check that the cluster is up and reachable, \
                 or raise the request timeout",
                humantime::format_duration(*after)
            ),
            Self::Connect { detail } => write!(
                f,
                "cannot connect: {detail}; check the address and port, that the cluster \
                 management LIF is up, and firewalls in between"
            ),
            Self::Transport { detail } => write!(
                f,
                "the connection failed mid-request: {detail}; retry, and check the network path"
            ),
            Self::Malformed { detail, excerpt } => write!(
                f,
                "unexpected response: {detail} (body starts: {excerpt:?}); is this endpoint \
                 an ONTAP cluster management LIF?"
            ),
            Self::JobFailed { job, code, message } => {
                write!(f, "ONTAP job {job} failed")?;
                if let Some(code) = code {
                    write!(f, " with ONTAP error {code}")?;
                }
                write!(f, ": {message}; fix the cause above and retry")
            }
            Self::JobTimeout {
                job,
                waited,
                last_state,
            } => write!(
                f,
                "ONTAP job {job} still {last_state} after {}; check GET /api/cluster/jobs/{job} \
                 and re-read the resource before retrying",
                humantime::format_duration(*waited)
            ),
            Self::JobVanished { job } => write!(
                f,
                "ONTAP job {job} vanished before its result was read (ONTAP deletes finished \
                 jobs); re-read the resource to see whether the change happened"
            ),
            Self::WaitTimeout { what, waited, last } => write!(
                f,
                "gave up waiting for {what} after {} (last seen: {last}); check the object \
                 on the cluster and retry the wait",
                humantime::format_duration(*waited)
            ),
            Self::Config { detail } => write!(f, "invalid configuration: {detail}"),
        }
    }
}

/// The first `max` characters of a response body, with the values of any
/// secret-looking JSON keys (`passphrase`, `password`, `secret`, `private`,
/// `token`) replaced by `***`, and control characters flattened.
pub fn redact_excerpt(body: &str, max: usize) -> String {
    let redacted = redact_secret_values(body);
    let mut out: String = redacted
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if redacted.chars().count() > max {
        out.push('…');
    }
    out
}

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["passphrase", "password", "secret", "private", "token"]
        .iter()
        .any(|s| k.contains(s))
}

fn redact_secret_values(body: &str) -> String {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            // Copy one UTF-8 char.
            let ch_len = utf8_len(bytes[i]);
            let end = (i + ch_len).min(bytes.len());
            out.push_str(body.get(i..end).unwrap_or(""));
            i = end;
            continue;
        }
        // A JSON string starting at i.
        let end = string_end(bytes, i + 1);
        let literal = body.get(i..end).unwrap_or("");
        out.push_str(literal);
        i = end;
        let key = literal.trim_matches('"');
        if !is_secret_key(key) {
            continue;
        }
        // Is it a key (followed by ':')? Then redact the value that follows.
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b':' {
            j += 1;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            out.push_str(": ");
            if j < bytes.len() && bytes[j] == b'"' {
                out.push_str("\"***\"");
                i = string_end(bytes, j + 1);
            } else {
                // Non-string or truncated value: drop up to the next delimiter.
                let mut k = j;
                while k < bytes.len() && !matches!(bytes[k], b',' | b'}' | b']') {
                    k += 1;
                }
                if k > j {
                    out.push_str("***");
                }
                i = k;
            }
        }
    }
    out
}

/// Index just past the closing quote of a JSON string whose body starts at
/// `from`, or the end of input when it is truncated.
fn string_end(bytes: &[u8], from: usize) -> usize {
    let mut k = from;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' => k += 2,
            b'"' => return k + 1,
            _ => k += 1,
        }
    }
    bytes.len()
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(status: u16, code: Option<&str>) -> ApiFault {
        ApiFault {
            http_status: status,
            code: code.map(str::to_string),
            message: "msg".into(),
            target: None,
        }
    }

    #[test]
    fn maps_ontap_codes() {
        assert!(matches!(
            ErrorKind::from_fault(fault(409, Some("1"))),
            ErrorKind::Duplicate(_)
        ));
        assert!(matches!(
            ErrorKind::from_fault(fault(400, Some("2"))),
            ErrorKind::InvalidField(_)
        ));
        assert!(matches!(
            ErrorKind::from_fault(fault(404, Some("4"))),
            ErrorKind::NotFound(_)
        ));
        assert!(matches!(
            ErrorKind::from_fault(fault(405, Some("4"))),
            ErrorKind::NotFound(_)
        ));
        assert!(matches!(
            ErrorKind::from_fault(fault(403, Some("6"))),
            ErrorKind::PermissionDenied(_)
        ));
        for code in ["13303808", "13303812", "13303818"] {
            assert!(matches!(
                ErrorKind::from_fault(fault(400, Some(code))),
                ErrorKind::WrongState(_)
            ));
        }
        assert!(matches!(
            ErrorKind::from_fault(fault(400, Some("13303852"))),
            ErrorKind::Api(_)
        ));
        // A malformed UUID in a path: 404 with code 2 is an invalid field.
        assert!(matches!(
            ErrorKind::from_fault(fault(404, Some("2"))),
            ErrorKind::InvalidField(_)
        ));
    }

    #[test]
    fn maps_http_status_without_code() {
        assert!(matches!(
            ErrorKind::from_fault(fault(401, None)),
            ErrorKind::Unauthorized { .. }
        ));
        assert!(matches!(
            ErrorKind::from_fault(fault(403, None)),
            ErrorKind::PermissionDenied(_)
        ));
        assert!(matches!(
            ErrorKind::from_fault(fault(404, None)),
            ErrorKind::NotFound(_)
        ));
        assert!(matches!(
            ErrorKind::from_fault(fault(500, None)),
            ErrorKind::Api(_)
        ));
    }

    #[test]
    fn display_names_cluster_call_code_and_hint() {
        let e = OntapError::new(
            "primary (ontap-a)",
            "PATCH /api/snapmirror/relationships/{uuid}",
            ErrorKind::from_fault(ApiFault {
                http_status: 400,
                code: Some("13303818".into()),
                message: "Invalid state transition".into(),
                target: Some("state".into()),
            }),
        );
        let s = e.to_string();
        for part in [
            "primary (ontap-a)",
            "PATCH /api/snapmirror/relationships/{uuid}",
            "13303818",
            "Invalid state transition",
            "field: state",
            "re-read",
        ] {
            assert!(s.contains(part), "{s} lacks {part}");
        }
        assert_eq!(e.code(), Some("13303818"));
        assert!(e.is_wrong_state());
        assert_eq!(e.http_status(), Some(400));
    }

    #[test]
    fn job_failure_helpers_use_the_code() {
        let e = OntapError::new(
            "dr",
            "DELETE /api/snapmirror/relationships/{uuid}",
            ErrorKind::JobFailed {
                job: "j1".into(),
                code: Some("13303808".into()),
                message: "transfer in progress".into(),
            },
        );
        assert!(e.is_wrong_state());
        assert!(!e.is_not_found());
        assert_eq!(e.code(), Some("13303808"));
        assert!(
            e.to_string()
                .contains("job j1 failed with ONTAP error 13303808")
        );
    }

    #[test]
    fn retry_later_codes() {
        let e = OntapError::new("c", "x", ErrorKind::from_fault(fault(409, Some("6619715"))));
        assert!(e.is_retry_later());
        assert!(e.to_string().contains("retry in a few seconds"));
    }

    #[test]
    fn unauthorized_hint() {
        let e = OntapError::new(
            "c",
            "GET /api/cluster",
            ErrorKind::Unauthorized { http_status: 401 },
        );
        assert!(e.to_string().contains("check the username/password"));
        assert!(e.is_unauthorized());
    }

    #[test]
    fn refused_logins_name_their_credentials_and_are_not_unreachable() {
        let e = OntapError::new(
            "dr (ontap-b)",
            "GET /api/cluster",
            ErrorKind::Unauthorized { http_status: 401 },
        )
        .with_credentials(Some("Secret trident/admin from the config file".into()));
        assert_eq!(e.failure(), Failure::AuthenticationFailed);
        assert!(!e.failure().rerun_helps());
        let s = e.to_string();
        assert!(
            s.contains("(credentials: Secret trident/admin from the config file)"),
            "{s}"
        );
        let e = OntapError::new("c", "GET /x", ErrorKind::from_fault(fault(403, None)))
            .with_credentials(Some("SVMDR_ONTAP_USERNAME/SVMDR_ONTAP_PASSWORD".into()));
        assert_eq!(e.failure(), Failure::NotPermitted);
        assert!(e.to_string().contains("not permitted"), "{e}");
        assert!(e.to_string().contains("credentials: SVMDR_ONTAP"), "{e}");
        // Other failures do not mention credentials.
        let e = OntapError::new(
            "c",
            "GET /x",
            ErrorKind::Connect {
                detail: "refused".into(),
            },
        )
        .with_credentials(Some("env".into()));
        assert_eq!(e.failure(), Failure::Unreachable);
        assert!(!e.to_string().contains("credentials"), "{e}");
        let e = OntapError::new(
            "c",
            "GET /x",
            ErrorKind::Tls {
                detail: "invalid peer certificate: UnknownIssuer".into(),
            },
        );
        assert_eq!(e.failure(), Failure::Tls);
        let s = e.to_string();
        assert!(
            s.contains("--insecure-skip-tls-verify") && s.contains("--ca-file"),
            "{s}"
        );
    }

    #[test]
    fn excerpt_redacts_secret_values() {
        let body = r#"{"records":[{"authentication":{"passphrase":"s3cr3t-pass","state":"ok"},"password" : "pw1", "private_key": 12345, "name":"x"}]}"#;
        let out = redact_excerpt(body, 1000);
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains("pw1"), "{out}");
        assert!(!out.contains("12345"), "{out}");
        assert!(out.contains("\"name\":\"x\""), "{out}");
        assert!(out.contains("\"state\":\"ok\""), "{out}");
    }

    #[test]
    fn excerpt_redacts_truncated_secret() {
        let out = redact_excerpt(r#"{"authentication":{"passphrase":"abcdef"#, 1000);
        assert!(!out.contains("abcdef"), "{out}");
        let out = redact_excerpt(r#"{"passphrase""#, 1000);
        assert_eq!(out, r#"{"passphrase""#);
    }

    #[test]
    fn excerpt_is_bounded_and_utf8_safe() {
        let body = "é".repeat(500);
        let out = redact_excerpt(&body, 10);
        assert_eq!(out.chars().count(), 11);
        assert!(out.ends_with('…'));
        assert_eq!(redact_excerpt("a\nb", 10), "a b");
    }
}
