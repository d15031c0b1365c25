//! Trident's StorageClass ↔ storage pool matching, as Trident decides
//! whether a class fits a backend (and so whether it will import a volume
//! through that class). See `docs/trident.md` §4.
//!
//! Upstream:
//! - the class's parameters and annotations become attributes and pool
//!   lists in `frontend/csi/controller_helpers/kubernetes/plugin.go`
//!   (`processStorageClass`); pool lists are `backend:pool,pool;backend:pool`
//!   (`storage_attribute/request.go`, `CreateBackendStoragePoolsMapFromEncodedString`);
//! - a pool matches (`storage_class/storage_class.go`, `Matches`) when it is
//!   not in `excludeStoragePools`; else when it is in `additionalStoragePools`;
//!   else when every attribute matches (`selector` against the pool's
//!   `labels`) and, if `storagePools` is given, the pool is in it. Backend
//!   names are anchored regular expressions, pool names unanchored ones
//!   (`regexMatcherImpl`);
//! - an ONTAP backend's pools (`storage_drivers/ontap/ontap_common.go`): its
//!   virtual pools (`storage[i]`, named `<backend>_pool_<i>`) if any, else its
//!   aggregates (only `aggregate` when the config names one), with the offers
//!   of `getStoragePoolAttributes` and `labels` from the config (merged with
//!   the virtual pool's own).

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

/// What a pool offers for one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// One of these strings (`stringOffer`).
    Strings(Vec<String>),
    /// A capability (`boolOffer`: `true` satisfies any request).
    Bool(bool),
    /// Labels (`labelOffer`).
    Labels(BTreeMap<String, String>),
}

/// One storage pool of a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Pool name (aggregate, or `<backend>_pool_<i>`).
    pub name: String,
    /// Backend name.
    pub backend: String,
    /// Offers by attribute name.
    pub offers: BTreeMap<String, Offer>,
}

/// The parts of an ONTAP backend's config that shape its pools.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PoolConfig {
    /// `labels`.
    pub labels: BTreeMap<String, String>,
    /// `aggregate`, when the config limits the backend to one.
    pub aggregate: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `zone`.
    pub zone: Option<String>,
    /// `storage[]`: virtual pools (their own labels, region, zone).
    pub virtual_pools: Vec<VirtualPool>,
}

/// One entry of a backend's `storage[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct VirtualPool {
    /// Its `labels`.
    pub labels: BTreeMap<String, String>,
    /// Its `region` (else the backend's).
    pub region: Option<String>,
    /// Its `zone` (else the backend's).
    pub zone: Option<String>,
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn opt_str(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl PoolConfig {
    /// Reads it from a TridentBackend's `config.ontap_config` (or a TBC spec).
    pub fn from_ontap_config(cfg: &Value) -> Self {
        let virtual_pools = cfg
            .get("storage")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| VirtualPool {
                labels: string_map(p.get("labels")),
                region: opt_str(p, "region"),
                zone: opt_str(p, "zone"),
            })
            .collect();
        Self {
            labels: string_map(cfg.get("labels")),
            aggregate: opt_str(cfg, "aggregate"),
            region: opt_str(cfg, "region"),
            zone: opt_str(cfg, "zone"),
            virtual_pools,
        }
    }
}

