//! A backend's storage pools and whether a StorageClass matches one
//! (Trident: `storage_class/storage_class.go` Matches, regexMatcherImpl;
//! `storage_attribute/label.go` label selectors;
//! `storage_attribute/request.go` CreateBackendStoragePoolsMapFromEncodedString;
//! ONTAP pools: `storage_drivers/ontap/ontap_common.go` InitializeStoragePoolsCommon).
//!
//! Pools: with virtual pools (`storage: [...]` in the backend config) one
//! pool per entry, named `<backendName>_pool_<i>`, labelled with the
//! backend's `labels` overridden by the entry's; otherwise one physical
//! pool per SVM aggregate (or the configured `aggregate`), named after it,
//! labelled with the backend's `labels`.
//!
//! Matched attributes: `backendType`, `selector` (against pool labels),
//! `provisioningType`, `snapshots`, `clones`, `encryption`, `nasType`,
//! `sanType`. Other attributes (`media`, `IOPS`, ...) are not modelled.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::backends::Backend;
use super::ontap_view::OntapView;
use super::truthy;

/// One storage pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// The backend's name.
    pub backend: String,
    /// Pool name (aggregate, or `<backend>_pool_<i>`).
    pub name: String,
    /// Pool labels.
    pub labels: BTreeMap<String, String>,
    /// Offered attributes (`backendType`, `provisioningType`, ...).
    pub offers: BTreeMap<String, String>,
}

fn labels_of(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let val = v
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string());
            (k.clone(), val)
        })
        .collect()
}

/// The backend's pools.
pub fn pools(view: &OntapView, b: &Backend) -> Vec<Pool> {
    let base_labels = labels_of(b.config.get("labels"));
    let offers = |conf: &Value| {
        let get = |k: &str| {
            conf.get(k)
                .or_else(|| conf.pointer(&format!("/defaults/{k}")))
                .or_else(|| b.config.get(k))
                .or_else(|| b.config.pointer(&format!("/defaults/{k}")))
        };
        let thick = get("spaceReserve").and_then(Value::as_str) == Some("volume");
        let mut o = BTreeMap::new();
        o.insert("backendType".into(), b.driver().to_string());
        o.insert(
            "provisioningType".into(),
            if thick { "thick" } else { "thin" }.into(),
        );
        o.insert("snapshots".into(), "true".into());
        o.insert("clones".into(), "true".into());
        o.insert("encryption".into(), truthy(get("encryption")).to_string());
        if b.is_san() {
            let t = b.conf("sanType");
            o.insert(
                "sanType".into(),
                if t.is_empty() { "iscsi" } else { t }.into(),
            );
        } else {
            let t = b.conf("nasType");
            o.insert(
                "nasType".into(),
                if t.is_empty() { "nfs" } else { t }.into(),
            );
        }
        o
    };
    let virtual_pools: Vec<&Value> = b
        .config
        .get("storage")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    if !virtual_pools.is_empty() {
        return virtual_pools
            .iter()
            .enumerate()
            .map(|(i, vp)| {
                let mut labels = base_labels.clone();
                labels.extend(labels_of(vp.get("labels")));
                Pool {
                    backend: b.name.clone(),
                    name: format!("{}_pool_{i}", b.name),
                    labels,
                    offers: offers(vp),
                }
            })
            .collect();
    }
    let cluster = b.cluster(view).unwrap_or_default();
    let mut aggrs = view.aggregates(&cluster, b.svm());
    let want = b.conf("aggregate");
    if !want.is_empty() {
        aggrs.retain(|a| a == want);
    }
    aggrs
        .into_iter()
        .map(|a| Pool {
            backend: b.name.clone(),
            name: a,
            labels: base_labels.clone(),
            offers: offers(&b.config),
        })
        .collect()
}

/// A StorageClass as Trident parses its parameters.
#[derive(Debug, Clone, Default)]
pub struct ClassConfig {
    /// Attribute requests (`backendType`, `selector`, ...).
    pub attributes: BTreeMap<String, String>,
    /// `storagePools`: backend regex → pool regexes.
    pub pools: Vec<(String, Vec<String>)>,
    /// `additionalStoragePools`.
    pub additional: Vec<(String, Vec<String>)>,
    /// `excludeStoragePools`.
    pub exclude: Vec<(String, Vec<String>)>,
}

