//! `Phone::capf` against a scripted CAPF server over TLS on 127.0.0.1: which certificate the phone
//! authenticates with (MIC without an LSC, then its LSC; the MIC with precedence to MIC), the LSC
//! it stores, delete and Troubleshoot through CAPF, an untrusted server, and the console lines.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opencapf_capf::proto::frame::{read_message, Command, RawMessage};
use opencapf_capf::proto::message::{
    AuthRequest, AuthResponse, AuthType, CapfMessage, CertPackage, CertType, Curve, DeleteCertificateRequest,
    DeleteCertificateResponse, EndSession, FetchCertificateRequest, FetchCertificateResponse, KeyGenRequest,
    KeyGenResponse, KeySpec, Message, Reason, StoreCertificateRequest, StoreCertificateResponse,
};
use opencapf_model::Role;
use opencapf_phone::files::*;
use opencapf_phone::{CapfOptions, InitOptions, Level, MicSource, Phone, PhoneCredentials, PhoneError};
use opencapf_pki::profiles::SubjectFields;
use opencapf_pki::{KeyAlgorithm, PrivateKey};
use opencapf_testkit::{self as testkit, Ca};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

const NAME: &str = "SEP00112233AABB";

fn capf() -> Ca {
    let subject = SubjectFields { organization: Some("Phone CAPF Tests".into()), ..Default::default() };
    Ca::capf(KeyAlgorithm::Rsa2048, &subject, 365, OffsetDateTime::now_utc())
}

/// A phone whose ITL names `capf` as its CAPF.
fn new_phone(dir: &Path, capf: &Ca) -> Phone {
    let signer = Ca::lab_manufacturer(KeyAlgorithm::Rsa2048, OffsetDateTime::now_utc()).signer();
    let sast = Ca::itl_recovery(OffsetDateTime::now_utc());
    let opts = InitOptions {
        device_name: NAME.parse().unwrap(),
        model: "CP-8861".into(),
        mic: MicSource::LabManufacturer { signer: Box::new(signer), key: KeyAlgorithm::Rsa2048 },
        itl: Some(testkit::itl(&sast, &[(Role::Capf, &capf.der)])),
        factory: false,
        capf_server: None,
    };
    Phone::init(dir, opts).unwrap()
}

#[derive(Clone, Copy)]
enum Op {
    Install(KeySpec),
    Delete,
    Fetch,
    End(Reason),
}

struct Seen {
    auth: AuthResponse,
    /// The certificate the phone uploaded (fetch) or was given (install).
    certificate: Option<Vec<u8>>,
    response_reason: Option<Reason>,
}

async fn recv(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> RawMessage {
    tokio::time::timeout(Duration::from_secs(20), read_message(stream)).await.unwrap().unwrap()
}

/// A CAPF server for one session that carries out `op`.
async fn serve(capf: &Ca, op: Op) -> (SocketAddr, JoinHandle<Seen>) {
    let key = opencapf_tls::certified_key(vec![capf.der.clone()], &capf.key).unwrap();
    let config = opencapf_tls::server_config(key, None).unwrap();
    let signer = capf.signer();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = TlsAcceptor::from(Arc::new(config)).accept(tcp).await.unwrap();
        const SID: u32 = 4878;
        let send = |m: Message| m.encode(SID).unwrap();
        s.write_all(&send(AuthRequest { version: 3, auth_type: Some(AuthType::Unspecified) }.into())).await.unwrap();
        let auth = AuthResponse::from_raw(&recv(&mut s).await).unwrap();
        let mut seen = Seen { auth, certificate: None, response_reason: None };
        let end = match op {
            Op::End(reason) => reason,
            Op::Install(spec) => {
                s.write_all(&send(KeyGenRequest::new(spec).into())).await.unwrap();
                let mut raw = recv(&mut s).await;
                while raw.command == Command::RequestInProgress {
                    raw = recv(&mut s).await;
                }
                let public_key = KeyGenResponse::from_raw(&raw).unwrap().public_key.unwrap();
                let lsc = testkit::lsc(&signer, NAME, &public_key, 365, OffsetDateTime::now_utc()).der;
                let store =
                    StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(lsc.clone()) };
                s.write_all(&send(store.into())).await.unwrap();
                let r = StoreCertificateResponse::from_raw(&recv(&mut s).await).unwrap();
                seen.certificate = Some(lsc);
                seen.response_reason = Some(r.reason);
                Reason::OK
            }
            Op::Delete => {
                s.write_all(&send(DeleteCertificateRequest.into())).await.unwrap();
                seen.response_reason = Some(DeleteCertificateResponse::from_raw(&recv(&mut s).await).unwrap().reason);
                Reason::OK
            }
            Op::Fetch => {
                s.write_all(&send(FetchCertificateRequest.into())).await.unwrap();
                let r = FetchCertificateResponse::from_raw(&recv(&mut s).await).unwrap();
                seen.response_reason = Some(r.reason);
                seen.certificate = r.certificate.map(|p| p.der);
                Reason::NoAction
            }
        };
        s.write_all(&send(EndSession { reason: end }.into())).await.unwrap();
        let _ = s.shutdown().await;
        seen
    });
    (addr, handle)
}

