//! Leases as a real leader-election client uses them: two
//! `kube_lease_manager::LeaseManager`s (create, get, server-side apply to
//! take an orphaned lease, strategic merge patches to renew and release)
//! on one Lease, and a heartbeat renewing a Lease with a plain patch, as
//! the DR watcher's replicas and the primary's witness heartbeat will.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use serde_json::json;
use sim::kube::KubeSim;
use tokio::sync::watch::Receiver;
use tokio::task::JoinHandle;

use super::common::{client, within};

const NS: &str = "svmdr-system";
const LEASE: &str = "svmdr-watcher";

type Watch = (
    Receiver<bool>,
    JoinHandle<kube_lease_manager::Result<LeaseManager>>,
);

/// A manager for `identity` on the test Lease (2 s, renewed 1 s before
/// expiry), watching.
async fn replica(sim: &KubeSim, identity: &str) -> Watch {
    let m = LeaseManagerBuilder::new(client(sim), LEASE)
        .with_namespace(NS)
        .with_identity(identity)
        .with_duration(2)
        .with_grace(1)
        .build()
        .await
        .expect("the manager gets or creates its Lease");
    m.watch().await
}

/// A cluster with namespace [`NS`].
async fn cluster(name: &str) -> KubeSim {
    let sim = KubeSim::start(name).await.unwrap();
    sim.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        .unwrap();
    sim
}

async fn holder(sim: &KubeSim) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client(sim), NS);
    leases.get(LEASE).await.unwrap().spec?.holder_identity
}

/// Waits until `rx` says `leader`.
async fn until(rx: &mut Receiver<bool>, leader: bool) {
    within("the leadership change", rx.wait_for(|l| *l == leader))
        .await
        .expect("the manager's task is running");
}