/// The pools Trident reports for an ONTAP backend named `backend` with
/// driver `driver`, given the aggregates assigned to its SVM.
pub fn ontap_pools(
    backend: &str,
    driver: &str,
    cfg: &PoolConfig,
    svm_aggregates: &[String],
) -> Vec<Pool> {
    // Offers every ONTAP pool has (`getStoragePoolAttributes` of the drivers).
    let base = |labels: BTreeMap<String, String>, region: Option<&str>, zone: Option<&str>| {
        let mut o = BTreeMap::new();
        o.insert(
            "backendType".into(),
            Offer::Strings(vec![driver.to_string()]),
        );
        o.insert("snapshots".into(), Offer::Bool(true));
        o.insert("clones".into(), Offer::Bool(true));
        o.insert("encryption".into(), Offer::Bool(true));
        o.insert(
            "provisioningType".into(),
            Offer::Strings(vec!["thick".into(), "thin".into()]),
        );
        o.insert("labels".into(), Offer::Labels(labels));
        if let Some(r) = region {
            o.insert("region".into(), Offer::Strings(vec![r.to_string()]));
        }
        if let Some(z) = zone {
            o.insert("zone".into(), Offer::Strings(vec![z.to_string()]));
        }
        o
    };
    if !cfg.virtual_pools.is_empty() {
        return cfg
            .virtual_pools
            .iter()
            .enumerate()
            .map(|(i, vp)| {
                let mut labels = cfg.labels.clone();
                labels.extend(vp.labels.clone());
                let region = vp.region.as_deref().or(cfg.region.as_deref());
                let zone = vp.zone.as_deref().or(cfg.zone.as_deref());
                Pool {
                    name: format!("{backend}_pool_{i}"),
                    backend: backend.to_string(),
                    offers: base(labels, region, zone),
                }
            })
            .collect();
    }
    let aggregates: Vec<String> = match &cfg.aggregate {
        Some(a) => vec![a.clone()],
        None => svm_aggregates.to_vec(),
    };
    aggregates
        .into_iter()
        .map(|a| Pool {
            name: a,
            backend: backend.to_string(),
            offers: base(
                cfg.labels.clone(),
                cfg.region.as_deref(),
                cfg.zone.as_deref(),
            ),
        })
        .collect()
}

/// One requested attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A string value.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer (IOPS).
    Int(i64),
    /// A label selector (`selector`).
    Labels(Vec<LabelTerm>),
}

/// One term of a Trident label selector (terms are `;`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelTerm {
    /// `k=v` or `k==v`.
    Eq(String, String),
    /// `k!=v`.
    NotEq(String, String),
    /// `k in (a,b)`.
    In(String, Vec<String>),
    /// `k notin (a,b)`.
    NotIn(String, Vec<String>),
    /// `k`.
    Exists(String),
    /// `!k`.
    NotExists(String),
}

impl LabelTerm {
    // Semantics of `storage_attribute/label.go`: `!=` needs the label to
    // exist with another value; `notin` also matches a pool without it.
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Self::Eq(k, v) => labels.get(k) == Some(v),
            Self::NotEq(k, v) => labels.get(k).is_some_and(|x| x != v),
            Self::In(k, set) => labels.get(k).is_some_and(|x| set.contains(x)),
            Self::NotIn(k, set) => labels.get(k).is_none_or(|x| !set.contains(x)),
            Self::Exists(k) => labels.contains_key(k),
            Self::NotExists(k) => !labels.contains_key(k),
        }
    }
}

fn label_name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Parses a Trident label selector (`storage_attribute/label.go`).
///
/// # Errors
/// An empty selector or a term of no known form.
pub fn parse_selector(s: &str) -> Result<Vec<LabelTerm>, String> {
    if s.is_empty() {
        return Err("label selector may not be empty".into());
    }
    s.split(';')
        .map(|t| {
            let t = t.trim();
            let bad = || format!("invalid label selector: {t}");
            if let Some((k, v)) = t.split_once("!=") {
                let (k, v) = (k.trim(), v.trim());
                return (label_name_ok(k) && label_name_ok(v))
                    .then(|| LabelTerm::NotEq(k.into(), v.into()))
                    .ok_or_else(bad);
            }
            if let Some((k, v)) = t.split_once('=') {
                let (k, v) = (k.trim(), v.trim_start_matches('=').trim());
                return (label_name_ok(k) && label_name_ok(v))
                    .then(|| LabelTerm::Eq(k.into(), v.into()))
                    .ok_or_else(bad);
            }
            for (kw, notin) in [(" notin ", true), (" in ", false)] {
                if let Some((k, rest)) = t.split_once(kw) {
                    let k = k.trim();
                    let set = parse_set(rest)
                        .filter(|_| label_name_ok(k))
                        .ok_or_else(bad)?;
                    return Ok(if notin {
                        LabelTerm::NotIn(k.into(), set)
                    } else {
                        LabelTerm::In(k.into(), set)
                    });
                }
            }
            if let Some(k) = t.strip_prefix('!') {
                return label_name_ok(k)
                    .then(|| LabelTerm::NotExists(k.into()))
                    .ok_or_else(bad);
            }
            label_name_ok(t)
                .then(|| LabelTerm::Exists(t.into()))
                .ok_or_else(bad)
        })
        .collect()
}

