//! Helpers for the end-to-end tests that run the built binaries together.
