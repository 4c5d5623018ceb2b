//! The change feed: a change committed through one store (another node, or the CLI while `serve`
//! runs) reaches the subscription of another store on the same database, on both backends.

use std::time::Duration;

use opencapf_model::{KeyAlgorithm, SubjectFields, TrustStore};
use opencapf_pki::{profiles, PrivateKey};
use opencapf_store::testing::each_backend;
use opencapf_store::{settings, trust, Changes, Store, Topic};

/// A bound on each wait, far above the feed's period: the tests say whether a change arrives,
/// not how fast.
const BOUND: Duration = Duration::from_secs(10);

async fn moved(changes: &mut Changes, topic: Topic, seen: u64) -> bool {
    tokio::time::timeout(BOUND, changes.changed_since(topic, seen)).await.is_ok_and(|g| g.is_some())
}

/// A new certificate: its DER and SHA-256 fingerprint.
fn certificate() -> (Vec<u8>, String) {
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let cert = profiles::capf_certificate(&key, &SubjectFields::default(), 365, opencapf_model::now()).unwrap();
    (cert.der, cert.info.fingerprint)
}

#[tokio::test]
async fn a_change_through_one_store_reaches_another_stores_subscription() {
    for t in each_backend().await {
        let other = Store::open_with(t.dir(), t.store.database()).await.unwrap();
        let mut changes = other.changes().await.unwrap();

        let (der, fingerprint) = certificate();
        let seen = changes.generation(Topic::Trust);
        let mut db = t.store.write().await.unwrap();
        trust::add(&mut db, TrustStore::CallManager, &der, false, "test").await.unwrap();
        db.commit().await.unwrap();
        assert!(moved(&mut changes, Topic::Trust, seen).await, "{}: the trust change was not reported", t.backend);

        let seen = changes.generation(Topic::Settings);
        let mut db = t.store.write().await.unwrap();
        settings::set(&mut db, "hostname", "node-b.lab").await.unwrap();
        db.commit().await.unwrap();
        assert!(
            moved(&mut changes, Topic::Settings, seen).await,
            "{}: the settings change was not reported",
            t.backend
        );

        // A removal too, and read back through the other store once reported.
        let seen = changes.generation(Topic::Trust);
        let mut db = t.store.write().await.unwrap();
        let entry = trust::find(&mut db, TrustStore::CallManager, &fingerprint).await.unwrap();
        trust::delete(&mut db, entry.id).await.unwrap();
        db.commit().await.unwrap();
        assert!(moved(&mut changes, Topic::Trust, seen).await, "{}: the removal was not reported", t.backend);
        assert!(trust::list(&mut other.read().await.unwrap(), Some(TrustStore::CallManager)).await.unwrap().is_empty());
        other.close().await;
    }
}

/// What this process committed is reported at once, before any poll or notification.
#[tokio::test]
async fn a_store_reports_its_own_changes_at_once() {
    for t in each_backend().await {
        let changes = t.store.changes().await.unwrap();
        let seen = changes.generation(Topic::Identities);
        t.store.report(&[Topic::Identities]);
        assert!(changes.generation(Topic::Identities) > seen, "{}", t.backend);
    }
}

/// PostgreSQL: a LISTEN connection that is lost is made again, every topic is reported (what
/// was notified meanwhile is lost), and later changes are heard again.
#[tokio::test]
async fn a_lost_listen_connection_is_made_again_and_reports_every_topic() {
    for t in each_backend().await.into_iter().filter(|t| t.backend == "postgres") {
        let other = Store::open_with(t.dir(), t.store.database()).await.unwrap();
        let mut changes = other.changes().await.unwrap();
        let seen = changes.generation(Topic::Issued);
        let mut db = t.store.read().await.unwrap();
        db.execute_raw(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .unwrap();
        drop(db);
        assert!(moved(&mut changes, Topic::Issued, seen).await, "every topic is reported after a reconnection");

        let seen = changes.generation(Topic::Trust);
        let mut db = t.store.write().await.unwrap();
        trust::add(&mut db, TrustStore::Capf, &certificate().0, false, "test").await.unwrap();
        db.commit().await.unwrap();
        assert!(moved(&mut changes, Topic::Trust, seen).await, "changes are heard after the reconnection");
        other.close().await;
    }
}

/// A change reports its own topic only: a commit that touches the settings (or, under load, the
/// issued LSCs) must not make every server read the trust stores and identities again.
#[tokio::test]
async fn a_change_reports_only_its_own_topic() {
    for t in each_backend().await {
        let other = Store::open_with(t.dir(), t.store.database()).await.unwrap();
        let mut changes = other.changes().await.unwrap();
        let before = [Topic::Trust, Topic::Identities, Topic::Issued].map(|topic| (topic, changes.generation(topic)));
        let seen = changes.generation(Topic::Settings);

        let mut db = t.store.write().await.unwrap();
        settings::set(&mut db, "hostname", "node-c.lab").await.unwrap();
        db.commit().await.unwrap();
        assert!(
            moved(&mut changes, Topic::Settings, seen).await,
            "{}: the settings change was not reported",
            t.backend
        );
        changes.catch_up().await;
        for (topic, generation) in before {
            assert_eq!(
                changes.generation(topic),
                generation,
                "{}: {topic:?} reported for a settings change",
                t.backend
            );
        }
        other.close().await;
    }
}
