//! Lab controls: fault injection, cluster and LIF outages, client writes,
//! state dumps and request counts, in process ([`Control`]) and over HTTP
//! under `/_sim/` on every cluster port (outside ONTAP's `/api` namespace,
//! no authentication).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::SimError;
use super::faults::{Fault, FaultKind, FaultSlot};
use super::mount::NfsClient;
use super::shared::Shared;
use super::world::{ExportRule, Lun, World, WriteRec, renumber};

/// The id of one simulated client write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct WriteId(pub u64);

/// What a volume holds: the writes it carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VolumeData {
    /// Writes in order.
    pub writes: Vec<WriteRec>,
}

impl VolumeData {
    /// The write ids.
    pub fn ids(&self) -> Vec<WriteId> {
        self.writes.iter().map(|w| WriteId(w.id)).collect()
    }
    /// Does the volume hold this write?
    pub fn contains(&self, id: WriteId) -> bool {
        self.writes.iter().any(|w| w.id == id.0)
    }
    /// Total bytes written.
    pub fn bytes(&self) -> u64 {
        self.writes.iter().map(|w| w.bytes).sum()
    }
}

/// In-process control of a running lab (cheap to clone).
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

impl Control {
    fn key(&self, cluster: &str) -> Option<String> {
        let w = self.shared.world();
        w.cluster(cluster).map(|c| c.key.clone())
    }

    /// Takes a cluster down (its API listener closes: connections are
    /// refused; its SVMs and LIFs stop serving; replication from or to it
    /// fails) or brings it back on the same port.
    pub fn set_cluster_down(&self, cluster: &str, down: bool) {
        let Some(key) = self.key(cluster) else {
            tracing::warn!(cluster, "set_cluster_down: no such cluster");
            return;
        };
        let port = {
            let mut w = self.shared.world();
            w.tick();
            match w.cluster_mut(&key) {
                Some(c) => {
                    c.down = down;
                    c.port
                }
                None => return,
            }
        };
        if down {
            self.shared.close_api(&key);
        } else if let Err(err) = self.shared.open_api(&key, port) {
            tracing::warn!(%err, cluster = key, port, "cannot reopen the cluster API port");
        }
        self.shared.sync();
    }

    /// Installs a fault on a cluster.
    pub fn inject_fault(&self, cluster: &str, fault: Fault) {
        let mut w = self.shared.world();
        if let Some(c) = w.cluster_mut(cluster) {
            c.faults.push(FaultSlot::new(fault));
        } else {
            tracing::warn!(cluster, "inject_fault: no such cluster");
        }
    }

    /// Removes every fault of a cluster.
    pub fn clear_faults(&self, cluster: &str) {
        if let Some(c) = self.shared.world().cluster_mut(cluster) {
            c.faults.clear();
        }
    }

    /// Takes a LIF (by name, on that cluster) operationally down or up.
    pub fn set_lif_down(&self, cluster: &str, lif: &str, down: bool) {
        self.try_set_lif_down(cluster, lif, down)
            .unwrap_or_else(|e| tracing::warn!(%e, "set_lif_down"));
    }

    /// Like [`Control::set_lif_down`], reporting an unknown cluster or LIF.
    ///
    /// # Errors
    /// [`SimError::NoCluster`], [`SimError::NoLif`].
    pub fn try_set_lif_down(&self, cluster: &str, lif: &str, down: bool) -> Result<(), SimError> {
        {
            let mut w = self.shared.world();
            let key = w
                .cluster(cluster)
                .map(|c| c.key.clone())
                .ok_or_else(|| SimError::NoCluster(cluster.into()))?;
            let mut found = false;
            for l in w
                .lifs
                .iter_mut()
                .filter(|l| l.cluster == key && l.name == lif)
            {
                l.sim_down = down;
                found = true;
            }
            if !found {
                return Err(SimError::NoLif {
                    cluster: key,
                    lif: lif.into(),
                });
            }
        }
        self.shared.sync();
        Ok(())
    }

