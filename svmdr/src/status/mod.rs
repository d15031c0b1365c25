//! SVM-DR replication status: state, health, lag against the RPO, SVM
//! state on both sides, cluster and SVM peer health, which site is active
//! and which way data flows (see [`direction`] for the decision table), and
//! the Velero half ([`velero`]).
//!
//! A relationship with no effective transfer schedule (none on the
//! relationship, none on its policy) is *unprotected*: a problem, never
//! healthy, because data moves only when someone starts a transfer.
//!
//! Collect, then decide: [`collect`] reads each site's ONTAP cluster in one
//! concurrent round of GETs (both sites at the same time, so the wall time
//! is that of the slowest site, not the sum); [`evaluate`] is a pure
//! function from those facts to a [`StatusReport`].
//!
//! # ONTAP calls
//! A fixed number per run, independent of the number of relationships
//! (0 extra calls per relationship):
//! - DR site, 6: `GET /api/cluster`, `/api/svm/svms`, `/api/cluster/peers`,
//!   `/api/svm/peers`, `/api/snapmirror/relationships`,
//!   `/api/snapmirror/policies` (each with `fields=` naming what is used).
//! - Primary site, 6: the same six (its relationships are the reverse
//!   ones, DR → primary, after `resync --direction reverse`).
//! - Then, for the DR SVMs of the relationships found, 2 more on DR (every
//!   export policy, and those SVMs' volumes) and one LIST of the DR Nodes:
//!   [`exports`].
//! - Kubernetes: the `kube-system` namespace of each site (one GET each,
//!   to tell two names for one cluster apart, [`crate::site::identity`]),
//!   the TridentBackends and TridentBackendConfigs of each site (one LIST
//!   each), the primary's PersistentVolumes (one LIST, [`coverage`]), and
//!   on DR the Velero Backups, Schedules and BackupStorageLocations (one
//!   LIST each), one GET of the newest backup and one LIST each of
//!   PodVolumeBackups, DataUploads and VolumeSnapshotContents (its volume
//!   data, [`velero`]), and the Deployments and StatefulSets Velero
//!   restored (one LIST each, all namespaces, [`workloads`]); 4 on the
//!   primary and 13 on DR in all (with the Nodes LIST above) (the watcher's bench counts them:
//!   `cargo bench -p watcher --bench cycle`), and one GET more on DR for
//!   the watcher's status ConfigMap when `kubectl svmdr status` runs.
//!
//! (More only if a collection spans several pages.)
//!
//! # Schema (`-o json` / `-o yaml`), `apiVersion: svmdr.netapp.io/v1`, `kind: Status`
//! - `apiVersion`, `kind`: constants above.
//! - `generatedAt`: RFC 3339 time the facts were collected.
//! - `healthy`: `true` when `problems` is empty (exit code 0, else 1).
//! - `problems[]`: every problem found, one sentence each, with what to do.
//! - `notes[]`: what could not be checked without being a problem (the
//!   primary site not configured).
//! - `sites.primary`, `sites.dr`: `role`, `configured` (named by config or
//!   flags), `reachable` (ONTAP answered, a refused login included),
//!   `error` (why the facts are missing), `failure` (its kind:
//!   unreachable|authenticationFailed|notPermitted|tls|other), `context`,
//!   `backend`, `endpoint`, `credentials` (where they came from, never the
//!   values), `cluster` (ONTAP cluster name), `version` (`9.14.1`).
//! - `clusterPeers[]`: `side` (which cluster holds the record), `peer`
//!   (local name of the remote cluster), `availability`
//!   (available|partial|unavailable|pending|unidentified), `authentication`
//!   (ok|absent|pending|problem), `authInUse` (ok|absent|revoked),
//!   `encryption` (none|tls_psk), `healthy`.
//! - `relationships[]`: `uuid`; `source` and `destination` each with
//!   `cluster`, `svm` (real name), `path` (`svm:`), `svmState`,
//!   `svmSubtype`; `state` (snapmirrored|uninitialized|paused|broken_off|...);
//!   `healthy` (no problem found), `ontapHealthy` (ONTAP's flag),
//!   `unhealthyReasons[]` (`[code] message`); `lagSeconds`, `lag` (human);
//!   `schedule`, `rpoSeconds`, `rpo` (human, or `none (no schedule)` /
//!   `unknown (schedule X)`), `rpoExceeded` (bool or null when unknown);
//!   `lastTransfer` {`type`, `state`, `endTime`, `bytes`}; `transferring`;
//!   `policy`; `identityPreservation`; `svmPeerState`; `problems[]`;
//!   `direction` (forward|reverse), `heldOn` (primary|dr: the cluster that
//!   lists it, its destination), `live` (it replicates its SVM pair now),
//!   `protected` (live, snapmirrored and scheduled), `activeSite`
//!   (primary|dr|both|unknown) and `flow` (`primary → dr`|`dr → primary`|
//!   `none`) of its SVM pair. `rpo` is `none (no schedule)` for an
//!   unprotected one.
//! - `activeSite` (primary|dr|both|mixed|unknown), `flow` (`primary → dr`|
//!   `dr → primary`|`none`|`mixed`): the summary over the SVM pairs.
//! - `tridentBackends[]`: `site` (primary|dr), `name`, `svm`, `state`
//!   (online|offline|failed|...), `userState` (normal|suspended),
//!   `stateReason`, `expectedOffline` (the SVM is a stopped SVM-DR
//!   destination, so offline is by design: a note, not a problem). See
//!   [`backends`].
//! - `velero` (when checked): `namespace`, `latestBackup` (the newest
//!   Completed backup), `backupData` {`backup`, `findings[]` {`kind`
//!   (fsBackup|csiSnapshot|dataMover|nativeSnapshot), `evidence`, `pvc`,
//!   `pod`}, `notes[]`}, `error`; `latestBackupCompletedAt` (RFC 3339),
//!   `latestBackupAgeSeconds`, `latestBackupAge` (human), `maxAgeSeconds`
//!   (the RPO it is held to), `stale`; `schedule` {`name`, `found`,
//!   `cron`, `phase`, `paused`} (the Velero Schedule named by the backup's
//!   `velero.io/schedule-name` label); `storageLocations[]` {`name`,
//!   `phase` (Available|Unavailable), `default`, `usedByBackup`}. A backup
//!   with findings is a problem: a restore from it destroys the replicated
//!   data; so are a stale backup, a paused or invalid Schedule, and an
//!   Unavailable location the backup is stored in. See [`velero`].
//!   `backupIncludedNamespaces[]`, `backupExcludedNamespaces[]` (the
//!   backup's spec), `uncoveredNamespaces[]` (namespaces in
//!   `protectedNamespaces` the backup leaves out: a problem).
//! - `protectedNamespaces[]` (when the primary's Kubernetes answered): the
//!   namespaces whose PVs are Trident volumes on a protected primary SVM
//!   ([`coverage`]).
//! - `appRunsOn` (primary|dr|both|none|unknown): where the application
//!   runs; `both` (restored workloads scaled up on DR while the primary
//!   serves) is a problem. `drWorkloads` {`namespaces[]` {`namespace`,
//!   `scaledUp`, `workloads[]` {`kind`, `namespace`, `name`, `restore`,
//!   `replicas`, `readyReplicas`, `replicasBeforeFailback`}}, `error`}: the
//!   workloads Velero restored on DR ([`workloads`]).
//!
//! - `watcher` (when `svmdr-watcher` is deployed on DR): `namespace`,
//!   `verdict`, `action`, `message`, `mode`, `armed`, `leader`,
//!   `observedAt`, `observedAgeSeconds`, `stale`, `failover` (its
//!   outcome). A stale watcher, or a verdict other than healthy, is a
//!   problem. See [`watcher`].
//!
//! Fields are only ever added to this schema, never renamed or removed,
//! within `svmdr.netapp.io/v1`.

