//! Trident: backends and their credentials ([`backend`]), and the ONTAP
//! volume behind a Trident PV or PVC ([`volume`]).

pub mod backend;
pub mod volume;