    /// Records a client write of `bytes` to a volume.
    ///
    /// # Errors
    /// Unknown cluster, SVM or volume; cluster down; SVM not running (or a
    /// dp_destination); volume not `rw` or not online.
    pub fn write(
        &self,
        cluster: &str,
        svm: &str,
        volume: &str,
        bytes: u64,
    ) -> Result<WriteId, SimError> {
        let mut w = self.shared.world();
        w.tick();
        let c = w
            .cluster(cluster)
            .ok_or_else(|| SimError::NoCluster(cluster.into()))?;
        let key = c.key.clone();
        if c.down {
            return Err(SimError::ClusterDown(key));
        }
        let s = w.svm_by_name(&key, svm).ok_or_else(|| SimError::NoSvm {
            cluster: key.clone(),
            svm: svm.into(),
        })?;
        let refuse = |reason: String| SimError::NotWritable {
            cluster: key.clone(),
            svm: svm.into(),
            volume: volume.into(),
            reason,
        };
        if s.state != "running" {
            return Err(refuse(format!("SVM is {}", s.state)));
        }
        if s.subtype == "dp_destination" {
            return Err(refuse("SVM is a dp_destination (read-only replica)".into()));
        }
        let su = s.uuid.clone();
        let id = w.next_write;
        let v = w
            .volumes
            .iter_mut()
            .find(|v| v.svm == su && v.name == volume)
            .ok_or_else(|| SimError::NoVolume {
                cluster: key.clone(),
                svm: svm.into(),
                volume: volume.into(),
            })?;
        if v.vtype != "rw" {
            return Err(refuse(format!("volume type is {}", v.vtype)));
        }
        if v.state != "online" {
            return Err(refuse(format!("volume is {}", v.state)));
        }
        v.writes.push(WriteRec { id, bytes });
        w.next_write += 1;
        Ok(WriteId(id))
    }

    /// The writes a volume holds (`None` for an unknown volume).
    pub fn volume_data(&self, cluster: &str, svm: &str, volume: &str) -> Option<VolumeData> {
        let mut w = self.shared.world();
        w.tick();
        let key = w.cluster(cluster)?.key.clone();
        let su = w.svm_by_name(&key, svm)?.uuid.clone();
        w.volumes
            .iter()
            .find(|v| v.svm == su && v.name == volume)
            .map(|v| VolumeData {
                writes: v.writes.clone(),
            })
    }

    /// Replaces the rules of export policy `policy` of an SVM (creating the
    /// policy if missing). Rules are ONTAP REST rule records
    /// (`{"clients":[{"match":"192.0.2.0/24"}],"ro_rule":["sys"],"rw_rule":["sys"]}`);
    /// their `index` order is kept and renumbered 1..=n. Logs (and changes
    /// nothing) on an unknown cluster/SVM or an invalid rule; see
    /// [`Control::try_set_export_rules`].
    pub fn set_export_rules(&self, cluster: &str, svm: &str, policy: &str, rules: Vec<Value>) {
        self.try_set_export_rules(cluster, svm, policy, rules)
            .unwrap_or_else(|e| tracing::warn!(%e, "set_export_rules"));
    }

