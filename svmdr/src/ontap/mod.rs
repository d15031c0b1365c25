//! An async ONTAP REST client for what SVM-DR needs.
