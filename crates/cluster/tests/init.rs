//! Creating a cluster: all or nothing.

use opencapf_cluster::{init, Cluster, Error};
use opencapf_model::TrustStore;
use opencapf_testkit::init_options as options;

#[tokio::test]
async fn init_refuses_a_non_empty_folder_and_a_non_ca_manufacturer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("c");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("notes.txt"), "mine").unwrap();
    let err = init(&data, options()).await.unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err}");
    assert_eq!(std::fs::read_to_string(data.join("notes.txt")).unwrap(), "mine", "nothing lost");

    // A leaf certificate is not a manufacturing CA; nothing is left behind.
    let other = dir.path().join("d");
    init(&other, options()).await.unwrap();
    let cluster = Cluster::open(&other).await.unwrap();
    let cm = cluster.trust_list(Some(TrustStore::CallManager)).await.unwrap();
    let leaf = cm.iter().find(|e| e.common_name.as_deref() == Some("cucm.lab")).unwrap().der.clone();
    let target = dir.path().join("e");
    let mut opts = options();
    opts.manufacturer_cas = vec![leaf];
    let err = init(&target, opts).await.unwrap_err();
    assert!(err.to_string().contains("not a CA certificate"), "{err}");
    assert!(!target.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no staging folder left: {leftovers:?}");
}
