//! Idempotent cluster peering, SVM peering and SVM-DR relationship set-up.