/// `backend:pool1,pool2;backend2:pool` → pairs; `Err` with Trident's
/// message on a malformed string.
fn pool_map(arg: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    arg.split(';')
        .map(|bp| match bp.split_once(':') {
            Some((b, p)) if !b.is_empty() && !p.is_empty() => {
                Ok((b.to_string(), p.split(',').map(String::from).collect()))
            }
            _ => {
                Err("the encoded backend-storage pool string does not have the right format".into())
            }
        })
        .collect()
}

impl ClassConfig {
    /// From a StorageClass's `parameters` (keys may carry the
    /// `trident.netapp.io/` prefix).
    ///
    /// # Errors
    /// A malformed pool list, with Trident's message.
    pub fn from_storage_class(sc: &Value) -> Result<Self, String> {
        let mut c = ClassConfig::default();
        let params = sc.get("parameters").and_then(Value::as_object);
        for (k, v) in params.into_iter().flatten() {
            let key = k.strip_prefix("trident.netapp.io/").unwrap_or(k);
            let val = v.as_str().unwrap_or("");
            match key {
                "storagePools" => c.pools = pool_map(val)?,
                "additionalStoragePools" | "requiredStorage" => c.additional = pool_map(val)?,
                "excludeStoragePools" => c.exclude = pool_map(val)?,
                "backendType" | "selector" | "provisioningType" | "snapshots" | "clones"
                | "encryption" | "nasType" | "sanType" | "media" | "IOPS" | "replication" => {
                    c.attributes.insert(key.to_string(), val.to_string());
                }
                _ => {}
            }
        }
        Ok(c)
    }

    /// Whether the pool satisfies this class (Trident: `storage_class.go`
    /// Matches: exclusions first, then additional pools, then attributes
    /// and `storagePools`).
    pub fn matches(&self, pool: &Pool) -> bool {
        if !self.exclude.is_empty() && regex_matcher(pool, &self.exclude) {
            return false;
        }
        if !self.additional.is_empty() {
            if regex_matcher(pool, &self.additional) {
                return true;
            }
            if self.attributes.is_empty() && self.pools.is_empty() {
                return false;
            }
        }
        let attributes_match = self
            .attributes
            .iter()
            .all(|(name, request)| match name.as_str() {
                "selector" => selector_matches(request, &pool.labels).unwrap_or(false),
                _ => pool
                    .offers
                    .get(name)
                    .is_some_and(|offer| offer.eq_ignore_ascii_case(request)),
            });
        let pools_match = self.pools.is_empty() || regex_matcher(pool, &self.pools);
        attributes_match && pools_match
    }
}

/// Trident: `storage_class.go` regexMatcherImpl: the backend regex is
/// anchored (`^…$`), each pool regex is not.
fn regex_matcher(pool: &Pool, map: &[(String, Vec<String>)]) -> bool {
    map.iter().any(|(backend, pool_list)| {
        let mut b = backend.clone();
        if !b.starts_with('^') {
            b.insert(0, '^');
        }
        if !b.ends_with('$') {
            b.push('$');
        }
        let backend_match = Regex::new(&b).is_ok_and(|r| r.is_match(&pool.backend));
        backend_match
            && pool_list
                .iter()
                .any(|p| Regex::new(p).is_ok_and(|r| r.is_match(&pool.name)))
    })
}

