//! The legacy phone (a CP-7965: TLS 1.0, AES-SHA, through OpenSSL) against a real TLS 1.0 peer,
//! `openssl s_server -tls1`, whose throw-away certificate is in the phone's ITL: the handshake,
//! the `PXY_CERT_CIPHER … [TLSv1]` line, the client certificate given on request, the refusal of
//! a server not in the ITL, and the model's default engine.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use opencapf_model::{Protocol, Role, SecurityMode};
use opencapf_phone::{
    CapfOptions, InitOptions, MicSource, Phone, PhoneCredentials, RegisterOptions, RegisterReport, TlsEngine,
};
use opencapf_pki::profiles::SubjectFields;
use opencapf_pki::KeyAlgorithm;
use opencapf_testkit::{self as testkit, Ca, Peer};
use time::OffsetDateTime;

const NAME: &str = "SEP00112233AABB";

fn server_ca() -> Ca {
    let subject = SubjectFields { organization: Some("Legacy TLS Tests".into()), ..Default::default() };
    Ca::capf(KeyAlgorithm::Rsa2048, &subject, 30, OffsetDateTime::now_utc())
}

/// A phone of `model` with an RSA-1024 MIC whose ITL holds `trusted` as CallManager and CAPF.
fn new_phone(dir: &Path, model: &str, trusted: &Ca) -> Phone {
    let signer = Ca::lab_manufacturer(KeyAlgorithm::Rsa2048, OffsetDateTime::now_utc()).signer();
    let sast = Ca::itl_recovery(OffsetDateTime::now_utc());
    let opts = InitOptions {
        device_name: NAME.parse().unwrap(),
        model: model.into(),
        mic: MicSource::LabManufacturer { signer: Box::new(signer), key: KeyAlgorithm::Rsa1024 },
        itl: Some(testkit::itl(&sast, &[(Role::CcmTftp, &trusted.der), (Role::Capf, &trusted.der)])),
        factory: false,
        capf_server: None,
    };
    Phone::init(&dir.join("phone"), opts).unwrap()
}

/// `openssl s_server` with `ca`'s certificate, TLS 1.0 only, `cipher`, asking for a client
/// certificate; one connection. Returns the peer and its port.
fn s_server(dir: &Path, ca: &Ca, cipher: &str) -> (Peer, u16) {
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    std::fs::write(&cert, opencapf_pki::pem::encode("CERTIFICATE", &ca.der)).unwrap();
    std::fs::write(&key, ca.key.to_pem().as_bytes()).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["s_server", "-accept", "127.0.0.1:0", "-tls1", "-cipher", cipher, "-verify", "1", "-naccept", "1"])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key);
    let mut peer = Peer::spawn(&mut cmd, "openssl");
    assert!(peer.wait_for(Duration::from_secs(15), |o| o.contains("ACCEPT")), "{}", peer.output());
    let out = peer.output();
    let line = out.lines().find(|l| l.starts_with("ACCEPT")).unwrap();
    let port = line.rsplit(':').next().unwrap().trim().parse().unwrap();
    (peer, port)
}

/// One SCCP registration to 127.0.0.1:`port`; s_server never answers, so it ends at the bound.
async fn register(phone: &Phone, port: u16, security: SecurityMode, engine: TlsEngine) -> RegisterReport {
    let mut opts = RegisterOptions::new(Protocol::Sccp, security);
    opts.server = Some("127.0.0.1".into());
    opts.port = Some(port);
    opts.timeout = Duration::from_secs(3);
    opts.engine = engine;
    phone.register(opts).await.unwrap()
}

