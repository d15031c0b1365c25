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

    static_libgcc(&out)?;
    println!("cargo:rerun-if-changed=../proto/velero");
    Ok(())
}

/// Links the unwinder (libgcc_eh) into the plugin binary instead of loading
/// libgcc_s.so.1 at start: on glibc targets std asks for `-lgcc_s`, and that
/// library's loading and constructor (CPU feature probing with cpuid, a trap
/// under virtualization) cost about 0.15 ms of every plugin start, which
/// Velero pays for each plugin process. A directory searched first holds a
/// `libgcc_s.so` linker script that names the static unwinder; GNU ld applies
/// every `-L` to every `-l`, so `-lgcc_s` resolves to it. Unwinding (and so
/// catch_unwind of a panicking Execute) works the same with the static
/// unwinder. Only for glibc Linux targets, only for the binary.
fn static_libgcc(out: &std::path::Path) -> std::io::Result<()> {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .unwrap_or_default()
        .split(',')
        .any(|f| f == "crt-static");
    if os != "linux" || env != "gnu" || crt_static {
        return Ok(());
    }
    let dir = out.join("static-libgcc");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("libgcc_s.so"), "INPUT(-lgcc_eh)\n")?;
    println!("cargo:rustc-link-arg-bins=-L{}", dir.display());
    Ok(())
}
