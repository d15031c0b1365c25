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

use crate::action::{ActionError, Actions, ExecuteInput, ExecuteOutput};
use crate::lister::{KIND_RESTORE_ITEM_ACTION, PLUGIN_NAME};
use crate::proto::{ark, generated};

/// Set in the environment of a debug build, every Execute panics: a drill
/// proving, on the binary as built, that a panic becomes an `Aborted` item
/// error and the process keeps serving. Release builds (the shipped plugin)
/// do not contain the drill and never read the variable.
pub const PANIC_DRILL_ENV: &str = "SVMDR_PLUGIN_PANIC_DRILL";

/// Whether this build contains the panic drill (debug builds only).
pub const PANIC_DRILL_BUILT_IN: bool = cfg!(debug_assertions);

/// The drill is on: a debug build with [`PANIC_DRILL_ENV`] set.
#[cfg(debug_assertions)]
fn panic_drill() -> bool {
    static SET: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| std::env::var_os(PANIC_DRILL_ENV).is_some());
    *SET
}

/// Resources the action applies to (Velero resolves these through discovery).
pub const APPLIES_TO: &[&str] = &["persistentvolumes", "persistentvolumeclaims"];

/// What the service runs for each Execute (the real [`Actions`], or a
/// stand-in in tests).
pub trait ItemAction: Send + Sync + 'static {
    /// Returns the item to create, or why not.
    fn execute(
        &self,
        input: ExecuteInput,
    ) -> impl Future<Output = Result<ExecuteOutput, ActionError>> + Send;
}

impl ItemAction for Actions {
    fn execute(
        &self,
        input: ExecuteInput,
    ) -> impl Future<Output = Result<ExecuteOutput, ActionError>> + Send {
        Actions::execute(self, input)
    }
}

/// Serves RestoreItemAction for every registered name.
pub struct RestoreItemActionService<A = Actions> {
    actions: Arc<A>,
}

impl<A> Clone for RestoreItemActionService<A> {
    fn clone(&self) -> Self {
        Self {
            actions: self.actions.clone(),
        }
    }
}

impl<A: ItemAction> RestoreItemActionService<A> {
    /// Wraps the action engine.
    pub fn new(actions: Arc<A>) -> Self {
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
    async fn run(&self, input: ExecuteInput) -> Result<ExecuteOutput, Status> {
        let actions = self.actions.clone();
        let execute = async move {
            #[cfg(debug_assertions)]
            if panic_drill() {
                panic!("{PANIC_DRILL_ENV} is set: a deliberate panic in Execute");
            }
            actions.execute(input).await
        };
        match AssertUnwindSafe(execute).catch_unwind().await {
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
impl<A: ItemAction> generated::restore_item_action_server::RestoreItemAction
    for RestoreItemActionService<A>
{
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
        let out = self
            .run(ExecuteInput {
                item: r.item,
                restore: r.restore,
                item_from_backup: r.item_from_backup,
            })
            .await?;
        Ok(Response::new(generated::RestoreItemActionExecuteResponse {
            item: out.item,
            additional_items: Vec::new(),
            skip_restore: out.skip_restore,
        }))
    }
}

#[tonic::async_trait]
impl<A: ItemAction> ark::restore_item_action_server::RestoreItemAction
    for RestoreItemActionService<A>
{
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
        let out = self
            .run(ExecuteInput {
                item: r.item,
                restore: r.restore,
                item_from_backup: Vec::new(),
            })
            .await?;
        // Ark's protocol cannot skip an item: it is created as it came.
        let warning = if out.skip_restore {
            format!(
                "{PLUGIN_NAME}: this Trident CSI PersistentVolume should not be restored as-is \
                 (it cannot attach without a TridentVolume); Ark cannot skip items, delete it \
                 and let its PVC import the volume"
            )
        } else {
            String::new()
        };
        Ok(Response::new(ark::RestoreExecuteResponse {
            item: out.item,
            warning,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generated::restore_item_action_server::RestoreItemAction as _;

    struct Panics;
    impl ItemAction for Panics {
        #[allow(clippy::manual_async_fn)]
        fn execute(
            &self,
            _input: ExecuteInput,
        ) -> impl Future<Output = Result<ExecuteOutput, ActionError>> + Send {
            async { panic!("boom in the action") }
        }
    }

    fn request(plugin: &str) -> Request<generated::RestoreItemActionExecuteRequest> {
        Request::new(generated::RestoreItemActionExecuteRequest {
            plugin: plugin.into(),
            item: br#"{"kind":"ConfigMap"}"#.to_vec(),
            restore: Vec::new(),
            item_from_backup: Vec::new(),
        })
    }

    #[tokio::test]
    async fn a_panic_becomes_aborted_and_the_service_keeps_serving() {
        let svc = RestoreItemActionService::new(Arc::new(Panics));
        let e = svc.execute(request(PLUGIN_NAME)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Aborted);
        assert!(
            e.message().contains("boom in the action"),
            "{}",
            e.message()
        );
        let e = svc.execute(request(PLUGIN_NAME)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Aborted);
    }

    #[tokio::test]
    async fn unknown_names_are_refused_like_velero() {
        let svc = RestoreItemActionService::new(Arc::new(Panics));
        let e = svc.execute(request("example.io/other")).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unknown);
        assert!(
            e.message().contains("example.io/other was not found"),
            "{}",
            e.message()
        );
    }
}