/// Attribute types Trident knows (`storage_attribute/common_attributes.go`).
fn attribute_request(name: &str, value: &str) -> Result<Request, String> {
    match name {
        "snapshots" | "clones" | "encryption" | "replication" => {
            // Go's strconv.ParseBool.
            match value {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Request::Bool(true)),
                "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Request::Bool(false)),
                _ => Err(format!("{name}: {value:?} is not a boolean")),
            }
        }
        "IOPS" => value
            .parse()
            .map(Request::Int)
            .map_err(|_| format!("IOPS: {value:?} is not an integer")),
        "nasType" | "sanType" => Ok(Request::String(value.to_ascii_lowercase())),
        "provisioningType" | "backendType" | "media" | "region" | "zone" => {
            Ok(Request::String(value.to_string()))
        }
        "selector" | "labels" => parse_selector(value).map(Request::Labels),
        _ => Err(format!("unrecognized storage attribute: {name}")),
    }
}

/// `backend:pool,pool;backend:pool` → backend pattern → pool patterns.
fn pool_map(s: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    s.split(';')
        .map(|entry| match entry.split_once(':') {
            Some((b, p)) if !b.is_empty() && !p.is_empty() => {
                Ok((b.to_string(), p.split(',').map(str::to_string).collect()))
            }
            _ => Err(format!(
                "the encoded backend-storage pool string {s:?} does not have the right format"
            )),
        })
        .collect()
}

/// A StorageClass as Trident holds it.
#[derive(Debug, Clone, Default)]
pub struct ClassSpec {
    /// Class name.
    pub name: String,
    /// Requested attributes.
    pub attributes: BTreeMap<String, Request>,
    /// `storagePools`.
    pub pools: Vec<(String, Vec<String>)>,
    /// `additionalStoragePools` (or the deprecated `requiredStorage`).
    pub additional_pools: Vec<(String, Vec<String>)>,
    /// `excludeStoragePools`.
    pub exclude_pools: Vec<(String, Vec<String>)>,
    /// Attributes no ONTAP pool offers the plugin can see (e.g. `media`,
    /// read by Trident from the aggregate): Trident decides them.
    pub unverifiable: Vec<String>,
}

const PARAM_PREFIX: &str = "trident.netapp.io/";

impl ClassSpec {
    /// Reads a Kubernetes StorageClass (JSON) as `processStorageClass` does.
    ///
    /// # Errors
    /// Not Trident's class, or a parameter Trident would reject (Trident then
    /// does not add the class at all).
    pub fn from_k8s(sc: &Value) -> Result<Self, String> {
        let name = sc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>")
            .to_string();
        let provisioner = sc
            .get("provisioner")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if provisioner != super::volume::CSI_DRIVER
            && provisioner != super::volume::LEGACY_PROVISIONER
        {
            return Err(format!(
                "its provisioner is {provisioner:?}, not {}",
                super::volume::CSI_DRIVER
            ));
        }
        let mut out = Self {
            name,
            ..Self::default()
        };
        let params = sc.get("parameters").and_then(Value::as_object);
        for (k, v) in params.into_iter().flatten() {
            let v = v.as_str().unwrap_or_default();
            if k.starts_with("csi.storage.k8s.io/") || k == "fsType" {
                continue;
            }
            let key = k.strip_prefix(PARAM_PREFIX).unwrap_or(k);
            match key {
                "requiredStorage" | "additionalStoragePools" => {
                    out.additional_pools = pool_map(v)?;
                }
                "excludeStoragePools" => out.exclude_pools = pool_map(v)?,
                "storagePools" => out.pools = pool_map(v)?,
                _ => {
                    let req = attribute_request(key, v)?;
                    out.attributes.insert(key.to_string(), req);
                }
            }
        }
        let ann = sc
            .pointer("/metadata/annotations")
            .and_then(Value::as_object);
        if let Some(v) = ann
            .and_then(|a| a.get("trident.netapp.io/selector"))
            .and_then(Value::as_str)
            && let Ok(terms) = parse_selector(v)
        {
            out.attributes
                .insert("selector".into(), Request::Labels(terms));
        }
        if let Some(v) = ann
            .and_then(|a| a.get("trident.netapp.io/additionalStoragePools"))
            .and_then(Value::as_str)
            && let Ok(p) = pool_map(v)
        {
            out.additional_pools = p;
        }
        out.unverifiable = out
            .attributes
            .keys()
            .filter(|k| {
                matches!(
                    k.as_str(),
                    "media" | "IOPS" | "replication" | "nasType" | "sanType"
                )
            })
            .cloned()
            .collect();
        Ok(out)
    }

