//! The gRPC face of the action: `generated.RestoreItemAction` (Velero v1)
//! and, when started by Heptio Ark v0.10, Ark's variant of the same service.
//!
//! Name routing and panic isolation live here: an unknown plugin name is an
//! error like Velero's own, and a panic anywhere in the action becomes a gRPC
//! `Aborted` error for that item instead of killing the process (which would
//! fail every remaining item of the restore).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt as _;
use tonic::{Request, Response, Status};

use crate::action::{Actions, ExecuteInput};
use crate::lister::{KIND_RESTORE_ITEM_ACTION, PLUGIN_NAME};
use crate::proto::{ark, generated};

/// Resources the action applies to (Velero resolves these through discovery).
pub const APPLIES_TO: &[&str] = &["persistentvolumes", "persistentvolumeclaims"];

/// Serves RestoreItemAction for every registered name.
#[derive(Clone)]
pub struct RestoreItemActionService {
    actions: Arc<Actions>,
}

impl RestoreItemActionService {
    /// Wraps the action engine.
    pub fn new(actions: Arc<Actions>) -> Self {
        Self { actions }
    }

    fn check_name(name: &str) -> Result<(), Status> {
        if name == PLUGIN_NAME {
            Ok(())
        } else {
            Err(Status::unknown(format!(
                "{KIND_RESTORE_ITEM_ACTION} plugin: {name} was not found or has an invalid name format \
                 (this binary serves {PLUGIN_NAME})"
            )))
        }
    }

    /// Runs Execute with panics turned into `Aborted`.
    async fn run(&self, input: ExecuteInput) -> Result<Vec<u8>, Status> {
        let actions = self.actions.clone();
        match AssertUnwindSafe(actions.execute(input))
            .catch_unwind()
            .await
        {
            Ok(Ok(item)) => Ok(item),
            Ok(Err(e)) => Err(Status::unknown(e.to_string())),
            Err(panic) => {
                let msg = crate::logging::panic_message(panic.as_ref());
                tracing::error!(panic = %msg, "recovered from a panic in Execute");
                Err(Status::aborted(format!(
                    "{PLUGIN_NAME}: internal error (panic: {msg}); the item was not restored; \
                     this is a bug in velero-plugin-svmdr, please report it with the restore log"
                )))
            }
        }
    }

    fn selector() -> generated::ResourceSelector {
        generated::ResourceSelector {
            included_resources: APPLIES_TO.iter().map(|s| (*s).to_string()).collect(),
            ..Default::default()
        }
    }
}

#[tonic::async_trait]
impl generated::restore_item_action_server::RestoreItemAction for RestoreItemActionService {
    async fn applies_to(
        &self,
        req: Request<generated::RestoreItemActionAppliesToRequest>,
    ) -> Result<Response<generated::RestoreItemActionAppliesToResponse>, Status> {
        Self::check_name(&req.get_ref().plugin)?;
        Ok(Response::new(
            generated::RestoreItemActionAppliesToResponse {
                resource_selector: Some(Self::selector()),
            },
        ))
    }

    async fn execute(
        &self,
        req: Request<generated::RestoreItemActionExecuteRequest>,
    ) -> Result<Response<generated::RestoreItemActionExecuteResponse>, Status> {
        let r = req.into_inner();
        Self::check_name(&r.plugin)?;
        let item = self
            .run(ExecuteInput {
                item: r.item,
                restore: r.restore,
                item_from_backup: r.item_from_backup,
            })
            .await?;
        Ok(Response::new(generated::RestoreItemActionExecuteResponse {
            item,
            additional_items: Vec::new(),
            skip_restore: false,
        }))
    }
}

#[tonic::async_trait]
impl ark::restore_item_action_server::RestoreItemAction for RestoreItemActionService {
    async fn applies_to(
        &self,
        req: Request<ark::AppliesToRequest>,
    ) -> Result<Response<ark::AppliesToResponse>, Status> {
        Self::check_name(&req.get_ref().plugin)?;
        let s = Self::selector();
        Ok(Response::new(ark::AppliesToResponse {
            included_namespaces: s.included_namespaces,
            excluded_namespaces: s.excluded_namespaces,
            included_resources: s.included_resources,
            excluded_resources: s.excluded_resources,
            selector: s.selector,
        }))
    }

    async fn execute(
        &self,
        req: Request<ark::RestoreExecuteRequest>,
    ) -> Result<Response<ark::RestoreExecuteResponse>, Status> {
        let r = req.into_inner();
        Self::check_name(&r.plugin)?;
        let item = self
            .run(ExecuteInput {
                item: r.item,
                restore: r.restore,
                item_from_backup: Vec::new(),
            })
            .await?;
        Ok(Response::new(ark::RestoreExecuteResponse {
            item,
            warning: String::new(),
        }))
    }
}
