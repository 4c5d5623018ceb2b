//! The cluster database's own guarantees (the append-only audit log is a unit test in `audit`).

use opencapf_store::testing::{each_backend, ScratchPostgres, TestStore};
use opencapf_store::{Database, Store};

#[tokio::test]
async fn opening_a_folder_without_a_cluster_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).await.err().unwrap();
    assert!(err.to_string().contains("opencapf init"), "{err}");
    if let Some(pg) = ScratchPostgres::new().await {
        let err = Store::open_with(dir.path(), &pg.database).await.err().unwrap().to_string();
        assert!(err.contains("opencapf init") && err.contains("postgres://"), "{err}");
        assert!(!pg.database.holds_cluster().await.unwrap());
    }
}

/// A PostgreSQL URL's password never appears in a message, even when the connection fails.
#[tokio::test]
async fn a_database_that_does_not_answer_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::parse("postgres://capf:hunter2hunter2@127.0.0.1:1/cluster").unwrap();
    let err = Store::open_with(dir.path(), &db).await.err().unwrap().to_string();
    assert!(!err.contains("hunter2"), "{err}");
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

async fn log_of(t: &TestStore, n: usize) {
    let mut db = t.store.write().await.unwrap();
    for i in 0..n {
        opencapf_store::audit::record(&mut db, "admin", "device.add", &format!("SEP00000000000{i}"), "d")
            .await
            .unwrap();
    }
    db.commit().await.unwrap();
}

/// Someone who can write the database drops the trigger and edits a record: `verify` names it.
#[tokio::test]
async fn the_audit_chain_names_the_first_changed_record() {
    use opencapf_store::audit::verify;
    for t in each_backend().await {
        log_of(&t, 5).await;
        let mut db = t.store.read().await.unwrap();
        let chain = verify(&mut db).await.unwrap();
        assert!(chain.intact && chain.records == 5 && chain.broken.is_none(), "{}: {chain:?}", t.backend);

        db.execute_raw(&t.drop_trigger("audit_log_no_update", "audit_log")).await.unwrap();
        db.execute_raw("UPDATE audit_log SET detail = 'nothing happened' WHERE id = 3").await.unwrap();
        let chain = verify(&mut db).await.unwrap();
        assert!(!chain.intact, "{chain:?}");
        let broken = chain.broken.unwrap();
        assert_eq!(broken.id, 3, "{}", t.backend);
        assert!(broken.problem.contains("changed after it was written"), "{}", broken.problem);
        assert_eq!(chain.records, 3);
    }

    // A record removed in the middle is named by the one after it.
    for t in each_backend().await {
        log_of(&t, 5).await;
        let mut db = t.store.read().await.unwrap();
        db.execute_raw(&t.drop_trigger("audit_log_no_delete", "audit_log")).await.unwrap();
        db.execute_raw("DELETE FROM audit_log WHERE id = 2").await.unwrap();
        let broken = verify(&mut db).await.unwrap().broken.unwrap();
        assert_eq!(broken.id, 3, "{}", t.backend);
        assert!(broken.problem.contains("removed"), "{}", broken.problem);
    }

    // A hash removed later is a break, not something the next open re-chains.
    for mut t in each_backend().await {
        log_of(&t, 3).await;
        let mut db = t.store.read().await.unwrap();
        db.execute_raw(&t.drop_trigger("audit_log_no_update", "audit_log")).await.unwrap();
        db.execute_raw("UPDATE audit_log SET detail = 'x', hash = NULL WHERE id = 2").await.unwrap();
        drop(db);
        t.reopen().await;
        let broken = verify(&mut t.store.read().await.unwrap()).await.unwrap().broken.unwrap();
        assert_eq!(broken.id, 2, "{}", t.backend);
        assert!(broken.problem.contains("no chain hash"), "{}", broken.problem);
    }
}

