//! The cluster's own identities (ITLRecovery, TVS, tomcat), what its TVS vouches for, the requests of
//! unknown devices and a device's firmware load.

use std::os::unix::fs::PermissionsExt;

use opencapf_cluster::{Cluster, DeviceUpdate};
use opencapf_model::{NewDevice, Role, Service, TrustStore};
use opencapf_pki::KeyAlgorithm;
use opencapf_testkit::{add_device, new_device, TestCluster};

fn names(certs: &[opencapf_model::ServiceCertificate]) -> Vec<(Service, bool)> {
    certs.iter().map(|c| (c.service, c.is_active())).collect()
}

#[tokio::test]
async fn init_makes_itlrecovery_tvs_and_tomcat_and_capf_regenerate_leaves_them_alone() {
    let t = TestCluster::new().await;
    let own = t.cluster.own_certificates().await.unwrap();
    use Service::*;
    assert_eq!(names(&own), [(CallManager, true), (Capf, true), (ItlRecovery, true), (Tvs, true), (Tomcat, true)]);
    assert_eq!(own[2].common_name, "ITLRECOVERY_cucm.lab");
    assert_eq!(own[3].common_name, "cucm.lab");
    assert_eq!(own[4].common_name, "cucm.lab");
    for c in &own[2..] {
        assert_eq!(c.key_algorithm, KeyAlgorithm::Rsa2048);
        let mode = std::fs::metadata(t.data().join(&c.key_file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", c.key_file);
    }

    t.cluster.regenerate_capf(None, "test").await.unwrap();
    let after = t.cluster.own_certificates().await.unwrap();
    let five = [(CallManager, true), (Capf, true), (ItlRecovery, true), (Tvs, true), (Tomcat, true)];
    assert_eq!(names(&after), [&five[..], &[(Capf, false)]].concat());
    assert_eq!(after[5].fingerprint, own[1].fingerprint, "the old CAPF is listed as retired");
    for i in [0, 2, 3, 4] {
        assert_eq!(after[i].fingerprint, own[i].fingerprint, "{:?} untouched by capf regenerate", own[i].service);
    }
}

#[tokio::test]
async fn a_cluster_made_before_the_identities_gets_them_once_when_opened() {
    let t = TestCluster::new().await;
    let data = t.data();
    // An older cluster: no ITLRecovery, TVS or tomcat rows (the migrations leave old clusters so).
    let store = opencapf_store::Store::open(&data).await.unwrap();
    let mut db = store.write().await.unwrap();
    let older = "DELETE FROM service_certificates WHERE service IN ('ITLRecovery', 'TVS', 'tomcat')";
    assert_eq!(db.execute_raw(older).await.unwrap(), 3);
    db.commit().await.unwrap();
    store.close().await;

    let c = Cluster::open(&data).await.unwrap();
    let own = c.own_certificates().await.unwrap();
    assert_eq!(own.len(), 5);
    assert_eq!(own[2].common_name, "ITLRECOVERY_cucm.lab");
    assert_eq!(own[4].service, Service::Tomcat);
    let made = |log: &[opencapf_model::AuditEntry]| log.iter().filter(|e| e.action == "cluster.identities").count();
    assert_eq!(made(&c.audit(100).await.unwrap()), 1);
    c.close().await;

    let again = Cluster::open(&data).await.unwrap();
    assert_eq!(again.own_certificates().await.unwrap()[2].fingerprint, own[2].fingerprint, "made once");
    assert_eq!(made(&again.audit(100).await.unwrap()), 1);
}

#[tokio::test]
async fn tvs_vouches_for_own_identities_retired_capfs_phone_sast_and_callmanager_trust() {
    let t = TestCluster::new().await;
    let c = &t.cluster;
    let own = c.own_certificates().await.unwrap();
    let roles = |v: &[Role]| Some(v.to_vec());
    assert_eq!(c.tvs_vouch(&own[0].der).await.unwrap(), roles(&[Role::CcmTftp]), "CallManager");
    assert_eq!(c.tvs_vouch(&own[1].der).await.unwrap(), roles(&[Role::Capf]), "CAPF");
    assert_eq!(c.tvs_vouch(&own[2].der).await.unwrap(), roles(&[Role::Sast]), "ITLRecovery");
    assert_eq!(c.tvs_vouch(&own[3].der).await.unwrap(), roles(&[Role::Tvs]), "TVS");
    assert_eq!(c.tvs_vouch(&own[4].der).await.unwrap(), roles(&[Role::AppServer]), "tomcat");

    // A retired CAPF certificate: CAPF while a store still holds it, nothing once both dropped it.
    c.regenerate_capf(None, "test").await.unwrap();
    let old_capf = &own[1];
    assert_eq!(c.tvs_vouch(&old_capf.der).await.unwrap(), roles(&[Role::Capf]));
    c.remove_trust(TrustStore::CallManager, &old_capf.fingerprint, true, "test").await.unwrap();
    assert_eq!(c.tvs_vouch(&old_capf.der).await.unwrap(), roles(&[Role::Capf]), "still in CAPF-trust");
    c.remove_trust(TrustStore::Capf, &old_capf.fingerprint, true, "test").await.unwrap();
    assert_eq!(c.tvs_vouch(&old_capf.der).await.unwrap(), None);

    // Another cluster's ITLRecovery and CallManager, imported for a secure-to-secure move.
    let other = TestCluster::new().await;
    let theirs = other.cluster.own_certificates().await.unwrap();
    assert_eq!(c.tvs_vouch(&theirs[2].der).await.unwrap(), None, "unknown before the import");
    c.add_trust(TrustStore::PhoneSast, std::slice::from_ref(&theirs[2].der), None, "test").await.unwrap();
    c.add_trust(TrustStore::CallManager, std::slice::from_ref(&theirs[0].der), None, "test").await.unwrap();
    assert_eq!(c.tvs_vouch(&theirs[2].der).await.unwrap(), roles(&[Role::Sast]));
    assert_eq!(c.tvs_vouch(&theirs[0].der).await.unwrap(), roles(&[Role::Ccm]));
    assert_eq!(c.tvs_vouch(&theirs[3].der).await.unwrap(), None, "their TVS was not imported");

    // A CA in CallManager-trust (their CAPF) vouches for phones, not for a server: nothing.
    c.add_trust(TrustStore::CallManager, std::slice::from_ref(&theirs[1].der), None, "test").await.unwrap();
    assert_eq!(c.tvs_vouch(&theirs[1].der).await.unwrap(), None);
    assert_eq!(c.tvs_vouch(b"not a certificate").await.unwrap(), None);

    // Nothing to guard in Phone-SAST-trust: removing an entry needs no --force.
    c.remove_trust(TrustStore::PhoneSast, &theirs[2].fingerprint, false, "test").await.unwrap();
    assert_eq!(c.tvs_vouch(&theirs[2].der).await.unwrap(), None);
}

#[tokio::test]
async fn unknown_requests_are_listed_until_the_device_is_added() {
    let t = TestCluster::new().await;
    let c = &t.cluster;
    let a = "SEP0011223344AA".parse().unwrap();
    let b = "SEP0011223344BB".parse().unwrap();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    c.record_unknown_request(&a, "SEP0011223344AA.cnf.xml", ip("192.0.2.10")).await.unwrap();
    c.record_unknown_request(&a, "SEP0011223344AA.cnf.xml", ip("192.0.2.11")).await.unwrap();
    c.record_unknown_request(&b, "ITLSEP0011223344BB.tlv", ip("2001:db8::1")).await.unwrap();
    let got = c.unknown_requests().await.unwrap();
    let a_row = got.iter().find(|r| r.device == a).unwrap();
    assert_eq!((a_row.count, a_row.last_source.as_str()), (2, "192.0.2.11"));
    assert_eq!(a_row.last_file, "SEP0011223344AA.cnf.xml");
    assert_eq!(got.len(), 2);
    let json = serde_json::to_value(&got).unwrap();
    assert!(json.as_array().unwrap().iter().any(|r| r["device"] == "SEP0011223344BB"), "{json}");

    add_device(c, new_device("SEP0011223344AA")).await;
    let left: Vec<_> = c.unknown_requests().await.unwrap().into_iter().map(|r| r.device).collect();
    assert_eq!(left, [b]);
}

#[tokio::test]
async fn a_device_load_is_checked_stored_and_removed() {
    let t = TestCluster::new().await;
    let c = &t.cluster;
    let d =
        NewDevice { load_information: Some("sip88xx.14-2-1-0001-14.loads".into()), ..new_device("SEP0011223344CC") };
    let name = add_device(c, d).await;
    assert_eq!(c.device(&name).await.unwrap().load_information.as_deref(), Some("sip88xx.14-2-1-0001-14"));
    let bad = NewDevice { load_information: Some("two words".into()), ..new_device("SEP0011223344DD") };
    assert!(c.add_device(&bad, "test").await.is_err());

    let set = DeviceUpdate { load: Some(Some("sip88xx.15-0-1".into())), ..Default::default() };
    c.update_device(&name, &set, "test").await.unwrap();
    let other = DeviceUpdate { description: Some("lobby".into()), ..Default::default() };
    c.update_device(&name, &other, "test").await.unwrap();
    assert_eq!(c.device(&name).await.unwrap().load_information.as_deref(), Some("sip88xx.15-0-1"), "kept");
    let clear = DeviceUpdate { load: Some(None), ..Default::default() };
    c.update_device(&name, &clear, "test").await.unwrap();
    assert_eq!(c.device(&name).await.unwrap().load_information, None);
}
