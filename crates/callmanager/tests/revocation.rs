//! Issue 9 item 3 through the real listeners: CAPF (its server and the phone's CAPF client) and
//! CallManager (SIP over TLS) on one cluster. An LSC that failed, was superseded or was revoked
//! is refused by both, with the reason why; the installed one works. The CRL, read by openssl,
//! lists the ended serials and `openssl verify -crl_check` refuses them.

use crate::common;

use std::process::Command;

use common::{register, rustls_error, sip_exchange, tls_connect, Cluster, Phone, Version};
use opencapf_capf::client::{CapfClient, ClientConfig, Credentials, PhoneIdentity, SessionHandler};
use opencapf_capf::proto::message::CertType;
use opencapf_capf::{CapfConfig, CapfServer};
use opencapf_model::{
    AuthMode, CapfUpdate, CertificateOperation, DeviceName, KeyOrder, Protocol, RegistrationResult, SecurityMode,
    Service,
};
use opencapf_pki::{CertificateInfo, PrivateKey};
use rustls::AlertDescription;

const A: &str = "SEP00000000F009";

/// A phone that keeps every LSC it is sent (with its key), and stores it or says it failed.
struct Keeper {
    store_ok: bool,
    got: Option<Phone>,
}

impl SessionHandler for Keeper {
    fn store_lsc(&mut self, lsc_der: &[u8], key: &PrivateKey) -> Result<(), String> {
        self.got = Some(Phone { cert: lsc_der.to_vec(), key: key.clone() });
        if self.store_ok {
            Ok(())
        } else {
            Err("flash write failed".into())
        }
    }
    fn delete_lsc(&mut self) -> Result<bool, String> {
        Ok(false)
    }
    fn certificate_to_upload(&mut self, _requested: Option<CertType>) -> Option<Vec<u8>> {
        None
    }
}

struct Capf {
    config: ClientConfig,
}

impl Capf {
    async fn start(c: &Cluster) -> Capf {
        let config = CapfConfig { listen: "127.0.0.1:0".parse().unwrap(), ..CapfConfig::default() };
        let (addr, server) = CapfServer::bind(c.store.clone(), config).await.unwrap();
        tokio::spawn(server.serve_until(std::future::pending()));
        let capf_der = c.store.require_certificate(Service::Capf).await.unwrap().der;
        Capf { config: ClientConfig::new(addr.to_string(), vec![capf_der]) }
    }

    /// One session; returns the LSC the server sent, if any.
    async fn session(&self, credentials: Credentials, store_ok: bool) -> Option<Phone> {
        let identity = PhoneIdentity { device_name: A.into(), credentials, sudi: None };
        let mut keeper = Keeper { store_ok, got: None };
        CapfClient::run(&self.config, &identity, &mut keeper).await.unwrap();
        keeper.got
    }
}

