//! The stateful ONTAP REST simulator.