/// Samples both replicas for `d`: never two leaders at once; returns
/// which was leader at the end.
async fn single_leader_for(d: Duration, a: &Receiver<bool>, b: &Receiver<bool>) -> [bool; 2] {
    let t0 = tokio::time::Instant::now();
    loop {
        let now = [*a.borrow(), *b.borrow()];
        assert!(!(now[0] && now[1]), "two leaders at once");
        if t0.elapsed() >= d {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_replicas_elect_one_leader_and_hand_over_on_release() {
    let sim = cluster("dr").await;
    let (mut a, ha) = replica(&sim, "watcher-a").await;
    let (mut b, hb) = replica(&sim, "watcher-b").await;
    within("a leader", async {
        while !(*a.borrow() || *b.borrow()) {
            tokio::select! { _ = a.changed() => {}, _ = b.changed() => {} }
        }
    })
    .await;
    // Several renewals (every ~1 s) and the other replica's attempts.
    let now = single_leader_for(Duration::from_secs(4), &a, &b).await;
    assert!(now[0] ^ now[1], "exactly one leader: {now:?}");
    let ((leader, lh), (mut follower, fh), ids) = if now[0] {
        ((a, ha), (b, hb), ["watcher-a", "watcher-b"])
    } else {
        ((b, hb), (a, ha), ["watcher-b", "watcher-a"])
    };
    assert_eq!(holder(&sim).await.as_deref(), Some(ids[0]));

    // Dropping its receiver makes the leader release the Lease and stop.
    drop(leader);
    within("the release", lh).await.unwrap().unwrap();
    until(&mut follower, true).await;
    assert_eq!(holder(&sim).await.as_deref(), Some(ids[1]));
    let leases: Api<Lease> = Api::namespaced(client(&sim), NS);
    let spec = leases.get(LEASE).await.unwrap().spec.unwrap();
    assert_eq!(spec.lease_transitions, Some(2), "{spec:?}");
    assert_eq!(spec.lease_duration_seconds, Some(2));
    assert!(spec.acquire_time.is_some() && spec.renew_time.is_some());
    drop(follower);
    within("the second release", fh).await.unwrap().unwrap();
    assert_eq!(holder(&sim).await, None);
}

#[tokio::test]
async fn a_dead_leaders_lease_expires_and_the_other_takes_over() {
    let sim = cluster("dr").await;
    let (mut a, ha) = replica(&sim, "watcher-a").await;
    until(&mut a, true).await;
    let (mut b, hb) = replica(&sim, "watcher-b").await;
    let now = single_leader_for(Duration::from_millis(2500), &a, &b).await;
    assert_eq!(now, [true, false], "the first holder keeps renewing");

    // The leader's process dies: no release, its renewals stop.
    ha.abort();
    let t0 = tokio::time::Instant::now();
    until(&mut b, true).await;
    assert!(
        t0.elapsed() >= Duration::from_millis(500),
        "taken over before the lease could expire ({:?})",
        t0.elapsed()
    );
    assert_eq!(holder(&sim).await.as_deref(), Some("watcher-b"));
    drop(b);
    within("the release", hb).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_heartbeat_patch_renews_the_lease() {
    let sim = cluster("witness").await;
    let leases: Api<Lease> = Api::namespaced(client(&sim), NS);
    let pp = PatchParams::apply("svmdr-heartbeat");
    let first = "2026-12-07T15:00:00.000000Z";
    let body = |renew: &str| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "primary-heartbeat"},
            "spec": {"holderIdentity": "primary", "leaseDurationSeconds": 10,
                "acquireTime": first, "renewTime": renew}})
    };
    within(
        "create",
        leases.patch("primary-heartbeat", &pp, &Patch::Apply(body(first))),
    )
    .await
    .unwrap();

    let later: MicroTime = serde_json::from_value(json!("2026-12-07T15:00:05.250000Z")).unwrap();
    let renew = json!({"spec": {"renewTime": later}});
    let patched = within(
        "renew",
        leases.patch(
            "primary-heartbeat",
            &PatchParams::default(),
            &Patch::Merge(&renew),
        ),
    )
    .await
    .unwrap();
    let got = leases.get("primary-heartbeat").await.unwrap();
    let spec = got.spec.unwrap();
    assert_eq!(spec.renew_time, Some(later.clone()));
    assert_eq!(patched.spec.unwrap().renew_time, Some(later));
    assert_eq!(spec.holder_identity.as_deref(), Some("primary"));
    let raw = sim
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            Some(NS),
            "primary-heartbeat",
        )
        .unwrap();
    assert_eq!(raw["spec"]["renewTime"], "2026-12-07T15:00:05.250000Z");
    assert_eq!(raw["spec"]["acquireTime"], first);
}

#[tokio::test]
async fn racing_takeovers_conflict_as_on_a_real_server() {
    let sim = cluster("dr").await;
    let leases: Api<Lease> = Api::namespaced(client(&sim), NS);
    let take = |who: &str| {
        Patch::Apply(
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": LEASE},
            "spec": {"holderIdentity": who, "leaseDurationSeconds": 2,
                "renewTime": "2026-12-07T15:00:00.000000Z"}}),
        )
    };
    let pp = |who: &str| PatchParams {
        field_manager: Some(format!("kube-lease-manager-{who}")),
        ..PatchParams::default()
    };
    leases.patch(LEASE, &pp("a"), &take("a")).await.unwrap();
    // The slower replica's apply, without force, loses the race.
    let err = leases.patch(LEASE, &pp("b"), &take("b")).await.unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("not an API error: {err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"), "{s:?}");
    assert!(s.message.contains(".spec.holderIdentity"), "{}", s.message);

    // A forced release (strategic merge, nulls) drops the fields and so
    // their ownership: the next apply takes the lease.
    let release = json!({"spec": {"holderIdentity": null, "renewTime": null,
        "acquireTime": null, "leaseDurationSeconds": null}});
    leases
        .patch(LEASE, &pp("b"), &Patch::Strategic(&release))
        .await
        .unwrap();
    let got = leases.patch(LEASE, &pp("b"), &take("b")).await.unwrap();
    assert_eq!(got.spec.unwrap().holder_identity.as_deref(), Some("b"));

    // A replace from a stale read: 409 Conflict naming the lease.
    let mut stale = leases.get(LEASE).await.unwrap();
    leases
        .patch(
            LEASE,
            &pp("b"),
            &Patch::Strategic(&json!({"spec": {"leaseTransitions": 1}})),
        )
        .await
        .unwrap();
    stale.spec.as_mut().unwrap().lease_transitions = Some(7);
    let err = leases
        .replace(LEASE, &Default::default(), &stale)
        .await
        .unwrap_err();
    let kube::Error::Api(s) = err else {
        panic!("not an API error: {err:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"), "{s:?}");
    assert_eq!(
        s.message,
        format!(
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"{LEASE}\": the object has been modified; please apply your changes to the latest version and try again"
        )
    );
    let d = s.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.group.as_str(), d.kind.as_str()),
        (LEASE, "coordination.k8s.io", "leases")
    );
}

