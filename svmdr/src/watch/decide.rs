//! The decision: a pure function from the history, the policy and whether
//! the watcher is armed to a verdict and an action. The safety argument
//! (README, "Automatic failover") rests on this file:
//!
//! - The primary is *lost* only when three independent views agree at
//!   every observation for the whole grace period: (a) the watcher cannot
//!   reach the primary's ONTAP or Kubernetes API, (b) the DR ONTAP
//!   cluster's peer record of the primary is unavailable, and (c) the
//!   witness answered and its heartbeat Lease is stale.
//! - A witness renewed after the watcher lost sight of the primary proves
//!   the primary alive behind a partition: an alert, never an action.
//! - A witness that does not answer (or has no Lease) leaves no quorum:
//!   the watcher pages a human instead of acting (notify).
//! - It acts only in `automatic` mode, when armed, on a live forward
//!   relationship whose lag (the data a failover would lose) is known and
//!   within `maxDataLoss`; otherwise it pages a human.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::history::{Freshness, History, Look};
use super::policy::{Mode, Policy};
use super::view::{Reach, Replication};

/// What the watcher concluded about the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Nothing observed yet.
    Starting,
    /// The primary answers and replication is healthy.
    Healthy,
    /// The primary answers; something needs attention (lag over the RPO,
    /// a stale backup or witness, ...).
    Degraded,
    /// The watcher cannot see the primary; the other views do not (yet)
    /// agree, or not for the grace period.
    PrimaryUnreachable,
    /// The watcher cannot see the primary, but the heartbeat renewed the
    /// witness since: the primary lives behind a partition.
    Partition,
    /// The witness cannot be read: no quorum, never automatic.
    NoQuorum,
    /// Every view agrees, for the whole grace period.
    PrimaryLost,
    /// The DR SVM serves already (a failover happened).
    FailedOver,
}

impl Verdict {
    /// Every verdict (for metrics with one series each).
    pub const ALL: [Self; 8] = [
        Self::Starting,
        Self::Healthy,
        Self::Degraded,
        Self::PrimaryUnreachable,
        Self::Partition,
        Self::NoQuorum,
        Self::PrimaryLost,
        Self::FailedOver,
    ];

    /// Its name (kebab-case, as in metrics and the status object).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::PrimaryUnreachable => "primary-unreachable",
            Self::Partition => "partition",
            Self::NoQuorum => "no-quorum",
            Self::PrimaryLost => "primary-lost",
            Self::FailedOver => "failed-over",
        }
    }
}

/// What the watcher does about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "reason")]
pub enum Action {
    /// Nothing.
    None,
    /// Raise an alert (Event, metric); no human decision needed yet.
    Alert(String),
    /// A human must decide (Event, the page metric).
    Page(String),
    /// Fail over now through the plan.
    Failover,
}

impl Action {
    /// Its kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Alert(_) => "alert",
            Self::Page(_) => "page",
            Self::Failover => "failover",
        }
    }
}

/// One view's evidence, with the time it has held since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// `primary-ontap`, `primary-kubernetes`, `dr-peer-view`, `witness`.
    pub view: String,
    /// What it says now.
    pub says: String,
    /// Since when it has said so, as far as the history reaches.
    pub since: DateTime<Utc>,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} (since {})",
            self.view,
            self.says,
            self.since
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    }
}

/// The verdict, the action and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// What the watcher concluded.
    pub verdict: Verdict,
    /// What it does.
    pub action: Action,
    /// One sentence for people.
    pub message: String,
    /// Each view, when the primary is not seen.
    pub evidence: Vec<Evidence>,
    /// The pair a failover would act on (`svm1 → svm1_dr`).
    pub pair: Option<String>,
}

