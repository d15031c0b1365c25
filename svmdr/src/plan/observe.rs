//! The observed state of both sites: what ONTAP says right now.
//!
//! [`observe`] collects it (both sites concurrently, each bounded by its
//! client's timeouts); the workflows decide on it with pure functions. A site
//! that cannot be reached is recorded as [`Reach::Unreachable`], never as an
//! error: an unplanned failover must work when the primary is gone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::storage::{LifView, PeerView, RelView, Storage, StorageError, SvmView, VolumeView};
use crate::site::SiteRole;

/// The SVM pair protected by SVM-DR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrPair {
    /// The SVM on the primary cluster.
    pub primary_svm: String,
    /// The SVM on the DR cluster.
    pub dr_svm: String,
}

impl DrPair {
    /// The SVM name at `site`.
    pub fn svm(&self, site: SiteRole) -> &str {
        match site {
            SiteRole::Primary => &self.primary_svm,
            SiteRole::Dr => &self.dr_svm,
        }
    }

    /// The SVM-DR path (`svm:`) of the SVM at `site`.
    pub fn path(&self, site: SiteRole) -> String {
        format!("{}:", self.svm(site))
    }
}

/// Whether a site answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum Reach {
    /// It answered.
    Reachable,
    /// It did not: the error.
    Unreachable(String),
    /// Not asked (not configured, or not needed for this step).
    NotObserved,
}

/// What this site's ONTAP reports about the other site's cluster (its
/// cluster peer record). Collected from the DR cluster when the primary
/// cannot be asked itself: an `available` peer means the primary ONTAP still
/// answers over the intercluster network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum PeerReport {
    /// Not asked.
    #[default]
    NotObserved,
    /// No cluster peer matches the other site's cluster.
    Missing {
        /// The cluster name looked for (the relationship's
        /// `source.cluster.name`), when known.
        cluster: Option<String>,
    },
    /// The peer record.
    Found(PeerView),
    /// The GET failed: the error.
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// How much to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// Also list volumes and data LIFs (for verification steps).
    pub detail: bool,
}

/// One site as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteState {
    /// Which site.
    pub site: SiteRole,
    /// The cluster label.
    pub cluster: String,
    /// Whether it answered.
    pub reach: Reach,
    /// The SVM of the pair on this site.
    pub svm: Option<SvmView>,
    /// The SVM-DR relationship whose destination is this site's SVM (the
    /// forward relationship lives on the DR site, the reverse one on the
    /// primary site).
    pub incoming: Option<RelView>,
    /// Volumes of the SVM, when collected.
    pub volumes: Option<Vec<VolumeView>>,
    /// Data LIFs of the SVM, when collected.
    pub lifs: Option<Vec<LifView>>,
    /// The other site's cluster as this cluster's peer record reports it
    /// (see [`observe_peer`]).
    #[serde(default)]
    pub peer: PeerReport,
}

impl SiteState {
    /// A site that was not asked.
    pub fn not_observed(site: SiteRole, cluster: impl Into<String>) -> Self {
        Self {
            site,
            cluster: cluster.into(),
            reach: Reach::NotObserved,
            svm: None,
            incoming: None,
            volumes: None,
            lifs: None,
            peer: PeerReport::NotObserved,
        }
    }

    /// Whether it answered.
    pub fn reachable(&self) -> bool {
        self.reach == Reach::Reachable
    }

    /// Whether the SVM is known to be running (or starting).
    pub fn svm_running(&self) -> bool {
        use super::storage::SvmState;
        self.svm
            .as_ref()
            .is_some_and(|s| matches!(s.state, SvmState::Running | SvmState::Starting))
    }

    /// Whether the SVM is known to be stopped.
    pub fn svm_stopped(&self) -> bool {
        use super::storage::SvmState;
        self.svm
            .as_ref()
            .is_some_and(|s| s.state == SvmState::Stopped)
    }

