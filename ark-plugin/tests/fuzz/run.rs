//! Running a target: the isolated child process, the seeded case loop with
//! panics caught and counted, and the report.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::process::{Command, Stdio};
use std::time::Instant;

use proptest::strategy::{Strategy as _, ValueTree as _};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::targets::{Harness, Target};

/// Set in the child process that runs the cases.
const CHILD: &str = "SVMDR_FUZZ_CHILD";
/// The seed unless `SVMDR_FUZZ_SEED` is set.
const SEED: u64 = 0x005e_ed13;
/// Failing inputs printed per target.
const SHOWN: usize = 5;

/// What one target's run found.
pub struct Report {
    target: Target,
    seed: u64,
    cases: u64,
    panics: u64,
    violations: u64,
    outcomes: BTreeMap<&'static str, u64>,
    examples: Vec<String>,
    secs: f64,
}

/// Runs `body` in a child process of this test binary (running only the
/// test `name`) without Kubernetes configuration; in that child, runs it.
pub fn isolated(name: &str, live: bool, body: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        std::panic::set_hook(Box::new(|info| {
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
        }));
        body();
        return;
    }
    let home = tempfile::tempdir().expect("a temporary HOME for the fuzz child");
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe);
    child
        .args([
            name,
            "--exact",
            "--nocapture",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT");
    let success = if live {
        child
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .expect("running the fuzz child")
            .success()
    } else {
        let out = child.output().expect("running the fuzz child");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        out.status.success()
    };
    assert!(success, "fuzz {name}: failed (see the output above)");
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn seed() -> u64 {
    std::env::var("SVMDR_FUZZ_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(SEED)
}

/// Runs `cases` generated inputs through `target`, catching panics.
pub fn fuzz(target: Target, cases: u64) -> Report {
    let seed = seed();
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8] = target as u8;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    let strategy = target.strategy();
    let harness = Harness::new();
    let mut report = Report {
        target,
        seed,
        cases: 0,
        panics: 0,
        violations: 0,
        outcomes: BTreeMap::new(),
        examples: Vec::new(),
        secs: 0.0,
    };
    let started = Instant::now();
    for _ in 0..cases {
        let input = match strategy.new_tree(&mut runner) {
            Ok(tree) => tree.current(),
            Err(e) => panic!("fuzz {target:?}: the generator failed: {e}"),
        };
        report.cases += 1;
        match std::panic::catch_unwind(AssertUnwindSafe(|| harness.check(&input))) {
            Ok(Ok(outcome)) => *report.outcomes.entry(outcome).or_default() += 1,
            Ok(Err(violation)) => {
                report.violations += 1;
                report.example(format!("{violation}\n    input: {}", input.describe()));
            }
            Err(_) => {
                report.panics += 1;
                let msg = LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_default();
                report.example(format!("panic: {msg}\n    input: {}", input.describe()));
            }
        }
    }
    report.secs = started.elapsed().as_secs_f64();
    println!("{report}");
    report
}

/// Fails when any report found a panic or a broken contract.
pub fn check(reports: &[Report]) {
    let cases: u64 = reports.iter().map(|r| r.cases).sum();
    let panics: u64 = reports.iter().map(|r| r.panics).sum();
    let violations: u64 = reports.iter().map(|r| r.violations).sum();
    println!("fuzz total: {cases} cases, {panics} panics, {violations} contract violations");
    assert!(
        panics == 0 && violations == 0,
        "fuzz: {panics} panics and {violations} contract violations in {cases} cases (inputs above)"
    );
}

impl Report {
    fn example(&mut self, text: String) {
        if self.examples.len() < SHOWN {
            self.examples.push(text);
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fuzz {:?}: {} cases (seed {}), {} panics, {} contract violations, {:.1} s; outcomes:",
            self.target, self.cases, self.seed, self.panics, self.violations, self.secs
        )?;
        for (outcome, n) in &self.outcomes {
            write!(f, " {outcome} {n};")?;
        }
        for e in &self.examples {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}
