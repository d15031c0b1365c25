//! DR workflows as plans of idempotent, resumable steps.