pub mod backends;
pub mod coverage;
pub mod direction;
mod evaluate;
pub mod exports;
mod relationship;
mod report;
pub mod rpo;
pub mod velero;
pub mod watcher;
pub mod workloads;

use chrono::Utc;

pub use evaluate::evaluate;
pub use relationship::is_svm_dr;
pub use report::{
    API_VERSION, ClusterPeerStatus, Endpoint, KIND, RelationshipStatus, SiteFacts, SiteFailure,
    SiteInfo, SiteInput, SiteStatus, Sites, StatusReport, TransferStatus,
};

use crate::ontap::models::{Relationship, SnapmirrorPolicy};
use crate::ontap::{OntapClient, OntapError, SvmPeerQuery, SvmQuery};
use crate::site::{Site, identity};

/// Fields read for relationships.
const RELATIONSHIP_FIELDS: &str = "uuid,source,destination,policy,state,healthy,\
unhealthy_reason,lag_time,identity_preservation,group_type,transfer,last_transfer_type,\
transfer_schedule,exported_snapshot";
/// Fields read for policies.
const POLICY_FIELDS: &str = "uuid,name,type,identity_preservation,scope,svm,transfer_schedule";

/// Reads one site's facts in one concurrent round: cluster, SVMs, cluster
/// and SVM peers, and the relationships this cluster is the destination of
/// with the SnapMirror policies (the forward relationship on DR, a reverse
/// one on the primary). `relationships: false` leaves those two out.
///
/// # Errors
/// The first failing call (the site counts as unreachable in the report).
pub async fn collect_site(
    client: &OntapClient,
    relationships: bool,
) -> Result<SiteFacts, OntapError> {
    let svm_q = SvmQuery::default();
    let peer_q = SvmPeerQuery::default();
    let base = async {
        tokio::try_join!(
            client.cluster(),
            client.svms(&svm_q),
            client.cluster_peers(),
            client.svm_peers(&peer_q),
        )
    };
    if relationships {
        let ((cluster, svms, cluster_peers, svm_peers), relationships, policies) = tokio::try_join!(
            base,
            list::<Relationship>(client, "/api/snapmirror/relationships", RELATIONSHIP_FIELDS),
            list::<SnapmirrorPolicy>(client, "/api/snapmirror/policies", POLICY_FIELDS),
        )?;
        Ok(SiteFacts {
            cluster,
            svms,
            cluster_peers,
            svm_peers,
            relationships,
            policies,
        })
    } else {
        let (cluster, svms, cluster_peers, svm_peers) = base.await?;
        Ok(SiteFacts {
            cluster,
            svms,
            cluster_peers,
            svm_peers,
            ..SiteFacts::default()
        })
    }
}

