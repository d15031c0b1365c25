//! The watcher's short memory: the recent observations, each with the
//! witness's freshness as the watcher judged it then.
//!
//! Freshness is measured on the watcher's own clock: the witness's
//! renewal marker is compared only for change, and its age is the time
//! since the watcher last saw it change. Skew between the primary's and
//! the DR site's clocks therefore cannot make a live heartbeat look stale.
//! A marker seen for the first time counts as just renewed, so a watcher
//! that has just started cannot find the witness stale before
//! `witnessMaxAge` has passed on its own clock.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::view::{Observation, WitnessView};

/// The witness as judged at one observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Freshness {
    /// Renewed within `witnessMaxAge` (seconds since the last change seen).
    Fresh {
        /// Seconds since the watcher last saw a renewal.
        age_seconds: u64,
        /// When the watcher last saw it change.
        changed_at: DateTime<Utc>,
    },
    /// Not renewed for `witnessMaxAge` or longer.
    Stale {
        /// Seconds since the watcher last saw a renewal.
        age_seconds: u64,
        /// When the watcher last saw it change.
        changed_at: DateTime<Utc>,
    },
    /// The witness answered without a heartbeat Lease.
    Missing,
    /// The witness did not answer.
    Unreachable {
        /// Why.
        error: String,
    },
}

impl Freshness {
    /// Seconds since the last renewal seen, when known.
    pub fn age_seconds(&self) -> Option<u64> {
        match self {
            Self::Fresh { age_seconds, .. } | Self::Stale { age_seconds, .. } => Some(*age_seconds),
            _ => None,
        }
    }
}

/// One remembered observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Look {
    /// What was seen.
    pub observation: Observation,
    /// The witness, judged.
    pub witness: Freshness,
}

impl Look {
    /// All three views agree that the primary is lost: (a) unreachable
    /// from the watcher, (b) unreachable from DR ONTAP's peer view, (c)
    /// the witness answered and is stale.
    pub fn quorum_lost(&self) -> bool {
        self.observation.primary_unreachable()
            && self.observation.peer_lost()
            && matches!(self.witness, Freshness::Stale { .. })
    }
}

/// The recent observations, oldest first.
#[derive(Debug, Clone)]
pub struct History {
    looks: VecDeque<Look>,
    keep: Duration,
    marker: Option<(String, DateTime<Utc>)>,
}

impl History {
    /// A history that keeps observations for `keep` (at least the grace
    /// period and the witness's max age).
    pub fn new(keep: Duration) -> Self {
        Self {
            looks: VecDeque::new(),
            keep,
            marker: None,
        }
    }

    /// Adds an observation, judging the witness with `witness_max_age`,
    /// and forgets what is older than the window.
    pub fn push(&mut self, observation: Observation, witness_max_age: Duration) -> &Look {
        let at = observation.at;
        let witness = match &observation.witness {
            WitnessView::Unreachable { error } => Freshness::Unreachable {
                error: error.clone(),
            },
            WitnessView::Missing => Freshness::Missing,
            WitnessView::Read(r) => {
                let changed_at = match &self.marker {
                    Some((m, t)) if *m == r.renew_marker => *t,
                    _ => at,
                };
                self.marker = Some((r.renew_marker.clone(), changed_at));
                let age = (at - changed_at).to_std().unwrap_or_default();
                let age_seconds = age.as_secs();
                if age >= witness_max_age {
                    Freshness::Stale {
                        age_seconds,
                        changed_at,
                    }
                } else {
                    Freshness::Fresh {
                        age_seconds,
                        changed_at,
                    }
                }
            }
        };
        self.looks.push_back(Look {
            observation,
            witness,
        });
        let keep = chrono::Duration::from_std(self.keep).unwrap_or(chrono::Duration::MAX);
        while self
            .looks
            .front()
            .is_some_and(|l| at - l.observation.at > keep)
            && self.looks.len() > 1
        {
            self.looks.pop_front();
        }
        self.looks.back().expect("just pushed")
    }

    /// Changes the window (the policy's grace period or witness max age
    /// changed); it takes effect at the next [`History::push`].
    pub fn set_keep(&mut self, keep: Duration) {
        self.keep = keep;
    }

    /// The newest observation.
    pub fn latest(&self) -> Option<&Look> {
        self.looks.back()
    }

    /// The newest observations for which `holds` is true, without a break
    /// (oldest first); empty when the newest does not satisfy it.
    pub fn streak(&self, holds: impl Fn(&Look) -> bool) -> Vec<&Look> {
        let mut out: Vec<&Look> = self.looks.iter().rev().take_while(|l| holds(l)).collect();
        out.reverse();
        out
    }

    /// How many observations are remembered.
    pub fn len(&self) -> usize {
        self.looks.len()
    }

    /// Nothing observed yet.
    pub fn is_empty(&self) -> bool {
        self.looks.is_empty()
    }
}
