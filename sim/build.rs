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
    // Heptio Ark v0.10 reuses package `generated` with other messages: its own
    // directory and Rust module.
    let ark_out = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("ark");
    std::fs::create_dir_all(&ark_out)?;
    let mut ark_config = prost_build::Config::new();
    ark_config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .out_dir(&ark_out)
        .compile_with_config(
            ark_config,
            &[root.join("ark/ArkRestoreItemAction.proto")],
            &[root.join("ark"), protoc_bin_vendored::include_path()?],
        )?;
    println!("cargo:rerun-if-changed=../proto/velero");
    Ok(())
}
