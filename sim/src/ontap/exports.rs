//! NFS export policies per SVM, as `/api/protocols/nfs/export-policies`
//! serves them: records `{id, name, svm{name,uuid}, rules[]}`, each rule
//! `{index, clients[{match}], protocols, ro_rule, rw_rule, superuser,
//! anonymous_user, allow_suid, allow_device_creation, ntfs_unix_security,
//! chown_mode}` (ONTAP REST reference: `GET /protocols/nfs/export-policies`,
//! `POST /protocols/nfs/export-policies/{policy.id}/rules`; the Ansible
//! collection's `plugins/modules/na_ontap_export_policy_rule.py` reads and
//! writes the same shapes). Every SVM has a `default` policy (empty unless
//! the topology gives it rules: an empty policy admits nobody).
//!
//! Policy and rule changes are synchronous (ONTAP answers 201/200 without a
//! job). The simulator stores rules; it does not evaluate them (a mount is
//! not modelled here).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::api::{Ctx, Reply, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::world::{ExportPolicy, ExportRule, World, insert_rule, renumber};

const SHAPE: Shape<'static> = Shape {
    keys: &["id", "name"],
    expensive: &[],
    fields: catalogue::EXPORT_POLICIES,
};

const RULE_SHAPE: Shape<'static> = Shape {
    keys: &["index"],
    expensive: &[],
    fields: catalogue::EXPORT_RULES,
};

impl World {
    /// A fresh export policy id.
    pub fn new_policy_id(&mut self) -> u64 {
        self.next_policy_id += 1;
        self.next_policy_id
    }

    /// The policy `name` of SVM `svm_uuid`.
    pub fn export_policy(&self, svm_uuid: &str, name: &str) -> Option<&ExportPolicy> {
        self.export_policies
            .iter()
            .find(|p| p.svm == svm_uuid && p.name == name)
    }

    /// Creates policy `name` (no rules) in the SVM if it is missing; its index.
    pub fn ensure_export_policy(&mut self, cluster: &str, svm_uuid: &str, name: &str) -> usize {
        if let Some(i) = self
            .export_policies
            .iter()
            .position(|p| p.svm == svm_uuid && p.name == name)
        {
            return i;
        }
        let id = self.new_policy_id();
        self.export_policies.push(ExportPolicy {
            id,
            cluster: cluster.to_string(),
            svm: svm_uuid.to_string(),
            name: name.to_string(),
            rules: vec![],
        });
        self.export_policies.len() - 1
    }

    /// SVM-DR configuration replication of NFS exports: the destination SVM
    /// gets the source's export policies and rules (policies the source no
    /// longer has are removed, `default` always stays), and each replicated
    /// volume the source volume's export policy name.
    ///
    /// ONTAP docs, "SnapMirror SVM replication"
    /// (<https://docs.netapp.com/us-en/ontap/data-protection/snapmirror-svm-replication-concept.html>):
    /// with identity preserved the whole SVM configuration, "from NFS exports
    /// and SMB shares to RBAC", is replicated; with
    /// `-discard-configs network` (REST `exclude_network_config`) everything
    /// but the network; with identity discarded (REST
    /// `exclude_network_and_protocol_config`) only volumes and the
    /// authentication configuration, not the NFS exports. The caller checks
    /// the identity preservation.
    pub fn replicate_exports(&mut self, src_svm: &str, dst_svm: &str, dst_cluster: &str) {
        let src: Vec<ExportPolicy> = self
            .export_policies
            .iter()
            .filter(|p| p.svm == src_svm)
            .cloned()
            .collect();
        self.export_policies.retain(|p| {
            p.svm != dst_svm || p.name == "default" || src.iter().any(|s| s.name == p.name)
        });
        for p in src {
            let i = self.ensure_export_policy(dst_cluster, dst_svm, &p.name);
            self.export_policies[i].rules = p.rules;
        }
        let names: Vec<(String, String)> = self
            .volumes
            .iter()
            .filter(|v| v.svm == src_svm && !v.is_svm_root)
            .map(|v| (v.name.clone(), v.export_policy.clone()))
            .collect();
        for v in self.volumes.iter_mut().filter(|v| v.svm == dst_svm) {
            if let Some((_, p)) = names.iter().find(|(n, _)| *n == v.name) {
                v.export_policy = p.clone();
            }
        }
    }

    /// The snapshot entries of every export policy.
    pub fn dump_export_policies(&self) -> Vec<Value> {
        self.export_policies
            .iter()
            .map(|p| {
                json!({
                    "cluster": p.cluster, "svm": self.svm_name(&p.svm), "name": p.name, "id": p.id,
                    "rules": p.rules.iter().map(ExportRule::to_json).collect::<Vec<_>>(),
                })
            })
            .collect()
    }
}

