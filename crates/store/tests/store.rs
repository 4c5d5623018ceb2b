//! The cluster database's own guarantees (the append-only audit log is a unit test in `audit`).

use opencapf_store::Store;

#[tokio::test]
async fn opening_a_folder_without_a_cluster_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).await.err().unwrap();
    assert!(err.to_string().contains("opencapf init"), "{err}");
}
