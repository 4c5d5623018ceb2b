//! The cluster database's own guarantees.

use opencapf_pki::{KeyAlgorithm, SubjectFields, TrustStore};
use opencapf_store::cluster::{self, InitOptions};
use opencapf_store::{audit, trust, Store, StoreError};

fn options() -> InitOptions {
    InitOptions {
        capf_key: KeyAlgorithm::Ec256,
        subject: SubjectFields { organization: Some("Lab".into()), ..Default::default() },
        hostname: "cucm.lab".into(),
        manufacturer_cas: Vec::new(),
        actor: "test".into(),
    }
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("c");
    cluster::init(&data, options()).await.unwrap();
    let store = Store::open(&data).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    audit::record(&mut conn, "test", "x.y", "t", "d").await.unwrap();
    let upd = sqlx::query("UPDATE audit_log SET actor = 'mallory'").execute(&mut *conn).await;
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = sqlx::query("DELETE FROM audit_log").execute(&mut *conn).await;
    assert!(del.unwrap_err().to_string().contains("append-only"));
    assert_eq!(audit::list(&mut conn, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn init_refuses_a_non_empty_folder_and_a_non_ca_manufacturer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("c");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("notes.txt"), "mine").unwrap();
    let err = cluster::init(&data, options()).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err}");
    assert_eq!(std::fs::read_to_string(data.join("notes.txt")).unwrap(), "mine", "nothing lost");

    // A leaf certificate is not a manufacturing CA; nothing is left behind.
    let other = dir.path().join("d");
    cluster::init(&other, options()).await.unwrap();
    let store = Store::open(&other).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let cm = trust::list(&mut conn, Some(TrustStore::CallManager)).await.unwrap();
    let leaf = cm.iter().find(|e| e.common_name.as_deref() == Some("cucm.lab")).unwrap().der.clone();
    let target = dir.path().join("e");
    let mut opts = options();
    opts.manufacturer_cas = vec![leaf];
    let err = cluster::init(&target, opts).await.unwrap_err();
    assert!(err.to_string().contains("not a CA certificate"), "{err}");
    assert!(!target.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no staging folder left: {leftovers:?}");
}

#[tokio::test]
async fn opening_a_folder_without_a_cluster_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).await.err().unwrap();
    assert!(err.to_string().contains("opencapf init"), "{err}");
}