    /// Like [`Control::set_export_rules`], reporting what is wrong.
    ///
    /// # Errors
    /// [`SimError::NoCluster`], [`SimError::NoSvm`], [`SimError::BadExportRule`].
    pub fn try_set_export_rules(
        &self,
        cluster: &str,
        svm: &str,
        policy: &str,
        rules: Vec<Value>,
    ) -> Result<(), SimError> {
        let mut w = self.shared.world();
        let (key, su) = svm_key(&w, cluster, svm)?;
        let mut parsed = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let rule = ExportRule::from_value(r).map_err(|e| SimError::BadExportRule {
                cluster: key.clone(),
                svm: svm.into(),
                policy: policy.into(),
                rule: i + 1,
                reason: e.message.clone(),
            })?;
            parsed.push(rule);
        }
        parsed.sort_by_key(|r| if r.index == 0 { u64::MAX } else { r.index });
        renumber(&mut parsed);
        let i = w.ensure_export_policy(&key, &su, policy);
        w.export_policies[i].rules = parsed;
        Ok(())
    }

    /// Sets a volume's export policy (`nas.export_policy.name`), creating an
    /// empty policy of that name if the SVM has none. Logs on an unknown
    /// cluster, SVM or volume; see [`Control::try_set_volume_export_policy`].
    pub fn set_volume_export_policy(&self, cluster: &str, svm: &str, volume: &str, policy: &str) {
        self.try_set_volume_export_policy(cluster, svm, volume, policy)
            .unwrap_or_else(|e| tracing::warn!(%e, "set_volume_export_policy"));
    }

    /// Like [`Control::set_volume_export_policy`], reporting what is wrong.
    ///
    /// # Errors
    /// [`SimError::NoCluster`], [`SimError::NoSvm`], [`SimError::NoVolume`].
    pub fn try_set_volume_export_policy(
        &self,
        cluster: &str,
        svm: &str,
        volume: &str,
        policy: &str,
    ) -> Result<(), SimError> {
        let mut w = self.shared.world();
        let (key, su) = svm_key(&w, cluster, svm)?;
        let v = w
            .volumes
            .iter()
            .position(|v| v.svm == su && v.name == volume)
            .ok_or_else(|| SimError::NoVolume {
                cluster: key.clone(),
                svm: svm.into(),
                volume: volume.into(),
            })?;
        w.ensure_export_policy(&key, &su, policy);
        w.volumes[v].export_policy = policy.to_string();
        Ok(())
    }

    /// Renames a volume of an SVM (its LUN paths follow), as Trident's
    /// managed import does. `false` when the cluster, SVM or volume is
    /// unknown or `new` is taken.
    pub fn rename_volume(&self, cluster: &str, svm: &str, old: &str, new: &str) -> bool {
        let mut w = self.shared.world();
        let Ok((_, su)) = svm_key(&w, cluster, svm) else {
            return false;
        };
        let Some(uuid) = w
            .volumes
            .iter()
            .find(|v| v.svm == su && v.name == old)
            .map(|v| v.uuid.clone())
        else {
            return false;
        };
        w.rename_volume(&uuid, new).is_ok()
    }

    /// Creates a LUN `/vol/<volume>/<lun>` of `size` bytes (online) in an
    /// existing volume. `false` when the volume is unknown or the LUN exists.
    pub fn create_lun(&self, cluster: &str, svm: &str, volume: &str, lun: &str, size: u64) -> bool {
        let mut w = self.shared.world();
        let Ok((key, su)) = svm_key(&w, cluster, svm) else {
            return false;
        };
        let has_volume = w.volumes.iter().any(|v| v.svm == su && v.name == volume);
        let exists = w
            .luns
            .iter()
            .any(|l| l.svm == su && l.volume == volume && l.name == lun);
        if !has_volume || exists {
            return false;
        }
        w.luns.push(Lun::new(&key, &su, volume, lun, size));
        true
    }

    /// Sets a LUN's administrative state (`online` = true). `false` when
    /// the LUN is unknown.
    pub fn set_lun_online(
        &self,
        cluster: &str,
        svm: &str,
        volume: &str,
        lun: &str,
        online: bool,
    ) -> bool {
        let mut w = self.shared.world();
        let Ok((_, su)) = svm_key(&w, cluster, svm) else {
            return false;
        };
        let mut found = false;
        for l in w
            .luns
            .iter_mut()
            .filter(|l| l.svm == su && l.volume == volume && l.name == lun)
        {
            l.state = if online { "online" } else { "offline" }.into();
            found = true;
        }
        found
    }

    /// Would ONTAP let an NFS client at `client_ip` (host name `hostname`)
    /// mount a volume (read-write, or read-only)? Checks the SVM serves
    /// NFS, the volume is online and mounted, and the export policies of the
    /// SVM root volume (read) and of the volume (the access asked) admit
    /// the client (AUTH_SYS). See `sim/src/ontap/mount.rs` for the rules.
    ///
    /// # Errors
    /// [`SimError::NoCluster`], [`SimError::NoSvm`],
    /// [`SimError::MountRefused`] naming the policy and rule.
    pub fn nfs_mount_check(
        &self,
        cluster: &str,
        svm: &str,
        volume: &str,
        client_ip: &str,
        hostname: Option<&str>,
        read_write: bool,
    ) -> Result<(), SimError> {
        let mut w = self.shared.world();
        w.tick();
        let (key, su) = svm_key(&w, cluster, svm)?;
        let refuse = |reason: String| SimError::MountRefused {
            cluster: key.clone(),
            svm: svm.into(),
            volume: volume.into(),
            client: client_ip.into(),
            reason,
        };
        let ip = client_ip
            .trim()
            .parse()
            .map_err(|_| refuse(format!("{client_ip:?} is not an IP address")))?;
        let client = NfsClient {
            ip,
            hostname: hostname.map(str::to_string),
        };
        w.nfs_mount(&su, volume, &client, read_write)
            .map_err(refuse)
    }

    /// The state (`snapmirrored`, `broken_off`, ...) of the relationship
    /// whose destination is the SVM named `dst_svm`, as its destination
    /// cluster holds it.
    pub fn relationship_state(&self, dst_svm: &str) -> Option<String> {
        let mut w = self.shared.world();
        w.tick();
        w.relationships
            .iter()
            .find(|r| r.dst_present && w.svm_name(&r.dst_svm) == dst_svm)
            .map(|r| r.state.clone())
    }

    /// A JSON dump of the whole lab, for debugging and asserts.
    pub fn snapshot(&self) -> Value {
        let mut w = self.shared.world();
        w.tick();
        w.dump()
    }

    /// `/api` requests a cluster has served (0 for an unknown cluster).
    pub fn request_count(&self, cluster: &str) -> u64 {
        self.shared
            .world()
            .cluster(cluster)
            .map(|c| c.requests)
            .unwrap_or(0)
    }

    /// Per `"METHOD /api/path"` request counts of a cluster.
    pub fn request_counts(&self, cluster: &str) -> BTreeMap<String, u64> {
        self.shared
            .world()
            .cluster(cluster)
            .map(|c| c.per_path.clone())
            .unwrap_or_default()
    }
}

