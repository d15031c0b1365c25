//! Verdicts: the outcome of an export policy for a node, and the rule that
//! decided it.

use std::fmt;

use super::NodeAddresses;

/// The rule a verdict names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    /// Rule index.
    pub index: u64,
    /// Its clientmatch text.
    pub clientmatch: String,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {} (clientmatch {})", self.index, self.clientmatch)
    }
}

/// The outcome for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The mount is allowed by `rule`; `warnings` note root squash,
    /// anonymous access or a version restriction.
    Admitted {
        /// The deciding rule.
        rule: RuleRef,
        /// Things that work but may surprise.
        warnings: Vec<String>,
    },
    /// The mount would be refused.
    Denied {
        /// The deciding rule (`None`: no rule matches).
        rule: Option<RuleRef>,
        /// Why.
        reason: String,
    },
    /// The answer depends on what cannot be checked from here.
    CannotVerify {
        /// The rule that cannot be decided (`None`: the policy itself is unknown).
        rule: Option<RuleRef>,
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// Admitted?
    pub fn is_admitted(&self) -> bool {
        matches!(self, Verdict::Admitted { .. })
    }
    /// Denied?
    pub fn is_denied(&self) -> bool {
        matches!(self, Verdict::Denied { .. })
    }
    pub(super) fn rank(&self) -> u8 {
        match self {
            Verdict::Admitted { .. } => 0,
            Verdict::CannotVerify { .. } => 1,
            Verdict::Denied { .. } => 2,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Admitted { rule, warnings } if warnings.is_empty() => {
                write!(f, "admitted by {rule}")
            }
            Verdict::Admitted { rule, warnings } => {
                write!(f, "admitted by {rule} ({})", warnings.join("; "))
            }
            Verdict::Denied {
                rule: Some(rule),
                reason,
            } => write!(f, "refused by {rule}: {reason}"),
            Verdict::Denied { rule: None, reason } => write!(f, "refused: {reason}"),
            Verdict::CannotVerify {
                rule: Some(rule),
                reason,
            } => write!(f, "cannot verify {rule}: {reason}"),
            Verdict::CannotVerify { rule: None, reason } => write!(f, "cannot verify: {reason}"),
        }
    }
}

/// One node's result against one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDecision {
    /// The policy evaluated.
    pub policy: String,
    /// The node.
    pub node: NodeAddresses,
    /// The outcome (the worst over the node's addresses).
    pub verdict: Verdict,
}