    /// Whether `pool` is in any entry of `map`: the backend name matched by
    /// an anchored regex, the pool name by an unanchored one (Go's
    /// `regexp.MatchString`); an invalid pattern matches nothing, as Trident
    /// logs and skips it.
    fn in_map(map: &[(String, Vec<String>)], pool: &Pool) -> bool {
        map.iter().any(|(backend, pools)| {
            names_backend(backend, &pool.backend)
                && pools
                    .iter()
                    .any(|p| Regex::new(p).is_ok_and(|r| r.is_match(&pool.name)))
        })
    }

    /// Trident's `Matches`: why `pool` does not fit, or `Ok`.
    ///
    /// # Errors
    /// The first reason, in Trident's order of checks.
    pub fn matches(&self, pool: &Pool) -> Result<(), String> {
        if Self::in_map(&self.exclude_pools, pool) {
            return Err(format!("pool {} is in excludeStoragePools", pool.name));
        }
        if !self.additional_pools.is_empty() {
            if Self::in_map(&self.additional_pools, pool) {
                return Ok(());
            }
            if self.attributes.is_empty() && self.pools.is_empty() {
                return Err(format!(
                    "pool {} is not in additionalStoragePools",
                    pool.name
                ));
            }
        }
        self.attributes_match(pool)?;
        if !self.pools.is_empty() && !Self::in_map(&self.pools, pool) {
            return Err(format!("pool {} is not in storagePools", pool.name));
        }
        Ok(())
    }

    /// For a backend whose pool names are unknown (its SVM lists no
    /// aggregates to this user): what can still be decided, with `pool` a
    /// stand-in carrying the backend's offers. The attributes must match, and
    /// a `storagePools` (or lone `additionalStoragePools`) list must name the
    /// backend.
    ///
    /// # Errors
    /// Why no pool of the backend can match.
    pub fn fits_unknown_pools(&self, pool: &Pool) -> Result<(), String> {
        let names_backend = |map: &[(String, Vec<String>)]| {
            map.iter().any(|(b, _)| names_backend(b, &pool.backend))
        };
        let only_additional = !self.additional_pools.is_empty()
            && self.attributes.is_empty()
            && self.pools.is_empty();
        if only_additional {
            return if names_backend(&self.additional_pools) {
                Ok(())
            } else {
                Err(format!(
                    "additionalStoragePools does not name backend {}",
                    pool.backend
                ))
            };
        }
        if !self.additional_pools.is_empty() && names_backend(&self.additional_pools) {
            return Ok(());
        }
        self.attributes_match(pool)?;
        if !self.pools.is_empty() && !names_backend(&self.pools) {
            return Err(format!(
                "storagePools does not name backend {}",
                pool.backend
            ));
        }
        Ok(())
    }

