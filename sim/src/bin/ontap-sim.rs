//! `ontap-sim --topology FILE`: serve simulated ONTAP clusters.
fn main() {
    println!("ontap-sim {}", env!("CARGO_PKG_VERSION"));
}