/// (cluster key, SVM uuid) of a cluster's SVM by name.
fn svm_key(w: &World, cluster: &str, svm: &str) -> Result<(String, String), SimError> {
    let key = w
        .cluster(cluster)
        .map(|c| c.key.clone())
        .ok_or_else(|| SimError::NoCluster(cluster.into()))?;
    let su = w
        .svm_by_name(&key, svm)
        .map(|s| s.uuid.clone())
        .ok_or_else(|| SimError::NoSvm {
            cluster: key.clone(),
            svm: svm.into(),
        })?;
    Ok((key, su))
}

fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn fail(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    reply(status, json!({"error": msg.to_string()}))
}

fn parse_fault(body: &Value) -> Result<Fault, String> {
    let method = match body.get("method").and_then(Value::as_str) {
        None => None,
        Some(m) => Some(
            Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|e| format!("method: {e}"))?,
        ),
    };
    let kind = match body.get("kind").and_then(Value::as_str).unwrap_or("") {
        "http500" => FaultKind::Http500,
        "delay" => FaultKind::Delay(Duration::from_millis(
            body.get("delay_ms")
                .and_then(Value::as_u64)
                .ok_or("delay needs delay_ms")?,
        )),
        "drop_connection" => FaultKind::DropConnection,
        "job_failure" => FaultKind::JobFailure {
            code: body
                .get("code")
                .and_then(Value::as_u64)
                .ok_or("job_failure needs a numeric code")?,
            message: body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("Injected job failure.")
                .to_string(),
        },
        other => {
            return Err(format!(
                "unknown kind {other:?}: use http500, delay, drop_connection or job_failure"
            ));
        }
    };
    Ok(Fault {
        method,
        path_contains: body
            .get("path_contains")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        kind,
        times: body
            .get("times")
            .and_then(Value::as_u64)
            .map(|n| n.min(u32::MAX as u64) as u32),
    })
}