/// Records written before the chain existed are chained when the cluster is next opened.
#[tokio::test]
async fn records_from_before_the_chain_are_chained_on_open() {
    for mut t in each_backend().await {
        let mut db = t.store.read().await.unwrap();
        db.execute_raw(&t.drop_trigger("audit_log_hash_required", "audit_log")).await.unwrap();
        for i in 1..=3 {
            db.execute_raw(&format!(
                "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ('2024-01-0{i}T00:00:00Z', 'old', 'a', 't', 'd')"
            ))
            .await
            .unwrap();
        }
        drop(db);
        t.reopen().await;
        let mut db = t.store.read().await.unwrap();
        opencapf_store::audit::record(&mut db, "new", "b", "t", "d").await.unwrap();
        let chain = opencapf_store::audit::verify(&mut db).await.unwrap();
        assert!(chain.intact && chain.records == 4, "{}: {chain:?}", t.backend);
        let upd = db.execute_raw("UPDATE audit_log SET detail = 'x' WHERE id = 1").await;
        assert!(upd.unwrap_err().to_string().contains("append-only"), "{}", t.backend);
    }
}

/// Migration 0011 rebuilt `service_certificates` and `trust_entries` for the new identities and
/// store: the new values are accepted, others still refused, and one active certificate per
/// service is still enforced.
#[tokio::test]
async fn the_new_identities_and_phone_sast_trust_fit_the_rebuilt_tables() {
    use opencapf_model::{KeyAlgorithm, Service, SubjectFields, TrustAdded, TrustStore};
    use opencapf_pki::{profiles, PrivateKey};
    use opencapf_store::{service, trust};
    for t in each_backend().await {
        let mut db = t.store.write().await.unwrap();
        let now = opencapf_model::now();
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let subject = SubjectFields::default();
        let itl = profiles::itl_recovery_certificate(&key, "node", &subject, 7300, now).unwrap();
        let itl2 = profiles::itl_recovery_certificate(&key, "node2", &subject, 7300, now).unwrap();
        let tvs = profiles::tvs_certificate(&key, "node", &subject, 1825, now).unwrap();
        service::insert_active(&mut db, Service::ItlRecovery, &itl, "k", KeyAlgorithm::Rsa2048).await.unwrap();
        service::insert_active(&mut db, Service::Tvs, &tvs, "k", KeyAlgorithm::Rsa2048).await.unwrap();
        db.commit().await.unwrap();
        // A refused statement ends a PostgreSQL transaction: it gets one of its own.
        let mut db = t.store.write().await.unwrap();
        let twice = service::insert_active(&mut db, Service::ItlRecovery, &itl2, "k", KeyAlgorithm::Rsa2048).await;
        assert!(twice.is_err(), "one active ITLRecovery");
        drop(db);
        let mut db = t.store.write().await.unwrap();
        assert_eq!(
            service::require_active(&mut db, Service::ItlRecovery).await.unwrap().fingerprint,
            itl.info.fingerprint
        );
        assert_eq!(trust::add(&mut db, TrustStore::PhoneSast, &itl2.der, false, "t").await.unwrap(), TrustAdded::Added);
        assert_eq!(trust::list(&mut db, Some(TrustStore::PhoneSast)).await.unwrap()[0].store, TrustStore::PhoneSast);
        assert!(db.execute_raw("UPDATE trust_entries SET store = 'Other-trust'").await.is_err(), "CHECK kept");
    }
}

/// Migration 0013 rebuilt `service_certificates` for tomcat and keeps the issuers of an
/// enterprise-signed certificate in order; other services are still refused.
#[tokio::test]
async fn tomcat_fits_the_rebuilt_table_with_its_issuers_in_order() {
    use opencapf_model::{KeyAlgorithm, Service, SubjectFields};
    use opencapf_pki::{profiles, PrivateKey};
    use opencapf_store::service;
    for t in each_backend().await {
        let mut db = t.store.write().await.unwrap();
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        let cert =
            profiles::tomcat_certificate(&key, "node", &SubjectFields::default(), 1825, opencapf_model::now()).unwrap();
        service::insert_active(&mut db, Service::Tomcat, &cert, "k", KeyAlgorithm::Rsa2048).await.unwrap();
        let row = service::require_active(&mut db, Service::Tomcat).await.unwrap();
        assert_eq!(row.fingerprint, cert.info.fingerprint);
        assert_eq!(service::issuers(&mut db, row.id).await.unwrap(), Vec::<Vec<u8>>::new());
        let chain = vec![b"intermediate".to_vec(), b"root".to_vec()];
        service::set_issuers(&mut db, row.id, &chain).await.unwrap();
        assert_eq!(service::issuers(&mut db, row.id).await.unwrap(), chain);
        service::set_issuers(&mut db, row.id, &chain[1..]).await.unwrap();
        assert_eq!(service::issuers(&mut db, row.id).await.unwrap(), chain[1..], "replaced, not appended");
        assert!(db.execute_raw("UPDATE service_certificates SET service = 'Other'").await.is_err(), "CHECK kept");
    }
}

