//! The ONTAP volume behind a Trident PV or PVC, and Trident's naming rule.
