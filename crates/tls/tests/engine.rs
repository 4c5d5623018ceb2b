//! Two engines on one port, against real clients: `openssl s_client` and `gnutls-cli` as old
//! phones and modern ones, a client certificate on the OpenSSL path, and hostile input.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opencapf_tls::{
    accept, AcceptError, Engine, HelloError, LegacyAcceptor, LegacyAlert, LegacyClientVerifier, LegacyPolicy,
    MinVersion, SessionInfo,
};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::BasicConstraints;
use openssl::x509::{X509Name, X509};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

const ACCEPT_TIMEOUT: Duration = Duration::from_secs(2);
/// A bound on waiting for the server's verdict, not a timing assertion.
const WAIT: Duration = Duration::from_secs(20);

struct Pki {
    cert: X509,
    key: PKey<Private>,
}

impl Pki {
    fn new(cn: &str, issuer: Option<&Pki>, ca: bool) -> Pki {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509Name::builder().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(rand_serial()).unwrap().to_asn1_integer().unwrap()).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(issuer.map(|i| i.cert.subject_name()).unwrap_or(&name)).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
        if ca {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        }
        b.sign(issuer.map(|i| &i.key).unwrap_or(&key), MessageDigest::sha256()).unwrap();
        Pki { cert: b.build(), key }
    }

    fn der(&self) -> Vec<u8> {
        self.cert.to_der().unwrap()
    }

    fn pkcs8(&self) -> Vec<u8> {
        self.key.private_key_to_pkcs8().unwrap()
    }

    fn write_pem(&self, dir: &std::path::Path, name: &str) -> (String, String) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, self.cert.to_pem().unwrap()).unwrap();
        std::fs::write(&key, self.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        (cert.display().to_string(), key.display().to_string())
    }
}

fn rand_serial() -> u32 {
    let mut b = [0u8; 4];
    openssl::rand::rand_bytes(&mut b).unwrap();
    u32::from_be_bytes(b) >> 1
}

/// What the test verifier saw, and what it answers.
struct Recorder {
    seen: Mutex<Vec<Vec<Vec<u8>>>>,
    answer: Result<(), LegacyAlert>,
}

impl LegacyClientVerifier for Recorder {
    fn verify(&self, chain: &[Vec<u8>]) -> Result<(), LegacyAlert> {
        self.seen.lock().unwrap().push(chain.to_vec());
        self.answer
    }
}

/// What the echo server reports per connection: the session, or why accept failed.
type Report = Result<SessionInfo, String>;

struct Server {
    port: u16,
    reports: mpsc::UnboundedReceiver<Report>,
    /// How each accepted connection's echo ended ("eof" or the error).
    ends: mpsc::UnboundedReceiver<String>,
}

impl Server {
    async fn start(server: &Pki, policy: LegacyPolicy, verifier: Option<Arc<dyn LegacyClientVerifier>>) -> Server {
        let chain = vec![server.der()];
        let key = Arc::new(
            CertifiedKey::from_der(
                vec![CertificateDer::from(chain[0].clone())],
                PrivateKeyDer::Pkcs8(server.pkcs8().into()),
                &opencapf_tls::provider(),
            )
            .unwrap(),
        );
        let rustls = TlsAcceptor::from(Arc::new(opencapf_tls::server_config(key, None).unwrap()));
        let legacy = LegacyAcceptor::new(&chain, &server.pkcs8(), &policy, verifier).ok();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (report, reports) = mpsc::unbounded_channel();
        let (end, ends) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let (rustls, legacy, report, end) = (rustls.clone(), legacy.clone(), report.clone(), end.clone());
                tokio::spawn(async move {
                    match accept(tcp, &rustls, legacy.as_ref(), &policy, ACCEPT_TIMEOUT).await {
                        Ok(mut tls) => {
                            let _ = report.send(Ok(tls.session()));
                            let mut buf = [0u8; 1024];
                            let how = loop {
                                match tls.read(&mut buf).await {
                                    Ok(0) => break "eof".to_string(),
                                    Ok(n) => {
                                        if let Err(e) = tls.write_all(&buf[..n]).await {
                                            break e.to_string();
                                        }
                                    }
                                    Err(e) => break e.to_string(),
                                }
                            };
                            let _ = end.send(how);
                        }
                        Err(e) => {
                            let _ = report.send(Err(describe(&e)));
                        }
                    }
                });
            }
        });
        Server { port, reports, ends }
    }

    async fn next(&mut self) -> Report {
        tokio::time::timeout(WAIT, self.reports.recv()).await.expect("no report from the server").unwrap()
    }
}

