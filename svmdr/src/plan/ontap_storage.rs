//! Implements [] on [].