fn policy_json(w: &World, p: &ExportPolicy) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "svm": {"name": w.svm_name(&p.svm), "uuid": p.svm,
                "_links": {"self": {"href": format!("/api/svm/svms/{}", p.svm)}}},
        "rules": p.rules.iter().map(ExportRule::to_json).collect::<Vec<_>>(),
        "_links": {"self": {"href": format!("/api/protocols/nfs/export-policies/{}", p.id)}},
    })
}

fn rule_json(w: &World, p: &ExportPolicy, r: &ExportRule) -> Value {
    let mut v = r.to_json();
    v["policy"] = json!({"id": p.id, "name": p.name});
    v["svm"] = json!({"name": w.svm_name(&p.svm), "uuid": p.svm});
    v["_links"] = json!({"self": {"href": format!("/api/protocols/nfs/export-policies/{}/rules/{}", p.id, r.index)}});
    v
}

fn visible(w: &World, ctx: &Ctx, p: &ExportPolicy) -> bool {
    p.cluster == ctx.cluster && ctx.sees_svm(&w.svm_name(&p.svm))
}

fn policy_idx(w: &World, ctx: &Ctx, id: &str) -> Result<usize, ApiError> {
    let n: u64 = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            4,
            format!("Export policy \"{id}\" not found."),
        )
    })?;
    w.export_policies
        .iter()
        .position(|p| p.id == n && visible(w, ctx, p))
        .ok_or_else(|| ApiError::not_found(format!("Export policy \"{id}\" not found.")))
}

/// Routes `/api/protocols/nfs/export-policies`.
pub fn handle(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    const BASE: &str = "/api/protocols/nfs/export-policies";
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .export_policies
                .iter()
                .filter(|p| visible(w, ctx, p))
                .map(|p| policy_json(w, p))
                .collect();
            Ok(Reply::ok(collection(BASE, &ctx.query, recs, &SHAPE)?))
        }
        (&Method::POST, []) => create_policy(w, ctx),
        (m, [id]) => {
            let i = policy_idx(w, ctx, id)?;
            match *m {
                Method::GET => Ok(Reply::ok(instance(
                    &policy_json(w, &w.export_policies[i]),
                    &ctx.query,
                    &SHAPE,
                )?)),
                Method::DELETE => delete_policy(w, i),
                _ => Err(not_allowed(ctx)),
            }
        }
        (m, [id, "rules", more @ ..]) => {
            let i = policy_idx(w, ctx, id)?;
            rules(w, ctx, m, i, more)
        }
        _ => Err(not_allowed(ctx)),
    }
}

/// Refuses changes to the exports of an SVM-DR destination whose
/// relationship replicates the protocol configuration (and is not broken
/// off): the source's copy overwrites them on every transfer, so ONTAP keeps
/// them read-only there until a failover breaks the relationship.
fn check_writable(w: &World, svm_uuid: &str) -> Result<(), ApiError> {
    let svm = w.svm(svm_uuid);
    let replicated = svm.is_some_and(|s| s.subtype == "dp_destination")
        && w.relationships.iter().any(|r| {
            r.dst_present
                && r.dst_svm == svm_uuid
                && r.state != "broken_off"
                && r.identity != "exclude_network_and_protocol_config"
        });
    if replicated {
        return Err(ApiError::invalid(format!(
            "SVM \"{}\" is the destination of an SVM-DR relationship that replicates its NFS configuration: change the export policy on the source SVM.",
            w.svm_name(svm_uuid)
        )));
    }
    Ok(())
}

fn create_policy(w: &mut World, ctx: &Ctx) -> Result<Reply, ApiError> {
    let name = ctx.req("name")?.to_string();
    let svm = ctx.body_svm(w, "export policies")?;
    check_writable(w, &svm.uuid)?;
    if w.export_policy(&svm.uuid, &name).is_some() {
        return Err(ApiError::duplicate(format!(
            "Export policy \"{name}\" already exists in SVM \"{}\".",
            svm.name
        ))
        .target("name"));
    }
    let mut rules = Vec::new();
    if let Some(list) = ctx.v("rules") {
        let items = list
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![list.clone()]);
        for r in &items {
            let rule = ExportRule::from_value(r)?;
            insert_rule(&mut rules, rule);
        }
    }
    let i = w.ensure_export_policy(&ctx.cluster, &svm.uuid, &name);
    w.export_policies[i].rules = rules;
    let p = &w.export_policies[i];
    let rec = json!({"id": p.id, "name": p.name, "svm": {"name": svm.name, "uuid": svm.uuid}});
    let body = if ctx.query.flag("return_records")? {
        json!({"num_records": 1, "records": [rec]})
    } else {
        json!({})
    };
    Ok(Reply::created(
        body,
        format!("/api/protocols/nfs/export-policies/{}", p.id),
    ))
}

