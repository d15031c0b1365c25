//! Trident: backends ([`backend`]), which ones a cluster serves
//! ([`discovery`], pure), how to log in to their ONTAP clusters
//! ([`credentials`], pure), reading both from a cluster ([`cluster`]), the
//! ONTAP volume behind a Trident PV or PVC ([`volume`]), StorageClass to
//! pool matching ([`pools`]), and version-dependent behaviour ([`version`]).
//! The facts behind them are in `docs/trident.md`.

pub mod backend;
pub mod cluster;
pub mod credentials;
pub mod discovery;
pub mod pools;
pub mod version;
pub mod volume;
