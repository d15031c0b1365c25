//! Which side of the DR pair: the one enum for it in the workspace (sites,
//! plans, peering).

use std::fmt;

/// Which side of the DR pair a site is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteRole {
    /// The source site.
    Primary,
    /// The destination (DR) site.
    Dr,
}

impl SiteRole {
    /// `primary` or `dr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Dr => "dr",
        }
    }

    /// The other site.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Primary => Self::Dr,
            Self::Dr => Self::Primary,
        }
    }
}

impl fmt::Display for SiteRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_serde_and_other_agree() {
        for (role, name) in [(SiteRole::Primary, "primary"), (SiteRole::Dr, "dr")] {
            assert_eq!(role.to_string(), name);
            assert_eq!(
                serde_json::to_string(&role).ok(),
                Some(format!("\"{name}\""))
            );
            let back: Option<SiteRole> = serde_json::from_str(&format!("\"{name}\"")).ok();
            assert_eq!(back, Some(role));
            assert_eq!(role.other().other(), role);
            assert_ne!(role.other(), role);
        }
    }
}
