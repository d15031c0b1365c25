//! Steps: the idempotent unit of a plan.
//!
//! A [`Step`] is a [`StepKind`] (what to do, on which site) plus `skip_if`
//! conditions added by its workflow (a later stage already reached). Deciding
//! is pure: [`Step::check`] looks only at an [`Observed`] and says whether the
//! step is already done, must run, or cannot run. Acting ([`StepKind::act`]) is
//! one ONTAP call (or none, for verification); completion is judged again from
//! a fresh observation by [`StepKind::progress`], because a finished ONTAP job
//! only means a change started (`docs/ontap-rest.md` §4, §11.3).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::observe::{DrPair, Observed};
use super::storage::{NewRelationship, RelState, RelTarget, Storage, StorageResult, SvmState};
use super::trident::{PROMPT_ANNOTATION, TridentReport, backends_done, offline_backends};
use crate::site::SiteRole;

/// Names the relationship whose destination is the SVM at `dest`.
pub fn rel_name(dest: SiteRole) -> &'static str {
    match dest {
        SiteRole::Dr => "forward relationship (primary → dr)",
        SiteRole::Primary => "reverse relationship (dr → primary)",
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepKind {
    /// Abort a transfer in flight on the relationship into `dest`.
    AbortTransfer {
        /// Destination site of the relationship.
        dest: SiteRole,
    },
    /// Transfer now (SnapMirror update) on the relationship into `dest`, and
    /// wait for it to finish.
    Update {
        /// Destination site of the relationship.
        dest: SiteRole,
    },
    /// Quiesce (`state=paused`) the relationship into `dest`.
    Quiesce {
        /// Destination site of the relationship.
        dest: SiteRole,
    },
    /// Break (`state=broken_off`) the relationship into `dest`: its SVM's
    /// volumes become writable.
    Break {
        /// Destination site of the relationship.
        dest: SiteRole,
    },
    /// Stop the SVM at `site`.
    StopSvm {
        /// Where.
        site: SiteRole,
    },
    /// Start the SVM at `site` (ONTAP may already have started it).
    StartSvm {
        /// Where.
        site: SiteRole,
    },
    /// Wait until the SVM at `site` serves: volumes rw and online, data LIFs up.
    Verify {
        /// Where.
        site: SiteRole,
    },
    /// Create the relationship into `dest` (on `dest`'s cluster), from the
    /// other site, with the policy and identity setting of the opposite one.
    CreateRelationship {
        /// Destination site of the new relationship.
        dest: SiteRole,
    },
    /// Resync (`state=snapmirrored` from broken_off) the relationship into
    /// `dest`: `dest`'s SVM becomes the destination again.
    Resync {
        /// Destination site of the relationship.
        dest: SiteRole,
        /// Send `quick_resync` (ONTAP 9.11.1+).
        quick: bool,
    },
    /// Delete the relationship into `dest` (on `dest`'s cluster; releases the source).
    DeleteRelationship {
        /// Destination site of the relationship.
        dest: SiteRole,
    },
    /// Wait until every Trident backend of the SVM at `site` (on that site's
    /// Kubernetes cluster) reports `state: online`; after `grace`, prompt
    /// Trident to re-evaluate the ones still offline; give up after `limit`.
    /// Suspended backends are reported, not waited on.
    BackendsOnline {
        /// Where.
        site: SiteRole,
        /// Wait this long before prompting Trident.
        grace: Duration,
        /// Longest wait in total.
        limit: Duration,
    },
}

/// A condition on the observed state that makes a step unnecessary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "when")]
pub enum Cond {
    /// The relationship into `dest` is in one of `states`.
    RelIn {
        /// Destination site.
        dest: SiteRole,
        /// States.
        states: Vec<RelState>,
    },
    /// The relationship into `dest` does not exist (site reachable).
    RelAbsent {
        /// Destination site.
        dest: SiteRole,
    },
    /// The SVM at `site` is in `state`.
    SvmIs {
        /// Where.
        site: SiteRole,
        /// The state.
        state: SvmState,
    },
    /// The site's cluster did not answer.
    Unreachable {
        /// Where.
        site: SiteRole,
    },
    /// Both hold.
    All(Vec<Cond>),
}

impl Cond {
    /// Whether the condition holds in `obs`.
    pub fn holds(&self, obs: &Observed) -> bool {
        match self {
            Cond::RelIn { dest, states } => obs
                .site(*dest)
                .incoming
                .as_ref()
                .is_some_and(|r| states.contains(&r.state)),
            Cond::RelAbsent { dest } => {
                let s = obs.site(*dest);
                s.reachable() && s.incoming.is_none()
            }
            Cond::SvmIs { site, state } => obs
                .site(*site)
                .svm
                .as_ref()
                .is_some_and(|s| &s.state == state),
            Cond::Unreachable { site } => {
                matches!(obs.site(*site).reach, super::observe::Reach::Unreachable(_))
            }
            Cond::All(conds) => !conds.is_empty() && conds.iter().all(|c| c.holds(obs)),
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::RelIn { dest, states } => {
                let s: Vec<&str> = states.iter().map(RelState::as_str).collect();
                write!(f, "the {} is {}", rel_name(*dest), s.join(" or "))
            }
            Cond::RelAbsent { dest } => write!(f, "the {} does not exist", rel_name(*dest)),
            Cond::SvmIs { site, state } => write!(f, "the {site} SVM is {state}"),
            Cond::Unreachable { site } => write!(f, "the {site} cluster is unreachable"),
            Cond::All(c) => {
                let s: Vec<String> = c.iter().map(ToString::to_string).collect();
                f.write_str(&s.join(" and "))
            }
        }
    }
}

/// The outcome of checking a step against the observed state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "check", content = "reason")]
pub enum Check {
    /// Nothing to do: why.
    Done(String),
    /// Must run.
    Todo,
    /// Cannot run: why (and nothing was changed).
    Blocked(String),
}

/// Progress of a step after acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Finished.
    Done,
    /// Not yet: what we are waiting for.
    Pending(String),
    /// ONTAP reports failure (e.g. the transfer failed).
    Failed(String),
}

