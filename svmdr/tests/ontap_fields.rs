//! Every name the client puts in `fields=` is one ONTAP knows: ONTAP
//! refuses the whole request otherwise (400, code 262197;
//! `docs/ontap-rest.md` §2.6). The lists are read from the source; the
//! names are checked against the simulator's catalogue, generated from
//! NetApp's `netapp_ontap` schemas (`sim/src/ontap/fields/`).

use std::path::{Path, PathBuf};

/// (file under `svmdr/src`, constant, catalogue file): every `fields=`
/// list the client keeps in a constant.
const LISTS: &[(&str, &str, &str)] = &[
    ("ontap/cluster.rs", "CLUSTER_FIELDS", "cluster"),
    ("ontap/cluster.rs", "NODE_FIELDS", "nodes"),
    ("ontap/jobs.rs", "JOB_FIELDS", "jobs"),
    ("ontap/network.rs", "LIF_FIELDS", "ip_interfaces"),
    ("ontap/peers.rs", "CLUSTER_PEER_FIELDS", "cluster_peers"),
    ("ontap/peers.rs", "SVM_PEER_FIELDS", "svm_peers"),
    ("ontap/protocols.rs", "NFS_FIELDS", "nfs_services"),
    ("ontap/protocols.rs", "ISCSI_FIELDS", "iscsi_services"),
    (
        "ontap/snapmirror.rs",
        "RELATIONSHIP_FIELDS",
        "snapmirror_relationships",
    ),
    (
        "ontap/snapmirror.rs",
        "POLICY_FIELDS",
        "snapmirror_policies",
    ),
    (
        "ontap/snapmirror.rs",
        "TRANSFER_FIELDS",
        "snapmirror_transfers",
    ),
    ("ontap/svm.rs", "SVM_FIELDS", "svms"),
    ("ontap/volumes.rs", "VOLUME_FIELDS", "volumes"),
    ("readiness/collect.rs", "SVM_FIELDS", "svms"),
    ("readiness/collect.rs", "VOLUME_FIELDS", "volumes"),
    ("readiness/collect.rs", "EXPORT_FIELDS", "export_policies"),
    ("readiness/collect.rs", "LUN_FIELDS", "luns"),
    ("readiness/collect.rs", "LIF_FIELDS", "ip_interfaces"),
    (
        "status/mod.rs",
        "RELATIONSHIP_FIELDS",
        "snapmirror_relationships",
    ),
    ("status/mod.rs", "POLICY_FIELDS", "snapmirror_policies"),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("svmdr sits in the workspace")
        .to_path_buf()
}

/// The names in `const NAME: … = …;` of `src` (string literals, split on
/// commas; a `\`-newline continuation joins lines as Rust does).
fn names_of(src: &str, name: &str) -> Vec<String> {
    let start = src
        .find(&format!("const {name}:"))
        .unwrap_or_else(|| panic!("no const {name}"));
    let body = &src[start..start + src[start..].find(';').expect("a ;")];
    let mut text = String::new();
    for (i, lit) in body.split('"').enumerate() {
        if i % 2 == 1 {
            let mut parts = lit.split("\\\n");
            text.push_str(parts.next().unwrap_or_default());
            parts.for_each(|p| text.push_str(p.trim_start()));
            text.push(',');
        }
    }
    text.split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// ONTAP's rule as the simulator applies it: a listed path, a prefix of
/// one, or a name under a `path.*` entry.
fn knows(catalogue: &str, name: &str) -> bool {
    catalogue
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|p| match p.strip_suffix('*') {
            Some(open) => name.starts_with(open),
            None => p == name || p.starts_with(&format!("{name}.")),
        })
}

#[test]
fn every_fields_name_the_client_sends_is_known_to_ontap() {
    let root = workspace();
    let mut unknown = Vec::new();
    for (file, name, resource) in LISTS {
        let src = std::fs::read_to_string(root.join("svmdr/src").join(file)).unwrap();
        let cat_path = root.join(format!("sim/src/ontap/fields/{resource}.txt"));
        let catalogue = std::fs::read_to_string(cat_path).unwrap();
        let names = names_of(&src, name);
        assert!(!names.is_empty(), "{file} {name}: no names read");
        for n in names {
            if !knows(&catalogue, &n) {
                unknown.push(format!("{file} {name}: {n:?} ({resource})"));
            }
        }
    }
    assert!(unknown.is_empty(), "unknown to ONTAP: {unknown:#?}");
}
