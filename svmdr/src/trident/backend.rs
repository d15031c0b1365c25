//! Trident backends (TridentBackendConfig, TridentBackend) and their credentials Secrets.
