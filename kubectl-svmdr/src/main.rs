//! `kubectl svmdr`: ONTAP SVM-DR for Trident clusters.
fn main() {
    println!("kubectl-svmdr {}", svmdr::VERSION);
}
