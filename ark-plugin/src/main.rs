//! `velero-plugin-svmdr`: a Velero RestoreItemAction served over go-plugin gRPC.
fn main() {
    println!("velero-plugin-svmdr {}", svmdr::VERSION);
}