#[tokio::test]
async fn micro_times_are_read_and_written_as_the_api_server_does() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
    let sim = cluster("dr").await;
    let gvk = GroupVersionKind::gvk("coordination.k8s.io", "v1", "Lease");
    let dynamic: Api<DynamicObject> =
        Api::namespaced_with(client(&sim), NS, &ApiResource::from_gvk(&gvk));
    let lease = |name: &str, renew: &str| {
        serde_json::from_value::<DynamicObject>(json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name}, "spec": {"renewTime": renew}}))
        .unwrap()
    };
    let api_error = |e: kube::Error| match e {
        kube::Error::Api(s) => *s,
        other => panic!("not an API error: {other:?}"),
    };
    // Seconds only: the body does not decode (400), as Go's time.Parse says.
    let pp = PostParams::default();
    let s = api_error(
        dynamic
            .create(&pp, &lease("l", "2026-12-07T15:00:00Z"))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        s.message,
        r#"Lease in version "v1" cannot be handled as a Lease: parsing time "2026-12-07T15:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000""#
    );
    // Another zone: stored and answered in UTC.
    let made = dynamic
        .create(&pp, &lease("l", "2026-12-07T16:00:00.500000+01:00"))
        .await
        .unwrap();
    assert_eq!(
        made.data["spec"]["renewTime"],
        "2026-12-07T15:00:00.500000Z"
    );
    let leases: Api<Lease> = Api::namespaced(client(&sim), NS);
    let typed = leases.get("l").await.unwrap().spec.unwrap();
    assert_eq!(
        typed.renew_time.map(|t| t.0.to_string()).as_deref(),
        Some("2026-12-07T15:00:00.5Z")
    );
    // A merge patch leaving nanoseconds: 422 on field patch.
    let nanos = json!({"spec": {"renewTime": "2026-12-07T15:00:01.123456789Z"}});
    let s = api_error(
        leases
            .patch("l", &PatchParams::default(), &Patch::Merge(&nanos))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{s:?}");
    assert!(
        s.message.ends_with(r#"cannot parse "789Z" as "Z07:00""#),
        "{}",
        s.message
    );
    // An apply with a shorter fraction: the field manager's conversion fails.
    let apply = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "l"}, "spec": {"acquireTime": "2026-12-07T15:00:01.25Z"}});
    let s = api_error(
        leases
            .patch("l", &PatchParams::apply("hb"), &Patch::Apply(&apply))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 500, "{s:?}");
    assert!(
        s.message.starts_with(&format!(
            "failed to convert new object ({NS}/l; coordination.k8s.io/v1, Kind=Lease) to proper version: "
        )),
        "{}",
        s.message
    );
    assert_eq!(
        leases.get("l").await.unwrap().spec.unwrap().acquire_time,
        None,
        "nothing was written"
    );
}
