//! Generates the gRPC client code for Velero's plugin protos (workspace
//! `proto/velero`), used by `sim::velero`'s plugin host, with a vendored
//! protoc so no system protoc is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto/velero");
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .compile_with_config(
            config,
            &[
                root.join("Shared.proto"),
                root.join("PluginLister.proto"),
                root.join("RestoreItemAction.proto"),
                root.join("restoreitemaction/v2/RestoreItemAction.proto"),
                root.join("goplugin/plugin.proto"),
            ],
            &[root.clone(), protoc_bin_vendored::include_path()?],
        )?;
    println!("cargo:rerun-if-changed=../proto/velero");
    Ok(())
}