/// Decides from `history` under `policy`; `armed` is the status object's
/// arm switch.
pub fn decide(history: &History, policy: &Policy, armed: bool) -> Decision {
    let Some(latest) = history.latest() else {
        return decision(Verdict::Starting, Action::None, "no observation yet", None);
    };
    let obs = &latest.observation;
    let chosen = choose_pair(&obs.replication, policy);
    let pair = chosen.as_ref().ok().map(|r| r.pair.clone());
    if chosen
        .as_ref()
        .is_ok_and(|r| r.dr_active && !r.forward_live)
    {
        let mut d = decision(
            Verdict::FailedOver,
            Action::None,
            "the DR SVM serves: a failover has happened; nothing to watch for until the pair is resynchronised",
            pair,
        );
        d.evidence = evidence(history);
        return d;
    }
    if !obs.primary_unreachable() {
        return healthy_or_degraded(latest, pair);
    }
    let evidence = evidence(history);
    let with = |verdict, action, message: String| Decision {
        verdict,
        action,
        message,
        evidence: evidence.clone(),
        pair: pair.clone(),
    };
    match &latest.witness {
        Freshness::Unreachable { error } => {
            return with(
                Verdict::NoQuorum,
                page_unless_observe(
                    policy,
                    "no quorum without the witness: no automatic action; a human must decide",
                ),
                format!("the primary is unreachable and the witness cannot be read ({error})"),
            );
        }
        Freshness::Missing => {
            return with(
                Verdict::NoQuorum,
                page_unless_observe(
                    policy,
                    "no quorum without a heartbeat: no automatic action; check the heartbeat, a human must decide",
                ),
                "the primary is unreachable and the witness holds no heartbeat Lease".into(),
            );
        }
        Freshness::Fresh { .. } | Freshness::Stale { .. } => {}
    }
    let unreachable = history.streak(|l| l.observation.primary_unreachable());
    let since = unreachable.first().map_or(obs.at, |l| l.observation.at);
    if let Freshness::Fresh { changed_at, .. } = &latest.witness
        && *changed_at > since
    {
        return with(
            Verdict::Partition,
            Action::Alert("a partition, not a disaster: no failover".into()),
            format!(
                "the primary is unreachable from DR since {}, but its heartbeat renewed the witness at {}",
                rfc3339(since),
                rfc3339(*changed_at)
            ),
        );
    }
    let lost = history.streak(Look::quorum_lost);
    let sustained = lost
        .first()
        .map(|first| (obs.at - first.observation.at).to_std().unwrap_or_default());
    let Some(held) = sustained.filter(|held| lost.len() >= 2 && *held >= policy.grace_period)
    else {
        let waiting = match sustained {
            Some(held) => format!(
                "every view says lost for {} of the {} grace period",
                humantime::format_duration(secs(held)),
                humantime::format_duration(policy.grace_period)
            ),
            None => "the other views do not agree yet".into(),
        };
        return with(
            Verdict::PrimaryUnreachable,
            Action::Alert(format!("{waiting}: no action yet")),
            format!(
                "the primary is unreachable from the DR site since {}",
                rfc3339(since)
            ),
        );
    };
    let lost_msg = format!(
        "the primary is lost: every view agrees for {} (grace period {})",
        humantime::format_duration(secs(held)),
        humantime::format_duration(policy.grace_period)
    );
    let action = match policy.mode {
        Mode::Observe => Action::None,
        Mode::Notify => {
            Action::Page("mode notify: a human must decide and run `kubectl svmdr failover`".into())
        }
        Mode::Automatic => automatic(policy, armed, &chosen),
    };
    with(Verdict::PrimaryLost, action, lost_msg)
}

/// In automatic mode: fail over only when armed, on a live forward pair
/// whose known lag is within `maxDataLoss`.
fn automatic(policy: &Policy, armed: bool, chosen: &Result<&Replication, String>) -> Action {
    if !armed {
        return Action::Page("the watcher is disarmed (it fails over at most once, then waits to be re-armed): a human must decide".into());
    }
    let r = match chosen {
        Ok(r) => r,
        Err(why) => return Action::Page(format!("{why}: a human must decide")),
    };
    if !r.forward_live {
        return Action::Page(format!(
            "the relationship {} is {} (not replicating primary → DR): a human must decide",
            r.pair, r.state
        ));
    }
    match r.lag_seconds {
        None => Action::Page(format!(
            "the lag of {} is unknown, so the data a failover would lose is unknown: a human must decide",
            r.pair
        )),
        Some(lag) if lag > policy.max_data_loss.as_secs() => Action::Page(format!(
            "a failover now would lose {} of data, over maxDataLoss {}: a human must decide",
            humantime::format_duration(std::time::Duration::from_secs(lag)),
            humantime::format_duration(policy.max_data_loss)
        )),
        Some(_) => Action::Failover,
    }
}

