//! Before any change: the pair, both sites observed, the plan, the DR
//! workloads a failback scales down, and the backup a failover restores.

use serde::Serialize;

use super::types::{Primary, WorkflowError, WorkflowOptions};
use crate::audit::{AuditOutcome, Recorder};
use crate::plan::driver::{Command, discover_pair};
use crate::plan::engine::StepPreview;
use crate::plan::observe::Reach;
use crate::plan::ontap_storage::OntapStorage;
use crate::plan::trident::TridentApi;
use crate::plan::workloads::DrAppsPlan;
use crate::plan::{DrPair, Observed, Plan, PlanError, Sites, Timeline};
use crate::report::Reporter;
use crate::restore::{self, BackupChoice, RestoreError, RestoreOptions};
use crate::site::Site;

/// A workflow planned and judged, ready for `--dry-run` ([`Prepared::preview`])
/// or for the `run` step.
pub struct Prepared {
    /// The workflow.
    pub command: Command,
    /// The SVM pair.
    pub pair: DrPair,
    /// The plan (with `--dry-run` and a refusing guard: the one its
    /// override flag would run).
    pub plan: Plan,
    /// `failback`: the workloads restored on DR and what to do with them.
    pub dr_apps: Option<DrAppsPlan>,
    /// `--dry-run` only: the guard that refuses the run, and its override.
    pub refusal: Option<(PlanError, &'static str)>,
    /// `--dry-run` only: the backup for the restore is refused.
    pub backup_refused: Option<RestoreError>,
    pub(super) obs: Observed,
    pub(super) sites: Sites<OntapStorage>,
    pub(super) restore: Option<ChainedRestore>,
    pub(super) opts: WorkflowOptions,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("command", &self.command)
            .field("pair", &self.pair)
            .field("plan", &self.plan.workflow)
            .field("refusal", &self.refusal)
            .field("backup_refused", &self.backup_refused)
            .finish_non_exhaustive()
    }
}

/// The restore after a failover: its options, and the backup judged before
/// the failover when that worked (otherwise it is prepared afterwards and
/// reports its own problem then).
#[derive(Debug)]
pub(super) struct ChainedRestore {
    pub opts: RestoreOptions,
    pub prepared: Option<restore::Prepared>,
}

/// The refusal a `--dry-run` shows above its plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// The guard's message.
    pub reason: String,
    /// What to do instead.
    pub next: String,
    /// The flag that overrides the guard; the plan shown is the one it runs.
    pub override_flag: &'static str,
}

/// What `--dry-run` shows.
#[derive(Debug)]
pub struct Preview {
    /// Each step with what it would do now.
    pub steps: Vec<StepPreview>,
    /// Set when a guard refuses the run (exit 3).
    pub refused: Option<Refusal>,
}

/// Observes, plans and judges the workflow on `dr` (and `primary`), before
/// any change. Notes and warnings go to `reporter`.
///
/// # Errors
///
/// [`WorkflowError::Site`] (two names for one cluster),
/// [`WorkflowError::Plan`] (no pair, the sites cannot be observed, the
/// preflight refuses; with `dry_run` a refusal is kept in
/// [`Prepared::refusal`] instead), [`WorkflowError::BackupRefused`] (not
/// with `dry_run`: [`Prepared::backup_refused`]). Each is recorded by
/// `audit` first.
pub async fn prepare(
    dr: &Site,
    primary: Primary,
    opts: WorkflowOptions,
    audit: &Recorder<'_>,
    reporter: &dyn Reporter,
) -> Result<Prepared, WorkflowError> {
    let cmd = opts.command;
    let (primary, primary_problem) = match primary {
        Primary::Site(s) => (Some(*s), None),
        Primary::Unavailable(p) => (None, Some(p)),
    };
    // Two names for one cluster would make every step below act on the
    // wrong side: refuse before any ONTAP change.
    if let Some(p) = &primary {
        crate::site::identity::ensure_distinct(p, dr).await?;
    }
    let fail = async |e: PlanError| {
        audit.fail(&e, e.is_refusal(), &[], None).await;
        WorkflowError::Plan(e)
    };
    let pair = match discover_pair(&dr.ontap, opts.svm.as_deref(), opts.dr_svm.as_deref()).await {
        Ok(p) => p,
        Err(e) => return Err(fail(e).await),
    };
    audit.set_pair(&pair);
    let sites = Sites {
        primary: primary.as_ref().map(|p| OntapStorage::new(p.ontap.clone())),
        dr: OntapStorage::new(dr.ontap.clone()),
        primary_label: primary
            .as_ref()
            .map(|p| p.ontap.name().to_string())
            .unwrap_or_else(|| "primary".into()),
        trident: Some(TridentApi::new(dr.kube.clone(), dr.namespace.clone())),
        primary_trident: primary
            .as_ref()
            .map(|p| TridentApi::new(p.kube.clone(), p.namespace.clone())),
    };
    // A failover without the primary also asks the DR cluster whether the
    // primary ONTAP still answers (its cluster peer record): the split-brain guard.
    let mut obs = match cmd.preflight(&sites, &pair, false).await {
        Ok(o) => o,
        Err(source) => {
            let e = PlanError::Observe {
                step: "preflight".into(),
                source: Box::new(source),
            };
            return Err(fail(e).await);
        }
    };
    if let Some(p) = &primary_problem {
        obs.primary.reach = Reach::Unreachable(p.clone());
    }
    // A refused --dry-run still shows the plan: the one the guard's
    // override flag would run, with the refusal marked.
    let (plan, refusal) = match cmd.plan(&obs, &pair) {
        Ok(p) => (p, None),
        Err(e) if opts.dry_run && e.is_refusal() => match cmd.with_guard_overridden() {
            Some((forced, flag)) => match forced.plan(&obs, &pair) {
                Ok(p) => (p, Some((e, flag))),
                Err(_) => return Err(fail(e).await),
            },
            None => return Err(fail(e).await),
        },
        Err(e) => return Err(fail(e).await),
    };
    for n in &plan.notes {
        reporter.note(n);
    }
    let dr_apps = match &opts.dr_apps {
        Some(o) => Some(DrAppsPlan::look(&dr.kube, o).await),
        None => None,
    };
    for w in dr_apps.iter().flat_map(DrAppsPlan::warnings) {
        reporter.warning(&w);
    }
    let (restore, backup_refused) = match opts.restore.clone() {
        None => (None, None),
        Some(r) => match judge_backup(dr, r, opts.dry_run, audit, reporter).await? {
            Ok(chained) => (Some(chained), None),
            Err(refused) => (None, Some(refused)),
        },
    };
    Ok(Prepared {
        command: cmd,
        pair,
        plan,
        dr_apps,
        refusal,
        backup_refused,
        obs,
        sites,
        restore,
        opts,
    })
}