/// Serves `/_sim/...` on a cluster port.
pub async fn http(shared: Arc<Shared>, here: &str, req: Request<Body>) -> Response {
    let ctl = Control { shared };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query: BTreeMap<String, String> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let bytes = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
        Ok(b) => b,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e),
    };
    let body: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return fail(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")),
        }
    };
    let cluster = body
        .get("cluster")
        .and_then(Value::as_str)
        .or(query.get("cluster").map(String::as_str))
        .unwrap_or(here)
        .to_string();
    if ctl.key(&cluster).is_none() {
        return fail(StatusCode::NOT_FOUND, SimError::NoCluster(cluster));
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).skip(1).collect();
    let down = body.get("down").and_then(Value::as_bool).unwrap_or(true);
    match (&method, segs.as_slice()) {
        (&Method::GET, ["state"]) => reply(StatusCode::OK, ctl.snapshot()),
        (&Method::GET, ["requests"]) => reply(
            StatusCode::OK,
            json!({"cluster": cluster, "total": ctl.request_count(&cluster), "per_path": ctl.request_counts(&cluster)}),
        ),
        (&Method::POST, ["faults"]) => match parse_fault(&body) {
            Ok(f) => {
                ctl.inject_fault(&cluster, f);
                reply(StatusCode::CREATED, json!({"cluster": cluster}))
            }
            Err(e) => fail(StatusCode::BAD_REQUEST, e),
        },
        (&Method::DELETE, ["faults"]) => {
            ctl.clear_faults(&cluster);
            reply(StatusCode::OK, json!({"cluster": cluster}))
        }
        (&Method::POST, ["down"]) => {
            ctl.set_cluster_down(&cluster, down);
            reply(StatusCode::OK, json!({"cluster": cluster, "down": down}))
        }
        (&Method::POST, ["lifs", lif, "down"]) => match ctl.try_set_lif_down(&cluster, lif, down) {
            Ok(()) => reply(
                StatusCode::OK,
                json!({"cluster": cluster, "lif": lif, "down": down}),
            ),
            Err(e) => fail(StatusCode::NOT_FOUND, e),
        },
        (&Method::POST, ["volumes", svm, vol, "writes"]) => {
            let Some(bytes) = body.get("bytes").and_then(Value::as_u64) else {
                return fail(StatusCode::BAD_REQUEST, "body needs {\"bytes\": N}");
            };
            match ctl.write(&cluster, svm, vol, bytes) {
                Ok(id) => reply(StatusCode::CREATED, json!({"id": id.0})),
                Err(e @ (SimError::NoSvm { .. } | SimError::NoVolume { .. })) => {
                    fail(StatusCode::NOT_FOUND, e)
                }
                Err(e) => fail(StatusCode::CONFLICT, e),
            }
        }
        (&Method::GET, ["volumes", svm, vol]) => match ctl.volume_data(&cluster, svm, vol) {
            Some(d) => reply(StatusCode::OK, json!(d)),
            None => fail(
                StatusCode::NOT_FOUND,
                format!("no volume {svm}:{vol} on {cluster}"),
            ),
        },
        _ => fail(
            StatusCode::NOT_FOUND,
            format!("no lab control {method} {path}"),
        ),
    }
}
