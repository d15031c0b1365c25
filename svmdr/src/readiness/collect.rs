//! Collecting [`SvmFacts`] from ONTAP: five GETs per SVM, run concurrently
//! (the SVM with its protocol flags, its volumes, its IP interfaces, its NFS
//! export policies with rules, its LUNs), with `_links.next` followed for
//! the collections. The JSON is decoded by pure functions
//! ([`facts_from_json`], [`export_policies_from_json`], [`luns_from_json`]).
//! A failure of the export policy or LUN call alone does not fail the
//! collection: it is kept in `export_policies_error` / `luns_error` (checks
//! that need them then cannot verify), so an account without those rights
//! still gets the volume and LIF checks.

use serde_json::Value;

use super::check::NotReady;
use super::exports::export_policies_from_json;
use super::facts::{LifFacts, LunFacts, ServiceFacts, SvmFacts, VolumeFacts};
use crate::ontap::{OntapClient, OntapError};

/// Every transport's service flag is asked for ([`super::Transport::svm_service_field`]).
const SVM_FIELDS: &str = "name,uuid,state,subtype,nfs.enabled,cifs.enabled,iscsi.enabled,\
                          nvme.enabled,fcp.enabled,aggregates.name";
const VOLUME_FIELDS: &str = "name,state,type,nas.path,is_svm_root,nas.export_policy.name,size";
const EXPORT_FIELDS: &str = "name,rules";
const LUN_FIELDS: &str =
    "name,location.volume.name,location.logical_unit,status.state,enabled,space.size";
const LIF_FIELDS: &str = "name,ip.address,state,enabled,services";
/// Loop guard for `_links.next`.
const MAX_PAGES: usize = 1000;

/// Reads the facts of SVM `svm` on the cluster behind `client`.
///
/// `svm` may be `None` when the client talks to an SVM management LIF (a
/// Trident backend without `svm`): the one SVM it sees is used.
///
/// # Errors
/// A [`NotReady`]: `OntapUnreachable` (connect failure or timeout),
/// `OntapAuth` (HTTP 401), `SvmMissing`, or `OntapFailed` (any other ONTAP
/// error, with ONTAP's code and message).
pub async fn collect_svm_facts(
    client: &OntapClient,
    svm: Option<&str>,
) -> Result<SvmFacts, NotReady> {
    let cluster = client.name().to_string();
    let shown_svm = svm.unwrap_or("<from management LIF>").to_string();
    let fail = |e: OntapError| classify(&cluster, &shown_svm, e);

    let svm_name = match svm {
        Some(s) => s.to_string(),
        None => {
            let all = get_all(client, "/api/svm/svms", &[("fields", "name")])
                .await
                .map_err(fail)?;
            let names: Vec<&str> = all
                .iter()
                .filter_map(|r| r.get("name").and_then(Value::as_str))
                .collect();
            match names.as_slice() {
                [one] => (*one).to_string(),
                [] => {
                    return Err(NotReady::SvmMissing {
                        cluster,
                        svm: shown_svm,
                    });
                }
                many => {
                    return Err(NotReady::OntapFailed {
                        cluster,
                        svm: shown_svm,
                        error: format!(
                            "the Trident backend names no svm and the management LIF sees {} SVMs ({}); \
                             set `svm` in the backend",
                            many.len(),
                            many.join(", ")
                        ),
                    });
                }
            }
        }
    };
    let svm_q = [("name", svm_name.as_str()), ("fields", SVM_FIELDS)];
    let vol_q = [("svm.name", svm_name.as_str()), ("fields", VOLUME_FIELDS)];
    let lif_q = [("svm.name", svm_name.as_str()), ("fields", LIF_FIELDS)];
    let exp_q = [("svm.name", svm_name.as_str()), ("fields", EXPORT_FIELDS)];
    let lun_q = [("svm.name", svm_name.as_str()), ("fields", LUN_FIELDS)];
    let (svms, volumes, lifs, exports, luns) = futures::join!(
        get_all(client, "/api/svm/svms", &svm_q),
        get_all(client, "/api/storage/volumes", &vol_q),
        get_all(client, "/api/network/ip/interfaces", &lif_q),
        get_all(client, "/api/protocols/nfs/export-policies", &exp_q),
        get_all(client, "/api/storage/luns", &lun_q),
    );
    let fail = |e: OntapError| classify(&cluster, &svm_name, e);
    let svms = svms.map_err(fail)?;
    let volumes = volumes.map_err(fail)?;
    let lifs = lifs.map_err(fail)?;
    let Some(svm_record) = svms
        .into_iter()
        .find(|r| r.get("name").and_then(Value::as_str) == Some(&svm_name))
    else {
        return Err(NotReady::SvmMissing {
            cluster,
            svm: svm_name,
        });
    };
    let mut facts = facts_from_json(&cluster, &svm_record, &volumes, &lifs);
    match exports {
        Ok(records) => facts.export_policies = export_policies_from_json(&records),
        Err(e) => facts.export_policies_error = Some(e.to_string()),
    }
    match luns {
        Ok(records) => facts.luns = luns_from_json(&records),
        Err(e) => facts.luns_error = Some(e.to_string()),
    }
    Ok(facts)
}

