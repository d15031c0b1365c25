//! The long waits stay spawnable: their futures are `Send`, so a
//! long-running process can run them on tokio's multi-threaded runtime.
//! (Waits written as `poll_until` with a borrowing async closure are not;
//! these run on `svmdr::poll::Poller`.) Checked when this file compiles.

use std::time::Duration;

use svmdr::ontap::OntapClient;
use svmdr::peering::PeerRequest;
use svmdr::plan::{EngineOptions, Plan, Sites, Storage, execute};
use svmdr::report::Reporter;

fn is_send<T: Send>(_: &T) {}

#[allow(dead_code)]
fn plan_run<S: Storage>(plan: &Plan, sites: &Sites<S>, opts: &EngineOptions, r: &dyn Reporter) {
    is_send(&execute(plan, sites, opts, r));
}

#[allow(dead_code)]
fn peering_run(c: &OntapClient, req: &PeerRequest, r: &dyn Reporter) {
    is_send(&svmdr::peering::run(c, c, req, false, r));
}

#[allow(dead_code)]
fn relationship_wait(c: &OntapClient) {
    is_send(&c.wait_relationship("uuid", |_| true, Duration::ZERO, Duration::ZERO, |_| {}));
}

#[test]
fn plan_runs_peering_and_relationship_waits_are_send() {
    // The assertions are the functions above: this file compiles only when
    // the three futures are `Send`.
}