    /// The attribute part of [`Self::matches`] alone.
    ///
    /// # Errors
    /// The first attribute the pool does not offer.
    pub fn attributes_match(&self, pool: &Pool) -> Result<(), String> {
        for (name, request) in &self.attributes {
            if self.unverifiable.contains(name) {
                continue;
            }
            let key = if name == "selector" { "labels" } else { name };
            let ok = match (pool.offers.get(key), request) {
                (Some(Offer::Strings(o)), Request::String(r)) => o.contains(r),
                (Some(Offer::Bool(o)), Request::Bool(r)) => *o || o == r,
                (Some(Offer::Labels(o)), Request::Labels(terms)) => {
                    terms.iter().all(|t| t.matches(o))
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "pool {} does not offer {name} {}",
                    pool.name,
                    describe(request)
                ));
            }
        }
        Ok(())
    }

    /// The pools of a backend the class fits (`CheckBackend`).
    ///
    /// # Errors
    /// No pool fits: each pool's reason.
    pub fn fits(&self, pools: &[Pool]) -> Result<Vec<String>, String> {
        if pools.is_empty() {
            return Err("the backend reports no storage pools".into());
        }
        let mut why = Vec::new();
        let mut hits = Vec::new();
        for p in pools {
            match self.matches(p) {
                Ok(()) => hits.push(p.name.clone()),
                Err(e) => why.push(e),
            }
        }
        if hits.is_empty() {
            Err(why.join("; "))
        } else {
            Ok(hits)
        }
    }
}

/// `regexMatcherImpl`: the backend pattern anchored with `^…$` (added
/// where missing) matches `backend`.
fn names_backend(pattern: &str, backend: &str) -> bool {
    let mut anchored = String::with_capacity(pattern.len() + 2);
    if !pattern.starts_with('^') {
        anchored.push('^');
    }
    anchored.push_str(pattern);
    if !pattern.ends_with('$') {
        anchored.push('$');
    }
    Regex::new(&anchored).is_ok_and(|r| r.is_match(backend))
}

