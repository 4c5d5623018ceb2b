//! What `serve` keeps between connections ([`Cluster::follow_changes`]) follows the cluster: a
//! change made through another node is read again within a bounded wait (SQLite: at once), and
//! a change this node made is read at once. Both backends.

use std::time::{Duration, Instant};

use opencapf_cluster::{init_with, Cluster, Database, InitOptions};
use opencapf_model::{KeyAlgorithm, Service, SubjectFields, TrustStore};
use opencapf_store::testing::ScratchPostgres;

/// Far above the feed's period: whether a change arrives, not how fast.
const BOUND: Duration = Duration::from_secs(10);

async fn two_nodes(dir: &std::path::Path, database: &Database) -> (Cluster, Cluster) {
    let opts = InitOptions {
        capf_key: KeyAlgorithm::Ec256,
        subject: SubjectFields::default(),
        hostname: "cucm.lab".into(),
        manufacturer_cas: Vec::new(),
        actor: "test".into(),
    };
    // SQLite: the default database in the folder, as `opencapf init` makes it.
    init_with(dir, database.is_postgres().then_some(database), opts).await.unwrap();
    let a = Cluster::open_with(dir, database).await.unwrap();
    a.follow_changes().await.unwrap();
    (a, Cluster::open_with(dir, database).await.unwrap())
}

async fn callmanager_anchors(node: &Cluster) -> usize {
    node.trust_snapshot().await.unwrap().anchors(TrustStore::CallManager).len()
}

async fn check(dir: &std::path::Path, database: &Database) {
    let (a, b) = two_nodes(dir, database).await;
    let before = callmanager_anchors(&a).await;
    let capf = a.require_certificate(Service::Capf).await.unwrap();

    b.remove_trust(TrustStore::CallManager, &capf.fingerprint, true, "test").await.unwrap();
    if !database.is_postgres() {
        // SQLite: the next read reads the change counters, so the other process's commit shows at once.
        assert_eq!(callmanager_anchors(&a).await, before - 1, "{database}");
    }
    let deadline = Instant::now() + BOUND;
    while callmanager_anchors(&a).await != before - 1 {
        assert!(Instant::now() < deadline, "{database}: node A still trusts the removed certificate");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Its own change: at once, no wait for the feed.
    a.add_trust(TrustStore::CallManager, std::slice::from_ref(&capf.der), None, "test").await.unwrap();
    assert_eq!(callmanager_anchors(&a).await, before, "{database}");
}

#[tokio::test]
async fn kept_reads_follow_changes_from_another_node() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    check(&data, &Database::in_folder(&data)).await;
    if let Some(pg) = ScratchPostgres::new().await {
        let dir = tempfile::tempdir().unwrap();
        check(&dir.path().join("data"), &pg.database).await;
    }
}

/// A connection served through `Cluster::connection` reads the change feed once, at its start: a
/// change another process committed before it began applies to it (SQLite: at once), and its own
/// change applies to its next reads.
#[tokio::test]
async fn a_connection_sees_what_was_committed_before_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (a, b) = two_nodes(&data, &Database::in_folder(&data)).await;
    let before = callmanager_anchors(&a).await;
    let capf = a.require_certificate(Service::Capf).await.unwrap();

    b.remove_trust(TrustStore::CallManager, &capf.fingerprint, true, "test").await.unwrap();
    let seen = a
        .connection(async {
            let first = callmanager_anchors(&a).await;
            a.add_trust(TrustStore::CallManager, std::slice::from_ref(&capf.der), None, "test").await.unwrap();
            (first, callmanager_anchors(&a).await)
        })
        .await;
    assert_eq!(seen, (before - 1, before), "the other process's removal, then this connection's own addition");
}
