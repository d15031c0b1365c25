//! Generates the gRPC server code for Velero's plugin protos (workspace
//! `proto/velero`) with a vendored protoc, so no system protoc is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto/velero");
    let wkt = protoc_bin_vendored::include_path()?;
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);

    let config = || {
        let mut c = prost_build::Config::new();
        c.protoc_executable(&protoc);
        c
    };

    // Velero >= 1.0 (package `generated`, and go-plugin's package `plugin`).
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .compile_with_config(
            config(),
            &[
                root.join("Shared.proto"),
                root.join("PluginLister.proto"),
                root.join("RestoreItemAction.proto"),
                root.join("goplugin/plugin.proto"),
            ],
            &[root.clone(), wkt.clone()],
        )?;

    // Heptio Ark v0.10 reuses package `generated` with other messages, so it
    // goes to its own directory and Rust module.
    let ark_out = out.join("ark");
    std::fs::create_dir_all(&ark_out)?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(&ark_out)
        .compile_with_config(
            config(),
            &[root.join("ark/ArkRestoreItemAction.proto")],
            &[root.join("ark"), wkt],
        )?;

    println!("cargo:rerun-if-changed=../proto/velero");
    Ok(())
}
