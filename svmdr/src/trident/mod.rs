//! Trident: backends and their credentials ([`backend`]), the ONTAP volume
//! behind a Trident PV or PVC ([`volume`]), StorageClass to pool matching
//! ([`pools`]), and version-dependent behaviour ([`version`]).
//! The facts behind them are in `docs/trident.md`.

pub mod backend;
pub mod pools;
pub mod version;
pub mod volume;
