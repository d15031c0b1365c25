//! One intercluster LIF per node, on each side: peering needs one on every
//! node, and creates those the request names (`--<side>-intercluster-ip`).

use serde_json::{Value, json};

use super::spec::{Action, Apply, PeerCheck, PeeringStep, call, ontap_error};
use crate::ontap::{LifPlacement, NewInterclusterLif};
use crate::peering::lif::LifSpec;
use crate::peering::observe::{ClusterView, Observed};
use crate::peering::request::{PeerRequest, PlannedCall};
use crate::site::SiteRole;

/// The intercluster LIFs of one side.
pub struct InterclusterLifs(SiteRole);

/// The primary side's.
pub const PRIMARY: InterclusterLifs = InterclusterLifs(SiteRole::Primary);
/// The DR side's.
pub const DR: InterclusterLifs = InterclusterLifs(SiteRole::Dr);

impl InterclusterLifs {
    /// This side's view and the LIFs the request names for it.
    fn side<'a>(
        &self,
        req: &'a PeerRequest,
        obs: &'a Observed,
    ) -> (&'a ClusterView, &'a [LifSpec]) {
        match self.0 {
            SiteRole::Primary => (&obs.primary, &req.primary_lifs),
            SiteRole::Dr => (&obs.dr, &req.dr_lifs),
        }
    }

    /// The requested LIFs on nodes that have none yet.
    fn to_create<'a>(&self, req: &'a PeerRequest, obs: &'a Observed) -> Vec<&'a LifSpec> {
        let (view, specs) = self.side(req, obs);
        let missing = view.nodes_without_intercluster();
        specs.iter().filter(|s| missing.contains(&s.node)).collect()
    }
}

impl PeeringStep for InterclusterLifs {
    fn title(&self) -> &'static str {
        match self.0 {
            SiteRole::Primary => "intercluster LIFs (primary)",
            SiteRole::Dr => "intercluster LIFs (dr)",
        }
    }

    fn check(&self, req: &PeerRequest, obs: &Observed) -> PeerCheck {
        let (view, specs) = self.side(req, obs);
        lif_check(view, specs, self.0)
    }

    fn calls(&self, req: &PeerRequest, obs: &Observed) -> Vec<PlannedCall> {
        let (view, _) = self.side(req, obs);
        self.to_create(req, obs)
            .into_iter()
            .map(|s| {
                call(
                    view.name(),
                    "POST",
                    "/api/network/ip/interfaces",
                    Some(lif_body(&new_lif(s, &req.ipspace))),
                )
            })
            .collect()
    }

    fn apply<'a>(&'a self, cx: Apply<'a>) -> Action<'a> {
        Box::pin(async move {
            let (view, _) = self.side(cx.req, cx.obs);
            let client = match self.0 {
                SiteRole::Primary => cx.clients.primary,
                SiteRole::Dr => cx.clients.dr,
            };
            for spec in self.to_create(cx.req, cx.obs) {
                client
                    .create_intercluster_interface(&new_lif(spec, &cx.req.ipspace))
                    .await
                    .map_err(ontap_error(self))?;
                cx.reporter.note(&format!(
                    "created intercluster LIF {} ({spec}) on {}",
                    spec.lif_name(),
                    view.name()
                ));
            }
            Ok(())
        })
    }
}

fn lif_check(view: &ClusterView, specs: &[LifSpec], side: SiteRole) -> PeerCheck {
    let missing = view.nodes_without_intercluster();
    let down: Vec<String> = view
        .intercluster
        .iter()
        .filter(|l| !l.is_serving())
        .filter_map(|l| l.name.clone())
        .collect();
    let unknown: Vec<String> = specs
        .iter()
        .filter(|s| {
            !view
                .nodes
                .iter()
                .any(|n| n.name.as_deref() == Some(s.node.as_str()))
        })
        .map(|s| s.node.clone())
        .collect();
    if !unknown.is_empty() {
        let nodes: Vec<&str> = view
            .nodes
            .iter()
            .filter_map(|n| n.name.as_deref())
            .collect();
        return PeerCheck::Blocked(format!(
            "--{side}-intercluster-ip names node(s) {} that {} does not have (nodes: {})",
            unknown.join(", "),
            view.name(),
            nodes.join(", ")
        ));
    }
    if missing.is_empty() {
        if !down.is_empty() {
            return PeerCheck::Blocked(format!(
                "intercluster LIF(s) {} on {} are down or disabled: bring them up, then re-run",
                down.join(", "),
                view.name()
            ));
        }
        return PeerCheck::Done(format!(
            "{} has an intercluster LIF on every node ({})",
            view.name(),
            view.intercluster_addresses().join(", ")
        ));
    }
    let unplanned: Vec<&String> = missing
        .iter()
        .filter(|n| !specs.iter().any(|s| &s.node == *n))
        .collect();
    if !unplanned.is_empty() {
        let names: Vec<&str> = unplanned.iter().map(|s| s.as_str()).collect();
        return PeerCheck::Blocked(format!(
            "node(s) {} of {} have no intercluster LIF; peering needs one per node: give \
             --{side}-intercluster-ip NODE=IP/PREFIX for each (e.g. {}=10.0.0.11/24)",
            names.join(", "),
            view.name(),
            names.first().copied().unwrap_or("node")
        ));
    }
    let todo: Vec<String> = specs
        .iter()
        .filter(|s| missing.contains(&s.node))
        .map(ToString::to_string)
        .collect();
    PeerCheck::Todo(format!("create intercluster LIF(s) {}", todo.join(", ")))
}

fn new_lif(spec: &LifSpec, ipspace: &str) -> NewInterclusterLif {
    NewInterclusterLif {
        name: spec.lif_name(),
        address: spec.address.clone(),
        netmask: spec.netmask.clone(),
        home_node: spec.node.clone(),
        placement: match &spec.port {
            Some(p) => LifPlacement::Port(p.clone()),
            None => LifPlacement::BroadcastDomain("Default".into()),
        },
        ipspace: ipspace.to_string(),
    }
}

fn lif_body(l: &NewInterclusterLif) -> Value {
    let mut location = json!({"home_node": {"name": l.home_node}});
    match &l.placement {
        LifPlacement::Port(p) => location["home_port"] = json!({"name": p}),
        LifPlacement::BroadcastDomain(b) => location["broadcast_domain"] = json!({"name": b}),
    }
    json!({
        "name": l.name,
        "ip": {"address": l.address, "netmask": l.netmask},
        "ipspace": {"name": l.ipspace},
        "service_policy": {"name": "default-intercluster"},
        "location": location,
    })
}