fn describe(e: &AcceptError) -> String {
    match e {
        AcceptError::Hello(h) => format!("hello: {h:?}: {h}"),
        other => other.to_string(),
    }
}

/// Runs a client with stdin held open until the server reports, then closed; returns the
/// report and the client's output.
async fn run(server: &mut Server, program: &str, args: &[&str], input: &str) -> (Report, String) {
    let mut child = Command::new("timeout")
        .arg("20")
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let report = server.next().await;
    if report.is_ok() {
        let _ = stdin.write_all(input.as_bytes());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    drop(stdin);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (report, text)
}

async fn s_client(server: &mut Server, extra: &[&str]) -> (Report, String) {
    let connect = format!("127.0.0.1:{}", server.port);
    let mut args = vec!["s_client", "-connect", &connect];
    args.extend(extra);
    run(server, "openssl", &args, "ping\n").await
}

fn legacy(min_version: MinVersion, cbc: bool, null_sha: bool) -> LegacyPolicy {
    LegacyPolicy { min_version, cbc, null_sha, ..LegacyPolicy::default() }
}

fn served(report: &Report) -> &SessionInfo {
    report.as_ref().unwrap_or_else(|e| panic!("refused: {e}"))
}

#[tokio::test]
async fn tls10_aes128_sha_through_openssl_only_when_the_minimum_allows() {
    let pki = Pki::new("CAPF-test", None, true);
    let mut server = Server::start(&pki, legacy(MinVersion::Tls10, true, false), None).await;
    let (report, out) = s_client(&mut server, &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"]).await;
    let s = served(&report);
    assert_eq!((s.engine, s.version.as_str(), s.suite.as_str()), (Engine::OpenSsl, "TLSv1", "AES128-SHA"));
    assert!(s.is_legacy_version());
    assert!(out.contains("Cipher    : AES128-SHA"), "{out}");

    let mut strict = Server::start(&pki, legacy(MinVersion::Tls12, true, false), None).await;
    let (report, out) = s_client(&mut strict, &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"]).await;
    let err = report.unwrap_err();
    assert!(err.contains("TLS 1.0 is below the cluster's minimum 1.2"), "{err}");
    assert!(out.contains("alert protocol version"), "{out}");
}

#[tokio::test]
async fn null_sha_follows_the_policy() {
    let pki = Pki::new("CallManager-test", None, true);
    let args = ["-tls1_2", "-cipher", "NULL-SHA:@SECLEVEL=0"];
    let mut on = Server::start(&pki, legacy(MinVersion::Tls12, false, true), None).await;
    let (report, out) = s_client(&mut on, &args).await;
    let s = served(&report);
    assert_eq!((s.engine, s.version.as_str(), s.suite.as_str()), (Engine::OpenSsl, "TLSv1.2", "NULL-SHA"));
    assert!(out.contains("Cipher    : NULL-SHA"), "{out}");

    let mut off = Server::start(&pki, legacy(MinVersion::Tls12, true, false), None).await;
    let (report, out) = s_client(&mut off, &args).await;
    let err = report.unwrap_err();
    assert!(err.contains("no shared cipher suite: offered NULL-SHA; NULL-SHA is off"), "{err}");
    assert!(out.contains("alert handshake failure"), "{out}");
}

#[tokio::test]
async fn gnutls_tls10_cbc_through_openssl() {
    let pki = Pki::new("CAPF-test", None, true);
    let mut server = Server::start(&pki, legacy(MinVersion::Tls10, true, false), None).await;
    let port = server.port.to_string();
    let priority = "NORMAL:-VERS-ALL:+VERS-TLS1.0:+AES-128-CBC:+SHA1";
    let args = ["--insecure", "--priority", priority, "-p", &port, "127.0.0.1"];
    let (report, out) = run(&mut server, "gnutls-cli", &args, "ping\n").await;
    let s = served(&report);
    assert_eq!((s.engine, s.version.as_str()), (Engine::OpenSsl, "TLSv1"), "{out}");
    // NORMAL keeps gnutls' other CBC suites; any of ours will do.
    assert!(opencapf_tls::CBC_SUITES.iter().any(|(_, name)| *name == s.suite), "{s:?}");
    assert!(out.contains("Handshake was completed"), "{out}");
}

#[tokio::test]
async fn a_modern_client_gets_tls13_from_rustls() {
    let pki = Pki::new("CAPF-test", None, true);
    let mut server = Server::start(&pki, legacy(MinVersion::Tls10, true, true), None).await;
    let (report, out) = s_client(&mut server, &[]).await;
    let s = served(&report);
    assert_eq!((s.engine, s.version.as_str()), (Engine::Rustls, "TLSv1.3"), "{out}");
    assert!(out.contains("ping"), "echo through rustls: {out}");
}

#[tokio::test]
async fn a_client_certificate_reaches_the_verifier_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("CallManager-test", None, true);
    let maker = Pki::new("Lab Manufacturing CA", None, true);
    let phone = Pki::new("SEP001122334455", Some(&maker), false);
    let (cert, key) = phone.write_pem(dir.path(), "phone");
    let (maker_pem, _) = maker.write_pem(dir.path(), "maker");
    let recorder = Arc::new(Recorder { seen: Mutex::default(), answer: Ok(()) });
    let policy = legacy(MinVersion::Tls10, true, false);
    let mut server = Server::start(&pki, policy, Some(recorder.clone())).await;
    let args = ["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0", "-cert", &cert, "-key", &key, "-cert_chain", &maker_pem];
    let (report, out) = s_client(&mut server, &args).await;
    let s = served(&report);
    assert_eq!(s.engine, Engine::OpenSsl, "{out}");
    assert_eq!(s.peer_certificates, vec![phone.der(), maker.der()]);
    assert_eq!(*recorder.seen.lock().unwrap(), vec![vec![phone.der(), maker.der()]]);

    // Without a certificate: refused before the verifier is asked.
    let (report, _) = s_client(&mut server, &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"]).await;
    assert!(report.unwrap_err().contains("OpenSSL"));
    assert_eq!(recorder.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn each_refusal_arrives_as_its_alert() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("CallManager-test", None, true);
    let phone = Pki::new("SEP001122334455", None, false);
    let (cert, key) = phone.write_pem(dir.path(), "phone");
    let args = ["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0", "-cert", &cert, "-key", &key];
    for alert in [
        LegacyAlert::UnknownCa,
        LegacyAlert::BadCertificate,
        LegacyAlert::UnsupportedCertificate,
        LegacyAlert::CertificateRevoked,
        LegacyAlert::CertificateExpired,
        LegacyAlert::CertificateUnknown,
        LegacyAlert::HandshakeFailure,
        LegacyAlert::DecryptError,
    ] {
        let recorder = Arc::new(Recorder { seen: Mutex::default(), answer: Err(alert) });
        let mut server = Server::start(&pki, legacy(MinVersion::Tls10, true, false), Some(recorder.clone())).await;
        let (report, out) = s_client(&mut server, &args).await;
        let err = report.unwrap_err();
        let name = opencapf_tls::alert_name(alert.description());
        assert!(err.contains(&format!("alert {name}")), "{alert:?}: {err}");
        let number = u8::from(alert.description());
        assert!(out.contains(&format!("SSL alert number {number}")), "{alert:?} should arrive as {number}: {out}");
        assert_eq!(recorder.seen.lock().unwrap().len(), 1, "{alert:?}");
    }
}

#[tokio::test]
async fn hostile_input_is_refused_and_the_server_keeps_serving() {
    let pki = Pki::new("CAPF-test", None, true);
    let mut server = Server::start(&pki, legacy(MinVersion::Tls10, true, true), None).await;
    let addr = format!("127.0.0.1:{}", server.port);

    // A truncated ClientHello, then silence.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    silent.write_all(&[22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 1]).await.unwrap();
    assert!(server.next().await.unwrap_err().contains("Timeout"));
    drop(silent);

    for (bytes, expect) in [
        (vec![0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0, 0, 0, 0x10], format!("{:?}", HelloError::Sslv2)),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), format!("{:?}", HelloError::NotTls(b'G'))),
        (vec![22, 3, 1, 0xff, 0xff, 1, 0, 0xff, 0xfb], format!("{:?}", HelloError::Oversize(65535))),
    ] {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(&bytes).await.unwrap();
        let err = server.next().await.unwrap_err();
        assert!(err.contains(&expect), "{expect}: {err}");
    }

    // A renegotiation on the OpenSSL path: refused with a no_renegotiation alert; the session
    // then ends: at the client's close, or at its handshake_failure alert (OpenSSL clients
    // send one or not, depending on timing).
    let args = ["s_client", "-connect", &addr, "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"];
    let (report, out) = run(&mut server, "openssl", &args, "R\nping\n").await;
    assert_eq!(served(&report).engine, Engine::OpenSsl);
    assert!(out.contains("RENEGOTIATING") && out.contains("no renegotiation"), "{out}");
    let end = tokio::time::timeout(WAIT, server.ends.recv()).await.unwrap();
    let end = end.unwrap();
    assert!(end == "eof" || end.contains("alert handshake failure"), "{end}");

    // Still serving, both engines.
    let (report, _) = s_client(&mut server, &[]).await;
    assert_eq!(served(&report).engine, Engine::Rustls);
    let (report, _) = s_client(&mut server, &["-tls1", "-cipher", "AES256-SHA:@SECLEVEL=0"]).await;
    assert_eq!(served(&report).suite, "AES256-SHA");
}

#[tokio::test]
async fn connect_legacy_speaks_as_a_79xx() {
    let pki = Pki::new("CallManager-test", None, true);
    let phone = Pki::new("SEP001122334455", None, false);
    let recorder = Arc::new(Recorder { seen: Mutex::default(), answer: Ok(()) });
    let mut server = Server::start(&pki, legacy(MinVersion::Tls10, true, false), Some(recorder.clone())).await;
    let server_seen = Arc::new(Mutex::new(Vec::new()));
    let seen = server_seen.clone();
    let config = opencapf_tls::LegacyClientConfig {
        versions: (MinVersion::Tls10, MinVersion::Tls10),
        ciphers: "AES256-SHA:AES128-SHA".into(),
        certificate: Some((vec![phone.der()], phone.pkcs8())),
        check_server: Arc::new(move |chain: &[Vec<u8>]| {
            seen.lock().unwrap().push(chain.to_vec());
            true
        }),
    };
    let tcp = TcpStream::connect(("127.0.0.1", server.port)).await.unwrap();
    let mut tls = opencapf_tls::connect_legacy(tcp, &config).await.unwrap();
    assert_eq!((tls.ssl().version_str(), tls.ssl().current_cipher().unwrap().name()), ("TLSv1", "AES256-SHA"));
    let s = served(&server.next().await).clone();
    assert_eq!((s.engine, s.version.as_str(), s.suite.as_str()), (Engine::OpenSsl, "TLSv1", "AES256-SHA"));
    assert_eq!(s.peer_certificates, vec![phone.der()]);
    assert_eq!(*server_seen.lock().unwrap(), vec![vec![pki.der()]]);
    tls.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    tls.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");

    // A server the phone does not trust: the handshake fails on the phone's side.
    let refusing = opencapf_tls::LegacyClientConfig { check_server: Arc::new(|_: &[Vec<u8>]| false), ..config };
    let tcp = TcpStream::connect(("127.0.0.1", server.port)).await.unwrap();
    let err = opencapf_tls::connect_legacy(tcp, &refusing).await.unwrap_err();
    assert!(err.to_string().contains("certificate verify failed"), "{err}");
}