    /// Problems that keep this SVM from serving data: volumes not `rw` or not
    /// `online`, data LIFs not up. Empty when everything serves (or when the
    /// detail was not collected: see [`SiteState::volumes`]).
    pub fn serving_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let svm = self.svm.as_ref().map(|s| s.name.as_str()).unwrap_or("?");
        if !self.svm_running() {
            let state = self
                .svm
                .as_ref()
                .map(|s| s.state.to_string())
                .unwrap_or_else(|| "missing".into());
            problems.push(format!("SVM {svm} is {state}, not running"));
        }
        for v in self.volumes.iter().flatten().filter(|v| !v.is_svm_root) {
            if v.kind != "rw" {
                problems.push(format!("volume {} is type {}, not rw", v.name, v.kind));
            }
            if v.state != "online" {
                problems.push(format!("volume {} is {}, not online", v.name, v.state));
            }
        }
        if let Some(lifs) = &self.lifs {
            if lifs.is_empty() {
                problems.push(format!("SVM {svm} has no data LIF"));
            }
            for l in lifs {
                if !l.enabled || l.state != "up" {
                    let addr = l.address.as_deref().unwrap_or("no address");
                    let what = if l.enabled {
                        l.state.as_str()
                    } else {
                        "disabled"
                    };
                    problems.push(format!("data LIF {} ({addr}) is {what}", l.name));
                }
            }
        }
        problems
    }
}

/// Both sites at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// When the collection started.
    pub at: DateTime<Utc>,
    /// The primary site.
    pub primary: SiteState,
    /// The DR site.
    pub dr: SiteState,
    /// The DR cluster's Trident backends, when a step needs them.
    #[serde(default)]
    pub trident: super::trident_report::TridentReport,
}

impl Observed {
    /// The state of `site`.
    pub fn site(&self, site: SiteRole) -> &SiteState {
        match site {
            SiteRole::Primary => &self.primary,
            SiteRole::Dr => &self.dr,
        }
    }

    /// The forward relationship (primary → DR, on the DR cluster).
    pub fn forward(&self) -> Option<&RelView> {
        self.dr.incoming.as_ref()
    }

    /// The reverse relationship (DR → primary, on the primary cluster).
    pub fn reverse(&self) -> Option<&RelView> {
        self.primary.incoming.as_ref()
    }
}

/// Collects one site. Errors become [`Reach::Unreachable`] when the cluster
/// did not answer; other errors (ONTAP refused a GET) are returned.
///
/// # Errors
///
/// A [`StorageError`] other than unreachable/timeout from any GET.
pub async fn observe_site<S: Storage>(
    storage: &S,
    site: SiteRole,
    pair: &DrPair,
    depth: Depth,
) -> Result<SiteState, StorageError> {
    let svm_name = pair.svm(site);
    let collected = async {
        let path = pair.path(site);
        let (svm, incoming) = tokio::try_join!(storage.svm(svm_name), storage.relationship(&path))?;
        let (volumes, lifs) = if depth.detail && svm.is_some() {
            let (v, l) = tokio::try_join!(storage.volumes(svm_name), storage.data_lifs(svm_name))?;
            (Some(v), Some(l))
        } else {
            (None, None)
        };
        Ok::<_, StorageError>((svm, incoming, volumes, lifs))
    }
    .await;
    match collected {
        Ok((svm, incoming, volumes, lifs)) => Ok(SiteState {
            site,
            cluster: storage.label(),
            reach: Reach::Reachable,
            svm,
            incoming,
            volumes,
            lifs,
            peer: PeerReport::NotObserved,
        }),
        Err(e) if e.is_unreachable() => Ok(SiteState {
            reach: Reach::Unreachable(e.to_string()),
            ..SiteState::not_observed(site, storage.label())
        }),
        Err(e) => Err(e),
    }
}

