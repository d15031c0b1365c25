//! Storage readiness: is the ONTAP storage behind a Trident volume reachable and writable?