fn describe(r: &Request) -> String {
    match r {
        Request::String(s) => s.clone(),
        Request::Bool(b) => b.to_string(),
        Request::Int(i) => i.to_string(),
        Request::Labels(t) => format!("{t:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sc(params: Value) -> ClassSpec {
        ClassSpec::from_k8s(&json!({"metadata": {"name": "gold"},
            "provisioner": "csi.trident.netapp.io", "parameters": params}))
        .unwrap()
    }

    fn pools() -> Vec<Pool> {
        let cfg = PoolConfig {
            labels: [("tier".to_string(), "gold".to_string())].into(),
            ..PoolConfig::default()
        };
        ontap_pools(
            "dr-nas",
            "ontap-nas",
            &cfg,
            &["aggr1_dr".into(), "aggr2_dr".into()],
        )
    }

    #[test]
    fn attributes_and_selector() {
        let p = pools();
        assert_eq!(
            sc(json!({"backendType": "ontap-nas"}))
                .fits(&p)
                .unwrap()
                .len(),
            2
        );
        assert!(sc(json!({"backendType": "ontap-san"})).fits(&p).is_err());
        assert!(sc(json!({"selector": "tier=gold"})).fits(&p).is_ok());
        assert!(
            sc(json!({"selector": "tier in (silver, bronze)"}))
                .fits(&p)
                .is_err()
        );
        assert!(
            sc(json!({"selector": "tier notin (silver)"}))
                .fits(&p)
                .is_ok()
        );
        assert!(sc(json!({"selector": "!tier"})).fits(&p).is_err());
        assert!(
            sc(json!({"selector": "zone!=a"})).fits(&p).is_err(),
            "!= needs the label"
        );
        assert!(
            sc(json!({"snapshots": "true", "provisioningType": "thin"}))
                .fits(&p)
                .is_ok()
        );
    }

    #[test]
    fn storage_pools_name_aggregates_which_differ_on_dr() {
        let p = pools();
        // The primary's aggregate (and backend) names do not exist on DR.
        let e = sc(json!({"storagePools": "dr-nas:aggr_a1"}))
            .fits(&p)
            .unwrap_err();
        assert!(e.contains("not in storagePools"), "{e}");
        assert!(
            sc(json!({"storagePools": "primary-nas:aggr1_dr"}))
                .fits(&p)
                .is_err()
        );
        // Pool names are unanchored regexes (Go's regexp.MatchString), so
        // `aggr1` also matches `aggr1_dr`; backend names are anchored.
        assert_eq!(
            sc(json!({"storagePools": "dr-nas:aggr1"}))
                .fits(&p)
                .unwrap(),
            ["aggr1_dr"]
        );
        assert!(sc(json!({"storagePools": "dr-.*:.*"})).fits(&p).is_ok());
        assert!(sc(json!({"storagePools": "dr:.*"})).fits(&p).is_err());
    }

    #[test]
    fn additional_pools_add_and_exclusions_remove() {
        let p = pools();
        // additionalStoragePools alone: only the named pools.
        let only = sc(json!({"additionalStoragePools": "dr-nas:aggr2_dr"}));
        assert_eq!(only.fits(&p).unwrap(), ["aggr2_dr"]);
        // With attributes, a pool can match either way.
        let either = sc(json!({"backendType": "ontap-nas", "additionalStoragePools": "other:x"}));
        assert_eq!(either.fits(&p).unwrap().len(), 2);
        // Exclusion wins over everything.
        let ex = sc(json!({"excludeStoragePools": "dr-nas:aggr1_dr",
            "additionalStoragePools": "dr-nas:.*"}));
        assert_eq!(ex.fits(&p).unwrap(), ["aggr2_dr"]);
    }

    #[test]
    fn virtual_pools_replace_aggregates() {
        let cfg = PoolConfig::from_ontap_config(&json!({"labels": {"site": "a"},
            "storage": [{"labels": {"tier": "fast"}}, {"labels": {"tier": "slow"}, "zone": "z2"}]}));
        let p = ontap_pools("b", "ontap-nas", &cfg, &["aggr1".into()]);
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["b_pool_0", "b_pool_1"]
        );
        assert_eq!(
            sc(json!({"selector": "tier=slow; site=a"}))
                .fits(&p)
                .unwrap(),
            ["b_pool_1"]
        );
        assert_eq!(sc(json!({"zone": "z2"})).fits(&p).unwrap(), ["b_pool_1"]);
    }

    #[test]
    fn unknown_pools_still_check_attributes_and_backend_names() {
        let stand_in = &pools()[0];
        assert!(
            sc(json!({"storagePools": "dr-nas:whatever"}))
                .fits_unknown_pools(stand_in)
                .is_ok()
        );
        let e = sc(json!({"storagePools": "nas-primary:aggr1"}))
            .fits_unknown_pools(stand_in)
            .unwrap_err();
        assert!(
            e.contains("storagePools does not name backend dr-nas"),
            "{e}"
        );
        assert!(
            sc(json!({"backendType": "ontap-san"}))
                .fits_unknown_pools(stand_in)
                .is_err()
        );
        assert!(
            sc(json!({"additionalStoragePools": "other:.*"}))
                .fits_unknown_pools(stand_in)
                .is_err()
        );
    }

    #[test]
    fn prefixed_parameters_annotations_and_errors() {
        let c = ClassSpec::from_k8s(&json!({"metadata": {"name": "x",
            "annotations": {"trident.netapp.io/selector": "tier=gold"}},
            "provisioner": "csi.trident.netapp.io",
            "parameters": {"trident.netapp.io/backendType": "ontap-nas", "fsType": "ext4",
                "csi.storage.k8s.io/fstype": "xfs", "media": "ssd"}}))
        .unwrap();
        assert!(c.attributes.contains_key("selector"));
        assert_eq!(c.unverifiable, ["media"]);
        assert!(c.fits(&pools()).is_ok(), "media is left to Trident");
        let bad = ClassSpec::from_k8s(&json!({"provisioner": "csi.trident.netapp.io",
            "parameters": {"storagePools": "nocolon"}}));
        assert!(bad.is_err());
        let other = ClassSpec::from_k8s(&json!({"provisioner": "ebs.csi.aws.com"}));
        assert!(other.unwrap_err().contains("provisioner"));
        assert!(parse_selector("a b").is_err());
    }
}
