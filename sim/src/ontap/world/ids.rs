//! Identifiers the world hands out.

/// A new random UUID as text.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