/// Decodes `GET /api/storage/luns` records (pure).
pub fn luns_from_json(records: &[Value]) -> Vec<LunFacts> {
    records
        .iter()
        .filter(|l| l.get("name").and_then(Value::as_str).is_some())
        .map(|l| {
            let path = s(l, "/name");
            // `/vol/<volume>/<lun>` when the location is not reported.
            let mut parts = path.trim_start_matches("/vol/").splitn(2, '/');
            let (pv, pl) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let or = |a: String, b: &str| if a.is_empty() { b.to_string() } else { a };
            LunFacts {
                volume: or(s(l, "/location/volume/name"), pv),
                name: or(s(l, "/location/logical_unit"), pl),
                state: s(l, "/status/state"),
                enabled: l.get("enabled").and_then(Value::as_bool).unwrap_or(false),
                size_bytes: l.pointer("/space/size").and_then(Value::as_u64),
                path,
            }
        })
        .collect()
}

fn classify(cluster: &str, svm: &str, e: OntapError) -> NotReady {
    let (cluster, svm, error) = (cluster.to_string(), svm.to_string(), e.to_string());
    if e.is_unauthorized() {
        NotReady::OntapAuth {
            cluster,
            svm,
            error,
        }
    } else if e.is_unreachable() {
        NotReady::OntapUnreachable {
            cluster,
            svm,
            error,
        }
    } else {
        NotReady::OntapFailed {
            cluster,
            svm,
            error,
        }
    }
}

/// GETs a collection and follows `_links.next`.
async fn get_all(
    client: &OntapClient,
    path: &str,
    query: &[(&str, &str)],
) -> Result<Vec<Value>, OntapError> {
    let mut out = Vec::new();
    let mut page = client.get_json(path, query).await?;
    for _ in 0..MAX_PAGES {
        if let Some(Value::Array(records)) = page.get_mut("records").map(Value::take) {
            out.extend(records);
        }
        let next = page
            .pointer("/_links/next/href")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(next) = next else { break };
        // `next.href` carries its own query string.
        let (p, qs) = next.split_once('?').unwrap_or((next.as_str(), ""));
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(qs.as_bytes())
            .into_owned()
            .collect();
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        page = client.get_json(p, &borrowed).await?;
    }
    Ok(out)
}