async fn schedule(c: &Cluster, auth_mode: AuthMode) {
    let update = CapfUpdate {
        operation: CertificateOperation::InstallUpgrade,
        auth_mode,
        auth_string: None,
        key_order: KeyOrder::EcOnly,
        rsa_bits: 2048,
        ec_bits: 256,
        completes_by: Some(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
    };
    c.store.save_capf(&A.parse().unwrap(), &update, "test", "test").await.unwrap();
}

fn with(lsc: &Phone) -> Credentials {
    Credentials::Certificate { cert: lsc.cert.clone(), key: lsc.key.clone() }
}

fn serial(p: &Phone) -> String {
    CertificateInfo::parse(&p.cert).unwrap().serial
}

/// CAPF By Existing Certificate with `lsc`: refused as "Invalid LSC", the reason in the history.
async fn capf_refuses(c: &Cluster, capf: &Capf, lsc: &Phone, why: &str) {
    schedule(c, AuthMode::ExistingCertificateLsc).await;
    assert!(capf.session(with(lsc), true).await.is_none(), "no LSC for a refused one");
    let name: DeviceName = A.parse().unwrap();
    let d = c.store.device(&name).await.unwrap();
    assert_eq!(d.capf.status, "Upgrade Failed: Invalid LSC");
    let h = c.store.history(&name, 1).await.unwrap().remove(0);
    assert!(h.detail.contains(why), "{why} not in {}", h.detail);
}

/// SIP over TLS with `lsc`: the handshake ends with certificate_revoked, recorded with `why`.
async fn register_refused(c: &Cluster, server: &common::Server, lsc: &Phone, why: &str, n: usize) {
    let addr = server.addrs.sip_tls.unwrap();
    let e = match tls_connect(addr, &server.cm_cert, Some(lsc), Version::Tls12).await {
        Err(e) => rustls_error(&e).unwrap(),
        Ok(_) => panic!("the handshake must fail"),
    };
    assert_eq!(e, rustls::Error::AlertReceived(AlertDescription::CertificateRevoked));
    let r = c.wait_registrations(Some(A), n).await.remove(0);
    assert_eq!(r.result, RegistrationResult::Refused);
    assert!(r.reason.starts_with("certificate revoked"), "{}", r.reason);
    assert!(r.reason.contains(why), "{why} not in {}", r.reason);
}

async fn registers(server: &common::Server, lsc: &Phone) {
    let addr = server.addrs.sip_tls.unwrap();
    let mut s = tls_connect(addr, &server.cm_cert, Some(lsc), Version::Tls13).await.unwrap();
    let ok = sip_exchange(&mut s, &register(A, A, "TLS", 600)).await.unwrap();
    assert_eq!(ok.code(), Some(200), "{ok:?}");
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().expect("openssl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_superseded_and_revoked_lscs_are_refused_by_capf_and_callmanager() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    let capf = Capf::start(&c).await;
    let server = c.start().await;

    // The phone is sent an LSC but says it could not store it: `failed`.
    schedule(&c, AuthMode::NullString).await;
    let failed = capf.session(Credentials::NullString, false).await.expect("an LSC was sent");
    let crl_number = || async { c.store.capf_crls(false).await.unwrap()[0].number };
    let listing_failed = crl_number().await;
    // Then one it stores (`installed`), then a new one, authenticated with it: the first is `superseded`.
    schedule(&c, AuthMode::NullString).await;
    let first = capf.session(Credentials::NullString, true).await.unwrap();
    assert_eq!(crl_number().await, listing_failed, "a first LSC ends none: the CRL is not signed again");
    schedule(&c, AuthMode::ExistingCertificateLsc).await;
    let current = capf.session(with(&first), true).await.expect("the installed LSC authenticates");
    assert!(crl_number().await > listing_failed, "the superseded LSC is a change: a new CRL");
    let name: DeviceName = A.parse().unwrap();
    assert_eq!(c.store.device(&name).await.unwrap().lsc.unwrap().serial, serial(&current));

    // CallManager: the installed LSC registers; the others end the handshake, each with its reason.
    registers(&server, &current).await;
    register_refused(&c, &server, &first, &format!("superseded by serial {}", serial(&current)), 2).await;
    register_refused(&c, &server, &failed, "never installed (failed)", 3).await;
    // CAPF By Existing Certificate: "Invalid LSC", the reason in the history.
    capf_refuses(&c, &capf, &first, &format!("superseded by serial {}", serial(&current))).await;
    capf_refuses(&c, &capf, &failed, "never installed (failed)").await;

    // The CRL lists the ended serials; openssl refuses them and accepts the installed one.
    let dir = c.dir.path();
    let file = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let write_cert = |n: &str, der: &[u8]| std::fs::write(dir.join(n), opencapf_pki::pem::encode("CERTIFICATE", der));
    let write_crl = |crls: &[opencapf_cluster::CrlSummary]| {
        let pem: String = crls.iter().map(|x| opencapf_pki::pem::encode("X509 CRL", &x.der)).collect();
        std::fs::write(dir.join("crl.pem"), pem).unwrap();
    };
    write_cert("capf.pem", &c.store.require_certificate(Service::Capf).await.unwrap().der).unwrap();
    write_cert("current.pem", &current.cert).unwrap();
    write_cert("first.pem", &first.cert).unwrap();
    let before = c.store.capf_crls(false).await.unwrap();
    assert_eq!(before.len(), 1);
    write_crl(&before);
    let (ok, text) = openssl(&["crl", "-in", &file("crl.pem"), "-noout", "-text"]);
    assert!(ok, "{text}");
    for ended in [&first, &failed] {
        assert!(text.contains(&serial(ended).to_ascii_uppercase()), "{} not in\n{text}", serial(ended));
    }
    let verify = |cert: &str| {
        openssl(&["verify", "-crl_check", "-CAfile", &file("capf.pem"), "-CRLfile", &file("crl.pem"), &file(cert)])
    };
    let (ok, out) = verify("current.pem");
    assert!(ok, "{out}");
    let (ok, out) = verify("first.pem");
    assert!(!ok && out.contains("certificate revoked"), "{out}");

    // `device revoke`: the installed LSC is revoked, the device has none, and both refuse it.
    let revoked = c.store.revoke(&name, None, "admin").await.unwrap();
    assert_eq!(revoked.serial, serial(&current));
    assert_eq!(revoked.previous_state, "installed");
    assert!(c.store.device(&name).await.unwrap().lsc.is_none());
    register_refused(&c, &server, &current, "revoked on", 4).await;
    capf_refuses(&c, &capf, &current, "revoked on").await;
    let after = c.store.capf_crls(false).await.unwrap();
    assert!(after[0].number > before[0].number, "the CRL number increases");
    write_crl(&after);
    let (ok, out) = verify("current.pem");
    assert!(!ok && out.contains("certificate revoked"), "{out}");
    server.stop().await;
}

/// What a CAPF session killed after recording and sending `lsc` leaves, then the recovery of
/// the next start: the LSC `failed` as never confirmed.
async fn interrupted_then_recovered(c: &Cluster, device: &str) -> Phone {
    let name: DeviceName = device.parse().unwrap();
    let update = CapfUpdate {
        operation: CertificateOperation::InstallUpgrade,
        auth_mode: AuthMode::NullString,
        auth_string: None,
        key_order: KeyOrder::EcOnly,
        rsa_bits: 2048,
        ec_bits: 256,
        completes_by: None,
    };
    c.store.save_capf(&name, &update, "test", "test").await.unwrap();
    let origin = opencapf_cluster::Origin { session_id: 1, peer: "127.0.0.1:1".into(), tls: None };
    let hold = std::time::Duration::from_secs(600);
    let opencapf_cluster::Begin::Pending { device: d, claim } =
        c.store.begin(&name, &origin, opencapf_model::now(), hold).await.unwrap()
    else {
        panic!("pending")
    };
    let key = PrivateKey::generate(opencapf_pki::KeyAlgorithm::Ec256).unwrap();
    let signer = c.store.signer(Service::Capf).await.unwrap();
    let lsc = opencapf_testkit::lsc(&signer, device, key.public_key_der(), 365, opencapf_model::now());
    let capf = c.store.require_certificate(Service::Capf).await.unwrap();
    let attempt = opencapf_cluster::Attempt::new(&d, origin, claim);
    c.store.record_issued(&attempt, &lsc, &opencapf_pki::fingerprint(&capf.der)).await.unwrap();
    let later = opencapf_model::now() + hold + std::time::Duration::from_secs(1);
    assert_eq!(c.store.recover_interrupted(later).await.unwrap().len(), 1);
    Phone { cert: lsc.der, key }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_registering_with_an_unconfirmed_lsc_gets_it_recorded_unless_a_newer_one_is_installed() {
    const B: &str = "SEP00000000F00B";
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    c.add_device(B, Protocol::Sip, SecurityMode::Encrypted).await;
    let capf = Capf::start(&c).await;
    let server = c.start().await;

    // B's phone stored its LSC, the confirmation was lost: registering proves it holds it.
    let b_lsc = interrupted_then_recovered(&c, B).await;
    let b: DeviceName = B.parse().unwrap();
    assert_eq!(c.store.device(&b).await.unwrap().capf.status, "Upgrade Failed");
    let addr = server.addrs.sip_tls.unwrap();
    let mut s = tls_connect(addr, &server.cm_cert, Some(&b_lsc), Version::Tls13).await.unwrap();
    let ok = sip_exchange(&mut s, &register(B, B, "TLS", 600)).await.unwrap();
    assert_eq!(ok.code(), Some(200), "{ok:?}");
    let device = c.store.device(&b).await.unwrap();
    assert_eq!(device.lsc.map(|l| l.serial), Some(serial(&b_lsc)));
    assert_eq!(device.capf.status, "Upgrade Success");
    let audit = c.store.audit(100).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "capf.lsc.confirmed").count(), 1);

    // A's phone did not store it and got a newer LSC since: the old one stays refused.
    let old = interrupted_then_recovered(&c, A).await;
    schedule(&c, AuthMode::NullString).await;
    let newer = capf.session(Credentials::NullString, true).await.unwrap();
    register_refused(&c, &server, &old, "never confirmed", 1).await;
    let a: DeviceName = A.parse().unwrap();
    assert_eq!(c.store.device(&a).await.unwrap().lsc.unwrap().serial, serial(&newer));
    let audit = c.store.audit(100).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "capf.lsc.confirmed").count(), 1, "B's only");
    server.stop().await;
}
