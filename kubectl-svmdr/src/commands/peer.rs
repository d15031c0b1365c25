//! `kubectl svmdr peer`: idempotent SVM-DR set-up across both sites
//! (intercluster LIFs, cluster peer, dp_destination SVM, SVM peer, the
//! relationship, and its baseline transfer). Each step reports done or
//! already done; `--dry-run` prints every ONTAP call it would make.

use std::time::Duration;

use svmdr::ontap::models::IdentityPreservation;
use svmdr::peering::{self, Explicit, LifSpec, PeerRequest, PeeringError};
use svmdr::site::{Access, SiteRole};

use crate::ctx::Ctx;
use crate::exit::{Outcome, Refused};
use crate::output;

/// `--identity-preservation` values.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum Identity {
    /// Replicate the whole SVM configuration, LIFs included (same addresses).
    #[default]
    Full,
    /// Everything but the network configuration (create LIFs on the DR side).
    ExcludeNetworkConfig,
    /// Volumes and security only.
    ExcludeNetworkAndProtocolConfig,
}

impl From<Identity> for IdentityPreservation {
    fn from(i: Identity) -> Self {
        match i {
            Identity::Full => Self::Full,
            Identity::ExcludeNetworkConfig => Self::ExcludeNetworkConfig,
            Identity::ExcludeNetworkAndProtocolConfig => Self::ExcludeNetworkAndProtocolConfig,
        }
    }
}

/// Flags of `peer`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source SVM on the primary cluster (default: the primary Trident backend's SVM).
    #[arg(long)]
    pub svm: Option<String>,
    /// Destination SVM on the DR cluster (default: the DR Trident backend's
    /// SVM when it has another name than the source, else `<svm>_dr`).
    #[arg(long)]
    pub dr_svm: Option<String>,
    /// What the DR SVM inherits from the source [default: full]. On an
    /// existing relationship ONTAP can only lower it.
    #[arg(long, value_enum)]
    pub identity_preservation: Option<Identity>,
    /// SnapMirror policy (must be async) [default: MirrorAllSnapshots].
    /// Given on a re-run, it changes the existing relationship.
    #[arg(long)]
    pub policy: Option<String>,
    /// Transfer schedule: a cron schedule of the DR cluster, e.g. 5min,
    /// hourly, 8hour, daily [default: hourly]. Given on a re-run, it
    /// changes the existing relationship.
    #[arg(long, conflicts_with = "rpo")]
    pub schedule: Option<String>,
    /// Pick the schedule from the RPO: the least frequent of ONTAP's
    /// built-in schedules (5min, hourly, 8hour, daily, weekly) that
    /// transfers at least once per RPO, e.g. --rpo 4h gives hourly.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub rpo: Option<Duration>,
    /// Transfer throttle in KB/s (0: unlimited) [default: ONTAP's,
    /// unlimited]. Given on a re-run, it changes the existing relationship.
    #[arg(long, value_name = "KBPS")]
    pub throttle: Option<u64>,
    /// Create the relationship but do not run the baseline transfer.
    #[arg(long)]
    pub no_initialize: bool,
    /// Intercluster LIF to create on a primary node that lacks one:
    /// NODE=IP/PREFIX[@PORT] (repeatable).
    #[arg(long, value_name = "NODE=IP/PREFIX")]
    pub primary_intercluster_ip: Vec<LifSpec>,
    /// Intercluster LIF to create on a DR node that lacks one (repeatable).
    #[arg(long, value_name = "NODE=IP/PREFIX")]
    pub dr_intercluster_ip: Vec<LifSpec>,
    /// Bound on the baseline transfer.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// Sets up (or continues setting up) SVM-DR.
