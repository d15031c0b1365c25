//! A kube client for the witness cluster from its own kubeconfig.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use svmdr::watch::LeaseWitness;

use crate::cli::WitnessArgs;

/// The Lease witness the flags name, each call bounded by `timeout`.
///
/// # Errors
/// The kubeconfig cannot be read or has no such context.
pub async fn lease_witness(args: &WitnessArgs, timeout: Duration) -> anyhow::Result<LeaseWitness> {
    let path = &args.witness_kubeconfig;
    let kubeconfig = Kubeconfig::read_from(path)
        .map_err(|e| anyhow::anyhow!("witness kubeconfig {}: {e}", path.display()))?;
    let options = KubeConfigOptions {
        context: args.witness_context.clone(),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| anyhow::anyhow!("witness kubeconfig {}: {e}", path.display()))?;
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
    let client = kube::Client::try_from(config)?;
    Ok(LeaseWitness::new(
        client,
        &args.witness_namespace,
        &args.witness_lease,
    ))
}
