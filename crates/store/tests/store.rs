//! The cluster database's own guarantees (the append-only audit log is a unit test in `audit`).

use opencapf_store::Store;

#[tokio::test]
async fn opening_a_folder_without_a_cluster_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).await.err().unwrap();
    assert!(err.to_string().contains("opencapf init"), "{err}");
}

/// The database holds pending authentication strings: only the owner may read it.
#[tokio::test]
async fn a_new_cluster_folder_is_0700_and_its_database_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Store::create(&data).await.unwrap();
    let mut db = store.write().await.unwrap();
    opencapf_store::audit::record(&mut db, "test", "x.y", "t", "d").await.unwrap();
    db.commit().await.unwrap();
    let mode = |name: &str| std::fs::metadata(data.join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(""), 0o700, "data folder");
    for file in ["cluster.db", "cluster.db-wal", "cluster.db-shm"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    store.close().await;

    // A cluster made before, with wider modes, is narrowed when opened.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("cluster.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&data).await.unwrap();
    assert_eq!(mode(""), 0o700);
    assert_eq!(mode("cluster.db"), 0o600);
    store.close().await;
}
