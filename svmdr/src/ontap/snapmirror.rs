//! SnapMirror policies and relationships (`/api/snapmirror/...`). Run
//! relationship calls on the **destination** cluster, except
//! `list_destinations_only` and `source_only` deletes (source cluster).
//! Create, PATCH and DELETE are async jobs; a finished job only means the
//! change started, so follow with [`OntapClient::wait_relationship`].

use http::Method;
use serde_json::{Value, json};

use super::error::OntapError;
use super::models::{
    IdentityPreservation, JobSchedule, Relationship, RelationshipChange, RelationshipState,
    SnapmirrorPolicy, Transfer,
};
use super::query::Query;
use super::transport::{CallMode, OntapClient};

/// Fields read for relationships (`svmdr_volumes.name` is expensive: use
/// `get_json` when you need it).
pub(crate) const RELATIONSHIP_FIELDS: &[&str] = &[
    "uuid",
    "source",
    "destination",
    "policy",
    "state",
    "healthy",
    "unhealthy_reason",
    "lag_time",
    "identity_preservation",
    "group_type",
    "transfer",
    "last_transfer_type",
    "exported_snapshot",
    "transfer_schedule",
    "total_transfer_bytes",
    "throttle",
];
const POLICY_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "type",
    "identity_preservation",
    "scope",
    "svm.name",
    "transfer_schedule",
];
const TRANSFER_FIELDS: &[&str] = &[
    "uuid",
    "state",
    "bytes_transferred",
    "total_duration",
    "end_time",
];

/// Filters for [`OntapClient::relationships`]; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct RelationshipQuery {
    /// e.g. `svm1_dr:`.
    pub destination_path: Option<String>,
    /// e.g. `svm1:` (the local alias of the peer SVM on the destination).
    pub source_path: Option<String>,
    /// List, on the source cluster, relationships whose source is local.
    pub list_destinations_only: bool,
}

/// A new relationship (POST on the destination cluster).
#[derive(Debug, Clone, Default)]
pub struct CreateRelationship {
    /// `src:` for SVM-DR (trailing colon).
    pub source_path: String,
    /// Source cluster name; mandatory for SVM-DR.
    pub source_cluster: Option<String>,
    /// `dst:` for SVM-DR (trailing colon).
    pub destination_path: String,
    /// Policy name (must be `async` for SVM-DR); `None` is ONTAP's default.
    pub policy: Option<String>,
    /// Relationship-level identity preservation (ONTAP 9.11.1+).
    pub identity_preservation: Option<IdentityPreservation>,
    /// Cron schedule name overriding the policy's.
    pub transfer_schedule: Option<String>,
}

/// Query flags for [`OntapClient::patch_relationship_state`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PatchOptions {
    /// Resync without preserving storage efficiency (body `quick_resync`).
    pub quick_resync: bool,
    /// SVM-DR failback keeping destination data (`?failback=true`).
    pub failback: bool,
    /// Override validation errors (`?force=true`).
    pub force: bool,
}

/// Query flags for [`OntapClient::delete_relationship`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteOptions {
    /// Delete only on the destination, no release (source unreachable).
    pub destination_only: bool,
    /// Release on the source cluster (run there).
    pub source_only: bool,
    /// With `source_only`: keep common snapshots.
    pub source_info_only: bool,
}

impl OntapClient {
    /// The policy named `name`: the system-wide one when there is one, else
    /// the first SVM-owned one. `None` when it does not exist.
    ///
    /// # Errors
    /// As for any call.
    pub async fn snapmirror_policy(
        &self,
        name: &str,
    ) -> Result<Option<SnapmirrorPolicy>, OntapError> {
        self.snapmirror_policy_for_svm(name, None).await
    }

    /// The policy `name` as it applies to `svm` ([`pick_policy`] over one GET).
    ///
    /// # Errors
    /// As for any call.
    pub async fn snapmirror_policy_for_svm(
        &self,
        name: &str,
        svm: Option<&str>,
    ) -> Result<Option<SnapmirrorPolicy>, OntapError> {
        let q = Query::new().fields(POLICY_FIELDS).param("name", name);
        let all: Vec<SnapmirrorPolicy> =
            self.get_collection("/api/snapmirror/policies", &q).await?;
        Ok(pick_policy(&all, name, svm).cloned())
    }

    /// Relationships matching `query`.
    ///
    /// # Errors
    /// As for any call.
    pub async fn relationships(
        &self,
        query: &RelationshipQuery,
    ) -> Result<Vec<Relationship>, OntapError> {
        let q = Query::new()
            .fields(RELATIONSHIP_FIELDS)
            .opt("destination.path", query.destination_path.clone())
            .opt("source.path", query.source_path.clone())
            .flag("list_destinations_only", query.list_destinations_only);
        self.get_collection("/api/snapmirror/relationships", &q)
            .await
    }

