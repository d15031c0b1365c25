//! SVM-DR replication status: state, health, lag against the RPO, peer health.
