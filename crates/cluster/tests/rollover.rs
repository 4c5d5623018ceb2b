//! Issue 14: the reads behind the guided CAPF regenerate page and the guard's refusal.

use opencapf_cluster::Cluster;
use opencapf_model::{now, CertKind, Service, TrustStore};
use opencapf_pki::CaSigner;
use opencapf_testkit::{add_device, lsc, new_device, phone_key, TestCluster};

const A: &str = "SEP00000000E001";
const B: &str = "SEP00000000E002";
const NO_LSC: &str = "SEP00000000E003";

/// Gives `name` an LSC from `capf`, as a finished CAPF session would.
async fn record(c: &Cluster, name: &str, capf: &CaSigner) {
    let der = lsc(capf, name, phone_key().public_key_der(), 365, now()).der;
    c.record_cert(&name.parse().unwrap(), &der, Some(CertKind::Lsc), "test").await.unwrap();
}

#[tokio::test]
async fn the_plan_names_the_phones_to_rekey_and_progress_follows_them() {
    let t = TestCluster::new().await;
    let c = &t.cluster;
    for name in [A, B, NO_LSC] {
        add_device(c, new_device(name)).await;
    }
    let old = c.signer(Service::Capf).await.unwrap();
    record(c, A, &old).await;
    record(c, B, &old).await;
    let old_fp = c.active_certificate(Service::Capf).await.unwrap().unwrap().fingerprint;

    let plan = c.capf_rollover_plan().await.unwrap();
    assert_eq!(plan.active.fingerprint, old_fp);
    assert_eq!(plan.to_rekey, vec![A.to_owned(), B.to_owned()]);
    assert!(plan.retired.is_empty());
    let mut dependents = c.trust_dependents(TrustStore::Capf, &old_fp).await.unwrap();
    dependents.sort();
    assert_eq!(dependents, vec![A.to_owned(), B.to_owned()], "what the guard refuses for");

    c.regenerate_capf(None, "test").await.unwrap();
    let p = c.rekey_progress().await.unwrap();
    assert_ne!(p.active.fingerprint, old_fp);
    assert_eq!((p.rekeyed, p.pending), (0, 2));

    record(c, B, &c.signer(Service::Capf).await.unwrap()).await;
    let p = c.rekey_progress().await.unwrap();
    assert_eq!((p.rekeyed, p.pending), (1, 1));
    assert_eq!(p.phones[0].name, A, "the phones still to re-key come first");
    assert!(!p.phones[0].rekeyed && p.phones[1].rekeyed);
    let plan = c.capf_rollover_plan().await.unwrap();
    assert_eq!(plan.retired.len(), 1);
    assert_eq!(plan.retired[0].fingerprint, old_fp);
}
