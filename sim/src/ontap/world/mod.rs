//! The simulated world shared by every cluster of a lab: clusters, SVMs,
//! LIFs, volumes, peers, relationships and jobs, plus the clock-driven parts
//! (jobs and transfers), advanced by [`World::tick`].
//!
//! Everything lives behind one mutex (see `mod.rs`), because peering and
//! replication cross clusters. Time-based progress is computed from
//! timestamps on each tick, so reads always see a consistent state.
//!
//! - `model`: the objects and the [`World`] that holds them.
//! - `seed`: a world from a topology; `lookup`: finding objects;
//!   `jobs`: asynchronous jobs and the tick; `replication`: transfers;
//!   `dump`: the JSON dump of the whole lab; `lun` and `export_policy`:
//!   the LUN and export policy models.

mod dump;
mod export_policy;
mod ids;
mod jobs;
mod lookup;
mod lun;
mod model;
mod replication;
mod seed;

pub use export_policy::*;
pub use ids::new_uuid;
pub use lun::*;
pub use model::*;