    /// One relationship by UUID.
    ///
    /// # Errors
    /// `NotFound` (ask the destination cluster), or any call error.
    pub async fn relationship(&self, uuid: &str) -> Result<Relationship, OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}",
            super::path_segment(uuid)
        );
        self.get(&path, &Query::new().fields(RELATIONSHIP_FIELDS))
            .await
    }

    /// One relationship with its constituent volumes (`svmdr_volumes.name`,
    /// an expensive field ONTAP returns only when named; 9.16.1+).
    ///
    /// # Errors
    /// As for [`OntapClient::relationship`].
    pub async fn relationship_with_volumes(&self, uuid: &str) -> Result<Relationship, OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}",
            super::path_segment(uuid)
        );
        let mut fields = RELATIONSHIP_FIELDS.to_vec();
        fields.push("svmdr_volumes.name");
        self.get(&path, &Query::new().fields(&fields)).await
    }

    /// The relationship whose destination is `path` (`dst:` for SVM-DR).
    ///
    /// # Errors
    /// As for any call.
    pub async fn relationship_by_destination(
        &self,
        path: &str,
    ) -> Result<Option<Relationship>, OntapError> {
        let found = self
            .relationships(&RelationshipQuery {
                destination_path: Some(path.to_string()),
                ..Default::default()
            })
            .await?;
        Ok(found.into_iter().find(|r| r.destination_path() == path))
    }

    /// Creates a relationship (uninitialized) and returns it as read back.
    ///
    /// # Errors
    /// e.g. 13303852 (path without `:`), 13303877 (no source cluster),
    /// 6619637 (destination already has one), 13303976 (already in SVM-DR),
    /// or any call error.
    pub async fn create_relationship(
        &self,
        req: &CreateRelationship,
    ) -> Result<Relationship, OntapError> {
        self.create_relationship_throttled(req, None).await
    }

    /// [`OntapClient::create_relationship`] with a transfer throttle in KB/s
    /// (`None`: ONTAP's default, unlimited).
    ///
    /// # Errors
    /// As for [`OntapClient::create_relationship`].
    pub async fn create_relationship_throttled(
        &self,
        req: &CreateRelationship,
        throttle: Option<u64>,
    ) -> Result<Relationship, OntapError> {
        let mut source = json!({ "path": req.source_path });
        if let Some(cluster) = &req.source_cluster {
            source["cluster"] = json!({ "name": cluster });
        }
        let mut body = json!({
            "source": source,
            "destination": { "path": req.destination_path },
        });
        if let Some(policy) = &req.policy {
            body["policy"] = json!({ "name": policy });
        }
        if let Some(ip) = req.identity_preservation {
            body["identity_preservation"] = json!(ip.as_str());
        }
        if let Some(schedule) = &req.transfer_schedule {
            body["transfer_schedule"] = json!({ "name": schedule });
        }
        if let Some(throttle) = throttle {
            body["throttle"] = json!(throttle);
        }
        let path = "/api/snapmirror/relationships";
        self.mutate(Method::POST, path, Query::new(), Some(&body), CallMode::Job)
            .await?;
        self.relationship_by_destination(&req.destination_path)
            .await?
            .ok_or_else(|| self.missing_uuid(&format!("POST {path}")))
    }

    /// Moves a relationship to `state`: `snapmirrored` initializes, resumes
    /// or resyncs; `paused` quiesces; `broken_off` breaks. Waits for the
    /// job, which only means the transition *started*.
    ///
    /// # Errors
    /// `WrongState` (e.g. 13303818) or `JobFailed` with ONTAP's reason, or
    /// any call error.
    pub async fn patch_relationship_state(
        &self,
        uuid: &str,
        state: RelationshipState,
        opts: PatchOptions,
    ) -> Result<(), OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}",
            super::path_segment(uuid)
        );
        let mut body = json!({ "state": state.as_str() });
        if opts.quick_resync {
            body["quick_resync"] = Value::Bool(true);
        }
        let q = Query::new()
            .flag("failback", opts.failback)
            .flag("force", opts.force);
        self.mutate(Method::PATCH, &path, q, Some(&body), CallMode::Job)
            .await?;
        Ok(())
    }

    /// Changes a relationship's policy, schedule, throttle or identity
    /// preservation (PATCH, a job). ONTAP refuses, among others, a raise of
    /// identity preservation and a schedule that does not exist.
    ///
    /// # Errors
    /// `JobFailed` or a 4xx with ONTAP's reason, or any call error.
    pub async fn patch_relationship(
        &self,
        uuid: &str,
        change: &RelationshipChange,
    ) -> Result<(), OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}",
            super::path_segment(uuid)
        );
        self.mutate(
            Method::PATCH,
            &path,
            Query::new(),
            Some(&change.body()),
            CallMode::Job,
        )
        .await?;
        Ok(())
    }

    /// Job schedules, all or those named `name`
    /// (`GET /api/cluster/schedules`).
    ///
    /// # Errors
    /// As for any call.
    pub async fn schedules(&self, name: Option<&str>) -> Result<Vec<JobSchedule>, OntapError> {
        let q = Query::new()
            .fields(&["uuid", "name", "type", "svm.name"])
            .opt("name", name.map(str::to_string));
        self.get_collection("/api/cluster/schedules", &q).await
    }

    /// Every SnapMirror policy of the cluster (system and SVM-owned).
    ///
    /// # Errors
    /// As for any call.
    pub async fn snapmirror_policies(&self) -> Result<Vec<SnapmirrorPolicy>, OntapError> {
        let q = Query::new().fields(POLICY_FIELDS);
        self.get_collection("/api/snapmirror/policies", &q).await
    }

    /// Deletes a relationship. Without flags (on the destination) this also
    /// releases the source.
    ///
    /// # Errors
    /// `JobFailed` (e.g. 13303822 release failed), or any call error.
    pub async fn delete_relationship(
        &self,
        uuid: &str,
        opts: DeleteOptions,
    ) -> Result<(), OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}",
            super::path_segment(uuid)
        );
        let q = Query::new()
            .flag("destination_only", opts.destination_only)
            .flag("source_only", opts.source_only)
            .flag("source_info_only", opts.source_info_only);
        self.mutate(Method::DELETE, &path, q, None, CallMode::Job)
            .await?;
        Ok(())
    }

    /// Starts a transfer (update, or initialize when uninitialized):
    /// synchronous 201. Returns the transfer UUID; watch `transfer.state`.
    ///
    /// # Errors
    /// e.g. 13303812 (a transfer is already running), or any call error.
    pub async fn start_transfer(&self, uuid: &str) -> Result<String, OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}/transfers",
            super::path_segment(uuid)
        );
        let m = self
            .mutate(
                Method::POST,
                &path,
                Query::new().param("return_records", "true"),
                Some(&json!({})),
                CallMode::Immediate,
            )
            .await?;
        super::peers::record_uuid(&m).ok_or_else(|| self.missing_uuid(&format!("POST {path}")))
    }

    /// Transfers of relationship `uuid` (ongoing and recent).
    ///
    /// # Errors
    /// As for any call.
    pub async fn transfers(&self, uuid: &str) -> Result<Vec<Transfer>, OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}/transfers",
            super::path_segment(uuid)
        );
        self.get_collection(&path, &Query::new().fields(TRANSFER_FIELDS))
            .await
    }

    /// Aborts a transfer. A transfer that is already gone (ONTAP code `4`)
    /// counts as aborted: returns `false` then, `true` when it was aborted.
    ///
    /// # Errors
    /// Any call error other than not-found.
    pub async fn abort_transfer(
        &self,
        rel_uuid: &str,
        transfer_uuid: &str,
    ) -> Result<bool, OntapError> {
        let path = format!(
            "/api/snapmirror/relationships/{}/transfers/{}",
            super::path_segment(rel_uuid),
            super::path_segment(transfer_uuid)
        );
        match self
            .mutate(
                Method::PATCH,
                &path,
                Query::new(),
                Some(&json!({ "state": "aborted" })),
                CallMode::Immediate,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("4") => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The policy `name` as it applies to `svm`, from a policy list (pure): an
/// SVM-owned override first, then the system-wide policy (ONTAP's own lookup
/// order), then any policy of that name.
pub fn pick_policy<'a>(
    all: &'a [SnapmirrorPolicy],
    name: &str,
    svm: Option<&str>,
) -> Option<&'a SnapmirrorPolicy> {
    let named = || all.iter().filter(move |p| p.name.as_deref() == Some(name));
    let owner = |p: &SnapmirrorPolicy| p.svm.as_ref().and_then(|s| s.name.clone());
    svm.and_then(|svm| named().find(|p| owner(p).as_deref() == Some(svm)))
        .or_else(|| named().find(|p| owner(p).is_none()))
        .or_else(|| named().next())
}