///
/// # Errors
/// Site errors, a blocked step (exit 2), an unsafe one (exit 3).
pub fn run(args: Args, ctx: &mut Ctx) -> anyhow::Result<Outcome> {
    // The schedule: --schedule, else the one --rpo picks, else the default.
    let schedule = match (&args.schedule, args.rpo) {
        (Some(s), _) => s.clone(),
        (None, Some(rpo)) => peering::schedule_for_rpo(rpo)
            .map(str::to_string)
            .map_err(anyhow::Error::msg)?,
        (None, None) => peering::DEFAULT_SCHEDULE.to_string(),
    };
    let mut primary_spec = ctx.required_spec(SiteRole::Primary)?;
    let mut dr_spec = ctx.required_spec(SiteRole::Dr)?;
    primary_spec.svm_hint.clone_from(&args.svm);
    dr_spec.svm_hint = args.dr_svm.clone().or_else(|| args.svm.clone());
    let reporter = ctx.reporter();
    let format = ctx.global.output;
    let dry_run = ctx.global.dry_run;
    let report = ctx.block_on(async move {
        let (primary, dr) = tokio::join!(
            Ctx::resolve(reporter.clone(), primary_spec, Access::ClusterAdmin),
            Ctx::resolve(reporter.clone(), dr_spec, Access::ClusterAdmin),
        );
        let (primary, dr) = (primary?, dr?);
        svmdr::site::identity::ensure_distinct(&primary, &dr).await?;
        let svm = match args
            .svm
            .clone()
            .or_else(|| primary.svm().map(str::to_string))
        {
            Some(s) => s,
            None => anyhow::bail!(
                "the primary Trident backend {} does not name its SVM; pass --svm",
                primary.backend.as_ref().map_or("-", |b| b.name.as_str())
            ),
        };
        let mut req = PeerRequest::new(svm.clone());
        req.dr_svm = default_dr_svm(args.dr_svm.as_deref(), dr.svm(), &svm);
        req.identity_preservation = args.identity_preservation.unwrap_or_default().into();
        if let Some(p) = &args.policy {
            req.policy.clone_from(p);
        }
        req.schedule = Some(schedule.clone());
        req.throttle = args.throttle;
        req.explicit = Explicit {
            policy: args.policy.is_some(),
            schedule: args.schedule.is_some() || args.rpo.is_some(),
            throttle: args.throttle.is_some(),
            identity: args.identity_preservation.is_some(),
        };
        req.initialize = !args.no_initialize;
        req.primary_lifs = args.primary_intercluster_ip.clone();
        req.dr_lifs = args.dr_intercluster_ip.clone();
        req.init_timeout = args.timeout;
        req.backend_svm_hint = primary.svm().map(str::to_string);
        let quiet = dry_run || format.is_machine();
        let steps_reporter = crate::progress::CliReporter::new(
            crate::progress::CliReporter::should_show_bars(format.is_machine(), 0),
        )
        .with_quiet_steps(quiet);
        match peering::run(&primary.ontap, &dr.ontap, &req, dry_run, &steps_reporter).await {
            Ok(r) => Ok(r),
            Err(e @ PeeringError::Unsafe { .. }) => Err(Refused(e.to_string()).into()),
            // Bad input: nothing was changed, and the same command would fail again.
            Err(e @ PeeringError::Invalid { .. }) => {
                Err(anyhow::Error::new(e).context("nothing was changed"))
            }
            // Refused credentials or an untrusted certificate: re-running
            // the same command cannot help until they are fixed.
            Err(e @ PeeringError::Ontap { .. })
                if matches!(&e, PeeringError::Ontap { source, .. } if !source.failure().rerun_helps()) =>
            {
                Err(anyhow::Error::new(e).context("peering stopped"))
            }
            Err(e) => Err(anyhow::Error::new(e)
                .context("peering stopped; fix the cause and re-run the same command to continue")),
        }
    })?;
    output::peer::render(&mut std::io::stdout().lock(), format, &report)?;
    Ok(Outcome::Ok)
}

/// The DR SVM: `--dr-svm`, else the DR Trident backend's SVM when its name
/// differs from the source's (ONTAP needs a peer alias for equal names),
/// else `<svm>_dr`.
fn default_dr_svm(flag: Option<&str>, dr_backend_svm: Option<&str>, svm: &str) -> String {
    flag.or(dr_backend_svm.filter(|d| *d != svm))
        .map_or_else(|| format!("{svm}_dr"), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::default_dr_svm;

    #[test]
    fn dr_svm_defaults_to_the_dr_backend_then_a_suffix() {
        assert_eq!(default_dr_svm(Some("x"), Some("y"), "svm1"), "x");
        assert_eq!(default_dr_svm(Some("svm1"), None, "svm1"), "svm1");
        assert_eq!(default_dr_svm(None, Some("svm1_dr"), "svm1"), "svm1_dr");
        assert_eq!(default_dr_svm(None, Some("svm1"), "svm1"), "svm1_dr");
        assert_eq!(default_dr_svm(None, None, "svm1"), "svm1_dr");
    }
}