/// Group commit: writers that queue while a transaction is open all get their change kept in
/// one durable commit, and each change is readable as soon as its commit returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_queued_behind_a_transaction_share_one_durable_commit() {
    use opencapf_store::audit;
    for t in each_backend().await {
        let mut first = t.store.write().await.unwrap();
        audit::record(&mut first, "test", "group.commit", "writer 0", "d").await.unwrap();
        let mut tasks = Vec::new();
        for i in 1..64 {
            let store = t.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut db = store.write().await.unwrap();
                audit::record(&mut db, "test", "group.commit", &format!("writer {i}"), "d").await.unwrap();
                db.commit().await.unwrap();
                // Durable and visible to every reader once commit returns.
                let mut r = store.read().await.unwrap();
                let seen = audit::list(&mut r, 1000).await.unwrap();
                assert!(seen.iter().any(|e| e.target == format!("writer {i}")));
            }));
        }
        for _ in 0..1000 {
            if t.store.writers_waiting() == 63 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(t.store.writers_waiting(), 63, "{}: the writers queue behind the open one", t.backend);
        first.commit().await.unwrap();
        for task in tasks {
            task.await.unwrap();
        }
        let mut db = t.store.read().await.unwrap();
        let chain = audit::verify(&mut db).await.unwrap();
        assert!(chain.intact && chain.records == 64, "{}: {chain:?}", t.backend);
        let counts = t.store.commit_counts();
        assert_eq!((counts.transactions, counts.durable_commits), (64, 1), "{}", t.backend);
    }
}

