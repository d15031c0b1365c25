//! One way to print an error with its causes, for every binary and client.
//!
//! Error types often both print their source and chain it, so a plain
//! `: `-join says things twice. These functions join the chain and skip a
//! cause whose text is already there.

use std::error::Error;

/// `err` and its causes, `: `-joined, each said once.
#[must_use]
pub fn render(err: &(dyn Error + 'static)) -> String {
    join(std::iter::successors(
        Some(err),
        |e: &&(dyn Error + 'static)| (*e).source(),
    ))
}

/// Only the causes of `err` (or `err` itself when it has none): for errors
/// whose own text repeats what the caller already says, such as an HTTP
/// client's message that repeats the URL.
#[must_use]
pub fn render_causes(err: &(dyn Error + 'static)) -> String {
    match err.source() {
        Some(first) => join(std::iter::successors(
            Some(first),
            |e: &&(dyn Error + 'static)| (*e).source(),
        )),
        None => err.to_string(),
    }
}

fn join<'a>(chain: impl Iterator<Item = &'a (dyn Error + 'static)>) -> String {
    let mut text = String::new();
    for cause in chain {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for E {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    fn chain() -> E {
        E(
            "GET https://c1/api failed: connection refused",
            Some(Box::new(E(
                "connect error",
                Some(Box::new(E("connection refused", None))),
            ))),
        )
    }

    #[test]
    fn render_joins_and_skips_repeats() {
        assert_eq!(
            render(&chain()),
            "GET https://c1/api failed: connection refused: connect error"
        );
    }

    #[test]
    fn render_causes_skips_the_outer_text() {
        assert_eq!(render_causes(&chain()), "connect error: connection refused");
        assert_eq!(render_causes(&E("alone", None)), "alone");
    }

    #[test]
    fn empty_messages_add_no_separator() {
        let e = E("outer", Some(Box::new(E("", None))));
        assert_eq!(render(&e), "outer");
    }
}
