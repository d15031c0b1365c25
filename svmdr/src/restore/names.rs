//! Names and label values as Velero makes them valid.
//!
//! Velero writes the restore and backup names into label values (e.g.
//! `velero.io/restore-name` on every restored object, `velero.io/backup-name`
//! on PodVolumeBackups) through `GetValidName` (Velero: `pkg/label/label.go`,
//! used by `pkg/controller/restore_controller.go`). A label value is at most
//! 63 characters (`DNS1035LabelMaxLength`); a longer one is cut to 57 and
//! ends with the first 6 hex digits of the SHA-256 of the whole input. We
//! use the same function for the names and labels we set, so they equal
//! what Velero derives and selectors on them match.

use sha2::{Digest, Sha256};

/// The longest label value (`DNS1035LabelMaxLength`).
pub const LABEL_MAX: usize = 63;

/// Velero's `GetValidName`: `s` when it has at most 63 bytes, else its first
/// 57 bytes followed by the first 6 hex digits of `sha256(s)`.
///
/// Go slices bytes; a cut inside a multi-byte character would make invalid
/// UTF-8, which no valid Kubernetes name contains. Should it happen, the cut
/// moves back to the character boundary (the result is then shorter).
pub fn valid_name(s: &str) -> String {
    if s.len() <= LABEL_MAX {
        return s.to_string();
    }
    let digest = Sha256::digest(s.as_bytes());
    let hex: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    let mut cut = LABEL_MAX - 6;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{hex}", &s[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_unchanged() {
        assert_eq!(valid_name("nightly"), "nightly");
        let exactly = "a".repeat(63);
        assert_eq!(valid_name(&exactly), exactly);
    }

    #[test]
    fn long_names_get_velero_hash_suffix() {
        // Vectors computed by following pkg/label/label.go step by step:
        // sha256 of the whole input, hex, first 6 digits after 57 bytes.
        let long =
            "nightly-full-backup-of-every-namespace-in-cluster-a-2026-12-07-svmdr-20261207031500";
        assert_eq!(
            valid_name(long),
            "nightly-full-backup-of-every-namespace-in-cluster-a-2026-d1e6c8"
        );
        assert_eq!(valid_name(long).len(), 63);
        assert_eq!(
            valid_name(&"a".repeat(64)),
            format!("{}ffe054", "a".repeat(57))
        );
    }
}
