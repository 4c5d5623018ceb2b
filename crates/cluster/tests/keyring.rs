//! Nodes of a PostgreSQL cluster share their keys through the database, sealed with the cluster
//! key: a new node needs only keys/cluster.kek, and a key one node makes reaches the others.

use opencapf_cluster::{init_with, Cluster, KEK_FILE};
use opencapf_model::{KeyAlgorithm, Service};
use opencapf_store::testing::ScratchPostgres;
use opencapf_testkit::init_options as options;

fn keys(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("keys")
}

#[tokio::test]
async fn a_new_node_gets_every_key_from_the_database_with_only_the_cluster_key() {
    let Some(pg) = ScratchPostgres::new().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
    init_with(&a, Some(&pg.database), options()).await.unwrap();
    let node_a = Cluster::open_with(&a, &pg.database).await.unwrap();

    // Node B's folder starts with the cluster key only.
    std::fs::create_dir_all(keys(&b)).unwrap();
    std::fs::copy(keys(&a).join(KEK_FILE), keys(&b).join(KEK_FILE)).unwrap();
    let node_b = Cluster::open_with(&b, &pg.database).await.unwrap();
    for entry in std::fs::read_dir(keys(&a)).unwrap() {
        let name = entry.unwrap().file_name();
        let (ours, theirs) = (keys(&a).join(&name), keys(&b).join(&name));
        assert_eq!(std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap(), "{name:?} restored as it is");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&theirs).unwrap().permissions().mode() & 0o777, 0o600, "{name:?}");
    }
    node_b.signer(Service::Capf).await.expect("B signs with the CAPF key A made");

    // A regenerates the CAPF certificate: B signs with the new key without a restart.
    let report = node_a.regenerate_capf(Some(KeyAlgorithm::Ec256), "test").await.unwrap();
    let new_file = keys(&b).join(std::path::Path::new(&report.new.key_file).file_name().unwrap());
    assert!(!new_file.exists());
    node_b.signer(Service::Capf).await.expect("B restores the new CAPF key when it first needs it");
    assert!(new_file.is_file());

    // A node without the cluster key, or with another one, is refused with what to do.
    let err = Cluster::open_with(&c, &pg.database).await.err().unwrap().to_string();
    assert!(err.contains(KEK_FILE) && err.contains("copy"), "{err}");
    std::fs::create_dir_all(keys(&c)).unwrap();
    std::fs::write(keys(&c).join(KEK_FILE), [7u8; 32]).unwrap();
    let err = Cluster::open_with(&c, &pg.database).await.err().unwrap().to_string();
    assert!(err.contains("another cluster key"), "{err}");
    assert_eq!(std::fs::read_dir(keys(&c)).unwrap().count(), 1, "nothing restored with the wrong key");
}