/// One collection GET through the client's raw-JSON escape hatch, parsed
/// into typed records.
async fn list<T: serde::de::DeserializeOwned>(
    client: &OntapClient,
    path: &str,
    fields: &str,
) -> Result<Vec<T>, OntapError> {
    let json = client
        .get_json(path, &[("fields", fields), ("max_records", "10000")])
        .await?;
    let records = json.get("records").cloned().unwrap_or_default();
    serde_json::from_value::<Option<Vec<T>>>(records)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            OntapError::new(
                client.name(),
                format!("GET {path}"),
                crate::ontap::ErrorKind::Malformed {
                    detail: format!("unexpected records: {e}"),
                    excerpt: String::new(),
                },
            )
        })
}

/// Describes a site for the report.
pub fn site_info(site: &Site) -> SiteInfo {
    SiteInfo {
        context: Some(site.context.clone()),
        backend: site.backend.as_ref().map(|b| b.name.clone()),
        endpoint: Some(site.endpoint.clone()),
        credentials: Some(site.credentials.to_string()),
    }
}

/// Collects both sites concurrently and evaluates them.
///
/// `primary` is `None` when the primary site is not configured, or an
/// `Err(message)` when it could not even be resolved (kube API down, ...).
pub async fn collect(
    dr: &Site,
    primary: Option<Result<&Site, &(SiteInfo, SiteFailure)>>,
    svm: Option<&str>,
) -> StatusReport {
    let dr_fut = collect_site(&dr.ontap, true);
    let primary_fut = async {
        match &primary {
            None => None,
            Some(Err((info, e))) => Some(SiteInput {
                info: info.clone(),
                facts: Err(e.clone()),
            }),
            Some(Ok(site)) => Some(SiteInput {
                info: site_info(site),
                facts: collect_site(&site.ontap, true)
                    .await
                    .map_err(|e| SiteFailure::from(&e)),
            }),
        }
    };
    let dr_tbe = async { tokio::join!(site_backends(dr), workloads::collect(&dr.kube)) };
    let primary_k8s = async {
        match &primary {
            Some(Ok(site)) => Some(tokio::join!(
                site_backends(site),
                coverage::list_pvs(&site.kube)
            )),
            _ => None,
        }
    };
    let ((dr_facts, primary_input), (dr_tbe, dr_workloads), primary_k8s) = tokio::join!(
        async { tokio::join!(dr_fut, primary_fut) },
        dr_tbe,
        primary_k8s
    );
    let (primary_tbe, primary_pvs) = match primary_k8s {
        Some((t, p)) => (Some(t), Some(p)),
        None => (None, None),
    };
    let dr_input = SiteInput {
        info: site_info(dr),
        facts: dr_facts.map_err(|e| SiteFailure::from(&e)),
    };
    let mut report = evaluate(&dr_input, primary_input.as_ref(), svm, Utc::now());
    if let (Some(Ok(site)), Some(p_input)) = (&primary, &primary_input) {
        same_cluster_problem(&mut report, (site, p_input), (dr, &dr_input)).await;
    }
    backends::apply(
        &mut report,
        crate::site::SiteRole::Dr,
        dr_tbe.as_deref().map_err(String::as_str),
    );
    if let Some(p) = &primary_tbe {
        backends::apply(
            &mut report,
            crate::site::SiteRole::Primary,
            p.as_deref().map_err(String::as_str),
        );
    }
    if let (Some(Ok(backends)), Some(pvs)) = (&primary_tbe, &primary_pvs) {
        match pvs {
            Ok(pvs) => {
                let svms: Vec<String> = report
                    .relationships
                    .iter()
                    .map(|r| r.end_on(crate::site::SiteRole::Primary).svm.clone())
                    .collect();
                report.protected_namespaces = Some(
                    coverage::protected_namespaces(pvs, backends, &svms)
                        .into_iter()
                        .collect(),
                );
            }
            Err(e) => report.notes.push(format!(
                "which namespaces keep data on the protected SVMs was not checked: {e}"
            )),
        }
    }
    let svms = exports::destination_svms(&report);
    if !svms.is_empty() {
        let inputs = exports::collect(&dr.ontap, &dr.kube, &svms).await;
        exports::apply(&mut report, inputs.as_ref().map_err(String::as_str));
    }
    workloads::apply(&mut report, dr_workloads);
    report
}