/// What [`StepKind::act`] leaves for [`StepKind::progress`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActToken {
    /// When the action was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// The transfer UUID an update started.
    pub transfer: Option<String>,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Stable identifier, e.g. `break` (used in messages, audit and tests).
    pub id: String,
    /// What it does.
    pub kind: StepKind,
    /// Extra conditions under which the step is already done (a later stage
    /// of the workflow was reached).
    pub skip_if: Vec<Cond>,
}

impl Step {
    /// A step without extra skip conditions.
    pub fn new(id: impl Into<String>, kind: StepKind) -> Self {
        Self {
            id: id.into(),
            kind,
            skip_if: Vec::new(),
        }
    }

    /// Adds a skip condition.
    pub fn skip_if(mut self, cond: Cond) -> Self {
        self.skip_if.push(cond);
        self
    }

    /// Pure decision: done, to do, or blocked.
    pub fn check(&self, obs: &Observed, pair: &DrPair) -> Check {
        if let Some(reason) = self.kind.already_done(obs) {
            return Check::Done(reason);
        }
        if let Some(c) = self.skip_if.iter().find(|c| c.holds(obs)) {
            return Check::Done(format!("{c}"));
        }
        match self.kind.precondition(obs, pair) {
            Ok(()) => Check::Todo,
            Err(why) => Check::Blocked(why),
        }
    }
}

impl StepKind {
    /// The site whose cluster this step calls.
    pub fn site(&self) -> SiteRole {
        match *self {
            StepKind::AbortTransfer { dest }
            | StepKind::Update { dest }
            | StepKind::Quiesce { dest }
            | StepKind::Break { dest }
            | StepKind::CreateRelationship { dest }
            | StepKind::Resync { dest, .. }
            | StepKind::DeleteRelationship { dest } => dest,
            StepKind::StopSvm { site }
            | StepKind::StartSvm { site }
            | StepKind::Verify { site }
            | StepKind::BackendsOnline { site, .. } => site,
        }
    }