fn s(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Builds [`SvmFacts`] from ONTAP records (pure): one SVM record, volume
/// records and IP interface records, as returned with the fields above.
/// The SVM root volume is left out.
pub fn facts_from_json(cluster: &str, svm: &Value, volumes: &[Value], lifs: &[Value]) -> SvmFacts {
    let service = |key: &str| {
        svm.get(key)
            .and_then(|v| v.get("enabled"))
            .and_then(Value::as_bool)
            .map(|enabled| ServiceFacts { enabled })
    };
    SvmFacts {
        cluster: cluster.to_string(),
        svm: s(svm, "/name"),
        uuid: svm.get("uuid").and_then(Value::as_str).map(str::to_string),
        state: s(svm, "/state"),
        subtype: s(svm, "/subtype"),
        volumes: volumes
            .iter()
            .filter(|v| {
                !v.get("is_svm_root")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            })
            .map(|v| {
                let f = VolumeFacts {
                    name: s(v, "/name"),
                    state: s(v, "/state"),
                    vol_type: s(v, "/type"),
                    junction: v
                        .pointer("/nas/path")
                        .and_then(Value::as_str)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                    is_svm_root: false,
                    export_policy: v
                        .pointer("/nas/export_policy/name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    size_bytes: v
                        .get("size")
                        .and_then(Value::as_u64)
                        .or_else(|| v.pointer("/space/size").and_then(Value::as_u64)),
                };
                (f.name.clone(), f)
            })
            .filter(|(name, _)| !name.is_empty())
            .collect(),
        lifs: lifs
            .iter()
            .map(|l| LifFacts {
                name: s(l, "/name"),
                ip: s(l, "/ip/address"),
                state: s(l, "/state"),
                enabled: l.get("enabled").and_then(Value::as_bool).unwrap_or(false),
                services: l
                    .get("services")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        nfs: service("nfs"),
        iscsi: service("iscsi"),
        cifs: service("cifs"),
        nvme: service("nvme"),
        fcp: service("fcp"),
        aggregates: svm
            .get("aggregates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("name").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
        root_export_policy: volumes
            .iter()
            .find(|v| {
                v.get("is_svm_root")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            })
            .and_then(|v| v.pointer("/nas/export_policy/name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_ontap_records() {
        let svm = json!({"name": "svm1", "uuid": "u1", "state": "running", "subtype": "default",
            "nfs": {"enabled": true}, "iscsi": {"enabled": false},
            "cifs": {"enabled": false}, "nvme": {"enabled": true}});
        let vols = vec![
            json!({"name": "svm1_root", "state": "online", "type": "rw", "is_svm_root": true, "nas": {"path": "/", "export_policy": {"name": "default"}}}),
            json!({"name": "trident_pvc_1", "state": "online", "type": "dp"}),
            json!({"name": "trident_pvc_2", "state": "online", "type": "rw", "size": 1073741824u64,
                   "nas": {"path": "/trident_pvc_2", "export_policy": {"name": "k8s", "id": 7}}}),
        ];
        let lifs = vec![
            json!({"name": "lif1", "ip": {"address": "10.0.0.1"}, "state": "up",
            "enabled": true, "services": ["data_core", "data_nfs"]}),
        ];
        let f = facts_from_json("c", &svm, &vols, &lifs);
        assert_eq!(f.svm, "svm1");
        assert_eq!(f.state, "running");
        assert_eq!(f.nfs, Some(ServiceFacts { enabled: true }));
        assert_eq!(f.iscsi, Some(ServiceFacts { enabled: false }));
        assert_eq!(f.cifs, Some(ServiceFacts { enabled: false }));
        assert_eq!(f.nvme, Some(ServiceFacts { enabled: true }));
        assert_eq!(f.fcp, None, "not reported");
        assert_eq!(f.volumes.len(), 2, "root volume left out");
        assert_eq!(f.root_export_policy.as_deref(), Some("default"));
        assert_eq!(f.volumes["trident_pvc_1"].vol_type, "dp");
        assert_eq!(f.volumes["trident_pvc_1"].junction, None);
        assert_eq!(
            f.volumes["trident_pvc_2"].junction.as_deref(),
            Some("/trident_pvc_2")
        );
        assert_eq!(f.lifs[0].ip, "10.0.0.1");
        assert!(f.lifs[0].is_up());
        let v2 = &f.volumes["trident_pvc_2"];
        assert_eq!(v2.export_policy.as_deref(), Some("k8s"));
        assert_eq!(v2.size_bytes, Some(1 << 30));
        assert_eq!(f.volumes["trident_pvc_1"].export_policy, None);
    }

    #[test]
    fn asks_for_every_transport_flag() {
        for t in crate::readiness::Transport::ALL {
            assert!(
                SVM_FIELDS.split(',').any(|f| f == t.svm_service_field()),
                "{t}: {} missing from {SVM_FIELDS}",
                t.svm_service_field()
            );
        }
    }

    #[test]
    fn decodes_luns() {
        let l = luns_from_json(&[
            json!({"name": "/vol/v1/lun0", "location": {"volume": {"name": "v1"}, "logical_unit": "lun0"},
                   "status": {"state": "online"}, "enabled": true, "space": {"size": 5u64 << 30}}),
            json!({"name": "/vol/v2/lun1", "status": {"state": "offline"}, "enabled": false}),
            json!({"uuid": "no-name"}),
        ]);
        assert_eq!(l.len(), 2);
        assert!(l[0].is_online());
        assert_eq!((l[0].volume.as_str(), l[0].name.as_str()), ("v1", "lun0"));
        assert_eq!(l[0].size_bytes, Some(5 << 30));
        assert_eq!((l[1].volume.as_str(), l[1].name.as_str()), ("v2", "lun1"));
        assert!(!l[1].is_online());
    }

    #[test]
    fn missing_fields_do_not_panic() {
        let f = facts_from_json("c", &json!(null), &[json!(1), json!({})], &[json!("x")]);
        assert!(f.volumes.is_empty());
        assert_eq!(f.lifs.len(), 1);
        assert!(!f.lifs[0].is_up());
    }
}