fn delete_policy(w: &mut World, i: usize) -> Result<Reply, ApiError> {
    check_writable(w, &w.export_policies[i].svm)?;
    let p = &w.export_policies[i];
    if p.name == "default" {
        return Err(ApiError::invalid(
            "The default export policy cannot be deleted.",
        ));
    }
    if let Some(v) = w
        .volumes
        .iter()
        .find(|v| v.svm == p.svm && v.export_policy == p.name)
    {
        return Err(ApiError::invalid(format!(
            "Export policy \"{}\" is in use by volume \"{}\".",
            p.name, v.name
        )));
    }
    w.export_policies.remove(i);
    Ok(Reply::empty())
}

fn rules(w: &mut World, ctx: &Ctx, m: &Method, i: usize, rest: &[&str]) -> Result<Reply, ApiError> {
    let base = format!(
        "/api/protocols/nfs/export-policies/{}/rules",
        w.export_policies[i].id
    );
    if *m != Method::GET {
        check_writable(w, &w.export_policies[i].svm)?;
    }
    match (m, rest) {
        (&Method::GET, []) => {
            let p = &w.export_policies[i];
            let recs = p.rules.iter().map(|r| rule_json(w, p, r)).collect();
            Ok(Reply::ok(collection(&base, &ctx.query, recs, &RULE_SHAPE)?))
        }
        (&Method::POST, []) => {
            let rule = ExportRule::from_value(&ctx.body)?;
            let index = insert_rule(&mut w.export_policies[i].rules, rule);
            let p = &w.export_policies[i];
            let body = if ctx.query.flag("return_records")? {
                json!({"num_records": 1, "records": [rule_json(w, p, &p.rules[index as usize - 1])]})
            } else {
                json!({})
            };
            Ok(Reply::created(body, format!("{base}/{index}")))
        }
        (m, [index]) => {
            let n: usize = index
                .parse()
                .ok()
                .filter(|n| *n >= 1 && *n <= w.export_policies[i].rules.len())
                .ok_or_else(|| {
                    ApiError::not_found(format!("Export rule \"{index}\" not found."))
                })?;
            match *m {
                Method::GET => {
                    let p = &w.export_policies[i];
                    Ok(Reply::ok(instance(
                        &rule_json(w, p, &p.rules[n - 1]),
                        &ctx.query,
                        &RULE_SHAPE,
                    )?))
                }
                Method::DELETE => {
                    let rules = &mut w.export_policies[i].rules;
                    rules.remove(n - 1);
                    renumber(rules);
                    Ok(Reply::empty())
                }
                _ => Err(not_allowed(ctx)),
            }
        }
        _ => Err(not_allowed(ctx)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_defaults_follow_ontap() {
        let r = ExportRule::from_value(
            &json!({"clients": [{"match": "0.0.0.0/0"}], "ro_rule": ["sys"], "rw_rule": "sys"}),
        )
        .unwrap();
        assert_eq!(r.protocols, vec!["any"]);
        assert_eq!(r.superuser, vec!["any"]);
        assert_eq!(r.rw_rule, vec!["sys"]);
        assert_eq!(r.anonymous_user, "65534");
        assert!(r.allow_suid);
    }

    #[test]
    fn rule_requires_clients_and_flavours() {
        assert!(ExportRule::from_value(&json!({"ro_rule": ["sys"], "rw_rule": ["sys"]})).is_err());
        assert!(
            ExportRule::from_value(&json!({"clients": [], "ro_rule": ["sys"], "rw_rule": ["sys"]}))
                .is_err()
        );
        assert!(
            ExportRule::from_value(
                &json!({"clients": [{"match": "h"}], "ro_rule": ["bogus"], "rw_rule": ["sys"]})
            )
            .is_err()
        );
    }

    #[test]
    fn insert_shifts_later_rules() {
        let mk = |m: &str, index: u64| ExportRule {
            index,
            ..ExportRule::from_value(
                &json!({"clients": [{"match": m}], "ro_rule": ["sys"], "rw_rule": ["sys"]}),
            )
            .unwrap()
        };
        let mut rules = vec![];
        insert_rule(&mut rules, mk("a", 0));
        insert_rule(&mut rules, mk("b", 0));
        assert_eq!(insert_rule(&mut rules, mk("c", 1)), 1);
        let order: Vec<_> = rules
            .iter()
            .map(|r| (r.index, r.clients[0].matches.as_str()))
            .collect();
        assert_eq!(order, vec![(1, "c"), (2, "a"), (3, "b")]);
    }
}