    /// Whether deciding this step needs the Trident backends.
    pub fn needs_trident(&self) -> bool {
        matches!(self, StepKind::BackendsOnline { .. })
    }

    /// Whether deciding this step needs volumes and LIFs.
    pub fn needs_detail(&self) -> bool {
        matches!(self, StepKind::Verify { .. })
    }

    /// A one-line description.
    pub fn title(&self, pair: &DrPair) -> String {
        match *self {
            StepKind::AbortTransfer { dest } => {
                format!("stop a transfer in flight on the {}", rel_name(dest))
            }
            StepKind::Update { dest } => format!("transfer now on the {}", rel_name(dest)),
            StepKind::Quiesce { dest } => format!("quiesce the {}", rel_name(dest)),
            StepKind::Break { dest } => format!(
                "break the {}: {} becomes writable",
                rel_name(dest),
                pair.svm(dest)
            ),
            StepKind::StopSvm { site } => format!("stop SVM {} on {site}", pair.svm(site)),
            StepKind::StartSvm { site } => format!("start SVM {} on {site}", pair.svm(site)),
            StepKind::Verify { site } => format!(
                "verify SVM {} on {site} serves: volumes rw and online, data LIFs up",
                pair.svm(site)
            ),
            StepKind::CreateRelationship { dest } => format!(
                "create the {} {} → {} on {dest}",
                rel_name(dest),
                pair.path(dest.other()),
                pair.path(dest)
            ),
            StepKind::Resync { dest, .. } => format!(
                "resync the {}: {} becomes the destination",
                rel_name(dest),
                pair.svm(dest)
            ),
            StepKind::DeleteRelationship { dest } => format!(
                "delete the {} (releases {})",
                rel_name(dest),
                pair.svm(dest.other())
            ),
            StepKind::BackendsOnline { site, grace, limit } => format!(
                "wait for the Trident backends of SVM {} on {site} to report online (prompt Trident after {}, at most {})",
                pair.svm(site),
                humantime::format_duration(grace),
                humantime::format_duration(limit)
            ),
        }
    }

    /// The ONTAP calls this step makes, for `--dry-run` (UUIDs from `obs`
    /// when known).
    pub fn calls(&self, obs: &Observed, pair: &DrPair) -> Vec<String> {
        let site = obs.site(self.site());
        let rel = site
            .incoming
            .as_ref()
            .map(|r| r.uuid.clone())
            .unwrap_or_else(|| "{uuid}".into());
        let svm = site
            .svm
            .as_ref()
            .map(|s| s.uuid.clone())
            .unwrap_or_else(|| "{svm.uuid}".into());
        let at = &site.cluster;
        let rels = "/api/snapmirror/relationships";
        match *self {
            StepKind::AbortTransfer { .. } => vec![format!(
                "{at}: PATCH {rels}/{rel}/transfers/{{transfer.uuid}} {{\"state\":\"aborted\"}}"
            )],
            StepKind::Update { .. } => vec![
                format!("{at}: POST {rels}/{rel}/transfers {{}}"),
                format!("{at}: GET {rels}/{rel} until transfer.state is success"),
            ],
            StepKind::Quiesce { .. } => {
                vec![format!("{at}: PATCH {rels}/{rel} {{\"state\":\"paused\"}}")]
            }
            StepKind::Break { .. } => {
                vec![format!(
                    "{at}: PATCH {rels}/{rel} {{\"state\":\"broken_off\"}}"
                )]
            }
            StepKind::StopSvm { .. } => {
                vec![format!(
                    "{at}: PATCH /api/svm/svms/{svm} {{\"state\":\"stopped\"}}"
                )]
            }
            StepKind::StartSvm { .. } => {
                vec![format!(
                    "{at}: PATCH /api/svm/svms/{svm} {{\"state\":\"running\"}}"
                )]
            }
            StepKind::Verify { site: s } => {
                let n = pair.svm(s);
                vec![
                    format!(
                        "{at}: GET /api/storage/volumes?svm.name={n}&fields=state,type,is_svm_root"
                    ),
                    format!(
                        "{at}: GET /api/network/ip/interfaces?svm.name={n}&fields=state,enabled,ip"
                    ),
                ]
            }
            StepKind::CreateRelationship { dest } => vec![format!(
                "{at}: POST {rels} {{\"source\":{{\"path\":\"{}\",\"cluster\":{{\"name\":\"<{} cluster>\"}}}},\"destination\":{{\"path\":\"{}\"}},\"policy\":<same>,\"identity_preservation\":<same>}}",
                pair.path(dest.other()),
                dest.other(),
                pair.path(dest)
            )],
            StepKind::Resync { quick, .. } => {
                let q = if quick { ",\"quick_resync\":true" } else { "" };
                vec![format!(
                    "{at}: PATCH {rels}/{rel} {{\"state\":\"snapmirrored\"{q}}}"
                )]
            }
            StepKind::DeleteRelationship { .. } => vec![format!("{at}: DELETE {rels}/{rel}")],
            StepKind::BackendsOnline { site: s, grace, .. } => vec![
                format!(
                    "{s} Kubernetes: LIST trident.netapp.io/v1 TridentBackends until those of SVM {} report state online",
                    pair.svm(s)
                ),
                format!(
                    "{s} Kubernetes, after {} if one is still offline: PATCH the credentials Secret of its TridentBackendConfig, annotation {PROMPT_ANNOTATION}",
                    humantime::format_duration(grace)
                ),
            ],
        }
    }

