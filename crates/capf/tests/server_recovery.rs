//! Crash safety (issue 15): an LSC recorded and sent by a session that never recorded how it
//! ended (the server stopped) is failed by recovery once its claim is gone, never while a live
//! session holds the device; a phone that later authenticates with it gets it recorded as
//! installed, once.

use crate::server_common;

use std::time::Duration;

use opencapf_capf::proto::message::*;
use opencapf_cluster::{Begin, Origin, UNCONFIRMED};
use opencapf_model::{now, AuthMode, KeyOrder, Service};
use opencapf_pki::{fingerprint, CertificateInfo, IssuedCertificate, KeyAlgorithm, PrivateKey};
use server_common::*;

const PHONE: &str = "SEP2C3124C9F8E1";
/// Longer than any claim the sessions of these tests make.
const HOLD: Duration = Duration::from_secs(600);

/// What a session killed between `record_issued` and the phone's answer leaves: an LSC
/// `issued`, the credential spent, the claim still on the device. Returns the LSC and its key.
async fn interrupted_install(lab: &Lab) -> (Vec<u8>, PrivateKey) {
    let name = PHONE.parse().unwrap();
    let origin = Origin { session_id: 7, peer: "127.0.0.1:5000".into(), tls: None };
    let Begin::Pending { device, claim } = lab.store.begin(&name, &origin, now(), HOLD).await.unwrap() else {
        panic!("the install is pending")
    };
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let der = lab.lsc_from_our_capf(PHONE, &key).await;
    let lsc = IssuedCertificate { info: CertificateInfo::parse(&der).unwrap(), der: der.clone() };
    let capf = lab.store.require_certificate(Service::Capf).await.unwrap();
    let attempt = opencapf_cluster::Attempt::new(&device, origin, claim);
    lab.store.record_issued(&attempt, &lsc, &fingerprint(&capf.der)).await.unwrap();
    (der, key)
}

#[tokio::test]
async fn an_unconfirmed_lsc_fails_once_its_claim_is_gone_and_a_phone_holding_it_confirms_it() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    let (lsc, key) = interrupted_install(&lab).await;
    let serial = CertificateInfo::parse(&lsc).unwrap().serial;

    // The session's claim is live (it could be another node's session): nothing is touched.
    assert!(lab.store.recover_interrupted(now()).await.unwrap().is_empty());
    assert_eq!(lab.issued(PHONE).await[0].state, "issued");

    // Once the claim has expired, the LSC is failed, the status and history say why, once.
    let later = now() + HOLD + Duration::from_secs(1);
    let recovered = lab.store.recover_interrupted(later).await.unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!((recovered[0].device.as_str(), recovered[0].serial.as_str()), (PHONE, serial.as_str()));
    assert!(lab.store.recover_interrupted(later).await.unwrap().is_empty(), "recovered once");
    let device = lab.device(PHONE).await;
    assert_eq!(device.capf.status, "Upgrade Failed");
    assert!(device.lsc.is_none());
    assert_eq!(lab.issued(PHONE).await[0].state, "failed");
    let h = last_history(&lab, PHONE).await;
    assert!(h.detail.contains(UNCONFIRMED) && h.detail.contains(&serial), "{}", h.detail);
    assert!(h.detail.contains("credential spent: schedule the operation again"), "{}", h.detail);
    let audit = lab.audit().await;
    assert_eq!(audit.iter().filter(|a| a.action == "capf.lsc.unconfirmed").count(), 1);
    let standing = lab.store.lsc_standing(&CertificateInfo::parse(&lsc).unwrap()).await.unwrap().unwrap();
    assert!(standing.late_confirmable && standing.reason.contains(UNCONFIRMED), "{}", standing.reason);

    // The administrator schedules it again; the phone authenticates with the LSC it did store:
    // that proves it holds it, so it is recorded as installed before the session goes on.
    lab.schedule_install(PHONE, AuthMode::ExistingCertificateLsc, KeyOrder::EcOnly).await;
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::cert(&lsc, &key)).await;
    assert!(matches!(phone.recv().await, Message::KeyGenRequest(_)), "the session goes on");
    drop(phone);
    let audit = lab.audit().await;
    let confirmed: Vec<_> = audit.iter().filter(|a| a.action == "capf.lsc.confirmed").collect();
    assert_eq!(confirmed.len(), 1, "{audit:?}");
    assert!(confirmed[0].detail.contains(&serial), "{}", confirmed[0].detail);
    let issued = lab.issued(PHONE).await;
    let rec = issued.iter().find(|r| r.serial == serial).unwrap();
    assert_eq!(rec.state, "installed");
    assert_eq!(lab.device(PHONE).await.lsc.map(|l| l.serial), Some(serial.clone()));
    // A second proof changes nothing.
    assert!(lab.store.confirm_late(&CertificateInfo::parse(&lsc).unwrap()).await.unwrap().is_none());
    assert!(lab.store.verify_audit().await.unwrap().intact);
}