/// The pair the policy names, or the only one.
fn choose_pair<'a>(
    replication: &'a [Replication],
    policy: &Policy,
) -> Result<&'a Replication, String> {
    let named = |r: &&Replication| {
        policy.svm.as_ref().is_none_or(|s| *s == r.source_svm)
            && policy
                .dr_svm
                .as_ref()
                .is_none_or(|s| *s == r.destination_svm)
    };
    let matching: Vec<&Replication> = replication.iter().filter(named).collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err("no SVM-DR relationship on the DR cluster matches the policy's svm/drSvm".into()),
        many => Err(format!(
            "{} SVM-DR relationships on the DR cluster; name one with svm/drSvm in the policy",
            many.len()
        )),
    }
}

fn page_unless_observe(policy: &Policy, why: &str) -> Action {
    match policy.mode {
        Mode::Observe => Action::Alert(why.into()),
        Mode::Notify | Mode::Automatic => Action::Page(why.into()),
    }
}

fn healthy_or_degraded(latest: &Look, pair: Option<String>) -> Decision {
    let obs = &latest.observation;
    let mut reasons: Vec<String> = obs.problems.clone();
    match &latest.witness {
        Freshness::Stale { age_seconds, .. } => reasons.push(format!(
            "the witness has not been renewed for {age_seconds}s although the primary answers: check the heartbeat"
        )),
        Freshness::Unreachable { error } => {
            reasons.push(format!("the witness cannot be read: {error}"));
        }
        Freshness::Missing => reasons.push("the witness has no heartbeat Lease".into()),
        Freshness::Fresh { .. } => {}
    }
    if obs.dr_ontap.is_down() {
        reasons.push("the DR ONTAP cluster does not answer".into());
    }
    if reasons.is_empty() {
        decision(
            Verdict::Healthy,
            Action::None,
            "the primary answers and replication is healthy",
            pair,
        )
    } else {
        let message = reasons.join("; ");
        decision(
            Verdict::Degraded,
            Action::Alert(message.clone()),
            &message,
            pair,
        )
    }
}

/// Each view of the primary now, with since when it has said so.
fn evidence(history: &History) -> Vec<Evidence> {
    let Some(latest) = history.latest() else {
        return Vec::new();
    };
    let since = |same: &dyn Fn(&Look) -> bool| {
        history
            .streak(|l| same(l))
            .first()
            .map_or(latest.observation.at, |l| l.observation.at)
    };
    let reach = |r: &Reach| match r {
        Reach::Up => "answers".to_string(),
        Reach::Down(e) => format!("unreachable ({e})"),
        Reach::Unknown => "not configured".to_string(),
    };
    let o = &latest.observation;
    let witness_says = match &latest.witness {
        Freshness::Fresh {
            age_seconds,
            changed_at,
        } => format!(
            "fresh: renewal seen at {} ({age_seconds}s ago)",
            rfc3339(*changed_at)
        ),
        Freshness::Stale {
            age_seconds,
            changed_at,
        } => format!(
            "stale: last renewal seen at {} ({age_seconds}s ago)",
            rfc3339(*changed_at)
        ),
        Freshness::Missing => "no heartbeat Lease".into(),
        Freshness::Unreachable { error } => format!("unreachable ({error})"),
    };
    let peer_says = match &o.peer_view {
        super::view::PeerView::Available => "available".to_string(),
        super::view::PeerView::Unavailable(s) => format!("unavailable ({s})"),
        super::view::PeerView::Unknown(s) => format!("unknown ({s})"),
    };
    let w = std::mem::discriminant(&latest.witness);
    vec![
        Evidence {
            view: "primary-ontap".into(),
            says: reach(&o.primary_ontap),
            since: since(&|l| l.observation.primary_ontap.is_up() == o.primary_ontap.is_up()),
        },
        Evidence {
            view: "primary-kubernetes".into(),
            says: reach(&o.primary_kube),
            since: since(&|l| l.observation.primary_kube.is_up() == o.primary_kube.is_up()),
        },
        Evidence {
            view: "dr-peer-view".into(),
            says: peer_says,
            since: since(&|l| l.observation.peer_lost() == o.peer_lost()),
        },
        Evidence {
            view: "witness".into(),
            says: witness_says,
            since: since(&|l| std::mem::discriminant(&l.witness) == w),
        },
    ]
}

fn decision(verdict: Verdict, action: Action, message: &str, pair: Option<String>) -> Decision {
    Decision {
        verdict,
        action,
        message: message.into(),
        evidence: Vec::new(),
        pair,
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn secs(d: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_secs(d.as_secs())
}