/// Collects both sites concurrently. `primary` is `None` when the primary
/// site is not to be asked (unplanned failover after it was found down, or
/// not configured).
///
/// # Errors
///
/// A [`StorageError`] that is not "unreachable" from either site.
pub async fn observe<S: Storage>(
    primary: Option<&S>,
    dr: &S,
    pair: &DrPair,
    depth: Depth,
    primary_label: &str,
) -> Result<Observed, StorageError> {
    let at = Utc::now();
    let p = async {
        match primary {
            Some(p) => observe_site(p, SiteRole::Primary, pair, depth).await,
            None => Ok(SiteState::not_observed(SiteRole::Primary, primary_label)),
        }
    };
    let d = observe_site(dr, SiteRole::Dr, pair, depth);
    let (primary, dr) = tokio::try_join!(p, d)?;
    Ok(Observed {
        at,
        primary,
        dr,
        trident: super::trident::TridentReport::NotObserved,
    })
}

/// Asks the DR cluster for its cluster peer record of the primary cluster
/// (`GET /api/cluster/peers`), matched on the forward relationship's
/// `source.cluster.name`, and stores it in `obs.dr.peer`. Needs no primary
/// credentials. A failed GET is recorded, not returned: the failover plan
/// decides what it means.
pub async fn observe_peer<S: Storage>(dr: &S, obs: &mut Observed) {
    let cluster = obs.forward().and_then(|r| r.source_cluster.clone());
    obs.dr.peer = match dr.cluster_peer(cluster.as_deref()).await {
        Ok(Some(p)) => PeerReport::Found(p),
        Ok(None) => PeerReport::Missing { cluster },
        Err(e) => PeerReport::Failed {
            error: e.to_string(),
        },
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::storage::SvmState;

    fn site_with(svm: SvmState, vols: Vec<VolumeView>, lifs: Vec<LifView>) -> SiteState {
        SiteState {
            site: SiteRole::Dr,
            cluster: "dr".into(),
            reach: Reach::Reachable,
            svm: Some(SvmView {
                uuid: "u".into(),
                name: "svm1".into(),
                state: svm,
                subtype: "default".into(),
            }),
            incoming: None,
            volumes: Some(vols),
            lifs: Some(lifs),
            peer: PeerReport::NotObserved,
        }
    }

    fn vol(name: &str, kind: &str, state: &str, root: bool) -> VolumeView {
        VolumeView {
            name: name.into(),
            state: state.into(),
            kind: kind.into(),
            is_svm_root: root,
        }
    }

    fn lif(name: &str, state: &str, enabled: bool) -> LifView {
        LifView {
            name: name.into(),
            address: Some("127.10.1.11".into()),
            state: state.into(),
            enabled,
        }
    }

    #[test]
    fn serving_site_has_no_problems() {
        let s = site_with(
            SvmState::Running,
            vec![
                vol("root", "dp", "online", true),
                vol("v1", "rw", "online", false),
            ],
            vec![lif("nfs1", "up", true)],
        );
        assert_eq!(s.serving_problems(), Vec::<String>::new());
    }

    #[test]
    fn each_problem_is_named() {
        let s = site_with(
            SvmState::Stopped,
            vec![vol("v1", "dp", "offline", false)],
            vec![lif("nfs1", "down", true), lif("iscsi1", "up", false)],
        );
        let p = s.serving_problems();
        assert_eq!(p.len(), 5, "{p:?}");
        assert!(p[0].contains("svm1 is stopped"));
        assert!(p[1].contains("v1 is type dp"));
        assert!(p[2].contains("v1 is offline"));
        assert!(p[3].contains("nfs1 (127.10.1.11) is down"));
        assert!(p[4].contains("iscsi1 (127.10.1.11) is disabled"));
    }

    #[test]
    fn no_data_lif_is_a_problem() {
        let s = site_with(SvmState::Running, vec![], vec![]);
        assert_eq!(s.serving_problems(), vec!["SVM svm1 has no data LIF"]);
    }

    #[test]
    fn pair_paths_end_in_colon() {
        let p = DrPair {
            primary_svm: "svm1".into(),
            dr_svm: "svm1_dr".into(),
        };
        assert_eq!(p.path(SiteRole::Primary), "svm1:");
        assert_eq!(p.path(SiteRole::Dr), "svm1_dr:");
    }
}
