//! The witness: a third place that the primary's heartbeat renews and the
//! watcher reads. It is pluggable ([`Witness`]); the one shipped is a
//! Kubernetes `Lease` (coordination.k8s.io/v1) in a third cluster
//! ([`LeaseWitness`]), reached through its own kubeconfig.
//!
//! The heartbeat writes `spec.holderIdentity`, `spec.renewTime` and
//! `spec.leaseDurationSeconds`; the watcher reads `renewTime` only to see
//! that it changed (see [`super::history`]), never to compare clocks.

use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};

use super::view::{WitnessReading, WitnessView};

/// Why a renewal failed.
#[derive(Debug, thiserror::Error)]
#[error("witness Lease {namespace}/{name}: {what}: {source}")]
pub struct WitnessError {
    /// The Lease's namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// What was being done.
    pub what: &'static str,
    /// The API's error.
    #[source]
    pub source: kube::Error,
}

/// A place the heartbeat renews and the watcher reads.
pub trait Witness: Send + Sync {
    /// Where it is, for messages (`Lease svmdr-witness/svmdr-primary`).
    fn describe(&self) -> String;
    /// Renews the heartbeat as `holder`, valid for `duration`.
    fn renew<'a>(
        &'a self,
        holder: &'a str,
        duration: Duration,
    ) -> BoxFuture<'a, Result<(), WitnessError>>;
    /// Reads the heartbeat, bounded by `timeout` (no answer in time is
    /// [`WitnessView::Unreachable`]).
    fn read(&self, timeout: Duration) -> BoxFuture<'_, WitnessView>;
}

/// The witness as a Lease in a Kubernetes API.
#[derive(Clone)]
pub struct LeaseWitness {
    api: Api<Lease>,
    namespace: String,
    name: String,
}

/// The heartbeat Lease's default name.
pub const DEFAULT_LEASE: &str = "svmdr-primary-heartbeat";

impl LeaseWitness {
    /// The Lease `name` in `namespace`, through `client`.
    pub fn new(client: kube::Client, namespace: &str, name: &str) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn error(&self, what: &'static str, source: kube::Error) -> WitnessError {
        WitnessError {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            what,
            source,
        }
    }
}

impl Witness for LeaseWitness {
    fn describe(&self) -> String {
        format!("Lease {}/{}", self.namespace, self.name)
    }

    fn renew<'a>(
        &'a self,
        holder: &'a str,
        duration: Duration,
    ) -> BoxFuture<'a, Result<(), WitnessError>> {
        Box::pin(async move {
            let spec = LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
                lease_duration_seconds: Some(i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)),
                ..LeaseSpec::default()
            };
            let patch = serde_json::json!({ "spec": spec });
            match self
                .api
                .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    let lease = Lease {
                        metadata: ObjectMeta {
                            name: Some(self.name.clone()),
                            namespace: Some(self.namespace.clone()),
                            ..ObjectMeta::default()
                        },
                        spec: Some(spec),
                    };
                    self.api
                        .create(&PostParams::default(), &lease)
                        .await
                        .map(drop)
                        .map_err(|e| self.error("create", e))
                }
                Err(e) => Err(self.error("renew", e)),
            }
        })
    }

    fn read(&self, timeout: Duration) -> BoxFuture<'_, WitnessView> {
        Box::pin(async move {
            match tokio::time::timeout(timeout, self.api.get_opt(&self.name)).await {
                Err(_) => WitnessView::Unreachable {
                    error: format!(
                        "{}: no answer within {}",
                        self.describe(),
                        humantime::format_duration(timeout)
                    ),
                },
                Ok(Err(e)) => WitnessView::Unreachable {
                    error: format!("{}: {}", self.describe(), crate::error_chain::render(&e)),
                },
                Ok(Ok(None)) => WitnessView::Missing,
                Ok(Ok(Some(lease))) => {
                    let spec = lease.spec.unwrap_or_default();
                    match spec.renew_time {
                        None => WitnessView::Missing,
                        Some(t) => WitnessView::Read(WitnessReading {
                            holder: spec.holder_identity,
                            renew_marker: t.0.to_string(),
                        }),
                    }
                }
            }
        })
    }
}
