//! Builders of observed states for the workflow unit tests.

use chrono::Utc;

use super::observe::{DrPair, Observed, PeerReport, Reach, SiteState};
use super::storage::{
    LifView, PeerState, PeerView, RelState, RelView, SvmState, SvmView, TransferView, VolumeView,
};
use crate::site::SiteRole;

pub fn pair() -> DrPair {
    DrPair {
        primary_svm: "svm1".into(),
        dr_svm: "svm1_dr".into(),
    }
}

pub fn svm(name: &str, state: SvmState, subtype: &str) -> SvmView {
    SvmView {
        uuid: format!("uuid-{name}"),
        name: name.into(),
        state,
        subtype: subtype.into(),
    }
}

pub fn rel(uuid: &str, src: &str, dst: &str, state: RelState) -> RelView {
    RelView {
        uuid: uuid.into(),
        source_path: src.into(),
        source_cluster: None,
        destination_path: dst.into(),
        state,
        healthy: Some(true),
        unhealthy_reason: vec![],
        transfer: Some(TransferView {
            uuid: None,
            state: "success".into(),
            end_time: Some(Utc::now() - chrono::Duration::minutes(10)),
        }),
        lag: Some(std::time::Duration::from_secs(600)),
        policy: Some("MirrorAllSnapshots".into()),
        identity_preservation: Some("full".into()),
        transfer_schedule: Some("hourly".into()),
    }
}

pub fn primary_down() -> SiteState {
    SiteState {
        reach: Reach::Unreachable("connection refused".into()),
        ..SiteState::not_observed(SiteRole::Primary, "primary (ontap-a)")
    }
}

pub fn primary_up(running: bool) -> SiteState {
    SiteState {
        site: SiteRole::Primary,
        cluster: "primary (ontap-a)".into(),
        reach: Reach::Reachable,
        svm: Some(svm(
            "svm1",
            if running {
                SvmState::Running
            } else {
                SvmState::Stopped
            },
            "default",
        )),
        incoming: None,
        volumes: None,
        lifs: None,
        peer: PeerReport::NotObserved,
    }
}

pub fn dr_site(state: RelState, running: bool) -> SiteState {
    let broken = state == RelState::BrokenOff;
    SiteState {
        site: SiteRole::Dr,
        cluster: "dr (ontap-b)".into(),
        reach: Reach::Reachable,
        svm: Some(svm(
            "svm1_dr",
            if running {
                SvmState::Running
            } else {
                SvmState::Stopped
            },
            if broken { "default" } else { "dp_destination" },
        )),
        incoming: Some(rel("rel-fwd", "svm1:", "svm1_dr:", state)),
        volumes: Some(vec![VolumeView {
            name: "trident_pvc_1".into(),
            state: "online".into(),
            kind: if broken { "rw" } else { "dp" }.into(),
            is_svm_root: false,
        }]),
        lifs: Some(vec![LifView {
            name: "nfs1".into(),
            address: Some("127.10.1.11".into()),
            state: if running { "up" } else { "down" }.into(),
            enabled: true,
        }]),
        peer: PeerReport::NotObserved,
    }
}

pub fn observed(primary: SiteState, dr: SiteState) -> Observed {
    Observed {
        at: Utc::now(),
        primary,
        dr,
        trident: super::trident::TridentReport::NotObserved,
    }
}

/// `dr` with its cluster peer record of the primary cluster in `state`.
pub fn with_peer(mut dr: SiteState, state: PeerState) -> SiteState {
    dr.peer = PeerReport::Found(PeerView {
        name: "ontap-a".into(),
        remote_name: Some("ontap-a".into()),
        state,
    });
    dr
}

/// A listing of DR Trident backends: `(name, svm, state, userState)`.
pub fn listed(backends: &[(&str, &str, &str, &str)]) -> super::trident::TridentReport {
    super::trident::TridentReport::Listed {
        backends: backends
            .iter()
            .map(
                |(name, svm, state, user)| crate::trident::backend::Backend {
                    name: (*name).into(),
                    uuid: format!("uuid-{name}"),
                    svm: Some((*svm).into()),
                    state: (*state).into(),
                    user_state: (*user).into(),
                    state_reason: if *state == "online" {
                        String::new()
                    } else {
                        format!("SVM {svm} is not running")
                    },
                    online: *state == "online",
                    config_ref: Some(format!("tbc-{name}")),
                    ..Default::default()
                },
            )
            .collect(),
    }
}