#[tokio::test]
async fn an_unconfirmed_lsc_is_not_confirmed_over_a_newer_installed_one() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    let (old, _) = interrupted_install(&lab).await;
    lab.store.recover_interrupted(now() + HOLD + Duration::from_secs(1)).await.unwrap();
    // Rescheduled: the next install succeeds.
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    let (newer, _) = install(&lab, PHONE, &Creds::Null).await;
    let newer_serial = CertificateInfo::parse(&newer).unwrap().serial;

    assert!(lab.store.confirm_late(&CertificateInfo::parse(&old).unwrap()).await.unwrap().is_none());
    let device = lab.device(PHONE).await;
    assert_eq!(device.lsc.map(|l| l.serial), Some(newer_serial));
    assert_eq!(device.capf.status, "Upgrade Success");
    let old_serial = CertificateInfo::parse(&old).unwrap().serial;
    let issued = lab.issued(PHONE).await;
    assert_eq!(issued.iter().find(|r| r.serial == old_serial).unwrap().state, "failed");
}

/// Several nodes on one database: the claims of a node that stopped answering are dead before
/// they expire, so another node fails the LSC its session left unconfirmed (and frees the device).
#[tokio::test]
async fn the_claims_of_a_node_that_stopped_answering_are_dead_before_they_expire() {
    let lab = Lab::start().await;
    lab.add_device(PHONE).await;
    lab.schedule_install(PHONE, AuthMode::NullString, KeyOrder::EcOnly).await;
    let mut node_a = lab.store.clone();
    node_a.name_node("node-a");
    let addresses = opencapf_model::NodeAddresses {
        host: "127.0.0.1".into(),
        capf_port: 3804,
        sip_port: 5060,
        secured_sip_port: 5061,
        sccp_port: 2000,
        tvs_port: 2445,
        http_port: None,
        admin_port: None,
    };
    let joining = opencapf_cluster::Joining {
        name: "node-a".into(),
        addresses,
        version: "test".into(),
        heartbeat: Duration::from_secs(5),
    };
    let _membership = node_a.join(joining).await.unwrap();
    let name = PHONE.parse().unwrap();
    let origin = Origin { session_id: 9, peer: "127.0.0.1:5001".into(), tls: None };
    let Begin::Pending { device, claim } = node_a.begin(&name, &origin, now(), HOLD).await.unwrap() else {
        panic!("the install is pending")
    };
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let der = lab.lsc_from_our_capf(PHONE, &key).await;
    let lsc = IssuedCertificate { info: CertificateInfo::parse(&der).unwrap(), der };
    let capf = lab.store.require_certificate(Service::Capf).await.unwrap();
    let attempt = opencapf_cluster::Attempt::new(&device, origin, claim);
    node_a.record_issued(&attempt, &lsc, &fingerprint(&capf.der)).await.unwrap();

    // Node A beats: its session's claim is live for every other node.
    let mut node_b = lab.store.clone();
    node_b.name_node("node-b");
    assert!(node_b.recover_interrupted(now()).await.unwrap().is_empty());
    // 30 s later without a heartbeat node A is not responding, though the claim has not expired.
    let later = now() + Duration::from_secs(30);
    assert!(later < now() + HOLD);
    let recovered = node_b.recover_interrupted(later).await.unwrap();
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(lab.issued(PHONE).await[0].state, "failed");
}
