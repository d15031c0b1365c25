//! Integration tests of the ONTAP simulator, driven over HTTPS with a raw
//! reqwest client (never `svmdr`), with `Timing::fast()`.

mod ontap {
    mod ansible_shapes;
    mod auth_and_queries;
    pub mod client;
    mod dr_flow;
    mod exports;
    mod faults;
    mod fields;
    mod peering;
}