fn options(addr: SocketAddr, credentials: PhoneCredentials) -> CapfOptions {
    let mut o = CapfOptions::new(credentials);
    o.server = Some(addr.to_string());
    o.progress_interval = Some(Duration::from_millis(5));
    o.message_timeout = Duration::from_secs(10);
    o
}

fn messages(phone: &Phone) -> Vec<(Level, String)> {
    phone.console().lines().unwrap().into_iter().map(|l| (l.level, l.message)).collect()
}

const PRECEDENCE_TO_LSC: PhoneCredentials = PhoneCredentials::ExistingCertificate { prefer_mic: false };

#[tokio::test]
async fn install_with_the_mic_then_upgrade_with_the_lsc_then_with_the_mic_when_preferred() {
    let capf = capf();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("phone");
    let phone = new_phone(&dir, &capf);
    let mic = phone.mic().unwrap();

    // 1. No LSC: the phone authenticates with its MIC and gets an LSC.
    let (addr, server) = serve(&capf, Op::Install(KeySpec::Rsa { bits: 2048 })).await;
    let report = phone.capf(options(addr, PRECEDENCE_TO_LSC)).await.unwrap();
    let seen = server.await.unwrap();
    assert_eq!(seen.auth.certificate.unwrap().der, mic.der);
    assert_eq!(seen.response_reason, Some(Reason::OK));
    assert!(report.success, "{report:?}");
    assert_eq!(report.operation, "Install/Upgrade");
    assert_eq!(report.credentials, "MIC");
    assert_eq!(report.end_reason, Some(1));
    assert_eq!(report.key.as_deref(), Some("RSA 2048"));
    let lsc = phone.lsc().unwrap().expect("an LSC");
    assert_eq!(Some(&lsc.der), seen.certificate.as_ref());
    assert_eq!(std::fs::metadata(dir.join(LSC_KEY)).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(
        report.summary.starts_with(&format!("Upgrade: LSC installed, serial {}, issuer CN=CAPF-", lsc.info.serial)),
        "{}",
        report.summary
    );
    let lines = messages(&phone);
    assert!(lines.contains(&(Level::Warn, "SECD: -PXY_NO_LSC: No LSC for [CAPF], will try MIC".into())), "{lines:?}");
    assert!(lines.contains(&(Level::Info, "SECUREAPP-Hashes match... authentication successful.".into())));
    assert!(lines
        .iter()
        .any(|(l, m)| *l == Level::Info && m.starts_with("SECUREAPP-Certificate subject name = /CN=CAPF-")));
    assert!(lines.iter().any(|(_, m)| m.starts_with("CAPF: -Authenticating with cert [MIC]")));
    assert!(lines.iter().any(|(_, m)| m == "CAPF: -KeyGenRequest: RSA 2048"));
    assert_eq!(lines.last().unwrap(), &(Level::Info, format!("CAPF: -{}", report.summary)));

    // 2. With an LSC: Precedence to LSC presents the LSC; the upgrade replaces it.
    let before = messages(&phone).len();
    let (addr, server) = serve(&capf, Op::Install(KeySpec::Ec { curve: Curve::P256 })).await;
    let report = phone.capf(options(addr, PRECEDENCE_TO_LSC)).await.unwrap();
    let seen = server.await.unwrap();
    assert_eq!(seen.auth.certificate.unwrap().der, lsc.der);
    assert!(report.success);
    assert_eq!(report.credentials, "LSC");
    let upgraded = phone.lsc().unwrap().unwrap();
    assert_ne!(upgraded.der, lsc.der);
    assert_eq!(upgraded.key.algorithm(), KeyAlgorithm::Ec256);
    assert!(!messages(&phone)[before..].iter().any(|(_, m)| m.contains("PXY_NO_LSC")));

    // 3. Precedence to MIC: the MIC although an LSC exists.
    let (addr, server) = serve(&capf, Op::End(Reason::NoAction)).await;
    let report = phone.capf(options(addr, PhoneCredentials::ExistingCertificate { prefer_mic: true })).await.unwrap();
    let seen = server.await.unwrap();
    assert_eq!(seen.auth.certificate.unwrap().der, mic.der);
    assert_eq!(report.summary, "No pending operation");
    assert!(report.success);
}

#[tokio::test]
async fn troubleshoot_and_delete_through_capf() {
    let capf = capf();
    let tmp = tempfile::tempdir().unwrap();
    let phone = new_phone(&tmp.path().join("phone"), &capf);
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    let lsc = testkit::lsc(&capf.signer(), NAME, key.public_key_der(), 10, OffsetDateTime::now_utc()).der;
    phone.install_lsc(&lsc, &key).unwrap();

    let (addr, server) = serve(&capf, Op::Fetch).await;
    let report = phone.capf(options(addr, PhoneCredentials::NullString)).await.unwrap();
    let seen = server.await.unwrap();
    assert_eq!(seen.auth.password.as_deref(), Some(""));
    assert_eq!(seen.certificate.as_ref(), Some(&lsc));
    assert_eq!(report.operation, "Troubleshoot");
    assert_eq!(report.uploaded.as_deref(), Some("LSC"));
    assert!(report.summary.starts_with("Troubleshoot: uploaded the LSC"), "{}", report.summary);
    assert!(report.success);

    let (addr, server) = serve(&capf, Op::Delete).await;
    let report = phone.capf(options(addr, PhoneCredentials::AuthString("123456".into()))).await.unwrap();
    let seen = server.await.unwrap();
    assert_eq!(seen.auth.password.as_deref(), Some("123456"));
    assert_eq!(seen.response_reason, Some(Reason::OK));
    assert_eq!(report.summary, "Delete: LSC deleted");
    assert!(phone.lsc().unwrap().is_none());

    // Without an LSC, Troubleshoot uploads the MIC.
    let (addr, server) = serve(&capf, Op::Fetch).await;
    let report = phone.capf(options(addr, PhoneCredentials::NullString)).await.unwrap();
    assert_eq!(server.await.unwrap().certificate, Some(phone.mic().unwrap().der));
    assert_eq!(report.uploaded.as_deref(), Some("MIC"));
}

#[tokio::test]
async fn failures_are_reported_and_logged() {
    let capf = capf();
    let tmp = tempfile::tempdir().unwrap();
    let phone = new_phone(&tmp.path().join("phone"), &capf);

    // Refused by the server (reason 7), e.g. a wrong authentication string.
    let (addr, server) = serve(&capf, Op::End(Reason::InvalidElement)).await;
    let report = phone.capf(options(addr, PhoneCredentials::AuthString("9999".into()))).await.unwrap();
    server.await.unwrap();
    assert!(!report.success);
    assert_eq!(report.end_reason, Some(7));
    assert!(report.summary.contains("reason 7"), "{}", report.summary);
    assert_eq!(messages(&phone).last().unwrap().0, Level::Error);

    // Unknown device.
    let (addr, server) = serve(&capf, Op::End(Reason::UnknownDevice)).await;
    let report = phone.capf(options(addr, PRECEDENCE_TO_LSC)).await.unwrap();
    server.await.unwrap();
    assert!(!report.success);
    assert!(report.summary.contains(&format!("CAPF does not know {NAME}")), "{}", report.summary);

    // An authentication string the phone's keypad would not take is a local error.
    assert!(matches!(
        phone.capf(options(addr, PhoneCredentials::AuthString("12a4".into()))).await,
        Err(PhoneError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_server_outside_the_trust_list_is_refused_and_logged() {
    let trusted = capf();
    let impostor = capf();
    let tmp = tempfile::tempdir().unwrap();
    let phone = new_phone(&tmp.path().join("phone"), &trusted);
    let (addr, server) = serve(&impostor, Op::End(Reason::NoAction)).await;
    let report = phone.capf(options(addr, PRECEDENCE_TO_LSC)).await.unwrap();
    server.abort();
    assert!(!report.success);
    assert!(report.error.as_deref().unwrap().contains("not in the phone's trust list"), "{report:?}");
    let lines = messages(&phone);
    assert!(lines.contains(&(Level::Error, "SECUREAPP-No match found in trust list against the item".into())));
    assert!(lines.contains(&(Level::Error, "SECD: -STATE_SSL3_ALERT: SSL3 alert [write]:[fatal]:[unknown CA]".into())));
    assert!(phone.lsc().unwrap().is_none());
}