    /// The kind's own "already done" test.
    fn already_done(&self, obs: &Observed) -> Option<String> {
        let s = obs.site(self.site());
        let rel = s.incoming.as_ref();
        match *self {
            StepKind::AbortTransfer { dest } => rel
                .filter(|r| !r.transfer_in_flight())
                .map(|_| format!("no transfer in flight on the {}", rel_name(dest))),
            StepKind::Update { .. } => None,
            StepKind::Verify { site } => {
                (s.volumes.is_some() && s.lifs.is_some() && s.serving_problems().is_empty())
                    .then(|| format!("the {site} SVM serves"))
            }
            StepKind::Quiesce { dest } => rel
                .filter(|r| matches!(r.state, RelState::Paused | RelState::BrokenOff))
                .map(|r| format!("the {} is {}", rel_name(dest), r.state)),
            StepKind::Break { dest } => rel
                .filter(|r| r.state == RelState::BrokenOff)
                .map(|_| format!("the {} is broken_off", rel_name(dest))),
            StepKind::StopSvm { site } => s
                .svm_stopped()
                .then(|| format!("the {site} SVM is stopped")),
            StepKind::StartSvm { site } => {
                let running = s.svm.as_ref().is_some_and(|v| v.state == SvmState::Running);
                running.then(|| format!("the {site} SVM is running"))
            }
            StepKind::CreateRelationship { dest } => {
                rel.map(|_| format!("the {} exists", rel_name(dest)))
            }
            StepKind::Resync { dest, .. } => rel
                .filter(|r| r.state == RelState::Snapmirrored && !r.transfer_in_flight())
                .map(|_| format!("the {} is snapmirrored", rel_name(dest))),
            StepKind::DeleteRelationship { dest } => (s.reachable() && rel.is_none())
                .then(|| format!("the {} does not exist", rel_name(dest))),
            StepKind::BackendsOnline { site, .. } => backends_done(obs, site),
        }
    }

