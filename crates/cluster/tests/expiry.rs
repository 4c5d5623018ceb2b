//! Issue 14: what `/metrics` shows of certificate expiry, read from the cluster.

use opencapf_cluster::ExpiryGauges;
use opencapf_model::{now, CertKind, KeyAlgorithm, Service, SubjectFields};
use opencapf_pki::CertificateInfo;
use opencapf_testkit::{add_device, lsc, new_device, phone_key, Ca, TestCluster};
use time::Duration;

#[tokio::test]
async fn counts_this_clusters_installed_lscs_by_expiry_and_reads_the_capf_expiry() {
    let t = TestCluster::new().await;
    let c = &t.cluster;
    let empty = c.expiry_gauges().await.unwrap();
    let capf = CertificateInfo::parse(&c.require_certificate(Service::Capf).await.unwrap().der).unwrap();
    assert_eq!(empty, ExpiryGauges { lsc_expiring_30d: 0, lsc_expired: 0, capf_not_after: Some(capf.not_after) });

    let signer = c.signer(Service::Capf).await.unwrap();
    let other = Ca::capf(KeyAlgorithm::Ec256, &SubjectFields::default(), 3650, now()).signer();
    let key = phone_key();
    let pk = key.public_key_der();
    // (device, issuer, issued days ago, validity days)
    let lscs = [
        ("SEP000000000001", &signer, 355, 365), // expires in 10 days
        ("SEP000000000002", &signer, 340, 365), // in 25 days
        ("SEP000000000003", &signer, 0, 365),   // in a year
        ("SEP000000000004", &signer, 400, 365), // 35 days ago
        ("SEP000000000005", &other, 355, 365),  // in 10 days, another cluster's
    ];
    for (name, issuer, ago, days) in lscs {
        let device = add_device(c, new_device(name)).await;
        let cert = lsc(issuer, name, pk, days, now() - Duration::days(ago));
        c.record_cert(&device, &cert.der, Some(CertKind::Lsc), "test").await.unwrap();
    }
    add_device(c, new_device("SEP000000000006")).await;

    let gauges = c.expiry_gauges().await.unwrap();
    assert_eq!(gauges.lsc_expiring_30d, 2);
    assert_eq!(gauges.lsc_expired, 1);
    assert_eq!(gauges.capf_not_after, Some(capf.not_after));
}
