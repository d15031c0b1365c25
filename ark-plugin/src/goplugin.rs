//! go-plugin's internal services: `GRPCController` (Shutdown), `GRPCStdio`
//! (an empty stream held open) and `GRPCBroker` (accepted, never used).
//! All of them end when the plugin shuts down, so a graceful shutdown never
//! waits on a stream the host keeps open.

use std::pin::Pin;

use futures::Stream;
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::plugin::{
    ConnInfo, Empty, StdioData, grpc_broker_server::GrpcBroker,
    grpc_controller_server::GrpcController, grpc_stdio_server::GrpcStdio,
};

/// Fires once when the plugin should stop serving.
#[derive(Clone)]
pub struct ShutdownSignal {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl ShutdownSignal {
    /// A signal that has not fired.
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self {
            tx: std::sync::Arc::new(tx),
            rx,
        }
    }

    /// Fires the signal (idempotent).
    pub fn fire(&self) {
        self.tx.send_replace(true);
    }

    /// Resolves once the signal has fired.
    pub async fn fired(&self) {
        let mut rx = self.rx.clone();
        // An error means the sender is gone, which only happens at exit.
        let _ = rx.wait_for(|v| *v).await;
    }
}

impl Default for ShutdownSignal {
    fn default() -> Self {
        Self::new()
    }
}

/// `plugin.GRPCController`: the host's `Kill()` calls Shutdown, then waits
/// 2 s before SIGKILL; we answer and stop serving at once.
pub struct Controller {
    pub shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _req: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the plugin host");
        self.shutdown.fire();
        Ok(Response::new(Empty {}))
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// `plugin.GRPCStdio`: the plugin never writes to stdout/stderr through it
/// (logs go to real stderr), so the stream stays empty until shutdown.
pub struct Stdio {
    pub shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<StdioData>;

    async fn stream_stdio(
        &self,
        _req: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let shutdown = self.shutdown.clone();
        let s = futures::stream::once(async move { shutdown.fired().await })
            .filter_map(|()| async { None });
        Ok(Response::new(Box::pin(s)))
    }
}

/// `plugin.GRPCBroker`: Velero never brokers extra connections. The stream is
/// accepted and drained, and ends when the host closes it or at shutdown.
pub struct Broker {
    pub shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = BoxStream<ConnInfo>;

    async fn start_stream(
        &self,
        req: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut inbound = req.into_inner();
        let shutdown = self.shutdown.clone();
        let s = futures::stream::once(async move {
            tokio::select! {
                () = shutdown.fired() => {}
                () = async { while let Ok(Some(_)) = inbound.message().await {} } => {}
            }
        })
        .filter_map(|()| async { None });
        Ok(Response::new(Box::pin(s)))
    }
}

use futures::StreamExt as _;