/// A Trident label selector (`k=v; k2!=v; k3 in (a,b); k4 notin (c); k5;
/// !k6`, all must hold) against pool labels; `None` when it does not parse
/// (Trident: `storage_attribute/label.go` NewLabelRequest, Matches).
pub fn selector_matches(selector: &str, labels: &BTreeMap<String, String>) -> Option<bool> {
    if selector.trim().is_empty() {
        return None;
    }
    let name = r"[\w-]+";
    let eq = Regex::new(&format!(r"^({name})\s*={{1,2}}\s*({name})$")).ok()?;
    let ne = Regex::new(&format!(r"^({name})\s*!=\s*({name})$")).ok()?;
    let in_set = Regex::new(&format!(r"^({name})\s+in\s+[(]([\s\w,-]+)[)]$")).ok()?;
    let not_in = Regex::new(&format!(r"^({name})\s+notin\s+[(]([\s\w,-]+)[)]$")).ok()?;
    let exists = Regex::new(&format!(r"^({name})$")).ok()?;
    let not_exists = Regex::new(&format!(r"^!({name})$")).ok()?;
    let set = |s: &str| -> Vec<String> { s.split(',').map(|x| x.trim().to_string()).collect() };
    let mut all = true;
    for part in selector.split(';') {
        let r = part.trim();
        let ok = if let Some(c) = eq.captures(r) {
            labels.get(&c[1]).is_some_and(|v| *v == c[2])
        } else if let Some(c) = ne.captures(r) {
            // `label.go` labelNotEqualRequest: the label must exist.
            labels.get(&c[1]).is_some_and(|v| *v != c[2])
        } else if let Some(c) = in_set.captures(r) {
            labels.get(&c[1]).is_some_and(|v| set(&c[2]).contains(v))
        } else if let Some(c) = not_in.captures(r) {
            labels.get(&c[1]).is_none_or(|v| !set(&c[2]).contains(v))
        } else if let Some(c) = exists.captures(r) {
            labels.contains_key(&c[1])
        } else if let Some(c) = not_exists.captures(r) {
            !labels.contains_key(&c[1])
        } else {
            return None;
        };
        all &= ok;
    }
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pool(backend: &str, name: &str, labels: &[(&str, &str)]) -> Pool {
        let mut offers = BTreeMap::new();
        offers.insert("backendType".to_string(), "ontap-nas".to_string());
        Pool {
            backend: backend.into(),
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            offers,
        }
    }

    fn class(params: Value) -> ClassConfig {
        ClassConfig::from_storage_class(&json!({ "parameters": params })).expect("parses")
    }

    #[test]
    fn selector_and_backend_type() {
        let p = pool("nas-dr", "dr_aggr1", &[("site", "dr"), ("tier", "gold")]);
        assert!(class(json!({"backendType": "ontap-nas"})).matches(&p));
        assert!(!class(json!({"backendType": "ontap-san"})).matches(&p));
        assert!(class(json!({"selector": "site=dr; tier in (gold, silver)"})).matches(&p));
        assert!(!class(json!({"selector": "site=primary"})).matches(&p));
        assert!(class(json!({"selector": "!performance; site"})).matches(&p));
        assert!(!class(json!({"selector": "tier notin (gold)"})).matches(&p));
        // label.go: `notin` matches a pool without the label, `!=` does not.
        assert!(class(json!({"selector": "zone notin (a)"})).matches(&p));
        assert!(!class(json!({"selector": "zone!=a"})).matches(&p));
        // A selector that does not parse matches nothing.
        assert!(!class(json!({"selector": "a=b=c"})).matches(&p));
    }

    #[test]
    fn storage_pools_additional_and_exclude() {
        let dr = pool("nas-dr", "dr_aggr1", &[]);
        // storagePools narrows by backend:pool (the aggregate names differ on DR).
        assert!(!class(json!({"storagePools": "nas-primary:aggr1"})).matches(&dr));
        assert!(class(json!({"storagePools": "nas-.*:aggr1"})).matches(&dr));
        // The backend regex is anchored, the pool regex is not.
        assert!(!class(json!({"storagePools": "nas:.*"})).matches(&dr));
        // additionalStoragePools adds a pool the other settings would refuse.
        let c =
            class(json!({"backendType": "ontap-san", "additionalStoragePools": "nas-dr:dr_aggr1"}));
        assert!(c.matches(&dr));
        // ...and alone, without a match, refuses.
        assert!(!class(json!({"additionalStoragePools": "other:.*"})).matches(&dr));
        // excludeStoragePools wins over everything.
        let c = class(
            json!({"additionalStoragePools": "nas-dr:.*", "excludeStoragePools": "nas-dr:dr_aggr1"}),
        );
        assert!(!c.matches(&dr));
        assert!(
            ClassConfig::from_storage_class(&json!({"parameters": {"storagePools": "nocolon"}}))
                .is_err()
        );
    }
}