/// Two names for one cluster (`--context` naming the primary's context,
/// which then counts as the DR site) would report one cluster twice: a
/// problem. Compares the ONTAP cluster UUIDs already collected and the
/// `kube-system` namespace UIDs (one GET per site).
async fn same_cluster_problem(
    report: &mut StatusReport,
    primary: (&Site, &SiteInput),
    dr: (&Site, &SiteInput),
) {
    let (pk, dk) = tokio::join!(
        identity::kube_system_uid(&primary.0.kube),
        identity::kube_system_uid(&dr.0.kube)
    );
    let id = |site: &Site, input: &SiteInput, kube_uid| identity::SiteIdentity {
        label: site.label(),
        kube_uid,
        ontap_uuid: input
            .facts
            .as_ref()
            .ok()
            .and_then(|f| f.cluster.uuid.clone()),
        ontap_name: input
            .facts
            .as_ref()
            .ok()
            .and_then(|f| f.cluster.name.clone()),
        endpoint: site.endpoint.clone(),
    };
    let p = id(primary.0, primary.1, pk);
    let d = id(dr.0, dr.1, dk);
    let same = identity::shared(&p, &d);
    if !same.is_empty() {
        report.problems.insert(
            0,
            format!(
                "the primary site ({}) and the DR site ({}) are {}: this report shows one \
                 cluster twice; name the DR site with --dr-context and the primary with \
                 --primary-context (--context names the DR site), or fix the config file",
                p.label,
                d.label,
                same.join(" and ")
            ),
        );
        report.healthy = false;
    }
}

/// The ONTAP TridentBackends of a site ([`crate::trident::cluster::list_backends`]).
async fn site_backends(site: &Site) -> Result<Vec<crate::trident::backend::Backend>, String> {
    crate::trident::cluster::list_backends(&site.kube, &site.namespace)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_direction;