/// A transaction dropped without commit (or one whose statement failed) in the middle of a batch
/// loses only its own changes; the others of the batch are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_rolled_back_inside_a_batch_takes_only_its_own_changes() {
    use opencapf_store::audit;
    for t in each_backend().await {
        let mut tasks = Vec::new();
        for i in 0..30 {
            let store = t.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut db = store.write().await.unwrap();
                audit::record(&mut db, "test", "batch", &format!("writer {i}"), "d").await.unwrap();
                match i % 3 {
                    0 => db.commit().await.unwrap(),
                    1 => drop(db),
                    _ => {
                        // A refused statement (on PostgreSQL it aborts the transaction), then dropped.
                        assert!(db.execute_raw("INSERT INTO no_such_table VALUES (1)").await.is_err());
                        drop(db);
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let mut db = t.store.read().await.unwrap();
        let mut kept: Vec<String> = audit::list(&mut db, 100).await.unwrap().into_iter().map(|e| e.target).collect();
        kept.sort();
        let mut expected: Vec<String> = (0..30).filter(|i| i % 3 == 0).map(|i| format!("writer {i}")).collect();
        expected.sort();
        assert_eq!(kept, expected, "{}", t.backend);
        assert!(audit::verify(&mut db).await.unwrap().intact, "{}", t.backend);
    }
}

/// A change kept without waiting is seen by the next writer at once, and durable with its batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_kept_lazily_is_seen_by_the_next_writer_and_made_durable() {
    use opencapf_store::audit;
    for mut t in each_backend().await {
        let mut db = t.store.write().await.unwrap();
        audit::record(&mut db, "test", "lazy", "claim", "d").await.unwrap();
        db.commit_lazily();
        let mut db = t.store.write().await.unwrap();
        assert_eq!(audit::list(&mut db, 10).await.unwrap().len(), 1, "{}: seen by the next writer", t.backend);
        audit::record(&mut db, "test", "after", "record", "d").await.unwrap();
        db.commit().await.unwrap();
        t.reopen().await;
        let mut db = t.store.read().await.unwrap();
        let chain = audit::verify(&mut db).await.unwrap();
        assert!(chain.intact && chain.records == 2, "{}: {chain:?}", t.backend);
    }
}

/// Trust consumers (issue 16), on both backends: exports with their certificates, the latest
/// one and the latest confirmed one, a removal taking its exports with it.
#[tokio::test]
async fn consumer_exports_are_kept_in_order_and_go_with_their_consumer() {
    use opencapf_store::consumers::{self, ExportedCertificate};
    for t in each_backend().await {
        let mut db = t.store.write().await.unwrap();
        assert!(consumers::add(&mut db, "x", "router", "admin").await.is_err(), "{}: the kind is checked", t.backend);
        drop(db);
        let mut db = t.store.write().await.unwrap();
        consumers::add(&mut db, "radius-1", "freeradius", "admin").await.unwrap();
        let again = consumers::add(&mut db, "radius-1", "ise", "admin").await.err().unwrap();
        assert!(again.to_string().contains("exists"), "{}: {again}", t.backend);
        let cert = |fp: &str| ExportedCertificate {
            fingerprint: fp.into(),
            subject: format!("CN=CAPF-{fp}"),
            not_after: "2031-01-01T00:00:00Z".into(),
        };
        let first = consumers::record_export(&mut db, "radius-1", "freeradius", "admin", &[cert("aa")]).await.unwrap();
        assert!(consumers::confirm(&mut db, first, "admin").await.unwrap());
        assert!(!consumers::confirm(&mut db, first, "admin").await.unwrap(), "{}: once", t.backend);
        let second = consumers::record_export(&mut db, "radius-1", "freeradius", "admin", &[cert("aa"), cert("bb")])
            .await
            .unwrap();
        db.commit().await.unwrap();

        let mut db = t.store.read().await.unwrap();
        let last = consumers::latest_export(&mut db, "radius-1", false).await.unwrap().unwrap();
        assert_eq!((last.id, last.certificates.len(), last.confirmed_at.is_none()), (second, 2, true), "{}", t.backend);
        let confirmed = consumers::latest_export(&mut db, "radius-1", true).await.unwrap().unwrap();
        assert_eq!((confirmed.id, confirmed.certificates[0].fingerprint.as_str()), (first, "aa"), "{}", t.backend);
        assert_eq!(consumers::export_count(&mut db, "radius-1").await.unwrap(), 2);
        drop(db);

        let mut db = t.store.write().await.unwrap();
        assert!(consumers::remove(&mut db, "radius-1").await.unwrap());
        assert!(!consumers::remove(&mut db, "radius-1").await.unwrap());
        db.commit().await.unwrap();
        let mut db = t.store.read().await.unwrap();
        assert!(consumers::list(&mut db).await.unwrap().is_empty());
        assert!(consumers::latest_export(&mut db, "radius-1", false).await.unwrap().is_none(), "{}", t.backend);
    }
}

/// One migration at a time, on both backends: a second start is refused while the first is in
/// progress; confirmations are kept once; a finished migration lets the next one start.
#[tokio::test]
async fn one_migration_at_a_time_its_confirmations_and_its_end() {
    use opencapf_store::migrations;
    for t in each_backend().await {
        let mut db = t.store.write().await.unwrap();
        let id = migrations::start(&mut db, "cucm-old.lab", "trust-old-capf", "{}", "2026-12-01T08:00:00Z", "admin")
            .await
            .unwrap();
        let err =
            migrations::start(&mut db, "cucm-other.lab", "delete-and-enrol", "{}", "x", "admin").await.unwrap_err();
        assert!(err.to_string().contains("in progress"), "{}: {err}", t.backend);
        assert!(migrations::confirm(&mut db, id, "itl", "admin").await.unwrap());
        assert!(!migrations::confirm(&mut db, id, "itl", "bob").await.unwrap(), "{}", t.backend);
        let confirmed = migrations::confirmations(&mut db, id).await.unwrap();
        assert_eq!(confirmed.len(), 1);
        assert_eq!(confirmed[0].2, "admin");
        migrations::set_bundle(&mut db, id, "{\"newer\":1}", "2026-12-01T09:00:00Z").await.unwrap();
        migrations::finish(&mut db, id, false, "admin").await.unwrap();
        assert!(migrations::in_progress(&mut db).await.unwrap().is_none());
        let last = migrations::latest(&mut db).await.unwrap().unwrap();
        assert_eq!((last.id, last.bundle.as_str(), last.finished_by.as_deref()), (id, "{\"newer\":1}", Some("admin")));
        let next = migrations::start(&mut db, "cucm-other.lab", "delete-and-enrol", "{}", "x", "admin").await.unwrap();
        assert!(next > id, "{}", t.backend);
        db.commit().await.unwrap();
    }
}
