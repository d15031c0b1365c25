//! `/api/storage/luns`: LUNs inside FlexVol volumes, read-only over REST.
//! Records carry `uuid`, `name` (the path `/vol/<volume>/<lun>`),
//! `svm{name,uuid}`, `location{logical_unit, volume{name,uuid}}`, `enabled`,
//! `status{state, read_only, container_state, mapped}`, `space{size,used}`,
//! `os_type`, `serial_number` and `class` (ONTAP REST reference
//! `GET /storage/luns`). A LUN in a `dp` volume or a stopped SVM is
//! read-only; its volume being offline makes it `offline`. SVM-DR carries
//! LUNs with their volumes' data (see `World::replicate_luns`).

use axum::http::Method;
use serde_json::{Value, json};

use super::api::{Ctx, Reply, check_uuid, not_allowed};
use super::catalogue;
use super::error::ApiError;
use super::query::{Shape, collection, instance};
use super::world::{Lun, World};

const SHAPE: Shape<'static> = Shape {
    keys: &["uuid", "name"],
    expensive: &[],
    fields: catalogue::LUNS,
};

impl World {
    /// Renames volume `uuid` (its LUNs' paths follow).
    ///
    /// # Errors
    /// Unknown volume; the name is taken in the SVM.
    pub fn rename_volume(&mut self, uuid: &str, new: &str) -> Result<(), ApiError> {
        let (svm, old) = self
            .volumes
            .iter()
            .find(|v| v.uuid == uuid)
            .map(|v| (v.svm.clone(), v.name.clone()))
            .ok_or_else(|| ApiError::not_found("The volume no longer exists."))?;
        if old == new {
            return Ok(());
        }
        if self.volumes.iter().any(|v| v.svm == svm && v.name == new) {
            return Err(ApiError::duplicate(format!(
                "Volume \"{new}\" already exists in SVM \"{}\".",
                self.svm_name(&svm)
            ))
            .target("name"));
        }
        for v in self.volumes.iter_mut().filter(|v| v.uuid == uuid) {
            v.name = new.to_string();
        }
        for l in self
            .luns
            .iter_mut()
            .filter(|l| l.svm == svm && l.volume == old)
        {
            l.volume = new.to_string();
        }
        Ok(())
    }

    /// LUN replication with a transfer: each destination volume gets the
    /// LUNs of the source volume of the same name (same names and sizes;
    /// the destination's own state kept for LUNs it already had).
    pub fn replicate_luns(&mut self, src_svm: &str, dst_svm: &str, dst_cluster: &str) {
        let src: Vec<Lun> = self
            .luns
            .iter()
            .filter(|l| l.svm == src_svm)
            .cloned()
            .collect();
        let dst_vols: Vec<String> = self
            .volumes
            .iter()
            .filter(|v| v.svm == dst_svm)
            .map(|v| v.name.clone())
            .collect();
        self.luns.retain(|l| {
            l.svm != dst_svm || src.iter().any(|s| s.volume == l.volume && s.name == l.name)
        });
        for s in src.iter().filter(|s| dst_vols.contains(&s.volume)) {
            match self
                .luns
                .iter_mut()
                .find(|l| l.svm == dst_svm && l.volume == s.volume && l.name == s.name)
            {
                Some(l) => l.size = s.size,
                None => {
                    let l = Lun {
                        state: s.state.clone(),
                        ..Lun::new(dst_cluster, dst_svm, &s.volume, &s.name, s.size)
                    };
                    self.luns.push(l);
                }
            }
        }
    }

    /// The snapshot entries of every LUN.
    pub fn dump_luns(&self) -> Vec<Value> {
        self.luns
            .iter()
            .map(|l| {
                json!({"cluster": l.cluster, "svm": self.svm_name(&l.svm), "name": l.path(),
                       "volume": l.volume, "state": lun_state(self, l), "size": l.size})
            })
            .collect()
    }
}

/// The operational state: `offline` when disabled or its volume is not online.
fn lun_state(w: &World, l: &Lun) -> &'static str {
    let vol_online = w
        .volumes
        .iter()
        .any(|v| v.svm == l.svm && v.name == l.volume && v.state == "online");
    if l.state == "online" && vol_online {
        "online"
    } else {
        "offline"
    }
}

fn lun_json(w: &World, l: &Lun) -> Value {
    let vol = w
        .volumes
        .iter()
        .find(|v| v.svm == l.svm && v.name == l.volume);
    let read_only = vol.is_none_or(|v| v.vtype == "dp")
        || w.svm(&l.svm)
            .is_none_or(|s| s.subtype == "dp_destination" || s.state != "running");
    json!({
        "uuid": l.uuid,
        "name": l.path(),
        "svm": {"name": w.svm_name(&l.svm), "uuid": l.svm},
        "location": {
            "logical_unit": l.name,
            "volume": {"name": l.volume, "uuid": vol.map(|v| v.uuid.clone()).unwrap_or_default()},
        },
        "enabled": l.state == "online",
        "status": {
            "state": lun_state(w, l),
            "container_state": vol.map(|v| v.state.clone()).unwrap_or_else(|| "offline".into()),
            "read_only": read_only,
            "mapped": false,
        },
        "space": {"size": l.size, "used": 0},
        "os_type": "linux",
        "class": "regular",
        "serial_number": l.serial,
        "_links": {"self": {"href": format!("/api/storage/luns/{}", l.uuid)}},
    })
}

/// Routes `/api/storage/luns` (GET only).
pub fn handle(w: &mut World, ctx: &Ctx, rest: &[&str]) -> Result<Reply, ApiError> {
    let visible =
        |w: &World, l: &Lun| l.cluster == ctx.cluster && ctx.sees_svm(&w.svm_name(&l.svm));
    match (&ctx.method, rest) {
        (&Method::GET, []) => {
            let recs = w
                .luns
                .iter()
                .filter(|l| visible(w, l))
                .map(|l| lun_json(w, l))
                .collect();
            Ok(Reply::ok(collection(
                "/api/storage/luns",
                &ctx.query,
                recs,
                &SHAPE,
            )?))
        }
        (&Method::GET, [id]) => {
            check_uuid(id)?;
            let l = w
                .luns
                .iter()
                .find(|l| l.uuid == *id && visible(w, l))
                .ok_or_else(|| ApiError::not_found(format!("LUN \"{id}\" not found.")))?;
            Ok(Reply::ok(instance(&lun_json(w, l), &ctx.query, &SHAPE)?))
        }
        _ => Err(not_allowed(ctx)),
    }
}