/// Judges the backup before any storage change: one that would destroy the
/// replicated data is refused with both sites as they are (kept for a
/// `--dry-run`). Any other problem (no backup yet, Velero not reachable)
/// must not hold up a failover: it is shown, and the restore reports it
/// afterwards.
async fn judge_backup(
    dr: &Site,
    mut opts: RestoreOptions,
    dry_run: bool,
    audit: &Recorder<'_>,
    reporter: &dyn Reporter,
) -> Result<Result<ChainedRestore, RestoreError>, WorkflowError> {
    match restore::prepare(&dr.kube, &opts).await {
        Ok(p) => {
            for w in &p.warnings {
                reporter.warning(w);
            }
            // Restore the backup that was judged, not whatever is newest
            // once the storage steps are done.
            opts.backup = BackupChoice::Named(p.backup.name.clone());
            Ok(Ok(ChainedRestore {
                opts,
                prepared: Some(p),
            }))
        }
        Err(e @ RestoreError::VolumeData { .. }) if dry_run => Ok(Err(e)),
        Err(e @ RestoreError::VolumeData { .. }) => {
            audit
                .record(
                    AuditOutcome::Refused,
                    format!("nothing changed: {e}"),
                    &Timeline::default(),
                )
                .await;
            Err(WorkflowError::BackupRefused(e))
        }
        Err(e) => {
            reporter.warning(&format!(
                "the Velero restore after the failover will likely fail: {e}"
            ));
            Ok(Ok(ChainedRestore {
                opts,
                prepared: None,
            }))
        }
    }
}

impl Prepared {
    /// What `--dry-run` shows: each step with what it would do now (the
    /// Trident backends read for a step that waits on them), and the
    /// refusal, if any.
    pub async fn preview(&mut self) -> Preview {
        if let Some(step) = self.plan.steps.iter().find(|s| s.kind.needs_trident()) {
            self.obs.trident = self.sites.observe_trident(step.kind.site()).await;
        }
        let steps = self.plan.preview(&self.obs);
        let refused = self
            .refusal
            .as_ref()
            .map(|(e, flag)| Refusal {
                reason: e.to_string().trim_start_matches("refused: ").to_string(),
                next: e.hint(),
                override_flag: flag,
            })
            .or_else(|| {
                self.backup_refused.as_ref().map(|e| Refusal {
                    reason: e.to_string(),
                    next: "restore from a backup without volume data for Trident volumes".into(),
                    override_flag: "--force-restore",
                })
            });
        Preview { steps, refused }
    }

    /// The error a `--dry-run` ends with: the guard's refusal, else the
    /// backup's.
    pub fn dry_run_error(self) -> Option<WorkflowError> {
        match (self.refusal, self.backup_refused) {
            (Some((e, _)), _) => Some(WorkflowError::Plan(e)),
            (None, Some(e)) => Some(WorkflowError::BackupRefused(e)),
            (None, None) => None,
        }
    }
}