    /// Why the step cannot run now, if it cannot.
    fn precondition(&self, obs: &Observed, pair: &DrPair) -> Result<(), String> {
        let site = self.site();
        let s = obs.site(site);
        match &s.reach {
            super::observe::Reach::Reachable => {}
            super::observe::Reach::Unreachable(e) => {
                return Err(format!(
                    "the {site} cluster {} is unreachable: {e}",
                    s.cluster
                ));
            }
            super::observe::Reach::NotObserved => {
                return Err(format!("the {site} cluster {} was not observed", s.cluster));
            }
        }
        let need_rel = |dest: SiteRole| {
            obs.site(dest).incoming.as_ref().ok_or_else(|| {
                format!(
                    "the {} ({} on {}) does not exist",
                    rel_name(dest),
                    pair.path(dest),
                    obs.site(dest).cluster
                )
            })
        };
        let need_svm = |at: SiteRole| {
            obs.site(at).svm.as_ref().ok_or_else(|| {
                format!(
                    "SVM {} does not exist on {}",
                    pair.svm(at),
                    obs.site(at).cluster
                )
            })
        };
        match *self {
            StepKind::AbortTransfer { dest } | StepKind::Update { dest } => {
                let r = need_rel(dest)?;
                if matches!(self, StepKind::Update { .. }) && r.state != RelState::Snapmirrored {
                    return Err(format!(
                        "the {} is {}; an update needs snapmirrored",
                        rel_name(dest),
                        r.state
                    ));
                }
                Ok(())
            }
            StepKind::Quiesce { dest } => {
                let r = need_rel(dest)?;
                match r.state {
                    RelState::Snapmirrored => Ok(()),
                    ref s => Err(format!(
                        "the {} is {s}; quiesce needs snapmirrored",
                        rel_name(dest)
                    )),
                }
            }
            StepKind::Break { dest } => {
                let r = need_rel(dest)?;
                match r.state {
                    RelState::Snapmirrored | RelState::Paused => Ok(()),
                    RelState::Uninitialized => Err(format!(
                        "the {} was never initialized: there is no data to fail over to",
                        rel_name(dest)
                    )),
                    ref s => Err(format!("the {} is {s}; cannot break it", rel_name(dest))),
                }
            }
            StepKind::StopSvm { site } | StepKind::StartSvm { site } => need_svm(site).map(|_| ()),
            StepKind::Verify { site } => need_svm(site).map(|_| ()),
            StepKind::CreateRelationship { dest } => {
                need_svm(dest)?;
                let src = obs.site(dest.other());
                if !src.reachable() {
                    return Err(format!(
                        "the {} cluster {} must be reachable to create the {}",
                        dest.other(),
                        src.cluster,
                        rel_name(dest)
                    ));
                }
                if obs.site(dest).svm_running() {
                    return Err(format!(
                        "SVM {} on {dest} is running; it must be stopped before it becomes a destination",
                        pair.svm(dest)
                    ));
                }
                Ok(())
            }
            StepKind::Resync { dest, .. } => {
                let r = need_rel(dest)?;
                if !matches!(r.state, RelState::BrokenOff | RelState::Snapmirrored) {
                    return Err(format!(
                        "the {} is {}; resync needs broken_off",
                        rel_name(dest),
                        r.state
                    ));
                }
                if obs.site(dest).svm_running() {
                    return Err(format!(
                        "SVM {} on {dest} is running; it must be stopped before it becomes a destination (ONTAP refuses otherwise)",
                        pair.svm(dest)
                    ));
                }
                Ok(())
            }
            StepKind::DeleteRelationship { dest } => {
                let r = need_rel(dest)?;
                if r.transfer_in_flight() {
                    return Err(format!("a transfer is running on the {}", rel_name(dest)));
                }
                Ok(())
            }
            StepKind::BackendsOnline { site, .. } => {
                need_svm(site)?;
                if !obs.site(site).svm_running() {
                    return Err(format!(
                        "SVM {} on {site} is not running: Trident keeps its backends offline until it runs",
                        pair.svm(site)
                    ));
                }
                match &obs.trident {
                    TridentReport::Failed { error } => Err(error.clone()),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Makes the step's ONTAP call(s) on `storage` (the cluster of
    /// [`StepKind::site`]). `other` is the other site's cluster, when
    /// reachable (needed to create a relationship).
    ///
    /// # Errors
    ///
    /// The failed storage call.
    pub async fn act<S: Storage>(
        &self,
        storage: &S,
        other: Option<&S>,
        obs: &Observed,
        pair: &DrPair,
    ) -> StorageResult<ActToken> {
        let sent_at = Some(Utc::now());
        let site = obs.site(self.site());
        let rel_uuid = || {
            site.incoming
                .as_ref()
                .map(|r| r.uuid.clone())
                .ok_or_else(|| missing(storage, "the relationship"))
        };
        let svm_uuid = || {
            site.svm
                .as_ref()
                .map(|s| s.uuid.clone())
                .ok_or_else(|| missing(storage, "the SVM"))
        };
        match *self {
            StepKind::AbortTransfer { .. } => {
                let r = site
                    .incoming
                    .as_ref()
                    .ok_or_else(|| missing(storage, "the relationship"))?;
                if let Some(t) = r.transfer.as_ref().and_then(|t| t.uuid.clone()) {
                    storage.abort_transfer(&r.uuid, &t).await?;
                }
                Ok(ActToken {
                    sent_at,
                    transfer: None,
                })
            }
            StepKind::Update { .. } => {
                let t = storage.start_transfer(&rel_uuid()?).await?;
                Ok(ActToken {
                    sent_at,
                    transfer: Some(t),
                })
            }
            StepKind::Quiesce { .. } => {
                let u = rel_uuid()?;
                storage
                    .set_relationship_state(&u, RelTarget::Paused, false)
                    .await?;
                Ok(ActToken {
                    sent_at,
                    transfer: None,
                })
            }
            StepKind::Break { .. } => {
                let u = rel_uuid()?;
                storage
                    .set_relationship_state(&u, RelTarget::BrokenOff, false)
                    .await?;
                Ok(ActToken {
                    sent_at,
                    transfer: None,
                })
            }
            StepKind::StopSvm { .. } | StepKind::StartSvm { .. } => {
                let running = matches!(self, StepKind::StartSvm { .. });
                storage.set_svm_state(&svm_uuid()?, running).await?;
                Ok(ActToken {
                    sent_at,
                    transfer: None,
                })
            }
            StepKind::Verify { .. } => Ok(ActToken {
                sent_at,
                transfer: None,
            }),
            StepKind::CreateRelationship { dest } => {
                let src = dest.other();
                let other = other.ok_or_else(|| missing(storage, "the source cluster"))?;
                let source_cluster = other.cluster_name().await?;
                let alias = storage
                    .peer_alias(pair.svm(dest), pair.svm(src))
                    .await?
                    .unwrap_or_else(|| pair.svm(src).to_string());
                let template = obs.site(src).incoming.as_ref();
                let rel = NewRelationship {
                    source_path: format!("{alias}:"),
                    source_cluster,
                    destination_path: pair.path(dest),
                    policy: template.and_then(|r| r.policy.clone()),
                    identity_preservation: template.and_then(|r| r.identity_preservation.clone()),
                    transfer_schedule: template.and_then(|r| r.transfer_schedule.clone()),
                };
                storage.create_relationship(&rel).await?;
                Ok(ActToken {
                    sent_at,
                    transfer: None,
                })
            }
            StepKind::Resync { quick, .. } => {
                let u = rel_uuid()?;
                storage
                    .set_relationship_state(&u, RelTarget::Snapmirrored, quick)
                    .await?;
                Ok(ActToken {
                    sent_at,
                    transfer: None,
                })
            }
            StepKind::DeleteRelationship { .. } => {
                storage.delete_relationship(&rel_uuid()?).await?;
                Ok(ActToken {
                    sent_at,
                    transfer: None,
                })
            }
            // Waiting is the action; the prompt comes from the engine after
            // the grace period.
            StepKind::BackendsOnline { .. } => Ok(ActToken {
                sent_at,
                transfer: None,
            }),
        }
    }

    /// After acting: is the change complete in `obs`?
    pub fn progress(&self, obs: &Observed, token: &ActToken) -> Progress {
        let s = obs.site(self.site());
        if !s.reachable() {
            return Progress::Pending(format!("the {} cluster to answer", self.site()));
        }
        let rel = s.incoming.as_ref();
        let failed_transfer = |what: &str| -> Option<Progress> {
            let r = rel?;
            let t = r.transfer.as_ref()?;
            if matches!(t.state.as_str(), "failed" | "hard_aborted") {
                let reasons: Vec<String> = r
                    .unhealthy_reason
                    .iter()
                    .map(|u| format!("ONTAP error {}: {}", u.code, u.message))
                    .collect();
                let why = if reasons.is_empty() {
                    String::new()
                } else {
                    format!(": {}", reasons.join("; "))
                };
                Some(Progress::Failed(format!(
                    "the {what} transfer ended {}{why}",
                    t.state
                )))
            } else {
                None
            }
        };
        match *self {
            StepKind::Update { dest } => {
                let Some(r) = rel else {
                    return Progress::Failed(format!("the {} disappeared", rel_name(dest)));
                };
                let Some(t) = &r.transfer else {
                    return Progress::Pending("the transfer to show up".into());
                };
                if t.in_flight() || (t.uuid.is_some() && t.uuid == token.transfer) {
                    return Progress::Pending(format!("the transfer ({})", t.state));
                }
                if let Some(p) = failed_transfer("update") {
                    return p;
                }
                // An older finished transfer may still be shown right after
                // the POST; allow for clock skew of a few seconds.
                let stale = match (t.end_time, token.sent_at) {
                    (Some(end), Some(sent)) => end < sent - chrono::Duration::seconds(5),
                    _ => false,
                };
                if t.state == "success" && !stale {
                    Progress::Done
                } else if t.state == "aborted" {
                    Progress::Failed("the update transfer was aborted".into())
                } else {
                    Progress::Pending(format!("the transfer ({})", t.state))
                }
            }
            StepKind::Resync { .. } => {
                if let Some(reason) = self.already_done(obs) {
                    let _ = reason;
                    return Progress::Done;
                }
                if rel.is_some_and(|r| r.state != RelState::Snapmirrored)
                    && let Some(p) = failed_transfer("resync")
                {
                    return p;
                }
                Progress::Pending(format!(
                    "the relationship to be snapmirrored (now {})",
                    rel.map(|r| r.state.to_string())
                        .unwrap_or_else(|| "missing".into())
                ))
            }
            StepKind::Verify { .. } => {
                let problems = s.serving_problems();
                if problems.is_empty() {
                    Progress::Done
                } else {
                    Progress::Pending(problems.join("; "))
                }
            }
            StepKind::BackendsOnline { site, .. } => {
                if backends_done(obs, site).is_some() {
                    return Progress::Done;
                }
                match &obs.trident {
                    TridentReport::Failed { error } => Progress::Pending(error.clone()),
                    _ => Progress::Pending(
                        offline_backends(obs, site)
                            .iter()
                            .map(|b| b.describe())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                }
            }
            _ => match self.already_done(obs) {
                Some(_) => Progress::Done,
                None => Progress::Pending(self.pending_what(obs)),
            },
        }
    }

    fn pending_what(&self, obs: &Observed) -> String {
        let s = obs.site(self.site());
        match self {
            StepKind::StopSvm { .. } | StepKind::StartSvm { .. } => format!(
                "the SVM state (now {})",
                s.svm
                    .as_ref()
                    .map(|v| v.state.to_string())
                    .unwrap_or_else(|| "missing".into())
            ),
            _ => format!(
                "the relationship (now {})",
                s.incoming
                    .as_ref()
                    .map(|r| {
                        let t = r
                            .transfer
                            .as_ref()
                            .map(|t| format!(", transfer {}", t.state))
                            .unwrap_or_default();
                        format!("{}{t}", r.state)
                    })
                    .unwrap_or_else(|| "missing".into())
            ),
        }
    }
}

fn missing<S: Storage>(storage: &S, what: &str) -> super::storage::StorageError {
    super::storage::StorageError {
        cluster: storage.label(),
        call: "plan".into(),
        code: None,
        message: format!("{what} vanished between observing and acting"),
        kind: super::storage::StorageErrorKind::Other,
    }
}
