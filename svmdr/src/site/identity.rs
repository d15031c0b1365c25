//! Are the two sites really two? A `--context` meant for the primary that
//! quietly becomes "the DR site" would peer a cluster with itself. Before
//! any ONTAP change the workflows compare the sites' Kubernetes clusters
//! (the UID of the `kube-system` namespace, which every cluster has and no
//! two share) and ONTAP clusters (the cluster UUID); `status` reports a
//! match as a problem.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;

use super::{Site, SiteError};

/// Who a site is: its Kubernetes cluster and its ONTAP cluster, each when
/// it could be read (an unreadable one is not compared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteIdentity {
    /// `primary (context lab-primary)`.
    pub label: String,
    /// UID of the `kube-system` namespace.
    pub kube_uid: Option<String>,
    /// ONTAP cluster UUID.
    pub ontap_uuid: Option<String>,
    /// ONTAP cluster name, for messages.
    pub ontap_name: Option<String>,
    /// ONTAP address used.
    pub endpoint: String,
}

/// The UID of the cluster's `kube-system` namespace (one `GET`), `None`
/// when it cannot be read.
pub async fn kube_system_uid(kube: &kube::Client) -> Option<String> {
    let api: Api<Namespace> = Api::all(kube.clone());
    api.get_opt("kube-system")
        .await
        .ok()
        .flatten()
        .and_then(|n| n.metadata.uid)
}

/// Reads a site's identity: `GET` namespace `kube-system` and ONTAP
/// `GET /api/cluster`, at the same time. Failures leave a part unknown.
pub async fn identify(site: &Site) -> SiteIdentity {
    let (kube_uid, cluster) = tokio::join!(kube_system_uid(&site.kube), site.ontap.cluster());
    let (ontap_uuid, ontap_name) = match cluster {
        Ok(c) => (c.uuid, c.name),
        Err(_) => (None, None),
    };
    SiteIdentity {
        label: site.label(),
        kube_uid,
        ontap_uuid,
        ontap_name,
        endpoint: site.endpoint.clone(),
    }
}

/// What the two sites share, one phrase each (empty: they are distinct as
/// far as could be read).
pub fn shared(primary: &SiteIdentity, dr: &SiteIdentity) -> Vec<String> {
    let mut same = Vec::new();
    if let (Some(p), Some(d)) = (&primary.kube_uid, &dr.kube_uid)
        && p == d
    {
        same.push(format!(
            "the same Kubernetes cluster (kube-system namespace UID {p})"
        ));
    }
    if let (Some(p), Some(d)) = (&primary.ontap_uuid, &dr.ontap_uuid)
        && p == d
    {
        same.push(format!(
            "the same ONTAP cluster {} (UUID {p})",
            primary.ontap_name.as_deref().unwrap_or("-")
        ));
    }
    same
}

/// Checks that the sites are two different Kubernetes clusters and two
/// different ONTAP clusters.
///
/// # Errors
/// [`SiteError::SameCluster`] naming both sites and what they share.
pub fn check_distinct(primary: &SiteIdentity, dr: &SiteIdentity) -> Result<(), SiteError> {
    let same = shared(primary, dr);
    if same.is_empty() {
        return Ok(());
    }
    Err(SiteError::SameCluster {
        primary: format!("{} at {}", primary.label, primary.endpoint),
        dr: format!("{} at {}", dr.label, dr.endpoint),
        shared: same.join(" and "),
    })
}

/// How long [`ensure_distinct`] waits for a site's identity: a primary
/// that is down in a disaster must not hold up the failover for a whole
/// request timeout (an unanswered part is not compared).
pub const IDENTIFY_BOUND: std::time::Duration = std::time::Duration::from_secs(5);

/// [`identify`] both sites (each bounded by [`IDENTIFY_BOUND`]) and
/// [`check_distinct`].
///
/// # Errors
/// [`SiteError::SameCluster`].
pub async fn ensure_distinct(primary: &Site, dr: &Site) -> Result<(), SiteError> {
    let (p, d) = tokio::join!(identify_bounded(primary), identify_bounded(dr));
    check_distinct(&p, &d)
}

/// [`identify`] within [`IDENTIFY_BOUND`]; after it, nothing is known.
async fn identify_bounded(site: &Site) -> SiteIdentity {
    match tokio::time::timeout(IDENTIFY_BOUND, identify(site)).await {
        Ok(id) => id,
        Err(_) => SiteIdentity {
            label: site.label(),
            endpoint: site.endpoint.clone(),
            ..SiteIdentity::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(label: &str, kube: Option<&str>, ontap: Option<&str>) -> SiteIdentity {
        SiteIdentity {
            label: label.into(),
            kube_uid: kube.map(Into::into),
            ontap_uuid: ontap.map(Into::into),
            ontap_name: Some("ontap-a".into()),
            endpoint: "https://127.0.0.1:1".into(),
        }
    }

    #[test]
    fn same_kube_or_ontap_cluster_is_refused_naming_both() {
        let p = id("primary (context lab-primary)", Some("k1"), Some("o1"));
        let d = id("dr (context lab-primary)", Some("k1"), Some("o1"));
        let e = check_distinct(&p, &d).unwrap_err().to_string();
        for part in [
            "primary (context lab-primary)",
            "dr (context lab-primary)",
            "kube-system namespace UID k1",
            "ONTAP cluster ontap-a (UUID o1)",
            "--dr-context",
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
        let d = id("dr (context lab-dr)", Some("k2"), Some("o1"));
        let e = check_distinct(&p, &d).unwrap_err().to_string();
        assert!(
            !e.contains("Kubernetes cluster (") && e.contains("UUID o1"),
            "{e}"
        );
    }

    #[test]
    fn different_or_unknown_clusters_pass() {
        let p = id("p", Some("k1"), Some("o1"));
        assert!(check_distinct(&p, &id("d", Some("k2"), Some("o2"))).is_ok());
        assert!(check_distinct(&p, &id("d", None, None)).is_ok());
    }
}