#[cfg(test)]
mod pick_policy_tests {
    use super::*;

    fn policy(svm: Option<&str>, schedule: &str) -> SnapmirrorPolicy {
        let mut v = serde_json::json!({"name": "MirrorAllSnapshots",
            "transfer_schedule": {"name": schedule}});
        if let Some(s) = svm {
            v["svm"] = serde_json::json!({"name": s});
        }
        serde_json::from_value(v).expect("policy")
    }

    #[test]
    fn own_then_system_never_another_svms() {
        let all = [policy(None, "system"), policy(Some("other_svm"), "other")];
        let schedule = |p: Option<&SnapmirrorPolicy>| {
            p.and_then(|p| p.transfer_schedule.as_ref())
                .and_then(|s| s.name.clone())
        };
        // Another SVM's override never applies to svm1_dr.
        assert_eq!(
            schedule(pick_policy(&all, "MirrorAllSnapshots", Some("svm1_dr"))).as_deref(),
            Some("system")
        );
        let mut own = all.to_vec();
        own.push(policy(Some("svm1_dr"), "own"));
        assert_eq!(
            schedule(pick_policy(&own, "MirrorAllSnapshots", Some("svm1_dr"))).as_deref(),
            Some("own")
        );
        assert!(pick_policy(&all, "NoSuch", None).is_none());
    }
}