fn console(phone: &Phone) -> Vec<String> {
    phone.console().lines().unwrap().into_iter().map(|l| l.message).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cp_7965_registers_over_tls_1_0_with_its_mic_and_logs_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let ca = server_ca();
    let phone = new_phone(dir.path(), "CP-7965", &ca);
    let (mut peer, port) = s_server(dir.path(), &ca, "AES256-SHA:@SECLEVEL=0");
    // By model: a CP-7965 speaks TLS 1.0 without being told.
    let report = register(&phone, port, SecurityMode::Encrypted, TlsEngine::ByModel).await;
    peer.wait_for(Duration::from_secs(10), |o| o.contains("Client certificate"));
    let server_saw = peer.finish();
    assert_eq!(report.tls_version.as_deref(), Some("TLSv1"), "{report:?}\n{server_saw}");
    assert_eq!(report.cipher.as_deref(), Some("AES256-SHA"));
    let lines = console(&phone);
    assert!(
        lines.contains(&"SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [MIC], cipher [AES256-SHA]".to_string()),
        "{lines:#?}"
    );
    // The server asked for a certificate and got the phone's MIC.
    let mic = phone.mic().unwrap();
    let cn = mic.info.subject_cn.clone().unwrap();
    assert!(server_saw.contains("Client certificate") && server_saw.contains(&cn), "{server_saw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticated_profile_offers_null_sha() {
    let dir = tempfile::tempdir().unwrap();
    let ca = server_ca();
    let phone = new_phone(dir.path(), "CP-7965", &ca);
    let (peer, port) = s_server(dir.path(), &ca, "NULL-SHA:@SECLEVEL=0");
    let report = register(&phone, port, SecurityMode::Authenticated, TlsEngine::ByModel).await;
    let server_saw = peer.finish();
    assert_eq!(report.tls_version.as_deref(), Some("TLSv1"), "{report:?}\n{server_saw}");
    assert_eq!(report.cipher.as_deref(), Some("NULL-SHA"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_not_in_the_itl_is_refused_with_unknown_ca() {
    let dir = tempfile::tempdir().unwrap();
    let phone = new_phone(dir.path(), "CP-7965", &server_ca());
    let stranger = server_ca();
    let (mut peer, port) = s_server(dir.path(), &stranger, "AES256-SHA:@SECLEVEL=0");
    let report = register(&phone, port, SecurityMode::Encrypted, TlsEngine::ByModel).await;
    // s_server prints the alert it read a moment after the phone sent it: wait for it (bounded).
    peer.wait_for(Duration::from_secs(10), |o| o.contains("alert unknown ca"));
    let server_saw = peer.finish();
    assert_eq!(report.tls_version, None, "{report:?}");
    assert_eq!(report.tls_alert.as_deref(), Some("unknown CA"));
    assert_eq!(report.tls_alert_direction.as_deref(), Some("write"));
    assert_eq!(report.untrusted_server.as_deref(), Some(stranger.der.as_slice()));
    let lines = console(&phone);
    assert!(lines.contains(&"SECD: -STATE_SSL3_ALERT: SSL3 alert [write]:[fatal]:[unknown CA]".to_string()));
    // The alert went on the wire.
    assert!(server_saw.contains("alert unknown ca"), "{server_saw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_1_0_is_the_engine_choice_not_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    let ca = server_ca();
    // A CP-7965 told to use rustls cannot reach a TLS 1.0 server…
    let old = new_phone(&dir.path().join("old"), "CP-7965", &ca);
    let (peer, port) = s_server(dir.path(), &ca, "AES256-SHA:@SECLEVEL=0");
    let report = register(&old, port, SecurityMode::Encrypted, TlsEngine::Rustls).await;
    drop(peer);
    assert_eq!(report.tls_version, None, "{report:?}");
    // …and a CP-8861 told `--tls 1.0` can.
    let new = new_phone(&dir.path().join("new"), "CP-8861", &ca);
    let (peer, port) = s_server(dir.path(), &ca, "AES128-SHA:@SECLEVEL=0");
    let report = register(&new, port, SecurityMode::Encrypted, TlsEngine::Legacy).await;
    drop(peer);
    assert_eq!(report.tls_version.as_deref(), Some("TLSv1"), "{report:?}");
    assert_eq!(report.cipher.as_deref(), Some("AES128-SHA"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capf_runs_over_tls_1_0() {
    let dir = tempfile::tempdir().unwrap();
    let ca = server_ca();
    let phone = new_phone(dir.path(), "CP-7965", &ca);
    let (peer, port) = s_server(dir.path(), &ca, "AES256-SHA:@SECLEVEL=0");
    let mut opts = CapfOptions::new(PhoneCredentials::ExistingCertificate { prefer_mic: false });
    opts.server = Some(format!("127.0.0.1:{port}"));
    opts.message_timeout = Duration::from_secs(2);
    // s_server speaks no CAPF: the session ends waiting for the AuthRequest, after the handshake.
    let report = phone.capf(opts).await.unwrap();
    let server_saw = peer.finish();
    assert!(!report.success);
    let lines = console(&phone);
    assert!(
        lines.contains(&"SECUREAPP-SSL session setup - [CAPF], [TLSv1], cipher [AES256-SHA]".to_string()),
        "{lines:#?}\n{server_saw}"
    );
    assert!(lines.contains(&"SECD: -PXY_CERT_CIPHER: [CAPF], [TLSv1], cert [MIC], cipher [AES256-SHA]".to_string()));
    assert!(report.error.as_deref().is_some_and(|e| e.contains("timed out")), "{report:?}");
}
