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

async fn log_of(n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).await.unwrap();
    let mut db = store.write().await.unwrap();
    for i in 0..n {
        opencapf_store::audit::record(&mut db, "admin", "device.add", &format!("SEP00000000000{i}"), "d")
            .await
            .unwrap();
    }
    db.commit().await.unwrap();
    (dir, store)
}

/// Someone who can write the file drops the trigger and edits a record: `verify` names it.
#[tokio::test]
async fn the_audit_chain_names_the_first_changed_record() {
    use opencapf_store::audit::verify;
    let (_dir, store) = log_of(5).await;
    let mut db = store.read().await.unwrap();
    let chain = verify(&mut db).await.unwrap();
    assert!(chain.intact && chain.records == 5 && chain.broken.is_none(), "{chain:?}");

    db.execute_raw("DROP TRIGGER audit_log_no_update").await.unwrap();
    db.execute_raw("UPDATE audit_log SET detail = 'nothing happened' WHERE id = 3").await.unwrap();
    let chain = verify(&mut db).await.unwrap();
    assert!(!chain.intact, "{chain:?}");
    let broken = chain.broken.unwrap();
    assert_eq!(broken.id, 3);
    assert!(broken.problem.contains("changed after it was written"), "{}", broken.problem);
    assert_eq!(chain.records, 3);

    // A record removed in the middle is named by the one after it.
    let (_dir, store) = log_of(5).await;
    let mut db = store.read().await.unwrap();
    db.execute_raw("DROP TRIGGER audit_log_no_delete").await.unwrap();
    db.execute_raw("DELETE FROM audit_log WHERE id = 2").await.unwrap();
    let broken = verify(&mut db).await.unwrap().broken.unwrap();
    assert_eq!(broken.id, 3);
    assert!(broken.problem.contains("removed"), "{}", broken.problem);

    // A hash removed later is a break, not something the next open re-chains.
    let (dir, store) = log_of(3).await;
    let mut db = store.read().await.unwrap();
    db.execute_raw("DROP TRIGGER audit_log_no_update").await.unwrap();
    db.execute_raw("UPDATE audit_log SET detail = 'x', hash = NULL WHERE id = 2").await.unwrap();
    drop(db);
    store.close().await;
    let store = Store::open(dir.path()).await.unwrap();
    let broken = verify(&mut store.read().await.unwrap()).await.unwrap().broken.unwrap();
    assert_eq!(broken.id, 2);
    assert!(broken.problem.contains("no chain hash"), "{}", broken.problem);
}

/// Records written before the chain existed are chained when the cluster is next opened.
#[tokio::test]
async fn records_from_before_the_chain_are_chained_on_open() {
    let (dir, store) = log_of(0).await;
    let mut db = store.read().await.unwrap();
    db.execute_raw("DROP TRIGGER audit_log_hash_required").await.unwrap();
    for i in 1..=3 {
        db.execute_raw(&format!(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ('2024-01-0{i}T00:00:00Z', 'old', 'a', 't', 'd')"
        ))
        .await
        .unwrap();
    }
    drop(db);
    store.close().await;
    let store = Store::open(dir.path()).await.unwrap();
    let mut db = store.read().await.unwrap();
    opencapf_store::audit::record(&mut db, "new", "b", "t", "d").await.unwrap();
    let chain = opencapf_store::audit::verify(&mut db).await.unwrap();
    assert!(chain.intact && chain.records == 4, "{chain:?}");
    let upd = db.execute_raw("UPDATE audit_log SET detail = 'x' WHERE id = 1").await;
    assert!(upd.unwrap_err().to_string().contains("append-only"));
}
