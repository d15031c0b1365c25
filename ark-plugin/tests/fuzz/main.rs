//! Fuzz harness for everything the plugin parses from Velero: the item (the
//! PV or PVC to restore), the item from the backup, the Restore, and the
//! plugin ConfigMap. Inputs are generated with proptest from a fixed seed:
//! objects shaped like the real ones whose fields may have any type, odd
//! strings and numbers, deep nesting, raw bytes, and serialized objects with
//! bytes cut, flipped or inserted (see `inputs.rs` and `shapes.rs`).
//!
//! `cargo test` runs a short pass of each target. The long run, split evenly
//! over the four targets:
//!
//! ```text
//! SVMDR_FUZZ_CASES=1000000 cargo test --release -p ark-plugin --test fuzz -- --ignored --nocapture
//! ```
//!
//! `SVMDR_FUZZ_SEED=<n>` picks another seed. Each target runs in a child
//! process with no Kubernetes configuration, so a Trident PV or PVC goes
//! through all the parsing before the plugin's first Kubernetes call, which
//! then fails with a setup error: no network call is made, whatever the
//! machine's kubeconfig. A panic, or an answer that breaks the action's
//! contract, fails the test and is printed with its input.

mod inputs;
mod run;
mod shapes;
mod targets;

use targets::Target;

/// Cases per target in the normal test suite (a few seconds in all).
const SHORT: u64 = 250;

#[test]
fn item() {
    run::isolated("item", false, || {
        run::check(&[run::fuzz(Target::Item, SHORT)])
    });
}

#[test]
fn item_from_backup() {
    run::isolated("item_from_backup", false, || {
        run::check(&[run::fuzz(Target::ItemFromBackup, SHORT)]);
    });
}

#[test]
fn restore() {
    run::isolated("restore", false, || {
        run::check(&[run::fuzz(Target::Restore, SHORT)])
    });
}

#[test]
fn configmap() {
    run::isolated("configmap", false, || {
        run::check(&[run::fuzz(Target::ConfigMap, SHORT)]);
    });
}

#[test]
#[ignore = "long run: SVMDR_FUZZ_CASES=1000000 cargo test --release -p ark-plugin --test fuzz -- --ignored --nocapture"]
fn long() {
    run::isolated("long", true, || {
        let total: u64 = std::env::var("SVMDR_FUZZ_CASES")
            .ok()
            .and_then(|v| v.trim().replace('_', "").parse().ok())
            .unwrap_or(1_000_000);
        let each = total.div_ceil(Target::ALL.len() as u64);
        let reports: Vec<_> = Target::ALL.iter().map(|t| run::fuzz(*t, each)).collect();
        run::check(&reports);
    });
}
